"""Minimal readers for the Binance hourly OHLCV, Deribit DVOL and Binance funding files.

Private to ``forecast`` until ``hedgekeeper.marketdata`` ships shared loaders for these
formats. Formats (see ``shared/data/README.md``):

* prices: ``timestamp`` (candle open, ISO-8601 UTC), ``open, high, low, close, volume``;
* DVOL hourly: ``timestamp, open, high, low, close`` in vol points; DVOL daily:
  ``date, dvol_close`` (the close of that UTC day, i.e. of its 23:00 hourly candle);
* funding: ``timestamp`` (settlement), ``symbol``, ``funding_rate`` (fraction per 8 h).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hedgekeeper.forecast.history import MarketHistory

FUNDING_MAX_AGE_HOURS = 24
"""A funding rate is carried forward at most this long (three 8-hour settlements)."""


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise ValueError(f"{what} file {path} does not exist")
    try:
        return pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError, EOFError) as exc:
        raise ValueError(f"{what} file {path} is not a readable CSV: {exc}") from exc


def _columns(frame: pd.DataFrame, path: Path, what: str, names: Sequence[str]) -> None:
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise ValueError(
            f"{what} file {path} lacks column(s) {', '.join(missing)}; "
            f"found {', '.join(map(str, frame.columns))}"
        )


def _utc(values: pd.Series, path: Path, column: str) -> pd.DatetimeIndex:
    try:
        stamps = pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{path}: column {column} holds a value that is not an ISO-8601 time"
        ) from exc
    index = pd.DatetimeIndex(stamps).tz_convert("UTC").tz_localize(None)
    if index.hasnans:
        raise ValueError(f"{path}: column {column} has empty times")
    return index


def read_prices(path: str | Path) -> pd.DataFrame:
    """Hourly candles as a frame indexed by open time (UTC, naive) with ``close``, ``volume``.

    The index is made gap-free: missing hours repeat the previous close with zero volume.
    """
    path = Path(path)
    frame = _read_csv(path, "prices")
    _columns(frame, path, "prices", ("timestamp", "close"))
    index = _utc(frame["timestamp"], path, "timestamp")
    close = pd.to_numeric(frame["close"], errors="coerce")
    if close.isna().any() or not (close > 0).all():
        row = int(np.flatnonzero(~(close > 0))[0])
        raise ValueError(f"{path}: close must be a number > 0 (row {row + 2})")
    volume = (
        pd.to_numeric(frame["volume"], errors="coerce")
        if "volume" in frame.columns
        else pd.Series(np.nan, index=frame.index)
    )
    out = pd.DataFrame(
        {"close": close.to_numpy(float), "volume": volume.to_numpy(float)}, index=index
    )
    out = out[~out.index.duplicated(keep="last")].sort_index()
    if len(out) < 2:
        raise ValueError(f"{path}: needs at least 2 hourly candles, found {len(out)}")
    if not (pd.DatetimeIndex(out.index) == pd.DatetimeIndex(out.index).floor("h")).all():
        raise ValueError(f"{path}: timestamps must be whole hours (hourly candle open times)")
    grid = pd.date_range(out.index[0], out.index[-1], freq="h")
    filled = out.reindex(grid)
    filled["close"] = filled["close"].ffill()
    filled["volume"] = filled["volume"].fillna(0.0)
    return filled


def read_dvol(paths: Sequence[str | Path]) -> pd.Series:
    """DVOL as an annualised fraction indexed by the open time of the hourly candle at whose
    close the value is known. Several files merge; earlier files win where both have a value
    (give the hourly file first, a daily file to fill its gaps)."""
    merged: pd.Series | None = None
    for raw in paths:
        path = Path(raw)
        frame = _read_csv(path, "DVOL")
        if "timestamp" in frame.columns:
            _columns(frame, path, "DVOL", ("timestamp", "close"))
            index = _utc(frame["timestamp"], path, "timestamp")
            values = pd.to_numeric(frame["close"], errors="coerce")
        elif "date" in frame.columns:
            _columns(frame, path, "DVOL", ("date", "dvol_close"))
            # The daily close of day D is the close of its 23:00 hourly candle.
            index = _utc(frame["date"], path, "date") + pd.Timedelta(hours=23)
            values = pd.to_numeric(frame["dvol_close"], errors="coerce")
        else:
            raise ValueError(
                f"DVOL file {path} needs columns timestamp,close (hourly) or date,dvol_close "
                f"(daily); found {', '.join(map(str, frame.columns))}"
            )
        if not (values.dropna() > 0).all():
            raise ValueError(f"{path}: DVOL values must be > 0 (vol points, e.g. 55.3)")
        series = pd.Series(values.to_numpy(float) / 100.0, index=index).dropna()
        series = series[~series.index.duplicated(keep="last")].sort_index()
        merged = series if merged is None else merged.combine_first(series)
    if merged is None:
        raise ValueError("at least one DVOL file is needed")
    return merged


def funding_symbol(prices_path: str | Path) -> str | None:
    """The ``XXXUSDT`` symbol in a price file name (``binance_spot_BTCUSDT_1h...``), or None."""
    match = re.search(r"([A-Z0-9]{2,}USDT)", Path(prices_path).name)
    return match.group(1) if match else None


def read_funding(path: str | Path, symbol: str | None) -> pd.Series:
    """Funding rates (fraction per 8 h) of ``symbol`` indexed by settlement time (UTC, naive).

    ``symbol`` may be None only when the file holds one symbol.
    """
    path = Path(path)
    frame = _read_csv(path, "funding")
    _columns(frame, path, "funding", ("timestamp", "symbol", "funding_rate"))
    symbols = sorted(frame["symbol"].astype(str).unique())
    if symbol is None:
        if len(symbols) != 1:
            raise ValueError(
                f"funding file {path} holds symbols {', '.join(symbols)}; name one with --symbol "
                "(or use a price file whose name contains it, e.g. ..._BTCUSDT_...)"
            )
        symbol = symbols[0]
    if symbol not in symbols:
        raise ValueError(
            f"symbol {symbol} is not in funding file {path} (it holds {', '.join(symbols)})"
        )
    rows = frame[frame["symbol"].astype(str) == symbol]
    rates = pd.to_numeric(rows["funding_rate"], errors="coerce")
    if rates.isna().any():
        raise ValueError(f"{path}: funding_rate must be a number for every {symbol} row")
    series = pd.Series(rates.to_numpy(float), index=_utc(rows["timestamp"], path, "timestamp"))
    return series[~series.index.duplicated(keep="last")].sort_index()


def build_history(
    prices: pd.DataFrame, dvol: pd.Series | None = None, funding: pd.Series | None = None
) -> MarketHistory:
    """Align DVOL and funding to the price grid (each row = what is known at the candle's close).

    DVOL: the value of the same candle (NaN where the index has no candle). Funding: the last
    rate settled at or before the candle's close, carried at most ``FUNDING_MAX_AGE_HOURS``.
    """
    grid = pd.DatetimeIndex(prices.index)
    dvol_values = None if dvol is None else dvol.reindex(grid).to_numpy(float)
    funding_values = None
    if funding is not None:
        # A settlement at T is known at the close of the candle opening at T - 1 h.
        settled = pd.DatetimeIndex(funding.index) - pd.Timedelta(hours=1)
        shifted = pd.Series(funding.to_numpy(float), index=settled)
        shifted = shifted[(settled >= grid[0]) & (settled <= grid[-1])]
        aligned = shifted.reindex(grid).ffill(limit=FUNDING_MAX_AGE_HOURS)
        funding_values = np.asarray(aligned.to_numpy(float), dtype=np.float64)
    return MarketHistory(
        time=grid.to_numpy(dtype="datetime64[ns]"),
        close=prices["close"].to_numpy(float),
        volume=prices["volume"].to_numpy(float),
        dvol=dvol_values,
        funding_rate=funding_values,
    )
