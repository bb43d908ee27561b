"""Deribit instrument names: parse them into instruments with Deribit's contract specifications.

Grammar (``COIN`` = upper-case letters/digits, ``DMMMYY`` = day without a leading zero, English
month abbreviation, two-digit year; expiries are at 08:00 UTC)::

    COIN-PERPETUAL                     inverse (coin-margined) perpetual, e.g. BTC-PERPETUAL
    COIN-DMMMYY                        inverse future, e.g. BTC-27MAR26
    COIN-DMMMYY-STRIKE-C|P             inverse option, e.g. BTC-27MAR26-80000-C
    COIN_QUOTE                         spot pair, e.g. BTC_USDC
    COIN_QUOTE-PERPETUAL               linear perpetual, e.g. BTC_USDC-PERPETUAL
    COIN_QUOTE-DMMMYY                  linear future
    COIN_QUOTE-DMMMYY-STRIKE-C|P       linear option, e.g. BTC_USDC-27MAR26-80000-C

Decimal strikes are written with ``d`` for the point (``XRP_USDC-27MAR26-0d625-C``).

Contract specifications (``DERIBIT_SPECS``)
-------------------------------------------
Sources: Deribit's public ``get_instrument`` responses for ``BTC-26JUN26-100000-C``
(contract_size 1, tick_size 0.0001 BTC, ``tick_size_steps`` [{above_price 0.005, tick_size
0.0005}], min_trade_amount 0.1) and ``BTC_USDC-PERPETUAL`` (contract_size 0.001 BTC,
tick_size 1 USDC, min_trade_amount 0.001), as recorded in July 2025; the tick step is
announced in https://support.deribit.com/hc/en-us/articles/25944779257373-6-July-2023-TS;
BTC futures and perpetual: contract size 10 USD, minimum tick 0.50 USD
(https://legacy.deribit.com/pages/docs/futures). Simplifications, to be checked against
``public/get_instruments`` before live use: dated BTC futures use the perpetual's 0.5 USD tick;
ETH inverse derivatives use 1 USD contracts and 0.05 USD ticks, ETH options a 1 ETH minimum;
linear instruments count quantity in coins (contract size 1 coin, the minimum amount as the
lot size), with a 5 USDC option tick.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from hedgekeeper.domain.instruments import (
    Future,
    Instrument,
    Margining,
    Option,
    OptionKind,
    Perpetual,
    Spot,
    require_live,
)

SETTLEMENT_HOUR_UTC = 8
"""Deribit futures and options expire and settle at 08:00 UTC."""

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

_NAME = re.compile(
    r"^(?P<coin>[A-Z][A-Z0-9]*)(?:_(?P<quote>[A-Z][A-Z0-9]*))?"
    r"(?:-(?:(?P<perpetual>PERPETUAL)"
    r"|(?P<day>[1-9]|[12][0-9]|3[01])(?P<month>[A-Z]{3})(?P<year>[0-9]{2})"
    r"(?:-(?P<strike>[0-9]+(?:d[0-9]+)?)-(?P<kind>[CP]))?))?$"
)


@dataclass(frozen=True, slots=True)
class DerivativeSpec:
    """Contract size, tick and lot of one instrument family (see the module docstring)."""

    contract_size: float
    tick_size: float
    lot_size: float
    tick_steps: tuple[tuple[float, float], ...] = ()


# Keys: (coin, quote or "" for inverse, family in {"perpetual", "future", "option", "spot"}).
DERIBIT_SPECS: dict[tuple[str, str, str], DerivativeSpec] = {
    ("BTC", "", "perpetual"): DerivativeSpec(10.0, 0.5, 1.0),
    ("BTC", "", "future"): DerivativeSpec(10.0, 0.5, 1.0),
    ("BTC", "", "option"): DerivativeSpec(1.0, 0.0001, 0.1, ((0.005, 0.0005),)),
    ("ETH", "", "perpetual"): DerivativeSpec(1.0, 0.05, 1.0),
    ("ETH", "", "future"): DerivativeSpec(1.0, 0.05, 1.0),
    ("ETH", "", "option"): DerivativeSpec(1.0, 0.0001, 1.0, ((0.005, 0.0005),)),
    ("BTC", "USDC", "perpetual"): DerivativeSpec(1.0, 1.0, 0.001),
    ("BTC", "USDC", "future"): DerivativeSpec(1.0, 1.0, 0.001),
    ("BTC", "USDC", "option"): DerivativeSpec(1.0, 5.0, 0.01),
    ("BTC", "USDC", "spot"): DerivativeSpec(1.0, 1.0, 0.0001),
    ("ETH", "USDC", "perpetual"): DerivativeSpec(1.0, 0.1, 0.01),
    ("ETH", "USDC", "future"): DerivativeSpec(1.0, 0.1, 0.01),
    ("ETH", "USDC", "option"): DerivativeSpec(1.0, 0.5, 0.1),
    ("ETH", "USDC", "spot"): DerivativeSpec(1.0, 0.05, 0.0001),
}

_INVERSE_QUOTE = "USD"


def expiry_code(expiry: datetime) -> str:
    """Deribit's expiry code of a UTC datetime, e.g. ``2026-03-27 08:00 UTC`` -> ``27MAR26``."""
    utc = expiry.astimezone(UTC)
    return f"{utc.day}{_MONTHS[utc.month - 1]}{utc.year % 100:02d}"


def parse_expiry_code(code: str) -> datetime:
    """Expiry of a Deribit code ``DMMMYY`` at 08:00 UTC; ``ValueError`` naming a bad code."""
    match = re.fullmatch(r"([1-9]|[12][0-9]|3[01])([A-Z]{3})([0-9]{2})", code)
    if match is None or match.group(2) not in _MONTHS:
        raise ValueError(f"expiry code must look like '27MAR26', got {code!r}")
    return _expiry(code, match.group(1), match.group(2), match.group(3))


def _expiry(name: str, day: str, month: str, year: str) -> datetime:
    if month not in _MONTHS:
        raise ValueError(f"instrument name {name!r} has an unknown month {month!r}")
    try:
        return datetime(
            2000 + int(year), _MONTHS.index(month) + 1, int(day), SETTLEMENT_HOUR_UTC, tzinfo=UTC
        )
    except ValueError:
        raise ValueError(
            f"instrument name {name!r} has an impossible date {day}{month}{year}"
        ) from None


def format_strike(strike: float) -> str:
    """Deribit's strike text: ``80000`` for whole numbers, ``0d625`` for 0.625."""
    if strike == int(strike):
        return str(int(strike))
    text = repr(float(strike))
    if "e" in text:
        raise ValueError(f"strike {strike!r} cannot be written as a Deribit strike")
    return text.replace(".", "d")


def _spec(name: str, coin: str, quote: str, family: str) -> DerivativeSpec:
    spec = DERIBIT_SPECS.get((coin, quote, family))
    if spec is None:
        market = f"{coin}_{quote}" if quote else coin
        raise ValueError(
            f"instrument name {name!r}: no Deribit contract specification for {market} {family}s"
            " (known: "
            + ", ".join(sorted({f"{c}_{q}" if q else c for c, q, _ in DERIBIT_SPECS}))
            + ")"
        )
    return spec


def parse_instrument(name: str, *, as_of: datetime | None = None) -> Instrument:
    """Parse a Deribit instrument name into an instrument with Deribit's specifications.

    Parameters
    ----------
    name : str
        E.g. ``BTC-27MAR26-80000-C``, ``BTC-PERPETUAL``, ``BTC-27MAR26``, ``BTC_USDC-PERPETUAL``,
        ``BTC_USDC-27MAR26-80000-C``, ``BTC_USDC``.
    as_of : datetime, optional
        Timezone-aware reference time; when given, a future or option that has expired at
        ``as_of`` is rejected.

    Returns
    -------
    Spot | Perpetual | Future | Option

    Raises
    ------
    ValueError
        Naming ``name`` if it is malformed, refers to an unknown market, or has expired.
    """
    if not isinstance(name, str):
        raise ValueError(f"instrument name must be a string, got {name!r}")
    match = _NAME.fullmatch(name)
    if match is None:
        raise ValueError(
            f"instrument name {name!r} is not a Deribit name such as 'BTC-27MAR26-80000-C', "
            "'BTC-27MAR26', 'BTC-PERPETUAL' or 'BTC_USDC-PERPETUAL'"
        )
    coin = match.group("coin")
    quote = match.group("quote") or ""
    instrument: Instrument
    if match.group("perpetual") is None and match.group("day") is None:
        if not quote:
            raise ValueError(f"instrument name {name!r} is not a Deribit instrument name")
        spec = _spec(name, coin, quote, "spot")
        return Spot(
            name=name,
            underlying=coin,
            quote_currency=quote,
            tick_size=spec.tick_size,
            lot_size=spec.lot_size,
        )
    margining = Margining.LINEAR if quote else Margining.INVERSE
    price_quote = quote or _INVERSE_QUOTE
    collateral = quote or coin
    contract_currency = coin if quote else _INVERSE_QUOTE
    if match.group("perpetual") is not None:
        spec = _spec(name, coin, quote, "perpetual")
        return Perpetual(
            name=name,
            underlying=coin,
            quote_currency=price_quote,
            margining=margining,
            settlement_currency=collateral,
            margin_currency=collateral,
            contract_size=spec.contract_size,
            contract_currency=contract_currency,
            tick_size=spec.tick_size,
            lot_size=spec.lot_size,
        )
    expiry = _expiry(name, match.group("day"), match.group("month"), match.group("year"))
    if match.group("strike") is None:
        spec = _spec(name, coin, quote, "future")
        instrument = Future(
            name=name,
            underlying=coin,
            quote_currency=price_quote,
            margining=margining,
            settlement_currency=collateral,
            margin_currency=collateral,
            contract_size=spec.contract_size,
            contract_currency=contract_currency,
            tick_size=spec.tick_size,
            lot_size=spec.lot_size,
            expiry=expiry,
        )
    else:
        spec = _spec(name, coin, quote, "option")
        strike = float(match.group("strike").replace("d", "."))
        if strike <= 0.0:
            raise ValueError(f"instrument name {name!r} has a non-positive strike")
        instrument = Option(
            name=name,
            underlying=coin,
            quote_currency=quote or coin,
            strike_currency=price_quote,
            margining=margining,
            settlement_currency=collateral,
            margin_currency=collateral,
            contract_size=spec.contract_size,
            contract_currency=coin,
            tick_size=spec.tick_size,
            tick_steps=spec.tick_steps,
            lot_size=spec.lot_size,
            expiry=expiry,
            strike=strike,
            kind=OptionKind.CALL if match.group("kind") == "C" else OptionKind.PUT,
        )
    if as_of is not None:
        require_live(instrument, as_of)
    return instrument


def format_instrument(instrument: Instrument) -> str:
    """Deribit name of an instrument, built from its fields (inverse of :func:`parse_instrument`).

    Inverse instruments are written ``COIN-...``, linear ones ``COIN_QUOTE-...``. Expiries must
    be at 08:00 UTC (Deribit's settlement time).
    """
    if isinstance(instrument, Spot):
        return f"{instrument.underlying}_{instrument.quote_currency}"
    prefix = (
        instrument.underlying
        if instrument.margining is Margining.INVERSE
        else f"{instrument.underlying}_{instrument.quote_currency}"
    )
    if isinstance(instrument, Perpetual):
        return f"{prefix}-PERPETUAL"
    expiry = instrument.expiry
    if (expiry.hour, expiry.minute, expiry.second, expiry.microsecond) != (
        SETTLEMENT_HOUR_UTC,
        0,
        0,
        0,
    ):
        raise ValueError(
            f"expiry of {instrument.name!r} must be at 08:00 UTC to have a Deribit name, "
            f"got {expiry.isoformat()}"
        )
    if isinstance(instrument, Future):
        return f"{prefix}-{expiry_code(expiry)}"
    letter = "C" if instrument.kind is OptionKind.CALL else "P"
    return f"{prefix}-{expiry_code(expiry)}-{format_strike(instrument.strike)}-{letter}"
