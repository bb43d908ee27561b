"""Tradable instruments: spot, perpetual swaps, dated futures and European options.

Every instrument is a frozen value type; constructing one with inconsistent data raises
``ValueError`` naming the field.

Conventions
-----------
* ``quantity`` of a position is a number of *contracts*; one contract is ``contract_size``
  units of ``contract_currency``.
* Linear (``Margining.LINEAR``): prices in the quote currency (USD/USDC/USDT), P&L and margin
  in the quote currency, one contract = ``contract_size`` coins (``contract_currency`` is the
  underlying coin).
* Inverse (``Margining.INVERSE``, coin-margined): P&L and margin in the underlying coin.
  Inverse perpetuals and futures have a USD face value (``contract_currency == "USD"``,
  Deribit BTC: 10 USD) and are quoted in USD per coin; inverse options are on one coin each
  and quoted in coin (BTC per option), settled in coin.
* Expiries are timezone-aware UTC datetimes (Deribit: 08:00 UTC).
* ``lot_size`` is the minimum tradable amount, in contracts; amounts are multiples of it.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


class Margining(enum.Enum):
    """How a derivative is margined and settled: in the quote currency or in the coin."""

    LINEAR = "linear"
    INVERSE = "inverse"


class OptionKind(enum.IntEnum):
    """Call (+1) or put (-1); the integer matches the ``kind`` flags of ``hedgekeeper.pricing``."""

    CALL = 1
    PUT = -1

    @classmethod
    def parse(cls, value: str | int) -> OptionKind:
        """Read ``"call"/"put"``, ``"c"/"p"`` (any case) or +1/-1."""
        if isinstance(value, str):
            word = value.strip().lower()
            if word in ("call", "c"):
                return cls.CALL
            if word in ("put", "p"):
                return cls.PUT
        elif value in (1, -1):
            return cls(value)
        raise ValueError(f"option kind must be 'call'/'put', 'c'/'p' or +1/-1, got {value!r}")


def _require_currency(field: str, value: str) -> None:
    if not isinstance(value, str) or not value or not value.isalnum() or value != value.upper():
        raise ValueError(
            f"{field} must be an upper-case currency code such as 'BTC', got {value!r}"
        )


def _require_positive(field: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{field} must be a positive finite number, got {value!r}")
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"{field} must be a positive finite number, got {value!r}")


def _require_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise ValueError(
            f"name must be a non-empty string without surrounding spaces, got {name!r}"
        )


def _require_utc(field: str, value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{field} must be a timezone-aware datetime, got {value!r}")
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"{field} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _require_margining(
    margining: Margining, underlying: str, quote: str, settlement: str, margin: str
) -> None:
    if not isinstance(margining, Margining):
        raise ValueError(f"margining must be a Margining, got {margining!r}")
    expected = underlying if margining is Margining.INVERSE else quote
    if settlement != expected:
        raise ValueError(
            f"settlement_currency of a {margining.value} instrument must be {expected!r}, "
            f"got {settlement!r}"
        )
    if margin != expected:
        raise ValueError(
            f"margin_currency of a {margining.value} instrument must be {expected!r}, "
            f"got {margin!r}"
        )


def _require_contract_currency(
    margining: Margining, underlying: str, quote: str, contract_currency: str, *, option: bool
) -> None:
    # Inverse perpetuals/futures have a face value in the quote currency (USD); everything
    # else (linear derivatives, options of either kind) is sized in the coin.
    allowed = {quote, "USD"} if margining is Margining.INVERSE and not option else {underlying}
    if contract_currency not in allowed:
        raise ValueError(
            f"contract_currency must be one of {sorted(allowed)} for this instrument, "
            f"got {contract_currency!r}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Spot:
    """A spot pair, e.g. ``BTC_USDC``: buy ``underlying`` coins paying ``quote_currency``.

    Attributes
    ----------
    name : str
        Venue symbol.
    underlying, quote_currency : str
        Base coin and quote currency.
    tick_size : float
        Price increment, quote currency per coin.
    lot_size : float
        Minimum amount, coins.
    """

    name: str
    underlying: str
    quote_currency: str
    tick_size: float
    lot_size: float

    def __post_init__(self) -> None:
        _require_name(self.name)
        _require_currency("underlying", self.underlying)
        _require_currency("quote_currency", self.quote_currency)
        if self.underlying == self.quote_currency:
            raise ValueError(
                f"quote_currency must differ from underlying, got {self.quote_currency!r}"
            )
        _require_positive("tick_size", self.tick_size)
        _require_positive("lot_size", self.lot_size)

    @property
    def margining(self) -> Margining:
        """Spot is settled in the quote currency: linear."""
        return Margining.LINEAR

    @property
    def contract_size(self) -> float:
        """One unit of quantity is one coin."""
        return 1.0

    @property
    def contract_currency(self) -> str:
        """Quantity is counted in the underlying coin."""
        return self.underlying

    @property
    def settlement_currency(self) -> str:
        """Spot delivers the quote currency against the coin; P&L is in the quote currency."""
        return self.quote_currency

    @property
    def margin_currency(self) -> str:
        """Collateral currency of a (margin) spot position: the quote currency."""
        return self.quote_currency


@dataclass(frozen=True, slots=True, kw_only=True)
class Perpetual:
    """A perpetual swap (no expiry; a funding rate keeps it near the index).

    Attributes
    ----------
    name : str
        Venue symbol, e.g. ``BTC-PERPETUAL`` (inverse) or ``BTC_USDC-PERPETUAL`` (linear).
    underlying, quote_currency : str
        Coin and the currency the price is quoted in (USD per coin on Deribit inverse).
    margining : Margining
        ``INVERSE`` (coin-margined) or ``LINEAR``.
    settlement_currency, margin_currency : str
        Coin for inverse, quote currency for linear.
    contract_size : float
        Size of one contract in ``contract_currency`` (Deribit BTC-PERPETUAL: 10 USD).
    contract_currency : str
        ``"USD"`` (face value) for inverse, the coin for linear.
    tick_size : float
        Price increment, quote currency per coin.
    lot_size : float
        Minimum amount, contracts.
    """

    name: str
    underlying: str
    quote_currency: str
    margining: Margining
    settlement_currency: str
    margin_currency: str
    contract_size: float
    contract_currency: str
    tick_size: float
    lot_size: float

    def __post_init__(self) -> None:
        _require_name(self.name)
        _require_currency("underlying", self.underlying)
        _require_currency("quote_currency", self.quote_currency)
        _require_margining(
            self.margining,
            self.underlying,
            self.quote_currency,
            self.settlement_currency,
            self.margin_currency,
        )
        _require_positive("contract_size", self.contract_size)
        _require_contract_currency(
            self.margining,
            self.underlying,
            self.quote_currency,
            self.contract_currency,
            option=False,
        )
        _require_positive("tick_size", self.tick_size)
        _require_positive("lot_size", self.lot_size)


@dataclass(frozen=True, slots=True, kw_only=True)
class Future:
    """A dated future settling at ``expiry``; fields as :class:`Perpetual` plus the expiry."""

    name: str
    underlying: str
    quote_currency: str
    margining: Margining
    settlement_currency: str
    margin_currency: str
    contract_size: float
    contract_currency: str
    tick_size: float
    lot_size: float
    expiry: datetime

    def __post_init__(self) -> None:
        _require_name(self.name)
        _require_currency("underlying", self.underlying)
        _require_currency("quote_currency", self.quote_currency)
        _require_margining(
            self.margining,
            self.underlying,
            self.quote_currency,
            self.settlement_currency,
            self.margin_currency,
        )
        _require_positive("contract_size", self.contract_size)
        _require_contract_currency(
            self.margining,
            self.underlying,
            self.quote_currency,
            self.contract_currency,
            option=False,
        )
        _require_positive("tick_size", self.tick_size)
        _require_positive("lot_size", self.lot_size)
        object.__setattr__(self, "expiry", _require_utc("expiry", self.expiry))


@dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    """A European, cash-settled option on ``underlying``.

    Attributes
    ----------
    name : str
        Venue symbol, e.g. ``BTC-27MAR26-80000-C`` (inverse) or ``BTC_USDC-27MAR26-80000-C``.
    underlying : str
        The coin.
    quote_currency : str
        Currency of the option *premium*: the coin for inverse (Deribit BTC options are quoted
        in BTC), the quote currency (USDC) for linear.
    strike_currency : str
        Currency of the strike (USD for Deribit inverse options, USDC for linear).
    margining : Margining
        ``INVERSE``: premium, settlement and margin in the coin. ``LINEAR``: in the quote currency.
    settlement_currency, margin_currency : str
        The coin (inverse) or the premium currency (linear).
    contract_size : float
        Coins per contract (Deribit: 1).
    contract_currency : str
        Always the coin.
    tick_size : float
        Minimum premium increment in ``quote_currency`` per coin.
    tick_steps : tuple of (above_price, tick_size)
        Coarser ticks above a premium level, ascending (Deribit ``tick_size_steps``: BTC options
        trade in 0.0005 BTC steps above 0.005 BTC).
    lot_size : float
        Minimum amount, contracts (Deribit BTC: 0.1).
    expiry : datetime
        Expiry and settlement time, UTC.
    strike : float
        Strike, ``strike_currency`` per coin; positive and finite.
    kind : OptionKind
        Call or put.
    """

    name: str
    underlying: str
    quote_currency: str
    strike_currency: str
    margining: Margining
    settlement_currency: str
    margin_currency: str
    contract_size: float
    contract_currency: str
    tick_size: float
    lot_size: float
    expiry: datetime
    strike: float
    kind: OptionKind
    tick_steps: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        _require_name(self.name)
        _require_currency("underlying", self.underlying)
        _require_currency("quote_currency", self.quote_currency)
        _require_currency("strike_currency", self.strike_currency)
        if not isinstance(self.margining, Margining):
            raise ValueError(f"margining must be a Margining, got {self.margining!r}")
        if self.margining is Margining.INVERSE and self.quote_currency != self.underlying:
            raise ValueError(
                "quote_currency of an inverse option must be the coin "
                f"{self.underlying!r} (premium in coin), got {self.quote_currency!r}"
            )
        if self.margining is Margining.LINEAR and self.quote_currency == self.underlying:
            raise ValueError(
                "quote_currency of a linear option must not be the coin, "
                f"got {self.quote_currency!r}"
            )
        if self.strike_currency == self.underlying:
            raise ValueError(f"strike_currency must not be the coin, got {self.strike_currency!r}")
        _require_margining(
            self.margining,
            self.underlying,
            self.quote_currency,
            self.settlement_currency,
            self.margin_currency,
        )
        _require_positive("contract_size", self.contract_size)
        _require_contract_currency(
            self.margining,
            self.underlying,
            self.quote_currency,
            self.contract_currency,
            option=True,
        )
        _require_positive("tick_size", self.tick_size)
        _require_positive("lot_size", self.lot_size)
        object.__setattr__(self, "expiry", _require_utc("expiry", self.expiry))
        _require_positive("strike", self.strike)
        if not isinstance(self.kind, OptionKind):
            raise ValueError(f"kind must be an OptionKind, got {self.kind!r}")
        previous = -math.inf
        for step in self.tick_steps:
            if len(step) != 2:
                raise ValueError(
                    f"tick_steps entries must be (above_price, tick_size), got {step!r}"
                )
            above, tick = step
            _require_positive("tick_steps above_price", above)
            _require_positive("tick_steps tick_size", tick)
            if above <= previous:
                raise ValueError(f"tick_steps must ascend in above_price, got {self.tick_steps!r}")
            previous = above

    @property
    def is_call(self) -> bool:
        """True for a call."""
        return self.kind is OptionKind.CALL

    def tick_at(self, price: float) -> float:
        """Tick size that applies to a premium ``price`` (``quote_currency``)."""
        tick = self.tick_size
        for above, step_tick in self.tick_steps:
            if price > above:
                tick = step_tick
        return tick


Instrument = Spot | Perpetual | Future | Option
"""Any tradable instrument."""

Derivative = Perpetual | Future | Option
"""Instruments with a contract size and a margining convention."""


def expiry_of(instrument: Instrument) -> datetime | None:
    """Expiry of a future or option (UTC); ``None`` for spot and perpetuals."""
    if isinstance(instrument, Future | Option):
        return instrument.expiry
    return None


def require_live(instrument: Instrument, as_of: datetime) -> None:
    """Raise ``ValueError`` if ``instrument`` has expired at ``as_of`` (timezone-aware).

    An instrument expiring exactly at ``as_of`` counts as expired: it has settled.
    """
    as_of_utc = _require_utc("as_of", as_of)
    expiry = expiry_of(instrument)
    if expiry is not None and expiry <= as_of_utc:
        raise ValueError(
            f"instrument {instrument.name!r} expired at {expiry.isoformat()}, "
            f"which is not after as_of {as_of_utc.isoformat()}"
        )


SECONDS_PER_YEAR = 365.0 * 86400.0
"""ACT/365 year, seconds."""


def year_fraction(start: datetime, end: datetime) -> float:
    """Time from ``start`` to ``end`` in years, ACT/365 (negative if ``end`` is earlier).

    Both datetimes must be timezone-aware.
    """
    start_utc = _require_utc("start", start)
    end_utc = _require_utc("end", end)
    return (end_utc - start_utc) / timedelta(seconds=1) / SECONDS_PER_YEAR


def as_utc(value: datetime, field: str = "timestamp") -> datetime:
    """A timezone-aware ``value`` converted to UTC; ``ValueError`` naming ``field`` if naive."""
    return _require_utc(field, value)
