"""Clocks: the keeper's only source of "now" (injected, never read from a global).

* :class:`WallClock` is real UTC time.
* :class:`ReplayClock` runs market time ``speed`` times faster than the wall clock from an
  anchor (a replayed price file at ``--speed``); restarted after a crash it is anchored at the
  journal's checkpoint, so a replay resumes where it stopped.
* :class:`ManualClock` moves only when told (tests, benchmarks); waiting for a time jumps there.

A clock also says how long to wait, in wall seconds, until a market time
(:meth:`Clock.wall_seconds_until`): the keeper sleeps that long, interruptibly, in its loop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Market time for the keeper."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def wall_seconds_until(self, when: datetime) -> float:
        """Wall seconds until ``now() >= when`` (0 when already there)."""
        ...

    @property
    def speed(self) -> float:
        """Market seconds per wall second (1 for real time)."""
        ...


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC)


class WallClock:
    """Real time (UTC)."""

    @property
    def speed(self) -> float:
        """Real time: 1."""
        return 1.0

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)

    def wall_seconds_until(self, when: datetime) -> float:
        """Seconds until ``when``."""
        return max((when - self.now()).total_seconds(), 0.0)


class ReplayClock:
    """Market time ``anchor + speed * (wall seconds since construction)``.

    Parameters
    ----------
    anchor : market time at the start (timezone-aware).
    speed : market seconds per wall second (finite, > 0).
    monotonic : wall-time source in seconds (``time.monotonic``; injectable for tests).
    """

    def __init__(self, anchor: datetime, speed: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.anchor = _aware(anchor, "ReplayClock anchor")
        if isinstance(speed, bool) or not isinstance(speed, int | float) \
                or not math.isfinite(speed) or speed <= 0.0:
            raise ValueError(f"speed must be a finite number > 0, got {speed!r}")
        self._speed = float(speed)
        self._monotonic = monotonic
        self._start = monotonic()

    @property
    def speed(self) -> float:
        """Market seconds per wall second."""
        return self._speed

    def restart_at(self, anchor: datetime) -> None:
        """Start the replay again from market time ``anchor``, now."""
        self.anchor = _aware(anchor, "ReplayClock anchor")
        self._start = self._monotonic()

    def now(self) -> datetime:
        """Market time now."""
        elapsed = (self._monotonic() - self._start) * self._speed
        return self.anchor + timedelta(seconds=elapsed)

    def wall_seconds_until(self, when: datetime) -> float:
        """Wall seconds it takes market time to reach ``when``."""
        return max((when - self.now()).total_seconds() / self._speed, 0.0)


class ManualClock:
    """A clock that moves only when told; waiting for a time jumps to it at once."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start, "ManualClock start")

    @property
    def speed(self) -> float:
        """Ages are measured in market seconds: 1."""
        return 1.0

    def now(self) -> datetime:
        """The time last set."""
        return self._now

    def set(self, when: datetime) -> None:
        """Move to ``when`` (never backwards)."""
        self._now = max(self._now, _aware(when, "when"))

    def advance(self, seconds: float) -> None:
        """Move forward by ``seconds`` (>= 0)."""
        if not seconds >= 0.0:
            raise ValueError(f"seconds must be >= 0, got {seconds!r}")
        self._now += timedelta(seconds=seconds)

    def wall_seconds_until(self, when: datetime) -> float:
        """Jump to ``when``; no wall time is needed."""
        self.set(when)
        return 0.0
