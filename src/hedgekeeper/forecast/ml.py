"""Gradient-boosted trees on realised-variance, implied-vol, funding, return and volume features."""

from __future__ import annotations

import math
from typing import Self

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor  # type: ignore[import-untyped]
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

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
    WEEK_HOURS,
    aligned_boundaries,
    cumulative_squared_returns,
    window_sum,
)
from hedgekeeper.forecast.history import (
    HOURS_PER_YEAR,
    FloatArray,
    Forecast,
    MarketHistory,
    parse_horizon,
)

TINY_VARIANCE = 1e-12
"""Floor (squared log return) before taking logs of a realised variance."""

FEATURES: tuple[str, ...] = (
    "log_rv_4h",
    "log_rv_24h",
    "log_rv_7d",
    "log_rv_30d",
    "log_down_rv_24h",
    "log_up_rv_24h",
    "return_24h",
    "return_7d",
    "log_implied_var",
    "log_vrp_7d",
    "funding_rate",
    "funding_rate_7d",
    "log_volume_ratio",
    "day_of_week",
    "hour_of_day",
)
"""Feature names, in column order. RVs are per-day (sum of squared hourly log returns scaled to
24 h); ``implied_var`` is DVOL²/365 (per day); ``vrp_7d`` = implied / 7-day realised; volume
ratio = last 24 h over the 30-day daily mean; day of week 0 = Monday, of the forecast origin."""


def feature_matrix(history: MarketHistory, boundary: FloatArray) -> FloatArray:
    """(m, len(FEATURES)) features at each boundary, using only candles before it.

    Missing inputs (no DVOL, funding or volume series, or NaN in them) are NaN, which the
    gradient-boosting trees route natively.
    """
    index = np.asarray(boundary, dtype=np.int64)
    returns = history.log_returns()
    cumulative = cumulative_squared_returns(history)
    down = np.zeros(history.size + 1)
    np.cumsum(np.where(returns < 0, returns * returns, 0.0), out=down[1:])
    log_close = np.log(history.close)

    def log_rv(hours: int) -> FloatArray:
        per_day = window_sum(cumulative, index, hours) * (DAY_HOURS / hours)
        return np.asarray(np.log(np.maximum(per_day, TINY_VARIANCE)), dtype=np.float64)

    rv_24 = window_sum(cumulative, index, DAY_HOURS)
    down_24 = window_sum(down, index, DAY_HOURS)
    rv_7d = window_sum(cumulative, index, WEEK_HOURS) / 7.0
    nan = np.full(index.size, np.nan)
    if history.dvol is None:
        implied = nan
    else:
        dvol = history.dvol[index - 1]
        implied = dvol * dvol * DAY_HOURS / HOURS_PER_YEAR
    if history.funding_rate is None:
        funding, funding_7d = nan, nan
    else:
        rate = history.funding_rate
        funding = rate[index - 1]
        rate_sum = np.concatenate([[0.0], np.cumsum(np.nan_to_num(rate))])
        funding_7d = (rate_sum[index] - rate_sum[index - WEEK_HOURS]) / WEEK_HOURS
        funding_7d = np.where(np.isfinite(funding), funding_7d, np.nan)
    if history.volume is None:
        volume_ratio = nan
    else:
        volume_sum = np.concatenate([[0.0], np.cumsum(np.nan_to_num(history.volume))])
        last_day = volume_sum[index] - volume_sum[index - DAY_HOURS]
        month_day = (volume_sum[index] - volume_sum[index - MONTH_HOURS]) / 30.0
        with np.errstate(divide="ignore", invalid="ignore"):
            volume_ratio = np.where(
                (last_day > 0) & (month_day > 0), np.log(last_day / month_day), np.nan
            )
    origin = history.time[0] + index.astype("timedelta64[h]")
    days = origin.astype("datetime64[D]").astype(np.int64)
    hours = (origin - origin.astype("datetime64[D]")).astype("timedelta64[h]").astype(np.int64)
    columns = [
        log_rv(4),
        log_rv(DAY_HOURS),
        log_rv(WEEK_HOURS),
        log_rv(MONTH_HOURS),
        np.log(np.maximum(down_24, TINY_VARIANCE)),
        np.log(np.maximum(rv_24 - down_24, TINY_VARIANCE)),
        log_close[index - 1] - log_close[index - 1 - DAY_HOURS],
        log_close[index - 1] - log_close[index - 1 - WEEK_HOURS],
        np.log(implied),
        np.log(implied / np.maximum(rv_7d, TINY_VARIANCE)),
        funding,
        funding_7d,
        volume_ratio,
        ((days + 3) % 7).astype(np.float64),  # 1970-01-01 was a Thursday (3 if Monday = 0)
        hours.astype(np.float64),
    ]
    return np.column_stack(columns).astype(np.float64)


class GradientBoostedRV:
    r"""Histogram gradient-boosted trees predicting the realised variance over the horizon.

    The target is ``RV_{t,t+h}``, the sum of squared hourly log returns over the horizon; the
    model is scikit-learn's ``HistGradientBoostingRegressor`` (Ke et al. 2017's LightGBM
    algorithm) with ``loss="gamma"``: a log link, so the trees add up to a prediction of
    ``log E[RV]``, fitted by minimising the gamma deviance
    ``2 Σ (RV/F - log(RV/F) - 1)``, which is twice the QLIKE loss the forecasts are judged by
    (Patton 2011): the model is trained on the evaluation loss itself. Features: see
    :data:`FEATURES` (lagged realised variance at 4 h / 1 d / 7 d / 30 d, downside and upside
    semivariance (Patton & Sheppard 2015), returns, DVOL implied variance and the implied/realised
    ratio, funding rates, relative volume, day of week and hour of the origin).

    Samples are taken every ``sample_every_hours`` aligned to the end of the history and enter
    the fit only when their target window closed before it. Trees are deterministic
    (``random_state`` fixed, no early stopping).

    Parameters
    ----------
    horizon : forecast horizon the model targets (hours or ``"24h"``/``"7d"``).
    window_days : rolling training window in days, or None (default) for all history.
    sample_every_hours : spacing of training samples, hours (default 6).
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization : passed to
        ``HistGradientBoostingRegressor``.
    min_samples : fewest training samples accepted by ``fit``.

    Attributes
    ----------
    model_ : the fitted ``HistGradientBoostingRegressor``.
    used_features_ : (len(FEATURES),) bool, features seen at least once in the training window
        (the others, e.g. DVOL before 2021-03-24, are left out of the trees).
    features_ : (len(FEATURES),) features at the end of the history.
    n_samples_ : training samples used.
    origin_ : end of the history the state was computed from.
    """

    name = "ml"

    def __init__(
        self,
        horizon: int | str = 24,
        window_days: int | None = None,
        sample_every_hours: int = 6,
        max_iter: int = 300,
        learning_rate: float = 0.03,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 50,
        l2_regularization: float = 1.0,
        min_samples: int = 200,
    ) -> None:
        owner = "GradientBoostedRV"
        self.horizon = parse_horizon(horizon)
        self.window_days = optional_days(owner, "window_days", window_days)
        self.sample_every_hours = positive_int(owner, "sample_every_hours", sample_every_hours)
        self.max_iter = positive_int(owner, "max_iter", max_iter)
        if not (isinstance(learning_rate, float | int) and 0 < learning_rate <= 1):
            raise ValueError(f"{owner}: learning_rate must be in (0, 1], got {learning_rate!r}")
        self.learning_rate = float(learning_rate)
        self.max_leaf_nodes = positive_int(owner, "max_leaf_nodes", max_leaf_nodes, minimum=2)
        self.min_samples_leaf = positive_int(owner, "min_samples_leaf", min_samples_leaf)
        if not (isinstance(l2_regularization, float | int) and l2_regularization >= 0):
            raise ValueError(
                f"{owner}: l2_regularization must be >= 0, got {l2_regularization!r}"
            )
        self.l2_regularization = float(l2_regularization)
        self.min_samples = positive_int(owner, "min_samples", min_samples, minimum=10)

    def fit(self, history: MarketHistory) -> Self:
        """Train on every sample whose target window closed before the history's end."""
        first = window_start(history, self.window_days) + MONTH_HOURS + 1
        boundary = aligned_boundaries(
            history.size, self.sample_every_hours, first, history.size - self.horizon
        )
        if boundary.size < self.min_samples:
            raise InsufficientHistoryError(
                f"GradientBoostedRV: history gives {boundary.size} training samples; "
                f"at least min_samples={self.min_samples} are needed"
            )
        cumulative = cumulative_squared_returns(history)
        target = window_sum(cumulative, boundary + self.horizon, self.horizon)
        keep = target > 0
        features = feature_matrix(history, boundary.astype(np.float64))[keep]
        # A feature never observed in the window (e.g. DVOL before it existed) is dropped.
        self.used_features_ = np.any(np.isfinite(features), axis=0)
        features = features[:, self.used_features_]
        # One OpenMP thread: on small data (a few thousand rows) threads only add overhead, and
        # on a busy machine OpenMP spin-waiting made fits ~30 times slower (measured).
        with threadpool_limits(limits=1, user_api="openmp"):
            self.model_ = self._regressor().fit(features, target[keep])
        self.n_samples_ = int(np.count_nonzero(keep))
        return self.update(history)

    def _regressor(self) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            loss="gamma",
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=False,
            random_state=0,
        )

    def update(self, history: MarketHistory) -> Self:
        """Features at the end of ``history`` for the fitted trees."""
        if not hasattr(self, "model_"):
            raise not_fitted("GradientBoostedRV")
        if history.size < MONTH_HOURS + 1:
            raise InsufficientHistoryError(
                f"GradientBoostedRV: history has {history.size} hourly candles; "
                f"the 30-day features need {MONTH_HOURS + 1}"
            )
        end = np.array([float(history.size)])
        self.features_: FloatArray = feature_matrix(history, end)[0]
        self.origin_ = history.end
        return self

    def predict(self, horizon: int | str) -> Forecast:
        """``E[RV]`` from the trees at the latest features."""
        if not hasattr(self, "model_"):
            raise not_fitted("GradientBoostedRV")
        hours = parse_horizon(horizon)
        if hours != self.horizon:
            raise ValueError(
                f"horizon: GradientBoostedRV was fitted for horizon={self.horizon} h, "
                f"got {hours} h"
            )
        with threadpool_limits(limits=1, user_api="openmp"):
            value = float(self.model_.predict(self.features_[None, self.used_features_])[0])
        ok = math.isfinite(value) and value > 0
        return Forecast(self.origin_, hours, value if ok else math.nan, self.name)
