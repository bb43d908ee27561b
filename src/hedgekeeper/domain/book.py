"""Positions held on several venues and accounts, and the immutable ``Book`` aggregating them."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from hedgekeeper.domain.instruments import Future, Instrument, Option, Perpetual, Spot, require_live

FloatArray = npt.NDArray[np.float64]

_INSTRUMENT_TYPES = (Spot, Perpetual, Future, Option)


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """A signed holding of one instrument in one account.

    Attributes
    ----------
    instrument : Spot | Perpetual | Future | Option
    quantity : float
        Number of contracts, positive long, negative short (one contract is
        ``instrument.contract_size`` units of ``instrument.contract_currency``; Deribit
        BTC-PERPETUAL: 10 USD, BTC options: 1 BTC).
    venue : str
        Venue name, e.g. ``"deribit"``.
    account : str
        Account (or sub-account) on that venue.
    """

    instrument: Instrument
    quantity: float
    venue: str = "deribit"
    account: str = "main"

    def __post_init__(self) -> None:
        if not isinstance(self.instrument, _INSTRUMENT_TYPES):
            raise ValueError(
                f"instrument must be a Spot, Perpetual, Future or Option, got {self.instrument!r}"
            )
        if isinstance(self.quantity, bool) or not isinstance(
            self.quantity, int | float | np.floating
        ):
            raise ValueError(
                f"quantity must be a finite number of contracts, got {self.quantity!r}"
            )
        if not math.isfinite(self.quantity):
            raise ValueError(
                f"quantity must be a finite number of contracts, got {self.quantity!r}"
            )
        object.__setattr__(self, "quantity", float(self.quantity))
        for field in ("venue", "account"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{field} must be a non-empty string, got {value!r}")

    @property
    def name(self) -> str:
        """The instrument's name."""
        return self.instrument.name


@dataclass(frozen=True, slots=True)
class Book:
    """An immutable collection of positions across venues and accounts.

    Two positions naming the same instrument must carry the same instrument specification
    (else ``ValueError``). Aggregations return new objects; nothing mutates.

    Attributes
    ----------
    positions : tuple of Position
        In the order given.
    """

    positions: tuple[Position, ...] = ()

    def __post_init__(self) -> None:
        positions = tuple(self.positions)
        seen: dict[str, Instrument] = {}
        for index, position in enumerate(positions):
            if not isinstance(position, Position):
                raise ValueError(f"positions[{index}] must be a Position, got {position!r}")
            known = seen.setdefault(position.name, position.instrument)
            if known != position.instrument:
                raise ValueError(
                    f"positions[{index}]: instrument {position.name!r} appears with two different "
                    f"specifications: {known!r} and {position.instrument!r}"
                )
        object.__setattr__(self, "positions", positions)

    @classmethod
    def of(cls, positions: Iterable[Position]) -> Book:
        """Build a book from any iterable of positions."""
        return cls(tuple(positions))

    def __len__(self) -> int:
        return len(self.positions)

    def added(self, *positions: Position) -> Book:
        """A new book with ``positions`` appended."""
        return Book(self.positions + positions)

    def instruments(self) -> tuple[Instrument, ...]:
        """Distinct instruments, in order of first appearance."""
        unique: dict[str, Instrument] = {}
        for position in self.positions:
            unique.setdefault(position.name, position.instrument)
        return tuple(unique.values())

    def netted(self) -> tuple[tuple[Instrument, ...], FloatArray]:
        """Net quantity per instrument across all venues and accounts.

        Returns
        -------
        instruments : tuple of Instrument, length n
            Distinct instruments in order of first appearance.
        quantities : ndarray of float64, shape (n,)
            Summed contracts per instrument (zero where positions cancel).
        """
        index: dict[str, int] = {}
        instruments: list[Instrument] = []
        for position in self.positions:
            if position.name not in index:
                index[position.name] = len(instruments)
                instruments.append(position.instrument)
        quantities = np.zeros(len(instruments), dtype=np.float64)
        for position in self.positions:
            quantities[index[position.name]] += position.quantity
        return tuple(instruments), quantities

    def net(self, *, venue: str = "all", account: str = "all") -> Book:
        """One position per instrument holding the net quantity, labelled ``venue``/``account``."""
        instruments, quantities = self.netted()
        return Book(
            tuple(
                Position(
                    instrument=instrument, quantity=float(quantity), venue=venue, account=account
                )
                for instrument, quantity in zip(instruments, quantities, strict=True)
            )
        )

    def net_quantity(self, name: str) -> float:
        """Net contracts of the instrument called ``name`` (0.0 if the book does not hold it)."""
        return float(sum(p.quantity for p in self.positions if p.name == name))

    def underlyings(self) -> tuple[str, ...]:
        """Distinct underlying coins, in order of first appearance."""
        return tuple(dict.fromkeys(p.instrument.underlying for p in self.positions))

    def by_underlying(self) -> dict[str, Book]:
        """Sub-books per underlying coin."""
        return {
            coin: Book(tuple(p for p in self.positions if p.instrument.underlying == coin))
            for coin in self.underlyings()
        }

    def by_account(self) -> dict[tuple[str, str], Book]:
        """Sub-books per ``(venue, account)``."""
        keys = tuple(dict.fromkeys((p.venue, p.account) for p in self.positions))
        return {
            key: Book(tuple(p for p in self.positions if (p.venue, p.account) == key))
            for key in keys
        }

    def filter(self, keep: Callable[[Position], bool]) -> Book:
        """Sub-book of the positions for which ``keep`` is true."""
        return Book(tuple(p for p in self.positions if keep(p)))

    def options(self) -> Book:
        """Sub-book of option positions."""
        return self.filter(lambda p: isinstance(p.instrument, Option))

    def require_live(self, as_of: datetime) -> None:
        """Raise ``ValueError`` naming the first instrument that has expired at ``as_of``."""
        for instrument in self.instruments():
            require_live(instrument, as_of)
