"""Volatility-regime adaptive delta band: wider and rarer in calm markets, tighter in stress."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from hedgekeeper.policies._decision import (
    DEFAULT_MAX_DATA_AGE,
    HedgeTo,
    Unit,
    choice,
    delta_band_target,
    finish,
    halfwidth_in_coin,
    max_age,
    present,
    safe,
    screen,
)
from hedgekeeper.policies.base import FloatArray, HedgeTarget, PolicyView, Reason
from hedgekeeper.policies.calendar import schedule_due

Signal = Literal["vol_percentile", "realised_vol", "dvol", "forecast_vol"]
SIGNALS: tuple[str, ...] = ("vol_percentile", "realised_vol", "dvol", "forecast_vol")


class VolRegimeBand:
    """A delta band whose width and cadence are set by the volatility regime.

    Rule: the regime of an element is ``i = #{thresholds <= signal}`` (0 = calmest), where
    ``signal`` is one view field: ``vol_percentile`` (in [0, 1]), ``realised_vol``, ``dvol`` or
    ``forecast_vol`` (annualised fractions). In regime ``i`` the policy is a :class:`DeltaBand`
    of half-width ``halfwidths[i]`` plus, when ``intervals`` is given, a :class:`Calendar` of
    step ``intervals[i]`` counted from the last rebalance. Half-widths and intervals must not
    increase with the regime: wider and rarer when calm, tighter and more frequent in stress.
    A band breach reports ``DELTA_BAND``; a due schedule alone reports ``SCHEDULE``.

    Parameters
    ----------
    signal : which view field sets the regime.
    thresholds : strictly increasing regime boundaries, in the signal's unit (fractions in
        [0, 1] for ``vol_percentile``).
    halfwidths : ``len(thresholds) + 1`` band half-widths, > 0, non-increasing, coin or USD.
    intervals : ``len(thresholds) + 1`` rebalance intervals in years, > 0, non-increasing, or
        None for no cadence.
    unit : ``"coin"`` or ``"usd"`` for ``halfwidths``.
    hedge_to : ``"centre"`` or ``"edge"``.
    max_data_age : years; older market data is refused (default five minutes).
    """

    def __init__(
        self,
        signal: Signal,
        thresholds: Sequence[float],
        halfwidths: Sequence[float],
        intervals: Sequence[float] | None = None,
        unit: Unit = "coin",
        hedge_to: HedgeTo = "centre",
        max_data_age: float = DEFAULT_MAX_DATA_AGE,
    ) -> None:
        owner = "VolRegimeBand"
        self.signal = choice(owner, "signal", signal, SIGNALS)
        self.thresholds = _floats(owner, "thresholds", thresholds)
        if len(self.thresholds) == 0 or any(
            b <= a for a, b in itertools.pairwise(self.thresholds)
        ):
            raise ValueError(
                f"{owner}: thresholds must be a non-empty strictly increasing sequence, "
                f"got {thresholds!r}"
            )
        if self.signal == "vol_percentile" and not all(0.0 <= x <= 1.0 for x in self.thresholds):
            raise ValueError(f"{owner}: thresholds must lie in [0, 1] for vol_percentile")
        regimes = len(self.thresholds) + 1
        self.halfwidths = _ladder(owner, "halfwidths", halfwidths, regimes)
        self.intervals = (
            None if intervals is None else _ladder(owner, "intervals", intervals, regimes)
        )
        self.unit = choice(owner, "unit", unit, ("coin", "usd"))
        self.hedge_to = choice(owner, "hedge_to", hedge_to, ("centre", "edge"))
        self.max_data_age = max_age(owner, max_data_age)

    def regime(self, signal: FloatArray) -> np.ndarray[tuple[int], np.dtype[np.intp]]:
        """Regime index per element (0 = calmest) for signal values."""
        return np.searchsorted(np.asarray(self.thresholds), signal, side="right")

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """Fire where delta is outside the regime's band or the regime's interval has passed."""
        owner = "VolRegimeBand"
        refusal = screen(
            view, owner, self.max_data_age, [self.signal, *present(view, ("target_delta",))]
        )
        regime = self.regime(safe(view.require(self.signal, owner), 0.0))
        width = halfwidth_in_coin(
            np.asarray(self.halfwidths)[regime], self.unit, view.spot_or_one()
        )
        outside, band = delta_band_target(
            view.net_delta, view.target_delta_or_zero(), width, self.hedge_to
        )
        fire = outside
        reason = np.full(view.size, Reason.DELTA_BAND, dtype=np.int16)
        if self.intervals is not None:
            last = view.require("last_rebalance_time", owner)
            due = schedule_due(safe(view.time), last, np.asarray(self.intervals)[regime], None)
            reason = np.where(outside, reason, np.int16(Reason.SCHEDULE)).astype(np.int16)
            fire = outside | due
            band = (np.where(outside, band[0], view.target_delta_or_zero()), band[1], band[2])
        return finish(owner, fire, reason, refusal, delta=band)


def _floats(owner: str, name: str, values: Sequence[float]) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: {name} must be a sequence of numbers, got {values!r}") from exc
    if not all(math.isfinite(v) for v in out):
        raise ValueError(f"{owner}: {name} must be finite, got {values!r}")
    return out


def _ladder(owner: str, name: str, values: Sequence[float], count: int) -> tuple[float, ...]:
    out = _floats(owner, name, values)
    if len(out) != count:
        raise ValueError(
            f"{owner}: {name} must have len(thresholds) + 1 = {count} entries, got {len(out)}"
        )
    if any(v <= 0 for v in out):
        raise ValueError(f"{owner}: {name} must all be > 0, got {values!r}")
    if any(b > a for a, b in itertools.pairwise(out)):
        raise ValueError(
            f"{owner}: {name} must not increase from calm to stress regimes, got {values!r}"
        )
    return out
