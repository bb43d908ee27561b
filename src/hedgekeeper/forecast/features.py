"""Realised-variance windows and regressors computed from a :class:`MarketHistory`.

A *boundary* ``b`` (0..n) is the instant ``time[0] + b hours``: the end of candle ``b - 1``.
Every quantity "at boundary b" uses only candles ``< b``; the target "after boundary b" is the
sum of squared returns of candles ``b .. b + h - 1``. The history's end is boundary ``n``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hedgekeeper.forecast.history import HOURS_PER_YEAR, FloatArray, MarketHistory

IntArray = npt.NDArray[np.int64]

DAY_HOURS = 24
WEEK_HOURS = 7 * 24
MONTH_HOURS = 30 * 24
"""Crypto trades 24/7, so Corsi's 1/5/22 trading days become 1/7/30 calendar days."""



def cumulative_squared_returns(history: MarketHistory) -> FloatArray:
    """(n + 1,) ``C[b]`` = sum of squared hourly log returns of candles ``1 .. b-1``.

    The first candle's return is unknown and counts as 0; window sums are ``C[b] - C[b - w]``.
    """
    returns = history.log_returns()
    out = np.zeros(history.size + 1)
    np.cumsum(returns * returns, out=out[1:])
    return out


def aligned_boundaries(n: int, step: int, first: int, last: int) -> IntArray:
    """Boundaries ``last, last - step, ...`` down to ``first`` (inclusive), oldest first.

    Aligning samples to the history's end keeps training samples at the same time of day as
    the forecast origin.
    """
    if last < first:
        return np.zeros(0, dtype=np.int64)
    count = (last - first) // step + 1
    return np.asarray(last - step * np.arange(count)[::-1], dtype=np.int64)


def window_sum(cumulative: FloatArray, boundary: IntArray, hours: int) -> FloatArray:
    """Sum of squared returns over the ``hours`` candles before each boundary."""
    return np.asarray(cumulative[boundary] - cumulative[boundary - hours], dtype=np.float64)


def har_components(cumulative: FloatArray, boundary: IntArray) -> FloatArray:
    """(m, 3) Corsi (2009) HAR regressors at each boundary, per-day realised variance.

    Columns: last 24 h, mean day of the last 7 days, mean day of the last 30 days.
    Boundaries must be >= ``MONTH_HOURS + 1``.
    """
    return np.column_stack(
        [
            window_sum(cumulative, boundary, DAY_HOURS),
            window_sum(cumulative, boundary, WEEK_HOURS) / 7.0,
            window_sum(cumulative, boundary, MONTH_HOURS) / 30.0,
        ]
    )


def implied_variance(dvol: FloatArray, boundary: IntArray, horizon_hours: int) -> FloatArray:
    """DVOL-implied variance over ``horizon_hours`` at each boundary: ``σ² h / 8760``.

    DVOL is a 30-day annualised implied volatility on a 365-day year; the value at boundary
    ``b`` is ``history.dvol`` of candle ``b - 1`` (the latest DVOL known at its close). NaN
    where unknown.
    """
    last = dvol[boundary - 1]
    return np.asarray(last * last * horizon_hours / HOURS_PER_YEAR, dtype=np.float64)
