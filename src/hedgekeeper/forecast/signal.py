"""Walk-forward forecasts as a policy input: ``PolicyView.forecast_vol`` at decision times."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hedgekeeper.forecast.evaluation import ForecastPath
from hedgekeeper.forecast.history import HOURS_PER_YEAR, FloatArray


def forecast_vol_asof(
    path: ForecastPath, times: npt.ArrayLike, max_age_hours: int | None = None
) -> FloatArray:
    """Annualised forecast volatility known at each decision time (an as-of join).

    At time ``t`` the value is ``sqrt(F · 8760 / h)`` of the latest forecast in ``path`` whose
    origin is ``<= t`` — a forecast made at its origin from data strictly before it, so a
    policy reading it in a backtest never sees the future. NaN before the first forecast,
    where that forecast is NaN, or when it is older than ``max_age_hours`` (default: the
    forecast's horizon).

    Parameters
    ----------
    path : walk-forward forecasts (:func:`~hedgekeeper.forecast.walk_forward`).
    times : (n,) datetime64 decision times (UTC), any order.
    max_age_hours : how long a forecast stays usable, hours.

    Returns
    -------
    (n,) float64 annualised volatility, fraction (the unit of ``PolicyView.forecast_vol``).
    """
    stamps = np.asarray(times, dtype="datetime64[ns]")
    age_limit = np.timedelta64(
        path.horizon_hours if max_age_hours is None else int(max_age_hours), "h"
    )
    index = np.searchsorted(path.origin, stamps, side="right") - 1
    found = index >= 0
    safe = np.maximum(index, 0)
    fresh = found & (stamps - path.origin[safe] <= age_limit)
    variance = np.where(fresh, path.forecast[safe], np.nan)
    return np.asarray(np.sqrt(variance * HOURS_PER_YEAR / path.horizon_hours), dtype=np.float64)
