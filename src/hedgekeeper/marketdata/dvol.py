"""Read Deribit's DVOL index (30-day implied volatility) from CSV, and sample it causally.

Hourly format (``deribit_dvol_BTC_1h_*.csv.gz`` and the bundled sample): ``timestamp``
(ISO-8601 UTC, the *open* time of the hour), ``open``, ``high``, ``low``, ``close`` in **vol
points** (84.8 means 84.8 % a year). Only ``timestamp`` and ``close`` are required.

Daily format (``deribit_dvol_BTC_1d_*.csv``): ``date`` (``YYYY-MM-DD``, UTC), ``dvol_close``
(vol points, the value at the end of that day).

:func:`dvol_at` answers "what was the latest DVOL known at time t" from both files together,
without look-ahead: an hourly close counts from the end of its hour, a daily close from the
midnight after its day.

Errors raise :class:`~hedgekeeper.marketdata.deribit.MarketDataError` naming the file, the
column and the 1-based data row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hedgekeeper.domain.market import DATETIME_UNIT
from hedgekeeper.marketdata.binance import (
    HourlyBars,
    _check_ascending,
    _frozen,
    load_hourly_bars,
)
from hedgekeeper.marketdata.deribit import (
    MarketDataError,
    _numbers,
    _read_csv,
    _require_file,
)

FloatArray = npt.NDArray[np.float64]
DatetimeArray = npt.NDArray[np.datetime64]

DAILY_COLUMNS = ("date", "dvol_close")
"""Columns a daily DVOL file must have."""

_ONE_DAY = np.timedelta64(1, "D")
_MAX_VOL_POINTS = 1000.0  # 1000 % a year: anything above is a unit mistake, not a market


@dataclass(frozen=True, slots=True, eq=False)
class DailyDvol:
    """Daily DVOL closes, ascending, shape ``(n,)`` each.

    Attributes
    ----------
    date : datetime64[us] at 00:00 UTC of each day.
    close : vol points at the end of that day.
    source : the file read.
    """

    date: DatetimeArray
    close: FloatArray
    source: str

    @property
    def known_at(self) -> DatetimeArray:
        """When each close became known: the midnight after its day (UTC)."""
        return np.asarray(self.date + _ONE_DAY)


def _check_vol_points(file: str, values: FloatArray, rows: npt.NDArray[np.int64],
                      column: str) -> None:
    bad = ~((values > 0.0) & (values < _MAX_VOL_POINTS))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise MarketDataError(
            f"{file!r} row {int(rows[i]) + 1}: column {column} must be a volatility in vol "
            f"points in (0, {_MAX_VOL_POINTS:g}), got {float(values[i])!r}"
        )


def load_dvol_hourly(
    path: str | Path,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    allow_empty: bool = False,
) -> HourlyBars:
    """Read hourly DVOL bars (vol points) as :class:`~hedgekeeper.marketdata.binance.HourlyBars`.

    ``volume`` and ``mark_close`` are NaN. Bounds apply to the bars' open time; with
    ``allow_empty`` a window before DVOL existed gives no bars instead of an error.

    Raises
    ------
    MarketDataError
        As :func:`~hedgekeeper.marketdata.binance.load_hourly_bars`, and for a close outside
        (0, 1000) vol points.
    """
    bars = load_hourly_bars(path, start=start, end=end, allow_empty=allow_empty)
    _check_vol_points(bars.source, bars.close, bars.row - 1, "close")
    return bars


def load_dvol_daily(path: str | Path) -> DailyDvol:
    """Read daily DVOL closes (vol points).

    Raises
    ------
    MarketDataError
        Missing file or column, a malformed date or number, dates out of order or duplicated.
    """
    file = _require_file(path, "daily DVOL")
    frame = _read_csv(file, DAILY_COLUMNS, "daily DVOL")
    if frame.empty:
        raise MarketDataError(f"daily DVOL file {str(file)!r} has no rows")
    rows = np.arange(len(frame), dtype=np.int64)
    text = frame["date"].str.strip()
    dates: DatetimeArray = np.full(len(frame), np.datetime64("NaT"),
                                   dtype=f"datetime64[{DATETIME_UNIT}]")
    for i, cell in enumerate(text.tolist()):
        try:
            dates[i] = np.datetime64(cell, "D")
        except ValueError:
            dates[i] = np.datetime64("NaT")
        if np.isnat(dates[i]) or len(cell) != 10:
            raise MarketDataError(
                f"{str(file)!r} row {i + 1}: column date must be a day YYYY-MM-DD, got {cell!r}"
            )
    _check_ascending(file, dates, rows)
    close = _numbers(file, frame, "dvol_close", rows, optional=False)
    _check_vol_points(str(file), close, rows, "dvol_close")
    return DailyDvol(date=_frozen(dates), close=_frozen(close), source=str(file))


def dvol_at(
    times: DatetimeArray, hourly: HourlyBars | None, daily: DailyDvol | None = None
) -> tuple[FloatArray, DatetimeArray]:
    """The latest DVOL known at each of ``times``, and when it became known.

    An hourly close counts from ``timestamp + 1 h``; a daily close from the midnight after its
    day. At each time the more recent of the two is used (the hourly one on a tie). Nothing
    after ``t`` is ever used.

    Parameters
    ----------
    times : datetime64 (UTC), shape (n,), ascending.
    hourly : hourly DVOL bars, or None.
    daily : daily DVOL closes, or None.

    Returns
    -------
    dvol : (n,) vol points; NaN where nothing was known yet.
    known_at : (n,) datetime64[us] of the observation used; NaT where none.
    """
    when = np.asarray(times, dtype=f"datetime64[{DATETIME_UNIT}]")
    value = np.full(when.shape, np.nan)
    known = np.full(when.shape, np.datetime64("NaT"), dtype=f"datetime64[{DATETIME_UNIT}]")
    sources: list[tuple[DatetimeArray, FloatArray]] = []
    if daily is not None:
        sources.append((daily.known_at.astype(f"datetime64[{DATETIME_UNIT}]"), daily.close))
    if hourly is not None:
        sources.append((hourly.close_time.astype(f"datetime64[{DATETIME_UNIT}]"), hourly.close))
    for stamps, closes in sources:  # hourly last: it wins ties
        if stamps.size == 0:
            continue
        index = np.searchsorted(stamps, when, side="right") - 1
        found = index >= 0
        at = np.where(found, stamps[np.maximum(index, 0)], np.datetime64("NaT"))
        newer = found & (np.isnat(known) | (at >= known))
        value = np.where(newer, closes[np.maximum(index, 0)], value)
        known = np.where(newer, at, known)
    return value, known
