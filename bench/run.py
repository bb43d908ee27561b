"""Run every benchmark module in bench/ and write the results to bench/results/.

A benchmark module is any ``bench/<name>.py`` (not starting with ``_``, not this file) that
defines ``main(argv: Sequence[str] | None = None) -> dict``. ``main(None)`` must run with its
defaults and return JSON-serialisable results; an optional ``"summary"`` key (a list of lines)
is printed at the end. Modules run one after another in this process, single-threaded: the
thread-count environment is pinned here before numpy, numba or any peer library is imported.

Usage::

    python bench/run.py                 # every module
    python bench/run.py pricing         # only the named modules
    python bench/run.py --quick         # small sizes (sets HEDGEKEEPER_BENCH_QUICK=1): smoke test
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from _common import machine_info, pin_single_thread

pin_single_thread()

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"


def discover() -> list[str]:
    """Names of the benchmark modules in bench/ that define ``main``."""
    names = []
    for path in sorted(BENCH_DIR.glob("*.py")):
        if path.name.startswith("_") or path.stem == "run":
            continue
        if "def main(" in path.read_text(encoding="utf-8"):
            names.append(path.stem)
    return names


def run_module(name: str) -> dict[str, Any]:
    module = importlib.import_module(name)
    main = getattr(module, "main", None)
    if not callable(main):
        raise SystemExit(f"error: bench/{name}.py defines no main()")
    start = time.perf_counter()
    result = main(None)
    if not isinstance(result, dict):
        kind = type(result).__name__
        raise SystemExit(f"error: bench/{name}.py main() returned {kind}, not a dict")
    result.setdefault("wall_s", time.perf_counter() - start)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description="Run the benchmarks.")
    parser.add_argument("modules", nargs="*", help="benchmark modules to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        os.environ["HEDGEKEEPER_BENCH_QUICK"] = "1"

    available = discover()
    unknown = [m for m in args.modules if m not in available]
    if unknown:
        print(f"error: unknown benchmark module(s) {unknown}; found {available}", file=sys.stderr)
        return 2
    selected = args.modules or available

    report: dict[str, Any] = {"machine": machine_info(), "quick": args.quick, "benchmarks": {}}
    print(
        f"machine: {report['machine']['cpu_model']}, {report['machine']['usable_cores']} usable "
        f"cores, load {report['machine']['load_average_1_5_15']}, python "
        f"{report['machine']['python']}",
        flush=True,
    )
    failed: list[str] = []
    for name in selected:
        print(f"\n=== bench/{name}.py", flush=True)
        try:
            report["benchmarks"][name] = run_module(name)
        except Exception as exc:  # one broken module must not hide the others' results
            traceback.print_exc()
            report["benchmarks"][name] = {"error": f"{type(exc).__name__}: {exc}"}
            failed.append(name)

    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out_path = RESULTS_DIR / f"bench-{stamp}{'-quick' if args.quick else ''}.json"
    out_path.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")

    print("\n" + "=" * 100)
    for name, result in report["benchmarks"].items():
        print(f"[{name}]")
        if "error" in result:
            print(f"    FAILED: {result['error']}")
        for line in result.get("summary", []):
            print(line)
    print(f"\nresults written to {out_path.relative_to(BENCH_DIR.parent)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
