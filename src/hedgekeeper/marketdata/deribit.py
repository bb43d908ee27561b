"""Read Deribit option chain snapshots and perpetual prices from CSV (an I/O edge, uses pandas).

Chain format (``deribit_options_BTC_4x_daily_*.csv.gz`` and the bundled sample), one row per
option per snapshot: ``timestamp, currency, instrument_name, option_type, strike,
expiry_datetime, time_to_maturity, underlying, futures_instrument_name, index_price, bid_price,
ask_price, mark_price, implied_volatility, delta, vega, open_interest, volume``; prices in coin,
IV as a fraction, timestamps ISO-8601 UTC. Only ``bid_price``/``ask_price`` may be empty.

Errors (missing file, missing columns, a malformed row) raise :class:`MarketDataError`, a
``ValueError`` naming the file, the column and the row (1-based data row, header excluded).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from hedgekeeper.domain.chain import OptionChain
from hedgekeeper.domain.instruments import Option, as_utc
from hedgekeeper.domain.market import DATETIME_UNIT, from_datetime64, to_datetime64, years_between
from hedgekeeper.domain.naming import parse_instrument

FloatArray = npt.NDArray[np.float64]

CHAIN_COLUMNS = (
    "timestamp",
    "currency",
    "instrument_name",
    "option_type",
    "strike",
    "expiry_datetime",
    "time_to_maturity",
    "underlying",
    "futures_instrument_name",
    "index_price",
    "bid_price",
    "ask_price",
    "mark_price",
    "implied_volatility",
    "delta",
    "vega",
    "open_interest",
    "volume",
)
"""Columns a Deribit chain file must have."""

PERP_COLUMNS = ("snapshot_timestamp", "coin", "instrument_name", "perp_price")
"""Columns a perpetual-at-snapshot file must have."""

_OPTIONAL_NUMBERS = ("bid_price", "ask_price")
_REQUIRED_NUMBERS = (
    "strike",
    "time_to_maturity",
    "underlying",
    "index_price",
    "mark_price",
    "implied_volatility",
    "delta",
    "vega",
    "open_interest",
    "volume",
)
_POSITIVE = ("strike", "underlying", "index_price", "implied_volatility")
_NON_NEGATIVE = ("mark_price", "open_interest", "volume", "bid_price", "ask_price")


class MarketDataError(ValueError):
    """A market data file is missing or malformed; the message names file, column and row."""


def _require_file(path: str | Path, what: str) -> Path:
    file = Path(path)
    if not file.is_file():
        raise MarketDataError(f"{what} file {str(file)!r} does not exist or is not a file")
    return file


def _read_csv(
    file: Path, required: tuple[str, ...], what: str, usecols: tuple[str, ...] | None = None
) -> pd.DataFrame:
    try:
        header = pd.read_csv(file, nrows=0)
    except (OSError, ValueError, UnicodeDecodeError, EOFError) as exc:
        raise MarketDataError(f"{what} file {str(file)!r} cannot be read as CSV: {exc}") from None
    missing = [column for column in required if column not in header.columns]
    if missing:
        raise MarketDataError(
            f"{what} file {str(file)!r} lacks column(s) {', '.join(missing)} "
            f"(has: {', '.join(map(str, header.columns))})"
        )
    try:
        return pd.read_csv(
            file, dtype=str, keep_default_na=False, usecols=list(usecols or required)
        )
    except (OSError, ValueError, UnicodeDecodeError, EOFError) as exc:
        raise MarketDataError(f"{what} file {str(file)!r} cannot be read as CSV: {exc}") from None


def _timestamps(
    file: Path, frame: pd.DataFrame, column: str, rows: npt.NDArray[np.int64] | None = None
) -> npt.NDArray[np.datetime64]:
    text = frame[column]
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        row = i if rows is None else int(rows[i])
        raise MarketDataError(
            f"{str(file)!r} row {row + 1}: column {column} must be an ISO-8601 UTC time, "
            f"got {text.iloc[i]!r}"
        )
    return parsed.dt.tz_localize(None).to_numpy(dtype=f"datetime64[{DATETIME_UNIT}]")


def _numbers(
    file: Path, frame: pd.DataFrame, column: str, rows: npt.NDArray[np.int64], *, optional: bool
) -> FloatArray:
    text = frame[column]
    values = np.asarray(pd.to_numeric(text, errors="coerce"), dtype=np.float64)
    bad = ~np.isfinite(values)
    if optional and np.any(bad):
        bad[bad] = np.array([cell.strip() != "" for cell in text.to_numpy()[bad]], dtype=bool)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise MarketDataError(
            f"{str(file)!r} row {int(rows[i]) + 1}: column {column} must be a finite number, "
            f"got {text.iloc[i]!r}"
        )
    return values


def snapshots(path: str | Path) -> tuple[datetime, ...]:
    """Distinct snapshot timestamps in a Deribit chain file, ascending (UTC).

    Raises
    ------
    MarketDataError
        If the file is missing, lacks a ``timestamp`` column or has a malformed timestamp.
    """
    file = _require_file(path, "option chain")
    frame = _read_csv(file, ("timestamp",), "option chain")
    stamps = np.unique(_timestamps(file, frame, "timestamp"))
    if stamps.size == 0:
        raise MarketDataError(f"option chain file {str(file)!r} has no rows")
    return tuple(from_datetime64(s) for s in stamps)


def _as_time(at: datetime | str, field: str) -> datetime:
    if isinstance(at, str):
        try:
            stamp = pd.Timestamp(at)
        except ValueError:
            raise ValueError(f"{field} must be an ISO-8601 time, got {at!r}") from None
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize(UTC)
        return as_utc(stamp.to_pydatetime(), field)
    return as_utc(at, field)


def nearest_snapshot(stamps: tuple[datetime, ...], at: datetime | str | None) -> datetime:
    """The snapshot time nearest to ``at`` (the first if ``at`` is None; earlier one on a tie).

    ``at`` may be a timezone-aware datetime or an ISO-8601 string (UTC if it has no offset).
    """
    if not stamps:
        raise ValueError("no snapshots to choose from")
    if at is None:
        return stamps[0]
    target = _as_time(at, "at")
    return min(stamps, key=lambda stamp: (abs(stamp - target), stamp))


def load_chain(path: str | Path, at: datetime | str | None = None) -> OptionChain:
    """Load the option chain snapshot nearest to ``at`` from a Deribit chain CSV(.gz).

    Parameters
    ----------
    path : str or Path
        Chain file (see the module docstring for the columns).
    at : datetime or str, optional
        Wanted time (timezone-aware, or ISO-8601 text; UTC if no offset). Default: the first
        snapshot in the file.

    Returns
    -------
    OptionChain
        Rows in file order. ``t`` is recomputed ACT/365 from the snapshot timestamp to the
        expiry; the file's ``time_to_maturity`` is kept as ``t_listed``.

    Raises
    ------
    MarketDataError
        Missing file, missing column, or a malformed row of the chosen snapshot (wrong number,
        unknown option type, an instrument name that does not parse or disagrees with its
        strike/expiry/type columns, more than one currency).
    """
    file, frame, stamps = _read_chain_file(path)
    chosen = nearest_snapshot(tuple(from_datetime64(s) for s in np.unique(stamps)), at)
    rows = np.flatnonzero(stamps == to_datetime64(chosen))
    return _chain_from_rows(file, frame.iloc[rows].reset_index(drop=True), rows, chosen, {})


def load_chains(path: str | Path) -> Iterator[OptionChain]:
    """Every snapshot of a Deribit chain file, in time order, reading the file once.

    Each chain is validated as in :func:`load_chain` when it is produced.
    """
    file, frame, stamps = _read_chain_file(path)
    cache: dict[str, Option] = {}
    for stamp in np.unique(stamps):
        rows = np.flatnonzero(stamps == stamp)
        yield _chain_from_rows(
            file, frame.iloc[rows].reset_index(drop=True), rows, from_datetime64(stamp), cache
        )


def _read_chain_file(
    path: str | Path,
) -> tuple[Path, pd.DataFrame, npt.NDArray[np.datetime64]]:
    file = _require_file(path, "option chain")
    frame = _read_csv(file, CHAIN_COLUMNS, "option chain")
    if frame.empty:
        raise MarketDataError(f"option chain file {str(file)!r} has no rows")
    return file, frame, _timestamps(file, frame, "timestamp")


def _chain_from_rows(
    file: Path,
    snap: pd.DataFrame,
    rows: npt.NDArray[np.int64],
    timestamp: datetime,
    cache: dict[str, Option],
) -> OptionChain:
    where = f"{str(file)!r} snapshot {timestamp.isoformat()}"
    numbers = {c: _numbers(file, snap, c, rows, optional=False) for c in _REQUIRED_NUMBERS}
    numbers.update({c: _numbers(file, snap, c, rows, optional=True) for c in _OPTIONAL_NUMBERS})
    for column in _POSITIVE + _NON_NEGATIVE:
        values = numbers[column]
        bad = values <= 0.0 if column in _POSITIVE else values < 0.0
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            sign = "positive" if column in _POSITIVE else "non-negative"
            raise MarketDataError(
                f"{str(file)!r} row {int(rows[i]) + 1}: column {column} must be {sign}, "
                f"got {values[i]!r}"
            )
    expiry = _timestamps(file, snap, "expiry_datetime", rows)
    currencies = snap["currency"].str.strip().unique()
    if len(currencies) != 1:
        raise MarketDataError(f"{where}: column currency holds several coins {list(currencies)}")
    coin = str(currencies[0])
    words = snap["option_type"].str.strip().str.lower()
    kind = np.where(words == "call", 1, np.where(words == "put", -1, 0)).astype(np.int8)
    if np.any(kind == 0):
        i = int(np.flatnonzero(kind == 0)[0])
        raise MarketDataError(
            f"{str(file)!r} row {int(rows[i]) + 1}: column option_type must be call or put, "
            f"got {snap['option_type'].iloc[i]!r}"
        )
    names = snap["instrument_name"].str.strip().to_numpy(dtype=np.str_)
    options: list[Option] = []
    for i, name in enumerate(names.tolist()):
        option = cache.get(name)
        if option is None:
            try:
                instrument = parse_instrument(name)
            except ValueError as exc:
                raise MarketDataError(
                    f"{str(file)!r} row {int(rows[i]) + 1}: column instrument_name: {exc}"
                ) from None
            if not isinstance(instrument, Option):
                raise MarketDataError(
                    f"{str(file)!r} row {int(rows[i]) + 1}: column instrument_name {name!r} "
                    "is not an option"
                )
            cache[name] = option = instrument
        options.append(option)
    _check_rows_match_names(file, rows, options, coin, numbers["strike"], expiry, kind)
    if np.unique(names).size != names.size:
        seen: set[str] = set()
        for i, name in enumerate(names.tolist()):
            if name in seen:
                raise MarketDataError(
                    f"{str(file)!r} row {int(rows[i]) + 1}: instrument {name!r} appears twice "
                    "in one snapshot"
                )
            seen.add(name)
    t = years_between(to_datetime64(timestamp), expiry)
    return OptionChain(
        timestamp=timestamp,
        underlying=coin,
        index=numbers["index_price"],
        names=names,
        options=tuple(options),
        kind=kind,
        strike=numbers["strike"],
        expiry=expiry,
        t=t,
        t_listed=numbers["time_to_maturity"],
        forward=numbers["underlying"],
        futures_name=snap["futures_instrument_name"].str.strip().to_numpy(dtype=np.str_),
        bid=numbers["bid_price"],
        ask=numbers["ask_price"],
        mark=numbers["mark_price"],
        mark_iv=numbers["implied_volatility"],
        delta=numbers["delta"],
        vega=numbers["vega"],
        open_interest=numbers["open_interest"],
        volume=numbers["volume"],
    )


def _check_rows_match_names(
    file: Path,
    rows: npt.NDArray[np.int64],
    options: list[Option],
    coin: str,
    strike: FloatArray,
    expiry: npt.NDArray[np.datetime64],
    kind: npt.NDArray[np.int8],
) -> None:
    option_expiry = np.array([to_datetime64(o.expiry) for o in options], dtype=expiry.dtype)
    checks = (
        ("currency", np.array([o.underlying != coin for o in options], dtype=bool)),
        ("strike", np.array([o.strike for o in options]) != strike),
        ("expiry_datetime", option_expiry != expiry),
        ("option_type", np.array([int(o.kind) for o in options]) != kind),
    )
    for column, bad in checks:
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise MarketDataError(
                f"{str(file)!r} row {int(rows[i]) + 1}: instrument_name {options[i].name!r} "
                f"disagrees with column {column}"
            )


@dataclass(frozen=True, slots=True, eq=False)
class PerpPrices:
    """Perpetual prices observed at option snapshot times, for one coin.

    Attributes
    ----------
    coin : str
    instrument_name : str
        E.g. ``BTC-PERPETUAL``.
    timestamp : ndarray of datetime64[us], shape (n,)
        Snapshot times (UTC), ascending.
    price : ndarray of float64, shape (n,)
        USD per coin.
    """

    coin: str
    instrument_name: str
    timestamp: npt.NDArray[np.datetime64]
    price: FloatArray

    def at(self, when: datetime, tolerance: timedelta = timedelta(minutes=5)) -> float:
        """Price observed nearest ``when``; ``ValueError`` if none is within ``tolerance``."""
        target = to_datetime64(when)
        gaps = np.abs(self.timestamp - target)
        i = int(np.argmin(gaps))
        if gaps[i] > np.timedelta64(tolerance):
            raise ValueError(
                f"no {self.instrument_name} price within {tolerance} of {as_utc(when).isoformat()} "
                f"(nearest: {self.timestamp[i]})"
            )
        return float(self.price[i])


def load_perp_prices(path: str | Path, coin: str = "BTC") -> PerpPrices:
    """Read ``deribit_perp_at_option_snapshots_*.csv`` (or the bundled sample) for one coin.

    Columns used: ``snapshot_timestamp, coin, instrument_name, perp_price``.

    Raises
    ------
    MarketDataError
        Missing file or column, a malformed row, or no rows for ``coin``.
    """
    file = _require_file(path, "perpetual price")
    frame = _read_csv(file, PERP_COLUMNS, "perpetual price")
    selected = np.flatnonzero((frame["coin"].str.strip() == coin).to_numpy())
    if selected.size == 0:
        found = sorted(set(frame["coin"].str.strip()))
        raise MarketDataError(
            f"perpetual price file {str(file)!r} has no rows for coin {coin!r} "
            f"(has: {', '.join(found)})"
        )
    rows = frame.iloc[selected].reset_index(drop=True)
    names = rows["instrument_name"].str.strip().unique()
    if len(names) != 1:
        raise MarketDataError(f"{str(file)!r}: coin {coin} has several instruments {list(names)}")
    stamps = _timestamps(file, rows, "snapshot_timestamp", selected)
    prices = _numbers(file, rows, "perp_price", selected, optional=False)
    if np.any(prices <= 0.0):
        i = int(np.flatnonzero(prices <= 0.0)[0])
        raise MarketDataError(
            f"{str(file)!r} row {int(selected[i]) + 1}: column perp_price must be positive, "
            f"got {prices[i]!r}"
        )
    order = np.argsort(stamps, kind="stable")
    timestamp, price = stamps[order], prices[order]
    timestamp.setflags(write=False)
    price.setflags(write=False)
    return PerpPrices(coin=coin, instrument_name=str(names[0]), timestamp=timestamp, price=price)
