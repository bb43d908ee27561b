"""Read a book of positions from a CSV file (an I/O edge).

Format: a header with ``instrument_name,quantity`` and optionally ``venue`` and ``account``;
one position per row, ``quantity`` in contracts (negative = short), Deribit instrument names
(``BTC-27MAR26-80000-C``, ``BTC-PERPETUAL``, ``BTC-27MAR26``, ``BTC_USDC-PERPETUAL``).
"""

from __future__ import annotations

import csv
import math
from datetime import datetime
from pathlib import Path

from hedgekeeper.domain.book import Book, Position
from hedgekeeper.domain.naming import parse_instrument
from hedgekeeper.marketdata.deribit import MarketDataError

POSITION_COLUMNS = ("instrument_name", "quantity")
"""Columns a positions file must have (``venue`` and ``account`` are optional)."""


def load_positions(
    path: str | Path,
    *,
    as_of: datetime | None = None,
    venue: str = "deribit",
    account: str = "main",
) -> Book:
    """Read a positions CSV into a :class:`~hedgekeeper.domain.book.Book`.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    as_of : datetime, optional
        When given, an instrument that has expired at ``as_of`` is an error.
    venue, account : str
        Defaults for rows without ``venue``/``account`` columns or with them empty.

    Raises
    ------
    MarketDataError
        Missing file or column, an empty file, or a malformed row (named by its 1-based data
        row number, header excluded): an unknown or malformed instrument name, a quantity that
        is not a finite number.
    """
    file = Path(path)
    if not file.is_file():
        raise MarketDataError(f"positions file {str(file)!r} does not exist or is not a file")
    try:
        with file.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = [column.strip() for column in (reader.fieldnames or [])]
            missing = [column for column in POSITION_COLUMNS if column not in header]
            if missing:
                raise MarketDataError(
                    f"positions file {str(file)!r} lacks column(s) {', '.join(missing)} "
                    f"(header: {','.join(header) or 'none'})"
                )
            reader.fieldnames = header
            positions = [
                _position(file, number, row, venue, account, as_of)
                for number, row in enumerate(reader, start=1)
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MarketDataError(f"positions file {str(file)!r} cannot be read: {exc}") from None
    if not positions:
        raise MarketDataError(f"positions file {str(file)!r} has no positions")
    return Book(tuple(positions))


def _position(
    file: Path,
    number: int,
    row: dict[str, str | None],
    venue: str,
    account: str,
    as_of: datetime | None,
) -> Position:
    where = f"{str(file)!r} row {number}"
    if None in row:
        raise MarketDataError(f"{where}: more fields than the header has columns")
    name = (row.get("instrument_name") or "").strip()
    if not name:
        raise MarketDataError(f"{where}: column instrument_name is empty")
    try:
        instrument = parse_instrument(name, as_of=as_of)
    except ValueError as exc:
        raise MarketDataError(f"{where}: column instrument_name: {exc}") from None
    text = (row.get("quantity") or "").strip()
    try:
        quantity = float(text)
    except ValueError:
        quantity = math.nan
    if not math.isfinite(quantity):
        raise MarketDataError(f"{where}: column quantity must be a finite number, got {text!r}")
    return Position(
        instrument=instrument,
        quantity=quantity,
        venue=(row.get("venue") or "").strip() or venue,
        account=(row.get("account") or "").strip() or account,
    )
