"""Hourly market history, the forecast value type and the forecaster port.

Time convention (the only one that matters for look-ahead): every row ``i`` of a
:class:`MarketHistory` describes the hourly candle that *opens* at ``time[i]`` and is known at
its close, ``time[i] + 1 h``. The history "ends" at :attr:`MarketHistory.end` = last open + 1 h.
A forecaster fitted on ``history.before(origin)`` has seen only candles that closed at or
before ``origin``; its forecast is for the realised variance of the candles that open in
``[origin, origin + horizon)``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Protocol, Self, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
TimeArray = npt.NDArray[np.datetime64]

HOURS_PER_YEAR = 365.0 * 24.0
"""ACT/365 year in hours (8760): annualises an hourly variance, and DVOL's 365-day convention."""

HOUR = np.timedelta64(1, "h")

_HORIZON = re.compile(r"^\s*(\d+)\s*([hdw]?)\s*$")
_HORIZON_HOURS = {"h": 1, "d": 24, "w": 168}


def parse_horizon(horizon: int | str, name: str = "horizon") -> int:
    """A forecast horizon in whole hours from ``24``, ``"24"``, ``"24h"``, ``"7d"`` or ``"1w"``.

    Raises ``ValueError`` naming ``name`` unless the horizon is a whole number of hours >= 1.
    """
    if isinstance(horizon, bool):
        raise ValueError(f"{name} must be hours (int) or text like '24h', '7d', got {horizon!r}")
    if isinstance(horizon, int | np.integer):
        hours = int(horizon)
    elif isinstance(horizon, str) and (match := _HORIZON.match(horizon.lower())):
        hours = int(match.group(1)) * _HORIZON_HOURS[match.group(2) or "h"]
    else:
        raise ValueError(f"{name} must be hours (int) or text like '24h', '7d', got {horizon!r}")
    if hours < 1:
        raise ValueError(f"{name} must be at least 1 hour, got {horizon!r}")
    return hours


def as_time(value: object, name: str) -> np.datetime64:
    """``value`` (ISO-8601 text, ``datetime``, ``datetime64``) as a UTC ``datetime64[ns]``."""
    try:
        stamp = np.datetime64(str(value).replace("Z", "").replace("+00:00", ""), "ns")
    except ValueError as exc:
        raise ValueError(f"{name} must be an ISO-8601 date or time (UTC), got {value!r}") from exc
    if np.isnat(stamp):
        raise ValueError(f"{name} must be an ISO-8601 date or time (UTC), got {value!r}")
    return stamp


@dataclass(frozen=True, slots=True)
class MarketHistory:
    """Hourly market data on a gap-free hourly grid, oldest first.

    Attributes
    ----------
    time : (n,) datetime64[ns], UTC open time of each hourly candle, spaced exactly 1 h.
    close : (n,) close price, USD per coin, > 0 (a missing candle repeats the previous close, so
        its return is 0 and the move lands on the next candle: the sum of squared returns over a
        window still covers the whole move).
    volume : (n,) traded volume in coin during the candle (0 for missing candles), or None.
    dvol : (n,) the latest Deribit DVOL known at the candle's close, annualised fraction (0.55);
        NaN where unknown or stale (the file loader carries a value at most 72 h), or None.
    funding_rate : (n,) latest perpetual funding rate settled at or before the candle's close,
        fraction per 8 h, NaN where unknown, or None.
    """

    time: TimeArray
    close: FloatArray
    volume: FloatArray | None = None
    dvol: FloatArray | None = None
    funding_rate: FloatArray | None = None

    def __post_init__(self) -> None:
        time = _frozen(self.time, "datetime64[ns]")
        if time.ndim != 1 or time.size < 2:
            raise ValueError(f"history.time must have shape (n,) with n >= 2, got {time.shape}")
        if np.any(np.isnat(time)) or np.any(np.diff(time) != HOUR):
            raise ValueError("history.time must be a gap-free hourly grid (steps of exactly 1 h)")
        object.__setattr__(self, "time", time)
        for name in ("close", "volume", "dvol", "funding_rate"):
            value = getattr(self, name)
            if value is None:
                continue
            array = _frozen(value, "float64")
            if array.shape != time.shape:
                raise ValueError(
                    f"history.{name} must have shape {time.shape} like history.time, "
                    f"got {array.shape}"
                )
            object.__setattr__(self, name, array)
        if not np.all(np.isfinite(self.close) & (self.close > 0.0)):
            raise ValueError("history.close must be finite and > 0 everywhere")

    @property
    def size(self) -> int:
        """Number of hourly candles ``n``."""
        return int(self.time.shape[0])

    @property
    def end(self) -> np.datetime64:
        """When the last candle closed: the origin of forecasts made from this history."""
        return np.datetime64(self.time[-1] + HOUR, "ns")

    def log_returns(self) -> FloatArray:
        """(n,) hourly log returns ``ln(close[i] / close[i-1])``; the first is 0 (unknown)."""
        out = np.zeros(self.size)
        out[1:] = np.diff(np.log(self.close))
        return out

    def before(self, origin: np.datetime64 | str) -> MarketHistory:
        """The candles that closed at or before ``origin`` (open time < origin), as views."""
        stop = int(np.searchsorted(self.time, as_time(origin, "origin"), side="left"))
        return self.slice(0, stop)

    def slice(self, start: int, stop: int) -> MarketHistory:
        """Rows ``start:stop`` as a new history (array views, no copy of the data)."""
        if stop - start < 2:
            raise ValueError(
                f"history has {max(stop - start, 0)} candles in the requested range; "
                "at least 2 are needed"
            )
        return MarketHistory(
            time=self.time[start:stop],
            close=self.close[start:stop],
            volume=None if self.volume is None else self.volume[start:stop],
            dvol=None if self.dvol is None else self.dvol[start:stop],
            funding_rate=None if self.funding_rate is None else self.funding_rate[start:stop],
        )

    def realised_variance(self, origin: np.datetime64 | str, horizon: int | str) -> float:
        """Sum of squared hourly log returns of the candles opening in ``[origin, origin+h)``.

        NaN when the history does not cover the whole window (or the return into ``origin``
        is not known because the candle before ``origin`` is missing).
        """
        hours = parse_horizon(horizon)
        start = int(np.searchsorted(self.time, as_time(origin, "origin"), side="left"))
        if start < 1 or start + hours > self.size or self.time[start] != as_time(origin, "origin"):
            return math.nan
        returns = np.diff(np.log(self.close[start - 1 : start + hours]))
        return float(np.sum(returns * returns))


@dataclass(frozen=True, slots=True)
class Forecast:
    """A variance forecast over one horizon.

    Attributes
    ----------
    origin : datetime64[ns], UTC: the forecast uses only data known at or before this instant.
    horizon_hours : length of the forecast window ``[origin, origin + horizon)``, hours.
    variance : expected realised variance over the window, i.e. the sum of squared hourly log
        returns (dimensionless, a variance of log price); NaN when the model has no forecast
        at this origin (e.g. the implied-vol model where DVOL is missing).
    model : name of the model that made it.
    """

    origin: np.datetime64
    horizon_hours: int
    variance: float
    model: str

    def __post_init__(self) -> None:
        if not (math.isnan(self.variance) or (math.isfinite(self.variance) and self.variance > 0)):
            raise ValueError(
                f"Forecast.variance must be > 0 and finite (or NaN), got {self.variance}"
            )

    @property
    def vol(self) -> float:
        """The forecast as an annualised volatility, fraction (ACT/365, 8760 h a year)."""
        return math.sqrt(self.variance * HOURS_PER_YEAR / self.horizon_hours)

    @property
    def horizon_vol(self) -> float:
        """Standard deviation of the log return over the horizon, fraction."""
        return math.sqrt(self.variance)


@runtime_checkable
class Forecaster(Protocol):
    """scikit-learn-shaped variance forecaster.

    Parameters live in the constructor; ``fit`` learns from a history (learned attributes end
    in ``_``) and conditions on its last candle; ``update`` keeps the learned parameters and
    conditions on a newer history (used between refits in a walk-forward); ``predict`` forecasts
    the realised variance over the next ``horizon`` from the end of the last history seen.
    """

    @property
    def name(self) -> str:
        """Short model name (``"ewma"``, ``"garch"``, ...)."""
        ...

    def fit(self, history: MarketHistory) -> Self:
        """Learn the parameters from ``history``; returns ``self``."""
        ...

    def update(self, history: MarketHistory) -> Self:
        """Condition on ``history`` with the parameters learned by the last ``fit``."""
        ...

    def predict(self, horizon: int | str) -> Forecast:
        """Forecast of the realised variance over ``horizon`` (hours or ``"24h"``/``"7d"``)."""
        ...


def _frozen(value: object, dtype: str) -> npt.NDArray[np.generic]:
    """A read-only array; read-only inputs of the right dtype are shared, others copied."""
    if (
        isinstance(value, np.ndarray)
        and value.dtype == np.dtype(dtype)
        and not value.flags.writeable
    ):
        return value
    try:
        array = np.array(value, dtype=dtype, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"history arrays must hold {dtype} values, got {value!r}") from exc
    array.setflags(write=False)
    return array
