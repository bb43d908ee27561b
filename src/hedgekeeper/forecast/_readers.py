"""Build a :class:`MarketHistory` from the Binance price/funding and Deribit DVOL files.

The files are read by :mod:`hedgekeeper.marketdata.binance` and :mod:`hedgekeeper.marketdata.dvol`
(their errors name the file, column and row); this module only puts them on one gap-free hourly
grid with the timing convention of :mod:`hedgekeeper.forecast.history`: row ``i`` holds what is
known at the close of the candle opening at ``time[i]``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hedgekeeper.forecast.history import HOUR, MarketHistory, TimeArray
from hedgekeeper.marketdata.binance import (
    FundingHistory,
    HourlyBars,
    load_funding,
    load_hourly_bars,
)
from hedgekeeper.marketdata.deribit import MarketDataError
from hedgekeeper.marketdata.dvol import DailyDvol, dvol_at, load_dvol_daily, load_dvol_hourly

FUNDING_MAX_AGE_HOURS = 24
"""A funding rate is carried forward at most this long (three 8-hour settlements)."""

DVOL_MAX_AGE_HOURS = 72
"""A DVOL value older than this at a candle's close is treated as unknown (NaN)."""


def funding_symbol(prices_path: str | Path) -> str | None:
    """The ``XXXUSDT`` symbol in a price file name (``binance_spot_BTCUSDT_1h...``), or None."""
    match = re.search(r"([A-Z0-9]{2,}USDT)", Path(prices_path).name)
    return match.group(1) if match else None


def load_dvol(paths: Sequence[str | Path]) -> tuple[HourlyBars | None, DailyDvol | None]:
    """Read DVOL files, each hourly (``timestamp, ..., close``) or daily (``date,
    dvol_close``), told apart by their header; at most one of each."""
    hourly: HourlyBars | None = None
    daily: DailyDvol | None = None
    for raw in paths:
        path = Path(raw)
        try:
            header = tuple(pd.read_csv(path, nrows=0).columns)
        except (OSError, ValueError, UnicodeDecodeError, EOFError) as exc:
            raise MarketDataError(f"DVOL file {str(path)!r} cannot be read as CSV: {exc}") from None
        if "date" in header:
            if daily is not None:
                raise MarketDataError("give at most one daily DVOL file")
            daily = load_dvol_daily(path)
        else:
            if hourly is not None:
                raise MarketDataError("give at most one hourly DVOL file")
            hourly = load_dvol_hourly(path)
    return hourly, daily


def build_history(
    bars: HourlyBars,
    dvol: tuple[HourlyBars | None, DailyDvol | None] | None = None,
    funding: FundingHistory | None = None,
) -> MarketHistory:
    """Put hourly bars, DVOL and funding on one gap-free hourly grid.

    Prices: a missing hour repeats the previous close with zero volume. DVOL: the latest value
    known at each candle's close (hourly closes count from the end of their hour, daily ones
    from the midnight after their day; :func:`~hedgekeeper.marketdata.dvol.dvol_at`), NaN when
    older than ``DVOL_MAX_AGE_HOURS``; as a fraction. Funding: the last rate settled at or
    before the candle's close, NaN when older than ``FUNDING_MAX_AGE_HOURS``.
    """
    if len(bars) < 2:
        raise MarketDataError(f"{bars.source}: needs at least 2 hourly bars, found {len(bars)}")
    opens = np.asarray(bars.timestamp, dtype="datetime64[ns]")
    if np.any(opens != opens.astype("datetime64[h]")):
        raise MarketDataError(f"{bars.source}: timestamps must be whole hours (candle open times)")
    grid = np.arange(opens[0], opens[-1] + HOUR, HOUR).astype("datetime64[ns]")
    row = np.searchsorted(opens, grid, side="right") - 1
    present = opens[row] == grid
    close = np.asarray(bars.close)[row]
    volume = np.where(present, np.nan_to_num(np.asarray(bars.volume)[row]), 0.0)
    known: TimeArray = np.asarray(grid + HOUR, dtype="datetime64[ns]")
    dvol_values = None
    if dvol is not None and (dvol[0] is not None or dvol[1] is not None):
        points, known_at = dvol_at(known, dvol[0], dvol[1])
        age = known - np.asarray(known_at, dtype="datetime64[ns]")
        fresh = ~np.isnat(known_at) & (age <= np.timedelta64(DVOL_MAX_AGE_HOURS, "h"))
        dvol_values = np.where(fresh, points / 100.0, np.nan)
    funding_values = None
    if funding is not None:
        settled = np.asarray(funding.timestamp, dtype="datetime64[ns]")
        last = np.searchsorted(settled, known, side="right") - 1
        at = np.maximum(last, 0)
        fresh = (last >= 0) & (known - settled[at] <= np.timedelta64(FUNDING_MAX_AGE_HOURS, "h"))
        funding_values = np.where(fresh, np.asarray(funding.rate)[at], np.nan)
    return MarketHistory(
        time=grid,
        close=close,
        volume=volume,
        dvol=dvol_values,
        funding_rate=funding_values,
    )


def load_history(
    prices: str | Path,
    dvol: Sequence[str | Path] = (),
    funding: str | Path | None = None,
    symbol: str | None = None,
) -> MarketHistory:
    """Read the files and build the history (see :func:`build_history`).

    ``symbol`` picks the funding rows (default: the ``XXXUSDT`` in the price file's name).
    Raises :class:`~hedgekeeper.marketdata.deribit.MarketDataError` (a ``ValueError``) naming
    the file, column and row of a problem.
    """
    bars = load_hourly_bars(prices)
    rates = None
    if funding is not None:
        name = symbol or funding_symbol(prices)
        if name is None:
            raise MarketDataError(
                f"cannot tell the funding symbol from {Path(prices).name!r}: name it with "
                "--symbol (e.g. BTCUSDT)"
            )
        rates = load_funding(funding, name)
    return build_history(bars, load_dvol(dvol) if dvol else None, rates)
