"""RiskMetrics exponentially weighted moving average (EWMA) variance on hourly returns."""

from __future__ import annotations

import math
from typing import Self

import numpy as np
from scipy.signal import lfilter

from hedgekeeper.forecast._common import not_fitted, positive_int, positive_number
from hedgekeeper.forecast.history import Forecast, MarketHistory, parse_horizon


class Ewma:
    r"""RiskMetrics EWMA variance, applied to hourly log returns.

    .. math::
        \sigma^2_{t+1} = \lambda_h \sigma^2_t + (1 - \lambda_h)\, r_t^2,\qquad
        \widehat{RV}_{t,t+h} = h\, \sigma^2_{t+1}

    with zero mean, and a flat term structure (the RiskMetrics square-root-of-time rule).
    Source: J.P. Morgan/Reuters, *RiskMetrics — Technical Document*, 4th ed. (1996), §5.2.1
    (eq. 5.3) and Table 5.8: decay λ = 0.94 for daily returns.

    Hourly decay: the same decay per unit of calendar time, ``λ_h = λ_d^(1/24)``
    (0.94 → 0.997425), so a squared return a day old weighs ``λ_d`` relative to a fresh one, as
    in daily RiskMetrics; the mean age of the weights is ``1/(1 - λ_h)`` ≈ 388 h ≈ 16.2 days
    (≈ 1/(1 - 0.94) = 16.7 days). The recursion starts from the mean squared return of the
    first ``warmup_hours`` of the history (its weight has decayed to ~0 after a few months).

    Parameters
    ----------
    decay_daily : λ for daily data, in (0, 1); default 0.94 (RiskMetrics).
    warmup_hours : hours averaged for the starting variance, >= 1.

    Attributes
    ----------
    decay_hourly_ : λ_h used on hourly returns.
    variance_ : σ²_{t+1}, the one-hour-ahead variance at the end of the history.
    origin_ : end of the history the state was computed from.
    """

    name = "ewma"

    def __init__(self, decay_daily: float = 0.94, warmup_hours: int = 720) -> None:
        self.decay_daily = positive_number("Ewma", "decay_daily", decay_daily, upper=1.0)
        self.warmup_hours = positive_int("Ewma", "warmup_hours", warmup_hours)

    def fit(self, history: MarketHistory) -> Self:
        """EWMA has no estimated parameters: ``fit`` is :meth:`update`."""
        self.decay_hourly_ = self.decay_daily ** (1.0 / 24.0)
        return self.update(history)

    def update(self, history: MarketHistory) -> Self:
        """Run the recursion over ``history`` (returns from its second candle on)."""
        decay = self.decay_daily ** (1.0 / 24.0)
        self.decay_hourly_ = decay
        returns = history.log_returns()[1:]
        squared = returns * returns
        start = float(np.mean(squared[: self.warmup_hours]))
        # lfilter computes y[t] = λ y[t-1] + (1 - λ) x[t] with y[-1] = start: y[-1] is σ²_{T+1}.
        state, _ = lfilter([1.0 - decay], [1.0, -decay], squared, zi=[decay * start])
        self.variance_ = float(state[-1]) if state.size else start
        self.origin_ = history.end
        return self

    def predict(self, horizon: int | str) -> Forecast:
        """``h`` hours times the one-hour-ahead EWMA variance."""
        if not hasattr(self, "variance_"):
            raise not_fitted("Ewma")
        hours = parse_horizon(horizon)
        variance = hours * self.variance_
        return Forecast(
            self.origin_, hours, variance if variance > 0 else math.nan, self.name
        )
