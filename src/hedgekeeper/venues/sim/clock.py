"""Clocks the paper exchange reads its venue time from: the wall clock, or one a test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from hedgekeeper.domain.instruments import as_utc

__all__ = ["Clock", "ManualClock", "WallClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of timezone-aware UTC time."""

    def now(self) -> datetime:
        """The current time, UTC."""
        ...


class WallClock:
    """The system's UTC wall clock."""

    def now(self) -> datetime:
        """The current time, UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told (tests, replays at full speed).

    Parameters
    ----------
    start : datetime
        Initial time, timezone-aware.
    """

    def __init__(self, start: datetime) -> None:
        self._now = as_utc(start, "start")

    def now(self) -> datetime:
        """The current time, UTC."""
        return self._now

    def advance(self, seconds: float) -> datetime:
        """Move forward by ``seconds`` (>= 0) and return the new time."""
        if not seconds >= 0:
            raise ValueError(f"seconds must be >= 0, got {seconds!r}")
        self._now += timedelta(seconds=seconds)
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (not earlier than now)."""
        when = as_utc(when, "when")
        if when < self._now:
            raise ValueError(f"when must not be earlier than {self._now.isoformat()}, got {when}")
        self._now = when
