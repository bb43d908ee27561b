"""Orders, fills and the order state machine (pure: stdlib only, no I/O, no clock).

An order's life, as the keeper sees it::

    PENDING_SUBMIT --sent--> SUBMITTED --timeout--> UNKNOWN
          |                      |                     |
          +----------------------+---------------------+--> ACCEPTED / REJECTED (venue answers)
    ACCEPTED --fill--> PARTIALLY_FILLED --fill--> FILLED
    ACCEPTED | PARTIALLY_FILLED --cancel requested--> CANCEL_PENDING --venue--> CANCELLED
    open --venue--> CANCELLED | EXPIRED;  CANCELLED | EXPIRED --late fill--> (same, or FILLED)

Conventions and the traps they avoid:

* ``PENDING_SUBMIT`` is journalled *before* the order is sent, so after a crash it means "may
  or may not have reached the venue"; ``SUBMITTED`` means sent and not answered; ``UNKNOWN``
  means the send timed out or failed ambiguously (5xx, lost acknowledgement). All three are
  resolved by looking the order up by its client order id (:class:`VenueNotFound` or the
  venue's report), never by a blind resubmit: :class:`SubmitSent` is refused while the order
  is ``SUBMITTED`` or ``UNKNOWN``; a ``VenueNotFound`` answer puts it back to
  ``PENDING_SUBMIT``, from which sending again (same client order id) is safe.
* Venue events may arrive duplicated, reordered and late. Every transition is written so that
  any delivery order of a legitimate venue history ends in the same state: an acknowledgement
  after a fill or a cancel is harmless, a fill is applied once per trade id, fills that arrive
  after ``CANCELLED``/``EXPIRED`` are still applied (the venue traded before it cancelled), and
  a fill completing the quantity makes the order ``FILLED`` whatever came before.
* Impossible transitions (an accepted order rejected, a fill on a rejected order, more filled
  than ordered, a second venue order id, cancelling a finished order) raise
  :class:`InvalidTransitionError` (a ``ValueError``) naming the order, its status and the event.

Amounts are :class:`decimal.Decimal` (exact); a float given by a caller is converted through
its shortest repr (``0.1`` -> ``Decimal("0.1")``). Arithmetic on them uses :data:`EXACT` (the
default decimal context rounds to 28 digits) and amounts are bounded (40 significant digits,
magnitude 1e-36..1e36) so sums stay exact.

Client order ids (:func:`client_order_id`) are derived deterministically from the intent id and
the attempt number: ``"hk"`` + 30 hex digits of BLAKE2b over ``"{intent_id}/{attempt}"``
(32 characters of ``[0-9a-z]``: within the limits of Deribit labels (64), Binance (36) and
OKX (32 alphanumerics)). The same intent and attempt always give the same id, so a restarted
keeper asks the venue about exactly the order it may already have sent.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import (
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from enum import StrEnum

__all__ = [
    "CancelRejected",
    "CancelRequested",
    "Fill",
    "Intent",
    "InvalidTransitionError",
    "Order",
    "OrderEvent",
    "OrderSide",
    "OrderStatus",
    "OverfillError",
    "SubmitSent",
    "SubmitTimedOut",
    "VenueAccepted",
    "VenueCancelled",
    "VenueExpired",
    "VenueFill",
    "VenueNotFound",
    "VenueRejected",
    "client_order_id",
    "exact_sum",
    "to_decimal",
    "transition",
]


class OrderSide(StrEnum):
    """Side of an order; the value is what the journal and exports store."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell (the change of position per unit filled)."""
        return 1 if self is OrderSide.BUY else -1


class OrderStatus(StrEnum):
    """Where an order is in its life; the value is what the journal and exports store."""

    PENDING_SUBMIT = "pending_submit"
    """Journalled, maybe not sent (after a crash: maybe sent). Look up before sending again."""
    SUBMITTED = "submitted"
    """Sent, no answer yet."""
    UNKNOWN = "unknown"
    """The send timed out or failed ambiguously; resolve by looking the order up."""
    ACCEPTED = "accepted"
    """Resting on the venue, nothing filled."""
    PARTIALLY_FILLED = "partially_filled"
    """Some, not all, of the quantity filled; still working."""
    FILLED = "filled"
    """The whole quantity filled (terminal)."""
    CANCEL_PENDING = "cancel_pending"
    """A cancel was sent; the venue has not confirmed."""
    CANCELLED = "cancelled"
    """Cancelled by the venue (terminal, but late fills are still applied)."""
    REJECTED = "rejected"
    """Refused by the venue, nothing filled (terminal)."""
    EXPIRED = "expired"
    """Expired on the venue (terminal, but late fills are still applied)."""

    @property
    def is_terminal(self) -> bool:
        """True for FILLED, CANCELLED, REJECTED and EXPIRED."""
        return self in _TERMINAL

    @property
    def is_open(self) -> bool:
        """True while the order may still trade or needs resolving (not terminal)."""
        return self not in _TERMINAL


_TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)
_UNRESOLVED = frozenset({OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED, OrderStatus.UNKNOWN})
_CLIENT_ID_HEX = 30
_MAX_DIGITS = 40
_MAX_EXPONENT = 36
# Arithmetic on amounts must never round: with amounts bounded as to_decimal checks, 200 digits
# hold any sum exactly, and Inexact is trapped so a violation raises instead of rounding.
EXACT = Context(prec=200, traps=[InvalidOperation, Inexact, Overflow, DivisionByZero])


class InvalidTransitionError(ValueError):
    """An event that cannot happen to an order in its current state."""


class OverfillError(InvalidTransitionError):
    """A fill that would take the filled quantity beyond the order quantity."""


def to_decimal(value: Decimal | int | float | str, name: str) -> Decimal:
    """An exact, finite ``Decimal`` from ``value``, else ``ValueError`` naming ``name``.

    Floats go through their shortest repr (``0.1`` -> ``Decimal("0.1")``), so a float that
    came from a decimal literal keeps its decimal value.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise ValueError(f"{name} must be a decimal number, got {value!r}")
    try:
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            result = Decimal(repr(value))
        else:
            result = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name} must be a decimal number, got {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if result and (len(result.as_tuple().digits) > _MAX_DIGITS
                   or abs(result.adjusted()) > _MAX_EXPONENT):
        raise ValueError(f"{name} must have at most {_MAX_DIGITS} significant digits and a "
                         f"magnitude within 1e-{_MAX_EXPONENT}..1e{_MAX_EXPONENT}, got {value!r}")
    return result


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """The exact sum of ``values`` (never rounded to the default 28-digit context)."""
    total = Decimal(0)
    for value in values:
        total = EXACT.add(total, value)
    return total


def _positive(value: Decimal | int | float | str, name: str) -> Decimal:
    result = to_decimal(value, name)
    if result <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return result


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _utc(value: object, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC)


def client_order_id(intent_id: str, attempt: int = 0) -> str:
    """The client order id of attempt ``attempt`` at executing intent ``intent_id``.

    Parameters
    ----------
    intent_id : the intent's id (non-empty).
    attempt : 0 for the first order of the intent, 1 for a replacement after a terminal
        refusal, and so on (>= 0).

    Returns
    -------
    str
        ``"hk"`` + 30 lowercase hex digits (120 bits of BLAKE2b of ``"{intent_id}/{attempt}"``).
    """
    _text(intent_id, "intent_id")
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 0:
        raise ValueError(f"attempt must be an integer >= 0, got {attempt!r}")
    digest = hashlib.blake2b(f"{intent_id}/{attempt}".encode(), digest_size=_CLIENT_ID_HEX // 2)
    return "hk" + digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Intent:
    """What the keeper decided to trade, journalled before any order is sent.

    Attributes
    ----------
    intent_id : unique id (e.g. ``f"d{decision_id}-{leg}"``).
    instrument : instrument name, e.g. ``"BTC-PERPETUAL"``.
    side : :class:`OrderSide` (or ``"buy"``/``"sell"``).
    quantity : contracts, > 0, exact.
    limit_price : limit in venue price units, or None for a market order.
    decision_id : the journalled decision it came from, or None.
    """

    intent_id: str
    instrument: str
    side: OrderSide
    quantity: Decimal
    limit_price: Decimal | None = None
    decision_id: int | None = None

    def __post_init__(self) -> None:
        _text(self.intent_id, "Intent.intent_id")
        _text(self.instrument, "Intent.instrument")
        object.__setattr__(self, "side", _side(self.side, "Intent.side"))
        object.__setattr__(self, "quantity", _positive(self.quantity, "Intent.quantity"))
        if self.limit_price is not None:
            object.__setattr__(self, "limit_price",
                               _positive(self.limit_price, "Intent.limit_price"))
        if self.decision_id is not None and (
                isinstance(self.decision_id, bool) or not isinstance(self.decision_id, int)):
            raise ValueError(f"Intent.decision_id must be an integer or None, got "
                             f"{self.decision_id!r}")


def _side(value: object, name: str) -> OrderSide:
    if isinstance(value, str) and value in ("buy", "sell"):
        return OrderSide(value)
    raise ValueError(f"{name} must be 'buy' or 'sell', got {value!r}")


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade against an order, as reported by the venue.

    Attributes
    ----------
    trade_id : the venue's trade id (unique per venue; a fill is applied once per trade id).
    client_order_id : the order it filled.
    quantity : contracts, > 0, exact.
    price : venue price units, > 0, exact.
    fee : fee paid in the venue's fee currency, exact (negative for a rebate).
    timestamp : trade time (timezone-aware; normalised to UTC).
    """

    trade_id: str
    client_order_id: str
    quantity: Decimal
    price: Decimal
    fee: Decimal
    timestamp: datetime

    def __post_init__(self) -> None:
        _text(self.trade_id, "Fill.trade_id")
        _text(self.client_order_id, "Fill.client_order_id")
        object.__setattr__(self, "quantity", _positive(self.quantity, "Fill.quantity"))
        object.__setattr__(self, "price", _positive(self.price, "Fill.price"))
        object.__setattr__(self, "fee", to_decimal(self.fee, "Fill.fee"))
        object.__setattr__(self, "timestamp", _utc(self.timestamp, "Fill.timestamp"))


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the keeper knows it; change it only through :func:`transition`.

    Attributes
    ----------
    client_order_id : :func:`client_order_id` of (intent_id, attempt).
    intent_id : the intent it executes.
    instrument, side, quantity, limit_price : as in the intent (quantity contracts, > 0).
    status : :class:`OrderStatus`.
    venue_order_id : the venue's id once acknowledged, else None.
    filled_quantity : sum of the quantities of the fills applied, contracts, exact.
    trade_ids : the trade ids applied (each counted once).
    reason : the venue's reason for a reject, cancel or expiry, else None.
    """

    client_order_id: str
    intent_id: str
    instrument: str
    side: OrderSide
    quantity: Decimal
    limit_price: Decimal | None = None
    status: OrderStatus = OrderStatus.PENDING_SUBMIT
    venue_order_id: str | None = None
    filled_quantity: Decimal = Decimal(0)
    trade_ids: frozenset[str] = field(default_factory=frozenset)
    reason: str | None = None

    def __post_init__(self) -> None:
        _text(self.client_order_id, "Order.client_order_id")
        _text(self.intent_id, "Order.intent_id")
        _text(self.instrument, "Order.instrument")
        object.__setattr__(self, "side", _side(self.side, "Order.side"))
        object.__setattr__(self, "quantity", _positive(self.quantity, "Order.quantity"))
        if self.limit_price is not None:
            object.__setattr__(self, "limit_price",
                               _positive(self.limit_price, "Order.limit_price"))
        try:
            object.__setattr__(self, "status", OrderStatus(self.status))
        except ValueError:
            raise ValueError(f"Order.status must be one of {[s.value for s in OrderStatus]}, "
                             f"got {self.status!r}") from None
        if self.venue_order_id is not None:
            _text(self.venue_order_id, "Order.venue_order_id")
        filled = to_decimal(self.filled_quantity, "Order.filled_quantity")
        if not 0 <= filled <= self.quantity:
            raise ValueError(f"Order.filled_quantity must be in [0, quantity={self.quantity}], "
                             f"got {filled}")
        object.__setattr__(self, "filled_quantity", filled)
        object.__setattr__(self, "trade_ids", frozenset(self.trade_ids))

    @classmethod
    def for_intent(cls, intent: Intent, attempt: int = 0) -> Order:
        """A new ``PENDING_SUBMIT`` order executing ``intent`` (attempt ``attempt``)."""
        return cls(client_order_id=client_order_id(intent.intent_id, attempt),
                   intent_id=intent.intent_id, instrument=intent.instrument, side=intent.side,
                   quantity=intent.quantity, limit_price=intent.limit_price)

    @property
    def remaining_quantity(self) -> Decimal:
        """Contracts not yet filled."""
        return EXACT.subtract(self.quantity, self.filled_quantity)

    @property
    def is_open(self) -> bool:
        """True while not terminal (it may still trade or needs resolving)."""
        return self.status.is_open


# ---- events ---------------------------------------------------------------------------------
# Keeper-side events (the keeper's own actions, in its own order):


@dataclass(frozen=True, slots=True)
class SubmitSent:
    """The keeper is sending the order (record it before the network call)."""


@dataclass(frozen=True, slots=True)
class SubmitTimedOut:
    """The send timed out or failed ambiguously (5xx, connection reset, lost ack)."""


@dataclass(frozen=True, slots=True)
class CancelRequested:
    """The keeper is sending a cancel (by client order id)."""


# Venue-side events (may be duplicated, reordered, late):


@dataclass(frozen=True, slots=True)
class VenueAccepted:
    """The venue acknowledged the order under ``venue_order_id``."""

    venue_order_id: str

    def __post_init__(self) -> None:
        _text(self.venue_order_id, "VenueAccepted.venue_order_id")


@dataclass(frozen=True, slots=True)
class VenueRejected:
    """The venue refused the order (nothing traded)."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class VenueFill:
    """The venue reports a trade against the order."""

    fill: Fill

    def __post_init__(self) -> None:
        if not isinstance(self.fill, Fill):
            raise ValueError(f"VenueFill.fill must be a Fill, got {self.fill!r}")


@dataclass(frozen=True, slots=True)
class VenueCancelled:
    """The venue cancelled the rest of the order (on request or on its own)."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class VenueExpired:
    """The rest of the order expired on the venue (time in force)."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class CancelRejected:
    """The venue refused a cancel (too late: already filled or finished; or throttled)."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class VenueNotFound:
    """A lookup by client order id found no such order on the venue."""


OrderEvent = (SubmitSent | SubmitTimedOut | CancelRequested | VenueAccepted | VenueRejected
              | VenueFill | VenueCancelled | VenueExpired | CancelRejected | VenueNotFound)


def _invalid(order: Order, event: OrderEvent, why: str) -> InvalidTransitionError:
    return InvalidTransitionError(
        f"order {order.client_order_id} ({order.status.value}): "
        f"{type(event).__name__} is impossible: {why}")


def _venue_knows(order: Order) -> bool:
    """The venue has shown it holds the order (acknowledged it or traded it)."""
    return order.venue_order_id is not None or order.filled_quantity > 0 \
        or order.status not in (_UNRESOLVED | {OrderStatus.CANCEL_PENDING})


def transition(order: Order, event: OrderEvent) -> Order:
    """The order after ``event``; ``order`` itself is unchanged.

    Parameters
    ----------
    order : the order now.
    event : a keeper action (:class:`SubmitSent`, :class:`SubmitTimedOut`,
        :class:`CancelRequested`) or a venue report (:class:`VenueAccepted`,
        :class:`VenueRejected`, :class:`VenueFill`, :class:`VenueCancelled`,
        :class:`VenueExpired`, :class:`CancelRejected`, :class:`VenueNotFound`).

    Returns
    -------
    Order
        The new order (``order`` itself when the event changes nothing: a duplicate).

    Raises
    ------
    InvalidTransitionError
        For an event that cannot happen in the order's state (the message names the order,
        status and event); :class:`OverfillError` for a fill beyond the order quantity.
    ValueError
        For a fill naming another order. (A trade id seen before is a duplicate and changes
        nothing; comparing its figures needs the fills themselves: the journal does that.)
    """
    status = order.status
    if isinstance(event, SubmitSent):
        if status is OrderStatus.PENDING_SUBMIT:
            return replace(order, status=OrderStatus.SUBMITTED)
        if status in (OrderStatus.SUBMITTED, OrderStatus.UNKNOWN):
            raise _invalid(order, event, "it may already be on the venue; look it up by client "
                                         "order id instead of resubmitting")
        return order  # the venue already answered (its report overtook the local record)
    if isinstance(event, SubmitTimedOut):
        if status in (OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED):
            return replace(order, status=OrderStatus.UNKNOWN)
        return order  # the venue's answer came before the timeout fired
    if isinstance(event, CancelRequested):
        if status.is_terminal:
            raise _invalid(order, event, "the order is finished")
        return replace(order, status=OrderStatus.CANCEL_PENDING)
    if isinstance(event, VenueAccepted):
        return _accepted(order, event)
    if isinstance(event, VenueRejected):
        if status is OrderStatus.REJECTED:
            return order
        if _venue_knows(order):
            raise _invalid(order, event, "the venue already accepted or traded it")
        return replace(order, status=OrderStatus.REJECTED, reason=event.reason or None)
    if isinstance(event, VenueFill):
        return _filled(order, event)
    if isinstance(event, VenueCancelled | VenueExpired):
        target = OrderStatus.CANCELLED if isinstance(event, VenueCancelled) else \
            OrderStatus.EXPIRED
        if status is target:
            return order
        if status.is_terminal:
            raise _invalid(order, event, f"the order is already {status.value}")
        return replace(order, status=target, reason=event.reason or None)
    if isinstance(event, CancelRejected):
        if status is OrderStatus.CANCEL_PENDING:
            return replace(order, status=_working_status(order))
        return order  # a repeated cancel refused because the order is finished, or a duplicate
    if isinstance(event, VenueNotFound):
        if status in _UNRESOLVED:
            return replace(order, status=OrderStatus.PENDING_SUBMIT)
        if status is OrderStatus.CANCEL_PENDING and not _venue_knows(order):
            return replace(order, status=OrderStatus.CANCELLED,
                           reason="never reached the venue")
        if status is OrderStatus.CANCELLED and order.venue_order_id is None \
                and order.filled_quantity == 0:
            return order  # cancelled before it reached the venue: asking again changes nothing
        raise _invalid(order, event, "the venue acknowledged or traded this order before; "
                                     "reconcile by hand")
    raise ValueError(f"transition: unknown event {event!r}")


def _working_status(order: Order) -> OrderStatus:
    if order.filled_quantity > 0:
        return OrderStatus.PARTIALLY_FILLED
    if order.venue_order_id is not None:
        return OrderStatus.ACCEPTED
    return OrderStatus.UNKNOWN


def _accepted(order: Order, event: VenueAccepted) -> Order:
    status = order.status
    if order.venue_order_id is not None and order.venue_order_id != event.venue_order_id:
        raise _invalid(order, event, f"it already has venue order id {order.venue_order_id!r}, "
                                     f"not {event.venue_order_id!r}")
    if status is OrderStatus.REJECTED:
        raise _invalid(order, event, "the venue rejected it")
    new_status = OrderStatus.ACCEPTED if status in _UNRESOLVED else status
    if new_status is status and order.venue_order_id == event.venue_order_id:
        return order
    return replace(order, status=new_status, venue_order_id=event.venue_order_id)


def _filled(order: Order, event: VenueFill) -> Order:
    fill = event.fill
    if fill.client_order_id != order.client_order_id:
        raise ValueError(f"fill {fill.trade_id} is for order {fill.client_order_id}, not "
                         f"{order.client_order_id}")
    if fill.trade_id in order.trade_ids:
        return order
    status = order.status
    if status is OrderStatus.REJECTED:
        raise _invalid(order, event, "a rejected order cannot trade")
    filled = EXACT.add(order.filled_quantity, fill.quantity)
    if filled > order.quantity:
        raise OverfillError(
            f"order {order.client_order_id} ({status.value}): fill {fill.trade_id} of "
            f"{fill.quantity} would fill {filled}, more than the order quantity "
            f"{order.quantity}")
    if filled == order.quantity:
        new_status = OrderStatus.FILLED
    elif status in (OrderStatus.CANCEL_PENDING, OrderStatus.CANCELLED, OrderStatus.EXPIRED):
        new_status = status
    else:
        new_status = OrderStatus.PARTIALLY_FILLED
    return replace(order, status=new_status, filled_quantity=filled,
                   trade_ids=order.trade_ids | {fill.trade_id})
