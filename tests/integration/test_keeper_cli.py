"""``hedgekeeper run / kill / resume / status`` as real processes.

A keeper runs in the background with a thin paper book (its hedge orders rest); ``hedgekeeper
kill --db`` from another process must make it cancel them and stop trading, ``status`` must
say so, ``resume`` must let it trade again. ``--duration`` stops cleanly, and the same command
resumes from where it stopped.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from keeper_harness import Zygote, check_invariants, export, wait_for, write_config


@pytest.fixture
def zygote(tmp_path: Path) -> Iterator[Zygote]:
    process = Zygote(tmp_path)
    try:
        yield process
    finally:
        process.close()


@pytest.fixture
def background(tmp_path: Path) -> Iterator[Zygote]:
    folder = tmp_path / "background"
    folder.mkdir()
    process = Zygote(folder)
    try:
        yield process
    finally:
        process.close()


def _status(zygote: Zygote, db: str) -> dict[str, Any]:
    result = zygote.run(["status", "--db", db, "--json"])
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def _until(check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_kill_status_resume_against_a_running_keeper(zygote: Zygote, background: Zygote,
                                                      tmp_path: Path) -> None:
    config = write_config(tmp_path, ticks=400, fill_wait=30.0, faults="",
                          extra=f"\n[log]\nfile = \"{tmp_path}/keeper.log\"\n")
    # Resting orders: one thin level that comes back slowly.
    text = config.read_text().replace("replenish_s = 1200", "replenish_s = 1e9")
    config.write_text(text)
    db = f"sqlite:///{tmp_path}/journal.sqlite"
    pid = background.spawn(["run", str(config), "--db", db, "--speed", "60", "--duration",
                            "10m"])
    try:
        wait_for(tmp_path / "keeper.log", '"order_acknowledged"', timeout=120)
        _until(lambda: _status(zygote, db)["open_orders"])
        killed = zygote.run(["kill", "--db", db, "--reason", "desk: stop now"])
        assert killed.returncode == 0
        assert "kill switch engaged" in killed.stdout
        _until(lambda: not _status(zygote, db)["open_orders"])
        state = _status(zygote, db)
        assert state["kill_switch"]["engaged"] is True
        assert state["rails_tripped"]["kill_switch"] == "desk: stop now"
        assert state["trading_blocked"] is True
        orders = len(export(zygote, ["journal", "export", "--db", db]))
        time.sleep(2.0)
        assert len(export(zygote, ["journal", "export", "--db", db])) == orders  # no new orders
        human = zygote.run(["status", "--db", db])
        assert "ENGAGED" in human.stdout
        assert "desk: stop now" in human.stdout
        resumed = zygote.run(["resume", "--db", db])
        assert resumed.returncode == 0
        _until(lambda: _status(zygote, db)["rails_tripped"] == {})
        wait_for(tmp_path / "keeper.log", '"resumed"', timeout=60)
        os.kill(pid, signal.SIGTERM)
        result = background.wait(timeout=60)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        background.wait(timeout=60)
        raise
    assert result.returncode == 0, result.stderr[-2000:]
    assert "keeper stopped (stop)" in result.stdout
    venue = export(zygote, ["paper-venue", "export", "--state",
                            str(tmp_path / "background" / "venue.sqlite")])
    check_invariants(export(zygote, ["journal", "export", "--db", db]), venue)


def test_duration_stops_cleanly_and_the_same_command_resumes(zygote: Zygote,
                                                             tmp_path: Path) -> None:
    config = write_config(tmp_path, ticks=3000, faults="")
    db = f"sqlite:///{tmp_path}/journal.sqlite"
    argv = ["run", str(config), "--db", db, "--speed", "3600", "--duration", "3s"]
    first = zygote.run(argv)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "keeper stopped (stop)" in first.stdout
    stopped_at = _status(zygote, db)["feed_sequence"]
    assert stopped_at > 0
    second = zygote.run(argv)
    assert second.returncode == 0
    started = [json.loads(line) for line in second.stderr.splitlines()
               if '"recovery_started"' in line]
    assert started[0]["sequence"] == stopped_at
    assert _status(zygote, db)["feed_sequence"] > stopped_at


def test_bad_input_gives_one_clear_line(zygote: Zygote, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[book]\npositions = [{ instrument = "BTC-27MAR26-88000-C", quantity = 1 }]\n'
                   "[rails]\nmax_orders_per_minute = -1\n")
    result = zygote.run(["run", str(bad), "--db", f"sqlite:///{tmp_path}/j.sqlite"])
    assert result.returncode == 2
    assert "rails.max_orders_per_minute" in result.stderr
    assert "Traceback" not in result.stderr
    result = zygote.run(["run", str(bad), "--duration", "soon"])
    assert result.returncode == 2
    assert "--duration" in result.stderr
    result = zygote.run(["status", "--db", f"sqlite:///{tmp_path}/none.sqlite"])
    assert result.returncode == 2
    assert "no journal" in result.stderr
