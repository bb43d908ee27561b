"""Volatility regimes: calm / normal / stressed from quantiles of a trailing window."""

from __future__ import annotations

from enum import IntEnum
from typing import Self

import numpy as np
import numpy.typing as npt

from hedgekeeper.forecast._common import (
    InsufficientHistoryError,
    not_fitted,
    positive_int,
    positive_number,
)
from hedgekeeper.forecast.features import DAY_HOURS, aligned_boundaries, cumulative_squared_returns
from hedgekeeper.forecast.history import HOURS_PER_YEAR, FloatArray, MarketHistory


class Regime(IntEnum):
    """Volatility regime label."""

    CALM = 0
    NORMAL = 1
    STRESSED = 2


class VolRegime:
    r"""Label volatility as calm / normal / stressed by its rank in a trailing window.

    Rule: the *signal* is the annualised realised volatility over the last ``signal_hours``
    (``sqrt(Σ r² · 8760 / signal_hours)``), sampled every 24 h over the trailing
    ``window_days``. With ``q_calm`` and ``q_stress`` the ``calm_quantile`` and
    ``stressed_quantile`` of those samples (``numpy.quantile``, linear interpolation), a
    volatility ``v`` is CALM when ``v < q_calm``, STRESSED when ``v > q_stress`` and NORMAL
    otherwise. The same thresholds classify a *forecast* volatility, which is how a predictive
    policy sees stress coming (:class:`~hedgekeeper.policies.PredictiveBand`). The rule is a
    trailing-quantile filter in the spirit of RiskMetrics-style volatility regimes; unlike a
    Markov-switching model it has no parameters to estimate and cannot look ahead.

    Parameters
    ----------
    window_days : trailing window of the reference distribution, days (default 365).
    signal_hours : realised-volatility window of the signal, hours (default 168 = 7 days).
    calm_quantile, stressed_quantile : quantiles of the trailing distribution,
        0 < calm < stressed < 1 (defaults 0.33 and 0.8: the calmest third is calm, the top
        fifth stressed).

    Attributes
    ----------
    thresholds_ : (2,) annualised vol thresholds ``(q_calm, q_stress)``.
    reference_ : (m,) sorted trailing signal values (annualised vol) used for percentiles.
    current_vol_ : the signal at the end of the history.
    current_ : the regime at the end of the history.
    """

    def __init__(
        self,
        window_days: int = 365,
        signal_hours: int = 168,
        calm_quantile: float = 0.33,
        stressed_quantile: float = 0.8,
    ) -> None:
        owner = "VolRegime"
        self.window_days = positive_int(owner, "window_days", window_days, minimum=7)
        self.signal_hours = positive_int(owner, "signal_hours", signal_hours)
        self.calm_quantile = positive_number(owner, "calm_quantile", calm_quantile, upper=1.0)
        self.stressed_quantile = positive_number(
            owner, "stressed_quantile", stressed_quantile, upper=1.0
        )
        if self.stressed_quantile <= self.calm_quantile:
            raise ValueError(
                f"{owner}: stressed_quantile must exceed calm_quantile, got "
                f"{stressed_quantile!r} <= {calm_quantile!r}"
            )

    def fit(self, history: MarketHistory) -> Self:
        """Thresholds from the trailing window ending at the history's end."""
        cumulative = cumulative_squared_returns(history)
        n = history.size
        first = max(self.signal_hours + 1, n - DAY_HOURS * self.window_days)
        boundary = aligned_boundaries(n, DAY_HOURS, first, n)
        if boundary.size < 7:
            raise InsufficientHistoryError(
                f"VolRegime: {boundary.size} daily samples in the window; at least 7 are needed"
            )
        signal = self._signal(cumulative, boundary)
        self.reference_: FloatArray = np.sort(signal)
        self.thresholds_: FloatArray = np.quantile(
            signal, [self.calm_quantile, self.stressed_quantile]
        )
        self.current_vol_ = float(signal[-1])
        self.current_ = Regime(int(self.classify(np.array([self.current_vol_]))[0]))
        return self

    def _signal(self, cumulative: FloatArray, boundary: npt.NDArray[np.int64]) -> FloatArray:
        variance = cumulative[boundary] - cumulative[boundary - self.signal_hours]
        return np.asarray(np.sqrt(variance * HOURS_PER_YEAR / self.signal_hours))

    def classify(self, vol: npt.ArrayLike) -> npt.NDArray[np.int8]:
        """Regime codes (:class:`Regime` values, int8) for annualised volatilities ``vol``
        (fractions, any shape); non-finite input raises ``ValueError`` naming ``vol``."""
        if not hasattr(self, "thresholds_"):
            raise not_fitted("VolRegime")
        values = np.asarray(vol, dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise ValueError("vol must be finite annualised volatilities")
        code = np.where(
            values < self.thresholds_[0],
            Regime.CALM,
            np.where(values > self.thresholds_[1], Regime.STRESSED, Regime.NORMAL),
        )
        return np.asarray(code, dtype=np.int8)

    def percentile(self, vol: npt.ArrayLike) -> FloatArray:
        """Empirical CDF in [0, 1] of ``vol`` in the trailing window (``view.vol_percentile``)."""
        if not hasattr(self, "reference_"):
            raise not_fitted("VolRegime")
        values = np.asarray(vol, dtype=np.float64)
        rank = np.searchsorted(self.reference_, values, side="right")
        return np.asarray(
            np.where(np.isfinite(values), rank / self.reference_.size, np.nan), dtype=np.float64
        )
