"""Run ``hedgekeeper`` commands as real processes, fast, for the keeper's integration tests.

A *zygote* process imports hedgekeeper once and then forks one child per command: each child
is a real, separate process running the CLI (``hedgekeeper run ...``) with its own environment,
working directory and output files; SIGKILL kills it like any process. Forking from a warm
zygote avoids paying the package's import time (seconds on a loaded machine) for every one of
the dozens of keeper runs a crash test makes. The zygote is single-threaded when it forks.

Also here: the config the crash tests use, and readers of both sides' exports.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ZYGOTE = r"""
import json, os, sys
import hedgekeeper.cli
import hedgekeeper.keeper.runner
import hedgekeeper.venues.sim
requests = sys.stdin
answers = sys.stdout
for line in requests:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.environ.clear()
            os.environ.update(job["env"])
            os.chdir(job["cwd"])
            for fd, name in ((1, job["stdout"]), (2, job["stderr"])):
                target = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(target, fd)
                os.close(target)
            sys.stdin.close()
            sys.argv = ["hedgekeeper", *job["argv"]]
            try:
                hedgekeeper.cli.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    answers.write(json.dumps({"pid": pid}) + "\n")
    answers.flush()
    _, status = os.waitpid(pid, 0)
    answers.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}) + "\n")
    answers.flush()
"""


@dataclass(frozen=True, slots=True)
class Result:
    """A finished command: exit code (``-9`` for SIGKILL) and its output."""

    returncode: int
    stdout: str
    stderr: str


class Zygote:
    """A warm process that forks ``hedgekeeper`` commands (see the module docstring)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._count = 0
        self._pid = 0
        self._out = self._err = workdir
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=env, cwd=workdir)

    def _read(self, timeout: float) -> dict[str, Any]:
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError(f"no answer from the zygote in {timeout} s")
        line = self._process.stdout.readline()
        if not line:
            assert self._process.stderr is not None
            raise RuntimeError(f"the zygote died: {self._process.stderr.read()}")
        return dict(json.loads(line))

    def spawn(self, argv: list[str], env: dict[str, str] | None = None) -> int:
        """Start ``hedgekeeper ARGV`` in a forked child; returns its pid (see :meth:`wait`)."""
        self._count += 1
        self._out = self.workdir / f"cmd{self._count}.out"
        self._err = self.workdir / f"cmd{self._count}.err"
        child_env = {key: value for key, value in os.environ.items()
                     if not key.startswith("HEDGEKEEPER_")}
        child_env.update(env or {})
        job = {"argv": argv, "env": child_env, "cwd": str(self.workdir),
               "stdout": str(self._out), "stderr": str(self._err)}
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(job) + "\n")
        self._process.stdin.flush()
        self._pid = int(self._read(30.0)["pid"])
        return self._pid

    def wait(self, timeout: float = 120.0) -> Result:
        """Wait for the child :meth:`spawn` started; SIGKILL it after ``timeout`` seconds."""
        try:
            answer = self._read(timeout)
        except TimeoutError:
            os.kill(self._pid, signal.SIGKILL)
            self._read(30.0)
            raise
        return Result(int(answer["returncode"]), self._out.read_text(), self._err.read_text())

    def run(self, argv: list[str], env: dict[str, str] | None = None,
            timeout: float = 120.0) -> Result:
        """Run ``hedgekeeper ARGV`` in a forked child; kill it after ``timeout`` seconds."""
        self.spawn(argv, env)
        return self.wait(timeout)

    def close(self) -> None:
        """Stop the zygote."""
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()


CRASH_CONFIG = """
name = "crash"
hold_journal_interval_s = 3600

[book]
positions = [
  {{ instrument = "BTC-27MAR26-88000-C", quantity = -20 }},
  {{ instrument = "BTC-27MAR26-88000-P", quantity = -20 }},
]

[feed]
kind = "chain"
bridge_ticks = {ticks}
seed = {seed}

[hedge]
instruments = [{{ name = "BTC_USDC-PERPETUAL", max_order = 5 }}]
policy = {{ halfwidth = 0.02 }}
realised_vol = 0.45

[rails]
max_orders_per_minute = 60
max_consecutive_same_side = 1000
max_venue_errors = 20
max_data_age_s = 120
order_timeout_s = 2
fill_wait_s = {fill_wait}

[venue]
state = "venue.sqlite"
level_size = 0.02
levels = 3
replenish_s = 1200
match_interval_s = 240
faults = "{faults}"
"""


def write_config(folder: Path, *, ticks: int = 60, seed: int = 11, fill_wait: float = 0.05,
                 faults: str = "ack_lost=0.1,timeout=0.05,seed=5", extra: str = "") -> Path:
    """A keeper config that trades often, fills partially, cancels and meets venue faults."""
    path = folder / "keeper.toml"
    path.write_text(CRASH_CONFIG.format(ticks=ticks, seed=seed, fill_wait=fill_wait,
                                        faults=faults) + extra, encoding="utf-8")
    return path


def export(zygote: Zygote, argv: list[str]) -> list[dict[str, str]]:
    """JSON lines printed by an export command."""
    result = zygote.run(argv)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def positions(records: list[dict[str, str]]) -> dict[str, Decimal]:
    """Net contracts per instrument from an export's orders and fills."""
    orders = {r["client_order_id"]: r for r in records if r["type"] == "order"}
    net: dict[str, Decimal] = {}
    for fill in (r for r in records if r["type"] == "fill"):
        order = orders[fill["client_order_id"]]
        sign = 1 if order["side"] == "buy" else -1
        net[order["instrument"]] = net.get(order["instrument"], Decimal(0)) + \
            sign * Decimal(fill["quantity"])
    return {k: v for k, v in net.items() if v != 0}


def check_invariants(journal: list[dict[str, str]],
                     venue: list[dict[str, str]]) -> dict[str, int]:
    """Zero duplicate orders per intent, zero lost fills, equal positions; raises otherwise.

    Returns counts (orders, fills, partially filled and cancelled orders) for reporting.
    """
    venue_orders = [r for r in venue if r["type"] == "order"]
    per_intent = Counter(r["intent_id"] for r in venue_orders)
    duplicates = {k: n for k, n in per_intent.items() if n > 1}
    assert not duplicates, f"duplicate orders per intent at the venue: {duplicates}"
    journal_orders = {r["client_order_id"]: r for r in journal if r["type"] == "order"}
    for order in venue_orders:
        mine = journal_orders.get(order["client_order_id"])
        assert mine is not None, f"venue order unknown to the journal: {order}"
        assert mine["intent_id"] == order["intent_id"]
        assert mine["venue_order_id"] == order["venue_order_id"], (mine, order)
    venue_fills = {r["trade_id"]: r for r in venue if r["type"] == "fill"}
    journal_fills = {r["trade_id"]: r for r in journal if r["type"] == "fill"}
    lost = sorted(set(venue_fills) - set(journal_fills))
    assert not lost, f"fills at the venue missing from the journal: {lost}"
    invented = sorted(set(journal_fills) - set(venue_fills))
    assert not invented, f"journal fills the venue never made: {invented}"
    for trade_id, fill in venue_fills.items():
        assert journal_fills[trade_id] == fill, (journal_fills[trade_id], fill)
    assert positions(journal) == positions(venue)
    open_venue = [r for r in venue_orders if r["status"] in ("open", "partially_filled")]
    assert not open_venue, f"orders left open at the venue: {open_venue}"
    open_journal = [r for r in journal_orders.values()
                    if r["status"] not in ("filled", "cancelled", "rejected", "expired")]
    assert not open_journal, f"orders left open in the journal: {open_journal}"
    fills_per_order = Counter(r["client_order_id"] for r in venue_fills.values())
    return {
        "orders": len(venue_orders),
        "fills": len(venue_fills),
        "partially_filled_then_cancelled": sum(
            1 for r in venue_orders if r["status"] == "cancelled"
            and fills_per_order[r["client_order_id"]] > 0),
        "orders_with_several_fills": sum(1 for n in fills_per_order.values() if n > 1),
    }


def wait_for(path: Path, text: str, timeout: float = 60.0) -> None:
    """Wait until ``path`` contains ``text``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{text!r} did not appear in {path} within {timeout} s")
