"""Implied-volatility forecaster: Deribit DVOL with an estimated variance risk premium."""

from __future__ import annotations

import math
from typing import Self

import numpy as np

from hedgekeeper.forecast._common import (
    InsufficientHistoryError,
    not_fitted,
    optional_days,
    positive_int,
    window_start,
)
from hedgekeeper.forecast.features import (
    DAY_HOURS,
    aligned_boundaries,
    cumulative_squared_returns,
    implied_variance,
    window_sum,
)
from hedgekeeper.forecast.history import Forecast, MarketHistory, parse_horizon


class ImpliedVol:
    r"""Realised variance forecast from the DVOL implied variance, premium estimated.

    DVOL is Deribit's 30-day implied volatility index (annualised, 365-day year, computed from
    the option smile like the VIX). Its implied variance over ``h`` hours is
    ``IV_t = DVOL_t² h / 8760``. Implied variance exceeds the realised variance that follows on
    average — the *variance risk premium* (VRP; Carr & Wu 2009, "Variance risk premiums",
    *Review of Financial Studies* 22(3), 1311-1341) — so it is not used as is. The premium is
    estimated on the fit window as a proportional discount,

    .. math::
        \widehat{RV}_{T,T+h} = s\, IV_T,\qquad
        s = \frac{1}{m}\sum_{k=1}^{m} \frac{RV_{t_k, t_k+h}}{IV_{t_k}},\qquad
        \text{VRP} = 1 - s,

    over the last ``window_days`` of daily samples ``t_k`` (aligned to the history's end) whose
    target window closed before it. ``s`` is the exact minimiser of the in-sample QLIKE of
    ``s IV`` (set ``d/ds Σ QLIKE(RV_k, s IV_k) = 0``), so the premium is estimated under the
    loss the forecasts are judged by. (A Mincer-Zarnowitz regression ``RV = a + b IV`` in levels,
    tried first, is unstable: in the calm 2023 window its intercept turned negative and so did
    forecasts; a log-log regression scored worse on QLIKE.)

    DVOL at an origin is ``history.dvol`` of the last candle before it (the loader carries a
    value over index gaps for at most 72 h); where it is NaN (DVOL starts 2021-03-24 and
    exists for BTC only) the forecast is NaN (no forecast), and ``fit`` needs ``min_samples``
    days with DVOL in the window.

    Parameters
    ----------
    horizon : forecast horizon the premium is estimated for (hours or ``"24h"``/``"7d"``).
    window_days : rolling estimation window in days (default 365), or None for all history.
    min_samples : fewest daily samples with DVOL accepted by ``fit``.

    Attributes
    ----------
    scale_ : ``s``, mean realised-to-implied variance ratio over the window.
    premium_ : estimated VRP ``1 - s`` as a fraction of implied variance (positive: IV > RV).
    implied_variance_ : DVOL-implied variance over the horizon at the end of the history.
    n_samples_ : samples used.
    origin_ : end of the history the state was computed from.
    """

    name = "iv"

    def __init__(
        self, horizon: int | str = 24, window_days: int | None = 365, min_samples: int = 30
    ) -> None:
        self.horizon = parse_horizon(horizon)
        self.window_days = optional_days("ImpliedVol", "window_days", window_days)
        self.min_samples = positive_int("ImpliedVol", "min_samples", min_samples, minimum=5)

    def fit(self, history: MarketHistory) -> Self:
        """Estimate the realised-to-implied variance ratio ``s`` over the window."""
        if history.dvol is None:
            raise ValueError("ImpliedVol: history.dvol is required (a DVOL series)")
        cumulative = cumulative_squared_returns(history)
        first = max(2, window_start(history, self.window_days) + 1)
        boundary = aligned_boundaries(history.size, DAY_HOURS, first, history.size - self.horizon)
        implied = implied_variance(history.dvol, boundary, self.horizon)
        realised = window_sum(cumulative, boundary + self.horizon, self.horizon)
        known = np.isfinite(implied)
        if np.count_nonzero(known) < self.min_samples:
            raise InsufficientHistoryError(
                f"ImpliedVol: {np.count_nonzero(known)} days with DVOL in the fit window; "
                f"at least min_samples={self.min_samples} are needed"
            )
        self.scale_ = float(np.mean(realised[known] / implied[known]))
        self.premium_ = 1.0 - self.scale_
        self.n_samples_ = int(np.count_nonzero(known))
        return self.update(history)

    def update(self, history: MarketHistory) -> Self:
        """Read the DVOL-implied variance at the end of ``history``."""
        if not hasattr(self, "scale_"):
            raise not_fitted("ImpliedVol")
        if history.dvol is None:
            raise ValueError("ImpliedVol: history.dvol is required (a DVOL series)")
        end = np.array([history.size], dtype=np.int64)
        self.implied_variance_ = float(implied_variance(history.dvol, end, self.horizon)[0])
        self.origin_ = history.end
        return self

    def predict(self, horizon: int | str) -> Forecast:
        """``s IV_T``; NaN when DVOL is unknown at the origin."""
        if not hasattr(self, "scale_"):
            raise not_fitted("ImpliedVol")
        hours = parse_horizon(horizon)
        if hours != self.horizon:
            raise ValueError(
                f"horizon: ImpliedVol was fitted for horizon={self.horizon} h, got {hours} h"
            )
        if not math.isfinite(self.implied_variance_):
            return Forecast(self.origin_, hours, math.nan, self.name)
        return Forecast(self.origin_, hours, self.scale_ * self.implied_variance_, self.name)
