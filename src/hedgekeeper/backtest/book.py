"""The option book a backtest holds: legs struck relative to spot, re-struck at every expiry.

A :class:`RollingBook` describes legs by moneyness and a tenor. At the first step and at every
expiry the backtest sells (or buys) a fresh set: strikes ``moneyness * index`` rounded to
``strike_step``, expiry ``tenor_days`` after the day of the roll at 08:00 UTC (Deribit's
settlement time). The default is a 30-day at-the-money straddle re-struck monthly: short one
call and one put at the same strike, held to expiry, cash-settled against the index, and
replaced by a new 30-day straddle struck at the index at that moment.

The options are linear (USD-settled, quantity in coins: Deribit's ``BTC_USDC`` options), so
the book's P&L is in USD like the USDT-margined perpetual that hedges it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hedgekeeper.domain.book import Position
from hedgekeeper.domain.instruments import Option, OptionKind
from hedgekeeper.domain.naming import (
    SETTLEMENT_HOUR_UTC,
    expiry_code,
    format_strike,
    parse_instrument,
)


@dataclass(frozen=True, slots=True)
class LegSpec:
    """One leg of the book, relative to spot at the roll.

    Attributes
    ----------
    kind : call or put.
    moneyness : strike / index at the roll (1.0 = at the money), > 0.
    quantity : signed options, each on one coin (negative = written).
    """

    kind: OptionKind
    moneyness: float
    quantity: float

    def __post_init__(self) -> None:
        if not isinstance(self.kind, OptionKind):
            raise ValueError(f"LegSpec.kind must be an OptionKind, got {self.kind!r}")
        if not (math.isfinite(self.moneyness) and self.moneyness > 0.0):
            raise ValueError(f"LegSpec.moneyness must be > 0, got {self.moneyness!r}")
        if not (math.isfinite(self.quantity) and self.quantity != 0.0):
            raise ValueError(f"LegSpec.quantity must be a finite non-zero number of options, "
                             f"got {self.quantity!r}")


@dataclass(frozen=True, slots=True)
class RollingBook:
    """Option legs re-struck at every expiry.

    Attributes
    ----------
    legs : the legs, struck at ``moneyness * index`` at each roll.
    tenor_days : days from the roll's date to the expiry (at 08:00 UTC), >= 1.
    strike_step : strikes are rounded to a multiple of this, USD (> 0).
    quote : quote currency of the linear options (``USDC``).
    """

    legs: tuple[LegSpec, ...]
    tenor_days: int = 30
    strike_step: float = 1000.0
    quote: str = "USDC"

    def __post_init__(self) -> None:
        legs = tuple(self.legs)
        if not legs or not all(isinstance(leg, LegSpec) for leg in legs):
            raise ValueError("RollingBook.legs must be one or more LegSpec")
        object.__setattr__(self, "legs", legs)
        if isinstance(self.tenor_days, bool) or not isinstance(self.tenor_days, int) \
                or self.tenor_days < 1:
            raise ValueError(f"RollingBook.tenor_days must be an integer >= 1, got "
                             f"{self.tenor_days!r}")
        if not (math.isfinite(self.strike_step) and self.strike_step > 0.0):
            raise ValueError(f"RollingBook.strike_step must be > 0 USD, got "
                             f"{self.strike_step!r}")

    @classmethod
    def straddle(cls, quantity: float = -1.0, tenor_days: int = 30,
                 strike_step: float = 1000.0) -> RollingBook:
        """A call and a put at the money, ``quantity`` of each (negative = short)."""
        return cls((LegSpec(OptionKind.CALL, 1.0, quantity), LegSpec(OptionKind.PUT, 1.0,
                                                                      quantity)),
                   tenor_days=tenor_days, strike_step=strike_step)

    def expiry_after(self, now: datetime) -> datetime:
        """The expiry of legs opened at ``now``: ``tenor_days`` after its date, 08:00 UTC."""
        return expiry_after(now, self.tenor_days)

    def open_legs(self, coin: str, now: datetime, index: float) -> tuple[Position, ...]:
        """Positions of a fresh set of legs opened at ``now`` with the index at ``index``.

        Legs of the same kind and rounded strike are merged.
        """
        expiry = self.expiry_after(now)
        merged: dict[str, tuple[Option, float]] = {}
        for leg in self.legs:
            strike = max(self.strike_step, round(leg.moneyness * index / self.strike_step)
                         * self.strike_step)
            option = linear_option(coin, self.quote, expiry, strike, leg.kind)
            held = merged.get(option.name)
            merged[option.name] = (option, leg.quantity + (0.0 if held is None else held[1]))
        return tuple(Position(instrument=option, quantity=quantity, venue="backtest")
                     for option, quantity in merged.values() if quantity != 0.0)


def expiry_after(now: datetime, tenor_days: int) -> datetime:
    """08:00 UTC on the day ``tenor_days`` after ``now``'s date (UTC)."""
    day = now.astimezone(UTC).replace(hour=SETTLEMENT_HOUR_UTC, minute=0, second=0,
                                      microsecond=0)
    return day + timedelta(days=tenor_days)


def linear_option(coin: str, quote: str, expiry: datetime, strike: float,
                  kind: OptionKind) -> Option:
    """A linear (``COIN_QUOTE``) European option with Deribit's contract specification."""
    letter = "C" if kind is OptionKind.CALL else "P"
    name = f"{coin}_{quote}-{expiry_code(expiry)}-{format_strike(strike)}-{letter}"
    option = parse_instrument(name)
    if not isinstance(option, Option):  # pragma: no cover - the grammar guarantees it
        raise ValueError(f"{name!r} is not an option")
    return option
