"""Crash injection with real processes: SIGKILL the keeper at every step of the order lifecycle.

Each run is a real ``hedgekeeper run`` process (forked from a warm zygote, see
``keeper_harness``) that ``HEDGEKEEPER_CRASH_AT=<step>:<n>`` kills with SIGKILL at that step;
the next run (the same command) recovers. At the end the paper exchange's OWN ledger
(``hedgekeeper paper-venue export``) is compared with the journal (``hedgekeeper journal
export``): zero duplicate orders per intent, zero lost fills, equal positions.

The venue also injects faults (lost acknowledgements, timeouts), so the UNKNOWN -> look-up path
runs in every test. The default test chains all nine crash points through one replay (each
crash recovered by the next run); ``-m slow`` adds each point on its own and a randomised soak.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from keeper_harness import Zygote, check_invariants, export, write_config

from hedgekeeper.keeper.crash import STEPS
from pg import postgres_cluster

# Lifecycle order; ``reconciling`` follows a crash that leaves a venue fill unrecorded, so the
# next run's startup reconciliation has something to apply when it is killed.
CHAIN = ("decided:1", "intent_saved:1", "sent:1", "ack_lost:1", "partially_filled:1",
         "reconciling:1", "fill_saved:2", "cancel_sent:1", "cancel_race:1")


slow = pytest.mark.skipif(os.environ.get("HEDGEKEEPER_SLOW_TESTS") != "1",
                          reason="slow: set HEDGEKEEPER_SLOW_TESTS=1")


@pytest.fixture
def zygote(tmp_path: Path) -> Iterator[Zygote]:
    # Journal and ledger on tmpfs when there is one: the tests kill processes, not the machine,
    # so the files survive either way, and each of the thousands of commits skips a disk fsync.
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else tmp_path
    process = Zygote(folder)
    try:
        yield process
    finally:
        process.close()
        if folder != tmp_path:
            shutil.rmtree(folder, ignore_errors=True)


def _run(zygote: Zygote, config: Path, crash: str | None = None,
         duration: str | None = None, db: str | None = None, speed: str = "3600") -> int:
    env = {"HEDGEKEEPER_CRASH_AT": crash} if crash else {}
    argv = ["run", str(config), "--db", db or f"sqlite:///{zygote.workdir}/journal.sqlite",
            "--speed", speed]
    result = zygote.run(argv + (["--duration", duration] if duration else []), env=env)
    if result.returncode not in (0, -9):
        raise AssertionError(f"keeper run failed ({result.returncode}): {result.stderr[-3000:]}")
    return result.returncode


def _verify(zygote: Zygote, db: str | None = None) -> dict[str, int]:
    journal = export(zygote, ["journal", "export", "--db",
                              db or f"sqlite:///{zygote.workdir}/journal.sqlite"])
    venue = export(zygote, ["paper-venue", "export", "--state",
                            str(zygote.workdir / "venue.sqlite")])
    return check_invariants(journal, venue)


def _finish(zygote: Zygote, config: Path, db: str | None = None) -> None:
    for _ in range(3):
        if _run(zygote, config, db=db) == 0:
            return
    raise AssertionError("the keeper did not finish the replay after the crashes")


def test_every_crash_point_in_one_replay(zygote: Zygote) -> None:
    assert {point.split(":")[0] for point in CHAIN} == set(STEPS)
    config = write_config(zygote.workdir, ticks=60)
    for point in CHAIN:
        code = _run(zygote, config, point)
        assert code == -9, f"the keeper never reached crash point {point} (exit {code})"
    _finish(zygote, config)
    counts = _verify(zygote)
    assert counts["orders"] >= 10
    assert counts["partially_filled_then_cancelled"] >= 1
    assert counts["orders_with_several_fills"] >= 1
    status = zygote.run(["status", "--db", f"sqlite:///{zygote.workdir}/journal.sqlite",
                         "--json"])
    assert status.returncode == 0
    state = json.loads(status.stdout)
    assert state["open_orders"] == []
    assert state["executing"] is None
    assert state["venue_positions"]["positions"] == state["positions"]


def test_crashes_recover_with_a_postgresql_journal(zygote: Zygote) -> None:
    with postgres_cluster() as cluster:
        db = cluster.new_database()
        config = write_config(zygote.workdir, ticks=30)
        for point in ("intent_saved:1", "ack_lost:1", "partially_filled:1", "reconciling:1",
                      "cancel_race:1"):
            assert _run(zygote, config, point, db=db) == -9, point
        _finish(zygote, config, db=db)
        counts = _verify(zygote, db=db)
    assert counts["orders"] >= 5


@pytest.mark.slow
@slow
@pytest.mark.parametrize("step", STEPS)
def test_each_crash_point_alone(zygote: Zygote, step: str) -> None:
    config = write_config(zygote.workdir, ticks=40)
    if step == "reconciling":
        assert _run(zygote, config, "partially_filled:1") == -9
    assert _run(zygote, config, f"{step}:1") == -9, f"crash point {step} not reached"
    _finish(zygote, config)
    _verify(zygote)


@pytest.mark.slow
@slow
def test_randomised_soak_of_many_kills(zygote: Zygote) -> None:
    """40 runs of a long replay, each killed at a random step (or stopped after 4 s)."""
    rng = random.Random(2026)
    config = write_config(zygote.workdir, ticks=3000, seed=23,
                          faults="ack_lost=0.1,timeout=0.05,unavailable=0.03,seed=9")
    kills = 0
    for _ in range(40):
        point = f"{rng.choice(STEPS)}:{rng.randint(1, 3)}"
        # 6.3 market seconds between ticks at 120x: one update every 53 ms, few conflated.
        kills += _run(zygote, config, point, duration="4s", speed="120") == -9
    assert _run(zygote, config, duration="3s", speed="120") == 0  # a clean stop
    counts = _verify(zygote)
    assert kills >= 20
    assert counts["orders"] >= 40
