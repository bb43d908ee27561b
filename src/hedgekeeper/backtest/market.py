"""The historical market a backtest replays: hourly prices, vols and funding on one time grid.

The grid is the hedge instrument's hourly bars (the perpetual: the backtest can only trade when
it has a price). Step ``i`` is the **close** of bar ``i``, ``time[i] = open time + 1 h``: every
number attached to step ``i`` was known at ``time[i]`` and nothing later is (tests perturb the
future and check that earlier decisions do not move):

* ``index`` — the option underlying, USD per coin: the spot close of the same hour when a spot
  file is given and has that bar, else the perpetual's mark close, else its close;
* ``perp_open``, ``perp_close``, ``perp_mark`` — the perpetual's open (the price at
  ``time[i] - 1 h``), close and mark close (close where no mark was published);
* ``perp_volume_24h`` — coins traded in the 24 bars ending at ``time[i]`` (impact models);
* ``realised_vol`` — annualised volatility of the index's hourly log returns over the trailing
  ``realised_window_hours`` (default 168 h = 7 days), ``sqrt(8760)`` scaling;
* ``dvol`` — the latest DVOL known (:func:`hedgekeeper.marketdata.dvol.dvol_at`), as a fraction,
  NaN when none is known or it is older than ``dvol_max_age_hours``;
* ``implied_vol`` — the at-the-money volatility options are priced at: ``dvol`` where present,
  else (the documented fallback for 2019-09 .. 2021-03 and DVOL gaps) the trailing 30-day
  realised volatility (``fallback_window_hours`` = 720 h);
* ``vol_percentile`` — percentile in [0, 1] of ``implied_vol`` among its own trailing
  ``percentile_window_hours`` values (default one year; needs 7 days of history, else NaN);
* funding settlements ``funding_time`` / ``funding_rate`` (fraction per 8 h, longs pay).

Bars are loaded from ``warmup`` before the window start so that the trailing statistics exist
at the first step. Leading perpetual bars with ``high == low`` (Binance's pre-launch ticks at
exactly 10,000 in 2019-09) are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hedgekeeper.domain.market import DATETIME_UNIT, from_datetime64, to_datetime64
from hedgekeeper.marketdata.binance import (
    FundingHistory,
    HourlyBars,
    _frozen,
    load_funding,
    load_hourly_bars,
)
from hedgekeeper.marketdata.deribit import MarketDataError
from hedgekeeper.marketdata.dvol import DailyDvol, dvol_at, load_dvol_daily, load_dvol_hourly

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
DatetimeArray = npt.NDArray[np.datetime64]

HOURS_PER_YEAR = 365.0 * 24.0
_DT = f"datetime64[{DATETIME_UNIT}]"


@dataclass(frozen=True, slots=True)
class MarketFiles:
    """Where the market data of a backtest comes from.

    Attributes
    ----------
    perp : Binance hourly perpetual bars (required).
    funding : Binance funding file (may hold several symbols).
    dvol_hourly : Deribit DVOL hourly bars, or None.
    dvol_daily : Deribit DVOL daily closes, or None.
    spot : Binance hourly spot bars for the index, or None (the perpetual's mark is used).
    """

    perp: Path
    funding: Path
    dvol_hourly: Path | None = None
    dvol_daily: Path | None = None
    spot: Path | None = None


@dataclass(frozen=True, slots=True)
class VolSettings:
    """How the volatility inputs are derived (see the module docstring).

    Attributes
    ----------
    dvol_max_age_hours : a DVOL value older than this is not used (default 48 h).
    fallback : ``"realised"`` (trailing realised vol where DVOL is missing) or ``"none"``
        (a step without DVOL is an error).
    realised_window_hours : window of ``realised_vol`` (default 168).
    fallback_window_hours : window of the realised-vol fallback (default 720).
    percentile_window_hours : window of ``vol_percentile`` (default 8760).
    """

    dvol_max_age_hours: float = 48.0
    fallback: str = "realised"
    realised_window_hours: int = 168
    fallback_window_hours: int = 720
    percentile_window_hours: int = 8760

    def __post_init__(self) -> None:
        if not self.dvol_max_age_hours > 0.0:
            raise ValueError(f"VolSettings.dvol_max_age_hours must be > 0, got "
                             f"{self.dvol_max_age_hours!r}")
        if self.fallback not in ("realised", "none"):
            raise ValueError(f"VolSettings.fallback must be 'realised' or 'none', got "
                             f"{self.fallback!r}")
        for name in ("realised_window_hours", "fallback_window_hours",
                     "percentile_window_hours"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise ValueError(f"VolSettings.{name} must be an integer >= 2, got {value!r}")

    @property
    def warmup(self) -> timedelta:
        """History needed before the first step: the longest trailing window used for pricing."""
        return timedelta(hours=max(self.realised_window_hours, self.fallback_window_hours) + 1)


@dataclass(frozen=True, slots=True, eq=False)
class HistoricalMarket:
    """Hourly market inputs of one coin on the perpetual's grid, shape ``(n,)`` each.

    See the module docstring for every field's meaning and timing; prices USD per coin
    (USDT at par), vols annualised fractions.
    """

    coin: str
    perp_symbol: str
    time: DatetimeArray
    index: FloatArray
    index_from_spot: BoolArray
    perp_open: FloatArray
    perp_close: FloatArray
    perp_mark: FloatArray
    perp_volume_24h: FloatArray
    realised_vol: FloatArray
    dvol: FloatArray
    implied_vol: FloatArray
    implied_from_dvol: BoolArray
    vol_percentile: FloatArray
    funding_time: DatetimeArray
    funding_rate: FloatArray

    def __len__(self) -> int:
        return int(self.time.shape[0])

    @property
    def start(self) -> datetime:
        """First step (UTC)."""
        return from_datetime64(self.time[0])

    @property
    def end(self) -> datetime:
        """Last step (UTC)."""
        return from_datetime64(self.time[-1])

    def window(self, start: datetime, end: datetime) -> HistoricalMarket:
        """The steps with ``start <= time <= end``; funding settlements in the same range.

        Raises ``ValueError`` when the window holds fewer than two steps.
        """
        t0, t1 = to_datetime64(start), to_datetime64(end)
        keep = (self.time >= t0) & (self.time <= t1)
        if np.count_nonzero(keep) < 2:
            raise ValueError(
                f"window {start.isoformat()} .. {end.isoformat()} holds fewer than two hourly "
                f"steps of the data ({self.start.isoformat()} .. {self.end.isoformat()})"
            )
        funding = (self.funding_time >= t0) & (self.funding_time <= t1)
        fields: dict[str, Any] = {name: _frozen(getattr(self, name)[keep])
                                  for name in _STEP_FIELDS}
        return replace(self, funding_time=_frozen(self.funding_time[funding]),
                       funding_rate=_frozen(self.funding_rate[funding]), **fields)

    def perturbed_after(self, after: datetime, factor: float) -> HistoricalMarket:
        """A copy whose prices, vols and funding strictly after ``after`` are scaled by
        ``factor`` (for look-ahead tests: decisions up to ``after`` must not change)."""
        cut = to_datetime64(after)
        later = self.time > cut
        changes: dict[str, Any] = {}
        for name in ("index", "perp_open", "perp_close", "perp_mark", "perp_volume_24h",
                     "realised_vol", "dvol", "implied_vol"):
            changes[name] = _frozen(np.where(later, getattr(self, name) * factor,
                                             getattr(self, name)))
        changes["vol_percentile"] = _frozen(np.where(later, 1.0 - self.vol_percentile,
                                                     self.vol_percentile))
        changes["funding_rate"] = _frozen(np.where(self.funding_time > cut,
                                                   -self.funding_rate * factor,
                                                   self.funding_rate))
        return replace(self, **changes)


_STEP_FIELDS = ("time", "index", "index_from_spot", "perp_open", "perp_close", "perp_mark",
                "perp_volume_24h", "realised_vol", "dvol", "implied_vol", "implied_from_dvol",
                "vol_percentile")




def _trailing_vol(log_price: FloatArray, window: int) -> FloatArray:
    returns = pd.Series(np.diff(log_price, prepend=np.nan))
    std = returns.rolling(window, min_periods=window).std(ddof=1).to_numpy()
    return np.asarray(std * np.sqrt(HOURS_PER_YEAR), dtype=np.float64)


def build_market(
    perp: HourlyBars,
    funding: FundingHistory,
    *,
    coin: str,
    spot: HourlyBars | None = None,
    dvol_hourly: HourlyBars | None = None,
    dvol_daily: DailyDvol | None = None,
    vol: VolSettings | None = None,
) -> HistoricalMarket:
    """Align loaded bars, DVOL and funding on the perpetual's hourly grid (module docstring).

    Parameters
    ----------
    perp : the hedge perpetual's hourly bars.
    funding : its funding settlements.
    coin : the underlying, e.g. ``"BTC"``.
    spot : hourly spot bars for the index, or None.
    dvol_hourly, dvol_daily : DVOL in vol points, or None.
    vol : :class:`VolSettings` (defaults when None).

    Returns
    -------
    HistoricalMarket
        Trailing statistics are NaN until their windows fill.
    """
    settings = vol or VolSettings()
    moving = np.flatnonzero(perp.high > perp.low)
    first = int(moving[0]) if moving.size else 0
    stamps: DatetimeArray = perp.timestamp[first:].astype(_DT)
    time: DatetimeArray = (stamps + np.timedelta64(1, "h")).astype(_DT)
    close = np.asarray(perp.close[first:], dtype=np.float64)
    mark = np.asarray(perp.mark_close[first:], dtype=np.float64)
    mark = np.where(np.isfinite(mark), mark, close)
    index = mark.copy()
    from_spot = np.zeros(time.shape, dtype=bool)
    if spot is not None:
        where = np.searchsorted(spot.timestamp.astype(_DT), stamps)
        where = np.minimum(where, len(spot) - 1)
        hit = spot.timestamp.astype(_DT)[where] == stamps
        index = np.where(hit, spot.close[where], index)
        from_spot = hit
    volume = pd.Series(perp.volume[first:]).rolling(24, min_periods=24).sum().to_numpy()
    log_index = np.log(index)
    realised = _trailing_vol(log_index, settings.realised_window_hours)
    fallback = _trailing_vol(log_index, settings.fallback_window_hours)
    dvol_points, known = dvol_at(time, dvol_hourly, dvol_daily)
    age_hours = (time - known) / np.timedelta64(1, "h")
    fresh = ~np.isnat(known) & (age_hours <= settings.dvol_max_age_hours)
    dvol = np.where(fresh, dvol_points / 100.0, np.nan)
    implied = dvol.copy()
    if settings.fallback == "realised":
        implied = np.where(fresh, dvol, fallback)
    percentile = pd.Series(implied).rolling(
        settings.percentile_window_hours, min_periods=168).rank(pct=True).to_numpy()
    return HistoricalMarket(
        coin=coin,
        perp_symbol=funding.symbol,
        time=_frozen(time),
        index=_frozen(index),
        index_from_spot=_frozen(from_spot),
        perp_open=_frozen(np.asarray(perp.open[first:], dtype=np.float64)),
        perp_close=_frozen(close),
        perp_mark=_frozen(mark),
        perp_volume_24h=_frozen(np.asarray(volume, dtype=np.float64)),
        realised_vol=_frozen(realised),
        dvol=_frozen(dvol),
        implied_vol=_frozen(implied),
        implied_from_dvol=_frozen(fresh),
        vol_percentile=_frozen(np.asarray(percentile, dtype=np.float64)),
        funding_time=_frozen(funding.timestamp.astype(_DT)),
        funding_rate=_frozen(np.asarray(funding.rate, dtype=np.float64)),
    )


def load_market(
    files: MarketFiles,
    *,
    coin: str,
    symbol: str,
    start: datetime,
    end: datetime,
    vol: VolSettings | None = None,
) -> HistoricalMarket:
    """Load the files for ``[start - warmup, end]`` and return the window ``[start, end]``.

    Parameters
    ----------
    files : :class:`MarketFiles`.
    coin : underlying, e.g. ``"BTC"``; symbol : perpetual symbol in the funding file.
    start, end : timezone-aware window (steps are bar close times).
    vol : :class:`VolSettings`.

    Raises
    ------
    MarketDataError
        From the loaders (naming file, column, row), or when the window's options cannot be
        priced (no implied volatility at a step: DVOL missing and no fallback, or not enough
        history before ``start`` for the fallback).
    """
    settings = vol or VolSettings()
    lead = start - settings.warmup - timedelta(hours=1)
    bars_end = end
    perp = load_hourly_bars(files.perp, start=lead, end=bars_end)
    spot = None if files.spot is None else load_hourly_bars(files.spot, start=lead, end=bars_end,
                                                            allow_empty=True)
    funding = load_funding(files.funding, symbol, start=lead, end=end + timedelta(seconds=1))
    hourly = None if files.dvol_hourly is None else load_dvol_hourly(
        files.dvol_hourly, start=lead - timedelta(hours=settings.dvol_max_age_hours + 1),
        end=bars_end, allow_empty=True)
    daily = None if files.dvol_daily is None else load_dvol_daily(files.dvol_daily)
    market = build_market(perp, funding, coin=coin, spot=spot, dvol_hourly=hourly,
                          dvol_daily=daily, vol=settings)
    try:
        window = market.window(start, end)
    except ValueError as exc:
        raise MarketDataError(f"{files.perp}: {exc}") from None
    missing = ~np.isfinite(window.implied_vol)
    if np.any(missing):
        when = from_datetime64(window.time[int(np.flatnonzero(missing)[0])])
        raise MarketDataError(
            f"no implied volatility at {when.isoformat()}: DVOL "
            f"({files.dvol_hourly or 'no file'}) has no value there"
            + (" and the realised-vol fallback is off" if settings.fallback == "none" else
               f" and the realised-vol fallback needs {settings.fallback_window_hours} hours "
               f"of {files.perp} before it")
        )
    return window
