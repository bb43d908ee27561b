"""Frozen value types: instruments, positions and books, market snapshots (numpy only)."""

from hedgekeeper.domain.book import Book, Position
from hedgekeeper.domain.chain import OptionChain
from hedgekeeper.domain.instruments import (
    Derivative,
    Future,
    Instrument,
    Margining,
    Option,
    OptionKind,
    Perpetual,
    Spot,
    expiry_of,
    require_live,
    year_fraction,
)
from hedgekeeper.domain.market import (
    ForwardQuote,
    ForwardSource,
    MarketSnapshot,
    VolSurface,
    from_datetime64,
    to_datetime64,
    years_between,
)
from hedgekeeper.domain.naming import format_instrument, parse_instrument

__all__ = [
    "Book",
    "Derivative",
    "ForwardQuote",
    "ForwardSource",
    "Future",
    "Instrument",
    "Margining",
    "MarketSnapshot",
    "Option",
    "OptionChain",
    "OptionKind",
    "Perpetual",
    "Position",
    "Spot",
    "VolSurface",
    "expiry_of",
    "format_instrument",
    "from_datetime64",
    "parse_instrument",
    "require_live",
    "to_datetime64",
    "year_fraction",
    "years_between",
]
