"""Volatility forecasting: scikit-learn-shaped forecasters, regimes and walk-forward evaluation.

Every forecaster has parameters in its constructor, ``fit(history) -> self`` (learned state ends
in ``_``), ``update(history) -> self`` (new data, same parameters) and
``predict(horizon) -> Forecast`` (expected sum of squared hourly log returns over the horizon).
See ``docs/forecasting.md``.
"""

from hedgekeeper.forecast._common import InsufficientHistoryError
from hedgekeeper.forecast.evaluation import (
    Comparison,
    DieboldMariano,
    ForecastPath,
    ModelScore,
    compare,
    daily_origins,
    diebold_mariano,
    newey_west_lags,
    qlike,
    squared_log_error,
    walk_forward,
)
from hedgekeeper.forecast.ewma import Ewma
from hedgekeeper.forecast.garch import Garch
from hedgekeeper.forecast.har import HarRV
from hedgekeeper.forecast.history import (
    HOURS_PER_YEAR,
    Forecast,
    Forecaster,
    MarketHistory,
    parse_horizon,
)
from hedgekeeper.forecast.implied import ImpliedVol
from hedgekeeper.forecast.ml import FEATURES, GradientBoostedRV, feature_matrix
from hedgekeeper.forecast.regime import Regime, VolRegime
from hedgekeeper.forecast.signal import forecast_vol_asof

__all__ = [
    "FEATURES",
    "HOURS_PER_YEAR",
    "Comparison",
    "DieboldMariano",
    "Ewma",
    "Forecast",
    "ForecastPath",
    "Forecaster",
    "Garch",
    "GradientBoostedRV",
    "HarRV",
    "ImpliedVol",
    "InsufficientHistoryError",
    "MarketHistory",
    "ModelScore",
    "Regime",
    "VolRegime",
    "compare",
    "daily_origins",
    "diebold_mariano",
    "feature_matrix",
    "forecast_vol_asof",
    "newey_west_lags",
    "parse_horizon",
    "qlike",
    "squared_log_error",
    "walk_forward",
]
