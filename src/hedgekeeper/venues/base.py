"""The ``Venue`` port: what the keeper may ask of an exchange, and what it gets back.

Every adapter (the paper exchange in :mod:`hedgekeeper.venues.sim`, its HTTP client, later
ccxt and on-chain adapters) implements :class:`Venue` and passes the shared conformance suite
(``tests/unit/venues/test_venue_conformance.py``).

Contract
--------
- ``submit`` is idempotent on ``client_order_id``: a resubmit of a known id returns the existing
  order's state (``OrderAck.duplicate`` is ``True``) and never creates a second order. A resubmit
  of a known id with *different* parameters raises :class:`VenueRejected` with reason
  ``CLIENT_ID_CONFLICT`` carrying the *existing* order's report: that is a client bug, not a
  rejection of the existing order.
- A rejected order (margin, size, price, unknown instrument) is recorded by the venue with status
  ``REJECTED`` so that ``order(client_order_id)`` resolves it; ``submit`` raises
  :class:`VenueRejected` for it, on the first submit and on every resubmit.
- :class:`VenueTimeout` means the outcome is unknown: the order may or may not exist. Resolve it
  with ``order(client_order_id)`` (``None``: the venue never saw it, a resubmit with the same id is
  safe), never by a blind resubmit with a new id.
- ``cancel`` of a live order returns its report with status ``CANCELLED`` (its filled quantity
  kept); ``cancel`` of an order already terminal returns its report unchanged (a ``FILLED`` status
  there means the cancel lost the race); ``cancel`` of an unknown id returns ``None``.
- Fills carry a venue-unique ``trade_id`` and a ledger ``sequence``. ``reports(since)`` returns
  every fill and every order change with ``sequence > since`` and a ``cursor`` (the venue's last
  sequence, never decreasing) to pass as ``since`` next time; a fill is reported once per cursor
  window. Fills may follow a cancel request (the cancel raced a fill): apply them by trade id.
- ``AccountReport.positions`` equal the signed sum of all fills per instrument (contracts).

Units: quantities in contracts of the instrument (the sim's contracts are linear, one coin each
unless configured otherwise), prices and fees in the quote currency (USD) per coin, times
timezone-aware UTC (venue time). Amounts are :class:`~decimal.Decimal`, exact end to end.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Protocol, TypeVar, runtime_checkable

from hedgekeeper.domain.instruments import as_utc

__all__ = [
    "AccountReport",
    "FeedSilent",
    "Liquidity",
    "OrderAck",
    "OrderReport",
    "OrderRequest",
    "OrderType",
    "Quote",
    "QuoteSnapshot",
    "RateLimited",
    "RejectReason",
    "Side",
    "TimeInForce",
    "Venue",
    "VenueError",
    "VenueFill",
    "VenueOrderStatus",
    "VenueRejected",
    "VenueReports",
    "VenueTimeout",
    "VenueUnavailable",
    "as_decimal",
    "canonical",
    "decimal_text",
    "validate_client_order_id",
]

_E = TypeVar("_E", bound=enum.Enum)
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")


class Side(enum.Enum):
    """Order side."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """``+1`` for a buy, ``-1`` for a sell (the sign of the position change)."""
        return 1 if self is Side.BUY else -1


class OrderType(enum.Enum):
    """``LIMIT`` rests at ``limit_price`` after crossing what it can; ``MARKET`` walks the book."""

    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(enum.Enum):
    """``GTC`` rests until filled or cancelled; ``IOC`` cancels whatever does not fill at once."""

    GTC = "gtc"
    IOC = "ioc"


class VenueOrderStatus(enum.Enum):
    """An order's status as the venue reports it."""

    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def is_terminal(self) -> bool:
        """``True`` once the order can change no more (filled, cancelled, rejected)."""
        return self in (
            VenueOrderStatus.FILLED,
            VenueOrderStatus.CANCELLED,
            VenueOrderStatus.REJECTED,
        )


class Liquidity(enum.Enum):
    """Whether a fill added liquidity (a resting order hit later) or took it on arrival."""

    MAKER = "maker"
    TAKER = "taker"


class RejectReason(enum.Enum):
    """Why the venue refused an order."""

    INSUFFICIENT_MARGIN = "insufficient_margin"
    SIZE_LIMIT = "size_limit"
    """Quantity above the venue's maximum order size (or the position limit)."""
    INVALID_QUANTITY = "invalid_quantity"
    """Quantity not a positive multiple of the lot size."""
    INVALID_PRICE = "invalid_price"
    """Limit price missing, off the tick grid, or outside the venue's price band."""
    UNKNOWN_INSTRUMENT = "unknown_instrument"
    CLIENT_ID_CONFLICT = "client_id_conflict"
    """The client order id is known with different parameters (the existing order stands)."""


def as_decimal(value: object, name: str, *, positive: bool = False) -> Decimal:
    """``value`` (Decimal, int, str, or finite float via its shortest repr) as a finite Decimal.

    Raises ``ValueError`` naming ``name`` when it is not a finite number (or not positive when
    ``positive``).
    """
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            number = Decimal(repr(value))
        elif isinstance(value, str):
            number = Decimal(value.strip())
        else:
            raise ValueError(f"{name} must be a number, got {value!r}")
    except InvalidOperation:
        raise ValueError(f"{name} must be a decimal number, got {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if positive and number <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return number


def canonical(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and never in exponent notation (``0.50`` -> ``0.5``)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def decimal_text(value: Decimal) -> str:
    """The canonical plain text of ``value`` (``"0.5"``, ``"100"``), as the wire and exports use."""
    return format(canonical(value), "f")


def validate_client_order_id(client_order_id: object, name: str = "client_order_id") -> str:
    """``client_order_id`` if it is 1-64 characters of ``[A-Za-z0-9._:-]``, else ``ValueError``."""
    if not isinstance(client_order_id, str) or not _CLIENT_ID.match(client_order_id):
        raise ValueError(
            f"{name} must be 1-64 characters of letters, digits and '._:-', got {client_order_id!r}"
        )
    return client_order_id


def _nonempty(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _enum(kind: type[_E], name: str, value: object) -> _E:
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in kind)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}") from None


def _frozen_decimals(name: str, values: Mapping[str, object]) -> Mapping[str, Decimal]:
    if not isinstance(values, Mapping):
        raise ValueError(f"{name} must be a mapping of name to amount, got {values!r}")
    return MappingProxyType(
        {
            _nonempty(f"{name} key", key): as_decimal(value, f"{name}[{key!r}]")
            for key, value in sorted(values.items())
        }
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """An order as the client sends it.

    Attributes
    ----------
    client_order_id : str
        The client's idempotency key, derived from the intent (1-64 of ``[A-Za-z0-9._:-]``).
    intent_id : str
        The keeper's intent this order executes (the venue stores and reports it).
    instrument : str
        Venue instrument name, e.g. ``"BTC-PERPETUAL"``.
    side : Side
    quantity : Decimal
        Contracts, positive.
    order_type : OrderType
        ``LIMIT`` (default) or ``MARKET``.
    limit_price : Decimal or None
        Quote currency per coin; required for ``LIMIT``, must be ``None`` for ``MARKET``.
    time_in_force : TimeInForce
        ``GTC`` (default) or ``IOC``; a ``MARKET`` order is always ``IOC``.
    """

    client_order_id: str
    intent_id: str
    instrument: str
    side: Side
    quantity: Decimal
    order_type: OrderType = OrderType.LIMIT
    limit_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC

    def __post_init__(self) -> None:
        validate_client_order_id(self.client_order_id)
        _nonempty("intent_id", self.intent_id)
        _nonempty("instrument", self.instrument)
        object.__setattr__(self, "side", _enum(Side, "side", self.side))
        object.__setattr__(self, "quantity", as_decimal(self.quantity, "quantity", positive=True))
        order_type = _enum(OrderType, "order_type", self.order_type)
        object.__setattr__(self, "order_type", order_type)
        tif = _enum(TimeInForce, "time_in_force", self.time_in_force)
        if order_type is OrderType.MARKET:
            if self.limit_price is not None:
                raise ValueError(
                    f"limit_price must be None for a market order, got {self.limit_price!r}"
                )
            tif = TimeInForce.IOC
        else:
            if self.limit_price is None:
                raise ValueError("limit_price is required for a limit order, got None")
            object.__setattr__(
                self, "limit_price", as_decimal(self.limit_price, "limit_price", positive=True)
            )
        object.__setattr__(self, "time_in_force", tif)

    def same_parameters(self, report: OrderReport) -> bool:
        """``True`` when ``report`` is this request's order (same economic parameters)."""
        return (
            report.client_order_id == self.client_order_id
            and report.intent_id == self.intent_id
            and report.instrument == self.instrument
            and report.side is self.side
            and report.quantity == self.quantity
            and report.order_type is self.order_type
            and report.limit_price == self.limit_price
            and report.time_in_force is self.time_in_force
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderReport:
    """The venue's view of one order.

    Attributes
    ----------
    client_order_id, venue_order_id, intent_id, instrument : str
    side : Side
    order_type : OrderType
    time_in_force : TimeInForce
    quantity : Decimal
        Ordered contracts.
    limit_price : Decimal or None
        Quote currency per coin (``None`` for a market order).
    filled_quantity : Decimal
        Contracts filled so far, ``0 <= filled_quantity <= quantity``.
    average_price : Decimal or None
        Quantity-weighted fill price (``None`` before the first fill).
    status : VenueOrderStatus
    reject_reason : RejectReason or None
        Set when ``status`` is ``REJECTED``.
    created_at, updated_at : datetime
        Venue time, UTC.
    sequence : int
        Ledger sequence of the order's last change.
    """

    client_order_id: str
    venue_order_id: str
    intent_id: str
    instrument: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    quantity: Decimal
    limit_price: Decimal | None
    filled_quantity: Decimal
    average_price: Decimal | None
    status: VenueOrderStatus
    reject_reason: RejectReason | None
    created_at: datetime
    updated_at: datetime
    sequence: int

    def __post_init__(self) -> None:
        validate_client_order_id(self.client_order_id)
        _nonempty("venue_order_id", self.venue_order_id)
        object.__setattr__(self, "side", _enum(Side, "side", self.side))
        object.__setattr__(self, "order_type", _enum(OrderType, "order_type", self.order_type))
        object.__setattr__(
            self, "time_in_force", _enum(TimeInForce, "time_in_force", self.time_in_force)
        )
        object.__setattr__(self, "status", _enum(VenueOrderStatus, "status", self.status))
        if self.reject_reason is not None:
            object.__setattr__(
                self, "reject_reason", _enum(RejectReason, "reject_reason", self.reject_reason)
            )
        quantity = as_decimal(self.quantity, "quantity", positive=True)
        filled = as_decimal(self.filled_quantity, "filled_quantity")
        if not Decimal(0) <= filled <= quantity:
            raise ValueError(f"filled_quantity must lie in [0, quantity={quantity}], got {filled}")
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "filled_quantity", filled)
        if self.limit_price is not None:
            object.__setattr__(self, "limit_price", as_decimal(self.limit_price, "limit_price"))
        if self.average_price is not None:
            object.__setattr__(
                self, "average_price", as_decimal(self.average_price, "average_price")
            )
        object.__setattr__(self, "created_at", as_utc(self.created_at, "created_at"))
        object.__setattr__(self, "updated_at", as_utc(self.updated_at, "updated_at"))

    @property
    def remaining_quantity(self) -> Decimal:
        """Contracts still to fill (0 once terminal)."""
        if self.status.is_terminal:
            return Decimal(0)
        return self.quantity - self.filled_quantity


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAck:
    """The answer to ``submit``: the order's state and whether the client id was already known.

    Attributes
    ----------
    report : OrderReport
        The order as the venue holds it after the submit (possibly already partly or fully
        filled, for a marketable order).
    duplicate : bool
        ``True`` when the client id was already known: ``report`` is the existing order, and
        nothing new was created.
    """

    report: OrderReport
    duplicate: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueFill:
    """One execution.

    Attributes
    ----------
    trade_id : str
        Unique at the venue; the key to apply a fill exactly once.
    client_order_id, venue_order_id, instrument : str
    side : Side
        The order's side.
    quantity : Decimal
        Contracts, positive.
    price : Decimal
        Quote currency per coin.
    fee : Decimal
        Quote currency, positive when paid (a maker rebate is negative).
    liquidity : Liquidity
    timestamp : datetime
        Venue time, UTC.
    sequence : int
        Ledger sequence of the fill.
    """

    trade_id: str
    client_order_id: str
    venue_order_id: str
    instrument: str
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    liquidity: Liquidity
    timestamp: datetime
    sequence: int

    def __post_init__(self) -> None:
        _nonempty("trade_id", self.trade_id)
        object.__setattr__(self, "side", _enum(Side, "side", self.side))
        object.__setattr__(self, "liquidity", _enum(Liquidity, "liquidity", self.liquidity))
        object.__setattr__(self, "quantity", as_decimal(self.quantity, "quantity", positive=True))
        object.__setattr__(self, "price", as_decimal(self.price, "price", positive=True))
        object.__setattr__(self, "fee", as_decimal(self.fee, "fee"))
        object.__setattr__(self, "timestamp", as_utc(self.timestamp, "timestamp"))

    @property
    def signed_quantity(self) -> Decimal:
        """Position change in contracts: ``+quantity`` for a buy, ``-quantity`` for a sell."""
        return self.quantity if self.side is Side.BUY else -self.quantity


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    """Top of book of one instrument.

    Attributes
    ----------
    instrument : str
    bid, ask : Decimal
        Best bid and ask, quote currency per coin, ``bid < ask``.
    bid_size, ask_size : Decimal
        Contracts available at the best bid and ask.
    last : Decimal or None
        Last trade price at the venue (``None`` before the first trade); the reference price
        otherwise is ``mid``.
    timestamp : datetime
        Venue time of the quote, UTC.
    """

    instrument: str
    bid: Decimal
    ask: Decimal
    bid_size: Decimal
    ask_size: Decimal
    last: Decimal | None
    timestamp: datetime

    def __post_init__(self) -> None:
        _nonempty("instrument", self.instrument)
        bid = as_decimal(self.bid, "bid", positive=True)
        ask = as_decimal(self.ask, "ask", positive=True)
        if not bid < ask:
            raise ValueError(f"bid must be below ask, got bid={bid} ask={ask}")
        object.__setattr__(self, "bid", bid)
        object.__setattr__(self, "ask", ask)
        object.__setattr__(self, "bid_size", as_decimal(self.bid_size, "bid_size"))
        object.__setattr__(self, "ask_size", as_decimal(self.ask_size, "ask_size"))
        if self.last is not None:
            object.__setattr__(self, "last", as_decimal(self.last, "last", positive=True))
        object.__setattr__(self, "timestamp", as_utc(self.timestamp, "timestamp"))

    @property
    def mid(self) -> Decimal:
        """``(bid + ask) / 2``, quote currency per coin."""
        return (self.bid + self.ask) / 2


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteSnapshot:
    """Quotes of the instruments asked for, at one venue time.

    Attributes
    ----------
    timestamp : datetime
        Venue time, UTC.
    quotes : Mapping[str, Quote]
        Instrument name -> quote (read-only).
    """

    timestamp: datetime
    quotes: Mapping[str, Quote] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "timestamp", as_utc(self.timestamp, "timestamp"))
        object.__setattr__(self, "quotes", MappingProxyType(dict(self.quotes)))


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountReport:
    """Positions and balances at one venue time.

    Attributes
    ----------
    timestamp : datetime
        Venue time, UTC.
    positions : Mapping[str, Decimal]
        Instrument -> signed contracts (long positive); instruments never traded are absent.
    balances : Mapping[str, Decimal]
        Currency -> cash balance (initial deposit, minus what buys paid, plus what sells got,
        minus fees), e.g. ``{"USD": ...}``.
    """

    timestamp: datetime
    positions: Mapping[str, Decimal]
    balances: Mapping[str, Decimal]

    def __post_init__(self) -> None:
        object.__setattr__(self, "timestamp", as_utc(self.timestamp, "timestamp"))
        object.__setattr__(self, "positions", _frozen_decimals("positions", self.positions))
        object.__setattr__(self, "balances", _frozen_decimals("balances", self.balances))


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueReports:
    """What changed at the venue since a cursor, for reconciliation.

    Attributes
    ----------
    cursor : int
        The venue's last ledger sequence; pass it as ``since`` next time (never decreases).
    open_orders : tuple of OrderReport
        Every order not terminal now, whatever the cursor.
    orders : tuple of OrderReport
        Every order whose last change has ``sequence > since`` (terminal ones included).
    fills : tuple of VenueFill
        Every fill with ``sequence > since``, ascending.
    positions : Mapping[str, Decimal]
        Instrument -> signed contracts now.
    timestamp : datetime
        Venue time, UTC.
    """

    cursor: int
    open_orders: tuple[OrderReport, ...]
    orders: tuple[OrderReport, ...]
    fills: tuple[VenueFill, ...]
    positions: Mapping[str, Decimal]
    timestamp: datetime

    def __post_init__(self) -> None:
        if isinstance(self.cursor, bool) or not isinstance(self.cursor, int) or self.cursor < 0:
            raise ValueError(f"cursor must be a non-negative integer, got {self.cursor!r}")
        object.__setattr__(self, "open_orders", tuple(self.open_orders))
        object.__setattr__(self, "orders", tuple(self.orders))
        object.__setattr__(self, "fills", tuple(self.fills))
        object.__setattr__(self, "positions", _frozen_decimals("positions", self.positions))
        object.__setattr__(self, "timestamp", as_utc(self.timestamp, "timestamp"))


class VenueError(Exception):
    """Base of every error a venue raises to its client."""


class VenueTimeout(VenueError):  # noqa: N818 - the port's names
    """No answer in time: the outcome of the request is UNKNOWN (resolve with ``order``)."""

    def __init__(self, operation: str, message: str = "") -> None:
        self.operation = operation
        super().__init__(message or f"{operation}: no answer from the venue in time")


class VenueRejected(VenueError):  # noqa: N818 - the port's names
    """The venue refused the order; ``report`` is the recorded order (``None`` if not recorded)."""

    def __init__(
        self, reason: RejectReason, message: str, report: OrderReport | None = None
    ) -> None:
        self.reason = reason
        self.report = report
        super().__init__(f"{reason.value}: {message}")


class VenueUnavailable(VenueError):  # noqa: N818 - the port's names
    """The venue answered with a server error (5xx): the request was NOT processed."""

    def __init__(self, operation: str, status_code: int = 503, message: str = "") -> None:
        self.operation = operation
        self.status_code = status_code
        super().__init__(message or f"{operation}: venue unavailable ({status_code})")


class RateLimited(VenueError):  # noqa: N818 - the port's names
    """Too many requests: NOT processed; retry after ``retry_after`` seconds."""

    def __init__(self, operation: str, retry_after: float) -> None:
        self.operation = operation
        self.retry_after = float(retry_after)
        super().__init__(f"{operation}: rate limited, retry after {self.retry_after:g} s")


class FeedSilent(VenueError):  # noqa: N818 - the port's names
    """The venue's market feed has gone quiet; ``last_update`` is the last quote time seen."""

    def __init__(self, last_update: datetime | None, message: str = "") -> None:
        self.last_update = last_update
        super().__init__(
            message
            or f"market feed silent since {last_update.isoformat() if last_update else 'start'}"
        )


@runtime_checkable
class Venue(Protocol):
    """The port every venue adapter fills in (all calls may raise a :class:`VenueError`)."""

    async def snapshot(self, instruments: Sequence[str]) -> QuoteSnapshot:
        """Top-of-book quotes of ``instruments``; ``FeedSilent`` when the feed has gone quiet."""
        ...

    async def account(self) -> AccountReport:
        """Positions and balances now."""
        ...

    async def submit(self, order: OrderRequest) -> OrderAck:
        """Place ``order``; idempotent on ``order.client_order_id``."""
        ...

    async def cancel(self, client_order_id: str) -> OrderReport | None:
        """Cancel a live order; the terminal order unchanged; ``None`` if the id is unknown."""
        ...

    async def order(self, client_order_id: str) -> OrderReport | None:
        """Look an order up by client id (``None`` if the venue never accepted that id)."""
        ...

    async def reports(self, since: int = 0) -> VenueReports:
        """Open orders, order changes and fills with ledger sequence above ``since``."""
        ...

    async def close(self) -> None:
        """Release connections (the venue itself, and its ledger, stay)."""
        ...
