# hedgekeeper — the two commands a newcomer needs are `make demo` and `make test`.
# Each creates .venv when missing and installs the package into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean help ensure-postgres

help:
	@echo "make demo   - set up .venv and run the demo on bundled real data"
	@echo "make test   - set up .venv, run ruff, mypy --strict and the whole test suite"
	@echo "make bench  - set up .venv-bench (with peer libraries) and run bench/"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "hedgekeeper needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hedgekeeper demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict src/hedgekeeper

# The journal tests start a throwaway PostgreSQL cluster on 127.0.0.1 and need Debian's server
# binaries; install them when absent (as root, or through sudo). Without them the PostgreSQL
# tests skip outside CI and fail under CI=true.
ensure-postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql binaries for the journal tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null || \
	  echo "warning: could not install postgresql; its tests will skip (or fail under CI=true)"; }

unit: $(STAMP) ensure-postgres
	$(BIN)/python -m pytest -n 2

test: lint typecheck unit

$(BENCH_STAMP): pyproject.toml bench/requirements.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e . -r bench/requirements.txt
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/run.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) build dist .mypy_cache .pytest_cache .ruff_cache
