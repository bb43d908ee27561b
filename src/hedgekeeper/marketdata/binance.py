"""Read Binance hourly OHLCV bars and perpetual funding history from CSV (an I/O edge, pandas).

Bar format (``binance_spot_*USDT_1h_*.csv.gz``, ``binance_usdm_perp_*USDT_1h_*.csv.gz`` and
the bundled sample): ``timestamp`` (ISO-8601 UTC, the *open* time of the hour), ``open``,
``high``, ``low``, ``close`` (quote currency per coin, USDT), ``volume`` (base units, coin) and,
for perpetuals, ``mark_close`` (the mark price at the close of the hour; empty before Binance
published it). Only ``timestamp``, ``close`` are required; a missing ``open``/``high``/``low``
column falls back to ``close``, a missing ``volume`` or ``mark_close`` reads as NaN.

Funding format (``binance_usdm_funding_8h_*.csv``): ``timestamp`` (settlement time, 00/08/16
UTC), ``symbol`` (``BTCUSDT``), ``funding_rate`` (fraction per 8 h; positive: longs pay shorts).

Errors (missing file or column, a malformed, unsorted or duplicated row) raise
:class:`~hedgekeeper.marketdata.deribit.MarketDataError`, a ``ValueError`` naming the file, the
column and the 1-based data row (header excluded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from hedgekeeper.domain.market import DATETIME_UNIT, to_datetime64
from hedgekeeper.marketdata.deribit import (
    MarketDataError,
    _numbers,
    _read_csv,
    _require_file,
    _timestamps,
)

FloatArray = npt.NDArray[np.float64]
DatetimeArray = npt.NDArray[np.datetime64]

BAR_COLUMNS = ("timestamp", "close")
"""Columns an hourly bar file must have."""
OPTIONAL_BAR_COLUMNS = ("open", "high", "low", "volume", "mark_close")
"""Columns read when present."""
FUNDING_COLUMNS = ("timestamp", "symbol", "funding_rate")
"""Columns a funding file must have."""

BAR_LENGTH = np.timedelta64(1, "h")
"""Length of one bar: a bar's close is known at ``timestamp + BAR_LENGTH``."""


@dataclass(frozen=True, slots=True, eq=False)
class HourlyBars:
    """Hourly OHLCV bars of one market, ascending in time, shape ``(n,)`` each.

    Attributes
    ----------
    timestamp : datetime64[us], open time of each hour (UTC); the close is known an hour later.
    open, high, low, close : quote currency (USDT, taken at par with USD) per coin.
    volume : traded coins in the hour (NaN when the file has no volume column).
    mark_close : perpetual mark price at the close (NaN where the file leaves it empty).
    row : int64, 1-based data row of each bar in the file (header excluded), for messages.
    source : the file read.
    """

    timestamp: DatetimeArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    mark_close: FloatArray
    row: npt.NDArray[np.int64]
    source: str

    def __len__(self) -> int:
        return int(self.timestamp.shape[0])

    @property
    def close_time(self) -> DatetimeArray:
        """When each bar's close became known: ``timestamp + 1 h`` (UTC)."""
        return np.asarray(self.timestamp + BAR_LENGTH)


@dataclass(frozen=True, slots=True, eq=False)
class FundingHistory:
    """Settled funding rates of one perpetual, ascending in time, shape ``(n,)`` each.

    Attributes
    ----------
    symbol : e.g. ``BTCUSDT``.
    timestamp : datetime64[us], settlement times (UTC).
    rate : fraction per funding period (8 h); positive means longs pay shorts.
    source : the file read.
    """

    symbol: str
    timestamp: DatetimeArray
    rate: FloatArray
    source: str

    def __len__(self) -> int:
        return int(self.timestamp.shape[0])


def _bounds(
    stamps: DatetimeArray, start: datetime | None, end: datetime | None
) -> npt.NDArray[np.bool_]:
    keep = np.ones(stamps.shape, dtype=bool)
    if start is not None:
        keep &= stamps >= to_datetime64(start)
    if end is not None:
        keep &= stamps < to_datetime64(end)
    return keep


def _check_ascending(file: Path, stamps: DatetimeArray, rows: npt.NDArray[np.int64]) -> None:
    if stamps.size < 2:
        return
    steps = np.diff(stamps.astype(f"datetime64[{DATETIME_UNIT}]").astype(np.int64))
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        what = "duplicates" if steps[bad[0]] == 0 else "is earlier than"
        raise MarketDataError(
            f"{str(file)!r} row {int(rows[i]) + 1}: column timestamp {stamps[i]} {what} the "
            f"previous row (rows must be in strictly ascending time)"
        )


ArrayT = TypeVar("ArrayT", bound=npt.NDArray[Any])


def _frozen(array: ArrayT) -> ArrayT:
    out = np.array(array, copy=True)
    out.setflags(write=False)
    return cast(ArrayT, out)


def _columns(file: Path, what: str) -> tuple[str, ...]:
    try:
        return tuple(str(c) for c in pd.read_csv(file, nrows=0).columns)
    except (OSError, ValueError, UnicodeDecodeError, EOFError) as exc:
        raise MarketDataError(f"{what} file {str(file)!r} cannot be read as CSV: {exc}") from None


def load_hourly_bars(
    path: str | Path,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    allow_empty: bool = False,
) -> HourlyBars:
    """Read a Binance hourly bar file (spot or perpetual), optionally only ``[start, end)``.

    Parameters
    ----------
    path : the CSV(.gz) file (see the module docstring for the columns).
    start, end : timezone-aware bounds on the bars' open time; None means unbounded.
    allow_empty : return no bars (instead of raising) when none fall in ``[start, end)``.

    Returns
    -------
    HourlyBars
        Gaps (missing hours) are kept as gaps; the caller decides how to treat them.

    Raises
    ------
    MarketDataError
        Missing file or column, a malformed number or time, a non-positive price, rows out of
        order or duplicated, or no rows in ``[start, end)`` (unless ``allow_empty``).
    """
    file = _require_file(path, "hourly bar")
    present = _columns(file, "hourly bar")
    columns = BAR_COLUMNS + tuple(c for c in OPTIONAL_BAR_COLUMNS if c in present)
    frame = _read_csv(file, BAR_COLUMNS, "hourly bar", usecols=columns)
    rows_all = np.arange(len(frame), dtype=np.int64)
    stamps_all = _timestamps(file, frame, "timestamp")
    _check_ascending(file, stamps_all, rows_all)
    keep = _bounds(stamps_all, start, end)
    rows = rows_all[keep]
    if rows.size == 0 and not allow_empty:
        raise MarketDataError(
            f"hourly bar file {str(file)!r} has no rows between {start} and {end}"
        )
    part = frame.iloc[rows].reset_index(drop=True)
    close = _numbers(file, part, "close", rows, optional=False)
    values: dict[str, FloatArray] = {}
    for column in OPTIONAL_BAR_COLUMNS:
        if column not in part.columns:
            values[column] = close.copy() if column in ("open", "high", "low") else np.full(
                rows.size, np.nan)
            continue
        optional = column == "mark_close"
        values[column] = _numbers(file, part, column, rows, optional=optional)
    for column, array in (("close", close), ("open", values["open"]),
                          ("high", values["high"]), ("low", values["low"]),
                          ("mark_close", values["mark_close"])):
        bad = ~(array > 0.0) & ~np.isnan(array) if column == "mark_close" else ~(array > 0.0)
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise MarketDataError(
                f"{str(file)!r} row {int(rows[i]) + 1}: column {column} must be a positive "
                f"price, got {float(array[i])!r}"
            )
    volume = values["volume"]
    if np.any(volume < 0.0):
        i = int(np.flatnonzero(volume < 0.0)[0])
        raise MarketDataError(
            f"{str(file)!r} row {int(rows[i]) + 1}: column volume must be >= 0, "
            f"got {float(volume[i])!r}"
        )
    return HourlyBars(
        timestamp=_frozen(stamps_all[keep]),
        open=_frozen(values["open"]),
        high=_frozen(values["high"]),
        low=_frozen(values["low"]),
        close=_frozen(close),
        volume=_frozen(volume),
        mark_close=_frozen(values["mark_close"]),
        row=_frozen(rows + 1),
        source=str(file),
    )


def load_funding(
    path: str | Path,
    symbol: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> FundingHistory:
    """Read the funding rates of ``symbol`` (e.g. ``BTCUSDT``) from a Binance funding file.

    Parameters
    ----------
    path : the CSV file; it may hold several symbols.
    symbol : the perpetual's symbol.
    start, end : timezone-aware bounds on the settlement time; None means unbounded.

    Returns
    -------
    FundingHistory

    Raises
    ------
    MarketDataError
        Missing file or column, no rows for ``symbol`` (the message lists the symbols found),
        a malformed row, or settlement times of ``symbol`` out of order or duplicated.
    """
    file = _require_file(path, "funding")
    frame = _read_csv(file, FUNDING_COLUMNS, "funding")
    symbols = frame["symbol"].str.strip()
    selected = np.flatnonzero((symbols == symbol).to_numpy())
    if selected.size == 0:
        found = sorted(set(symbols))
        raise MarketDataError(
            f"funding file {str(file)!r} has no rows for symbol {symbol!r} "
            f"(has: {', '.join(found)})"
        )
    rows_all = selected.astype(np.int64)
    part_all = frame.iloc[rows_all].reset_index(drop=True)
    stamps_all = _timestamps(file, part_all, "timestamp", rows_all)
    _check_ascending(file, stamps_all, rows_all)
    keep = _bounds(stamps_all, start, end)
    rows = rows_all[keep]
    part = part_all.iloc[np.flatnonzero(keep)].reset_index(drop=True)
    rates = _numbers(file, part, "funding_rate", rows, optional=False)
    return FundingHistory(
        symbol=symbol,
        timestamp=_frozen(stamps_all[keep]),
        rate=_frozen(rates),
        source=str(file),
    )
