"""Calendar rebalancing: trade back to target every fixed interval."""

from __future__ import annotations

import datetime as dt

import numpy as np

from hedgekeeper.policies._decision import (
    DEFAULT_MAX_DATA_AGE,
    finish,
    max_age,
    positive,
    present,
    safe,
    screen,
)
from hedgekeeper.policies.base import (
    SECONDS_PER_YEAR,
    BoolArray,
    FloatArray,
    HedgeTarget,
    PolicyView,
    Reason,
)

TIME_TOLERANCE = 1e-9
"""Years (about 0.03 s): slack when comparing times, so that steps that add up to the interval in
floating point (24 hourly steps vs. one day) still count as due."""


def schedule_due(
    time: FloatArray,
    last_rebalance_time: FloatArray,
    interval: FloatArray | float,
    anchor: float | None,
) -> BoolArray:
    """Whether a calendar with ``interval`` (years) is due at ``time``.

    Without ``anchor``: due when ``time - last_rebalance_time >= interval``. With ``anchor``
    (years since the epoch; grid points ``anchor + k * interval``): due when a grid point lies in
    ``(last_rebalance_time, time]``. Never rebalanced (NaN) is always due.
    """
    never = np.isnan(last_rebalance_time)
    last = np.where(never, time, last_rebalance_time)
    if anchor is None:
        due = time - last >= np.asarray(interval) - TIME_TOLERANCE
    else:
        step_now = np.floor((time - anchor) / interval + TIME_TOLERANCE)
        step_last = np.floor((last - anchor) / interval + TIME_TOLERANCE)
        due = step_now > step_last
    return np.asarray(never | due, dtype=np.bool_)


class Calendar:
    """Rebalance every ``interval``, optionally on a grid aligned to a clock time of day (UTC).

    Rule: due when ``t - t_last >= interval``; with ``align_to`` the due times are the grid
    ``midnight + align_to + k * interval`` (UTC, on the epoch's calendar) and the policy fires at
    the first step at or after each grid point not yet served. A book never rebalanced
    (``last_rebalance_time`` NaN) is due. Targets: net delta to ``view.target_delta`` (0 when not
    given) and, when the view carries weights, weights to ``view.target_weights``.

    Parameters
    ----------
    interval : years between rebalances, > 0 (one day = 1/365).
    align_to : clock time of day (UTC) the grid is aligned to, or None for intervals counted from
        the last rebalance.
    max_data_age : years; older market data is refused (default five minutes).
    """

    def __init__(
        self,
        interval: float,
        align_to: dt.time | None = None,
        max_data_age: float = DEFAULT_MAX_DATA_AGE,
    ) -> None:
        self.interval = positive("Calendar", "interval", interval)
        if align_to is not None and not isinstance(align_to, dt.time):
            raise ValueError(
                f"Calendar: align_to must be a datetime.time or None, got {align_to!r}"
            )
        self.align_to = align_to
        self.max_data_age = max_age("Calendar", max_data_age)

    @property
    def anchor(self) -> float | None:
        """The grid origin in years since the epoch (seconds after midnight / year length)."""
        if self.align_to is None:
            return None
        seconds = (
            self.align_to.hour * 3600
            + self.align_to.minute * 60
            + self.align_to.second
            + self.align_to.microsecond / 1e6
        )
        return seconds / SECONDS_PER_YEAR

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """Fire where the schedule is due; target delta (and weights) back to target."""
        fields = present(view, ("target_delta", "weights", "target_weights"))
        refusal = screen(view, "Calendar", self.max_data_age, fields)
        last = view.require("last_rebalance_time", "Calendar")
        due = schedule_due(safe(view.time), last, self.interval, self.anchor)
        target = view.target_delta_or_zero()
        return finish(
            "Calendar",
            due,
            Reason.SCHEDULE,
            refusal,
            delta=(target, target, target),
            weights=view.target_weights,
        )
