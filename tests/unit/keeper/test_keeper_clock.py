"""Clocks: replay at a speed, resumable anchors, manual time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hedgekeeper.keeper.clock import ManualClock, ReplayClock, WallClock

T0 = datetime(2026, 1, 26, 4, 0, tzinfo=UTC)


class _Tick:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_replay_clock_runs_speed_times_faster_and_restarts() -> None:
    tick = _Tick()
    clock = ReplayClock(T0, 60.0, monotonic=tick)
    tick.now += 2.0
    assert clock.now() == T0 + timedelta(minutes=2)
    assert clock.wall_seconds_until(T0 + timedelta(minutes=3)) == pytest.approx(1.0)
    assert clock.wall_seconds_until(T0) == 0.0
    clock.restart_at(T0 + timedelta(hours=1))
    assert clock.now() == T0 + timedelta(hours=1)
    assert clock.speed == 60.0


@pytest.mark.parametrize("speed", [0.0, -1.0, float("inf"), float("nan")])
def test_replay_clock_rejects_bad_speed(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        ReplayClock(T0, speed)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ReplayClock(datetime(2026, 1, 1), 1.0)
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2026, 1, 1))


def test_manual_clock_jumps_and_never_goes_back() -> None:
    clock = ManualClock(T0)
    assert clock.wall_seconds_until(T0 + timedelta(hours=1)) == 0.0
    assert clock.now() == T0 + timedelta(hours=1)
    clock.set(T0)
    assert clock.now() == T0 + timedelta(hours=1)
    clock.advance(30)
    assert clock.now() == T0 + timedelta(hours=1, seconds=30)


def test_wall_clock_is_utc() -> None:
    assert WallClock().now().tzinfo is not None
    assert WallClock().speed == 1.0
