"""HAR-RV: Corsi's heterogeneous autoregressive model of realised variance."""

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
    MONTH_HOURS,
    aligned_boundaries,
    cumulative_squared_returns,
    har_components,
    window_sum,
)
from hedgekeeper.forecast.history import FloatArray, Forecast, MarketHistory, parse_horizon


class HarRV:
    r"""HAR-RV (Corsi 2009) on daily realised variance built from hourly returns, fitted by OLS.

    .. math::
        RV_{t,t+h} = \beta_0 + \beta_d\, RV^{(d)}_t + \beta_w\, RV^{(w)}_t
                     + \beta_m\, RV^{(m)}_t + \varepsilon

    where ``RV^(d)`` is the sum of squared hourly log returns over the last 24 h and ``RV^(w)``,
    ``RV^(m)`` the mean daily RV over the last 7 and 30 days (crypto trades every day, so
    Corsi's 5 and 22 trading days become 7 and 30 calendar days). Multi-day horizons use the
    *direct* regression of the realised variance over the whole horizon on today's components
    (Corsi 2009, §4), one regression per horizon, so the horizon is a constructor parameter.

    Samples are taken every 24 h aligned to the end of the history (same hour of day as the
    forecast origin); a sample enters the regression only when its whole target window closed
    before the history's end. A non-positive fitted value (possible with OLS in levels) is
    replaced by the smallest realised variance seen in the training targets.

    Source: F. Corsi (2009), "A simple approximate long-memory model of realized volatility",
    *Journal of Financial Econometrics* 7(2), 174-196, eq. (8)-(9).

    Parameters
    ----------
    horizon : forecast horizon (hours or ``"24h"``/``"7d"``) the regression targets.
    window_days : rolling estimation window in days, or None (default) for all history.
    min_samples : fewest regression samples accepted by ``fit``.

    Attributes
    ----------
    coef_ : (4,) ``β0, βd, βw, βm`` (``β0`` in variance units over the horizon).
    n_samples_ : regression samples used.
    floor_ : the positive floor applied to forecasts.
    origin_ : end of the history the state was computed from.
    """

    name = "har"

    def __init__(
        self,
        horizon: int | str = 24,
        window_days: int | None = None,
        min_samples: int = 60,
    ) -> None:
        self.horizon = parse_horizon(horizon)
        self.window_days = optional_days("HarRV", "window_days", window_days)
        self.min_samples = positive_int("HarRV", "min_samples", min_samples, minimum=5)

    def fit(self, history: MarketHistory) -> Self:
        """OLS of the horizon's realised variance on the daily/weekly/monthly components."""
        cumulative = cumulative_squared_returns(history)
        n = history.size
        first = max(MONTH_HOURS + 1, window_start(history, self.window_days) + MONTH_HOURS + 1)
        boundary = aligned_boundaries(n, DAY_HOURS, first, n - self.horizon)
        if boundary.size < self.min_samples:
            raise InsufficientHistoryError(
                f"HarRV: history gives {boundary.size} regression samples for horizon "
                f"{self.horizon} h; at least min_samples={self.min_samples} are needed "
                f"(about {self.min_samples + 31} days of data)"
            )
        design = np.column_stack([np.ones(boundary.size), har_components(cumulative, boundary)])
        target = window_sum(cumulative, boundary + self.horizon, self.horizon)
        self.coef_ = np.linalg.lstsq(design, target, rcond=None)[0]
        self.n_samples_ = int(boundary.size)
        self.floor_ = float(np.min(target[target > 0])) if np.any(target > 0) else math.nan
        return self.update(history)

    def update(self, history: MarketHistory) -> Self:
        """Compute the components at the end of ``history`` with the fitted coefficients."""
        if not hasattr(self, "coef_"):
            raise not_fitted("HarRV")
        if history.size < MONTH_HOURS + 1:
            raise ValueError(
                f"HarRV: history has {history.size} hourly candles; "
                f"the monthly component needs {MONTH_HOURS + 1}"
            )
        cumulative = cumulative_squared_returns(history)
        self.components_: FloatArray = har_components(
            cumulative, np.array([history.size], dtype=np.int64)
        )[0]
        self.origin_ = history.end
        return self

    def predict(self, horizon: int | str) -> Forecast:
        """The fitted regression at the latest components (``horizon`` must be the fitted one)."""
        if not hasattr(self, "coef_"):
            raise not_fitted("HarRV")
        hours = parse_horizon(horizon)
        if hours != self.horizon:
            raise ValueError(
                f"horizon: HarRV was fitted for horizon={self.horizon} h, got {hours} h "
                f"(build HarRV(horizon={hours}))"
            )
        value = float(self.coef_[0] + self.coef_[1:] @ self.components_)
        if not value > 0:
            value = self.floor_
        return Forecast(self.origin_, hours, value, self.name)
