"""The order state machine against a model venue, with lost, delayed, duplicated and
reordered messages (hypothesis stateful testing).

The model venue is the truth: it receives submit requests (idempotent on the client order id),
accepts or rejects them, fills in random lots, cancels on request or on its own, expires
orders, and answers lookups. Its reports go into an outbox from which the keeper's side takes
them in any order, possibly more than once, possibly much later. Invariants after every step:

* the filled quantity never exceeds the order quantity and never decreases;
* it is exactly the sum of the distinct trade ids delivered (each trade counted once);
* the keeper never knows more fills than the venue made;
* a terminal status stays terminal, except that a late fill is applied to a cancelled or
  expired order (and makes it FILLED when it completes the quantity);
* events impossible in the current state raise ``InvalidTransitionError`` and change nothing.

At the end every message still in flight is delivered and the keeper looks the order up: its
view must then equal the venue's (status and filled quantity).

Modelling assumption: the keeper looks an order up only once no submit request of it is still
in flight (it has arrived or is lost for good; venues bound this with an expiry window for
late requests), so a "not found" answer is the truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum

import pytest
from hypothesis import event as hypothesis_event
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from hedgekeeper.domain.orders import (
    CancelRejected,
    CancelRequested,
    Fill,
    Intent,
    InvalidTransitionError,
    Order,
    OrderEvent,
    OrderStatus,
    OverfillError,
    SubmitSent,
    SubmitTimedOut,
    VenueAccepted,
    VenueCancelled,
    VenueExpired,
    VenueFill,
    VenueNotFound,
    VenueRejected,
    transition,
)

LOT = Decimal("0.1")
T0 = datetime(2026, 1, 26, tzinfo=UTC)
RESTING = {OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCEL_PENDING}
LATE_FILL_OK = {OrderStatus.CANCELLED, OrderStatus.EXPIRED}


class VenueState(Enum):
    ABSENT = "absent"
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REJECTED = "rejected"


@dataclass
class ModelVenue:
    """The exchange's own record of one order."""

    client_order_id: str
    quantity: Decimal
    state: VenueState = VenueState.ABSENT
    fills: list[Fill] = field(default_factory=list)
    outbox: list[OrderEvent] = field(default_factory=list)
    requests_in_flight: int = 0
    venue_order_id: str = "v-1"

    @property
    def filled(self) -> Decimal:
        return sum((f.quantity for f in self.fills), Decimal(0))

    def receive_submit(self, accept: bool) -> None:
        if self.state is VenueState.ABSENT:
            if accept:
                self.state = VenueState.OPEN
                self.outbox.append(VenueAccepted(self.venue_order_id))
            else:
                self.state = VenueState.REJECTED
                self.outbox.append(VenueRejected("insufficient margin"))
        else:  # idempotent on the client order id: repeat the answer
            self.outbox.extend(self.report()[:1])

    def receive_cancel(self) -> None:
        if self.state is VenueState.OPEN:
            self.state = VenueState.CANCELLED
            self.outbox.append(VenueCancelled("on request"))
        else:
            self.outbox.append(CancelRejected(f"order is {self.state.value}"))

    def fill(self, lots: int) -> None:
        quantity = min(lots * LOT, self.quantity - self.filled)
        trade = Fill(trade_id=f"t{len(self.fills) + 1}", client_order_id=self.client_order_id,
                     quantity=quantity, price=Decimal("88000.5"), fee=Decimal("0.0001"),
                     timestamp=T0)
        self.fills.append(trade)
        if self.filled == self.quantity:
            self.state = VenueState.FILLED
        self.outbox.append(VenueFill(trade))

    def report(self) -> list[OrderEvent]:
        """What a lookup by client order id returns, as events."""
        if self.state is VenueState.ABSENT:
            return [VenueNotFound()]
        if self.state is VenueState.REJECTED:
            return [VenueRejected("insufficient margin")]
        events: list[OrderEvent] = [VenueAccepted(self.venue_order_id)]
        events += [VenueFill(f) for f in self.fills]
        if self.state is VenueState.CANCELLED:
            events.append(VenueCancelled("on request"))
        if self.state is VenueState.EXPIRED:
            events.append(VenueExpired("good-till-time"))
        return events


def impossible_events(order: Order, venue_order_id: str) -> list[OrderEvent]:
    """Events that cannot legitimately happen to ``order`` in its state."""
    status = order.status
    knows_venue = order.venue_order_id is not None or order.filled_quantity > 0 or \
        status not in {OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED, OrderStatus.UNKNOWN,
                       OrderStatus.CANCEL_PENDING}
    overfill = Fill(trade_id="t-over", client_order_id=order.client_order_id,
                    quantity=order.quantity - order.filled_quantity + LOT,
                    price=Decimal(1), fee=Decimal(0), timestamp=T0)
    events: list[OrderEvent] = [VenueFill(overfill)]
    if status in (OrderStatus.SUBMITTED, OrderStatus.UNKNOWN):
        events.append(SubmitSent())
    if status.is_terminal:
        events.append(CancelRequested())
    if status is OrderStatus.REJECTED:
        events.append(VenueAccepted(venue_order_id))
        events.append(VenueCancelled())
    elif knows_venue:
        events.append(VenueRejected("late"))
        never_reached = status is OrderStatus.CANCELLED and order.venue_order_id is None \
            and order.filled_quantity == 0
        if not never_reached:
            events.append(VenueNotFound())
    if order.venue_order_id is not None:
        events.append(VenueAccepted(order.venue_order_id + "-other"))
    if status in (OrderStatus.FILLED, OrderStatus.EXPIRED):
        events.append(VenueCancelled())
    if status in (OrderStatus.FILLED, OrderStatus.CANCELLED):
        events.append(VenueExpired())
    return events


class OrderLifecycle(RuleBasedStateMachine):
    """The keeper's order (through ``transition``) against the model venue."""

    def __init__(self) -> None:
        super().__init__()
        self.order: Order
        self.venue: ModelVenue
        self.delivered_trades: dict[str, Decimal] = {}
        self.previous: Order | None = None

    @initialize(lots=st.integers(min_value=1, max_value=12),
                lost=st.sampled_from([False, False, False, True]), arrives=st.booleans(),
                accept=st.sampled_from([True, True, True, False]))
    def new_order_sent(self, lots: int, lost: bool, arrives: bool, accept: bool) -> None:
        self.order = Order.for_intent(
            Intent("d1-0", "BTC-PERPETUAL", "buy", lots * LOT))  # type: ignore[arg-type]
        self.venue = ModelVenue(self.order.client_order_id, self.order.quantity)
        self.send(lost)
        if arrives and not lost:  # the venue answers at once; its answer is in flight
            self.venue_receives_submit(accept)

    def apply(self, event: OrderEvent) -> None:
        self.previous = self.order
        self.order = transition(self.order, event)
        if isinstance(event, VenueFill):
            if self.previous.status in LATE_FILL_OK and \
                    event.fill.trade_id not in self.previous.trade_ids:
                hypothesis_event("fill applied after cancel or expiry")
            self.delivered_trades[event.fill.trade_id] = event.fill.quantity

    # ---- the keeper ---------------------------------------------------------------------------

    @precondition(lambda self: self.order.status is OrderStatus.PENDING_SUBMIT)
    @rule(lost=st.sampled_from([False, False, False, True]))
    def send(self, lost: bool) -> None:
        self.apply(SubmitSent())
        if not lost:
            self.venue.requests_in_flight += 1

    @precondition(lambda self: self.order.status is OrderStatus.SUBMITTED)
    @rule()
    def time_out(self) -> None:
        self.apply(SubmitTimedOut())

    @precondition(lambda self: self.order.is_open)
    @rule(lost=st.booleans())
    def cancel(self, lost: bool) -> None:
        self.apply(CancelRequested())
        if not lost:
            self.venue.receive_cancel()

    @precondition(lambda self: self.venue.requests_in_flight == 0)  # see the module docstring
    @rule()
    def look_up(self) -> None:
        for event in self.venue.report():
            self.apply(event)

    # ---- the venue ----------------------------------------------------------------------------

    @precondition(lambda self: self.venue.requests_in_flight > 0)
    @rule(accept=st.sampled_from([True, True, True, False]))
    def venue_receives_submit(self, accept: bool) -> None:
        self.venue.requests_in_flight -= 1
        self.venue.receive_submit(accept)

    @precondition(lambda self: self.venue.state is VenueState.OPEN)
    @rule(lots=st.integers(min_value=1, max_value=5))
    def venue_fills(self, lots: int) -> None:
        self.venue.fill(lots)

    @precondition(lambda self: self.venue.state is VenueState.OPEN)
    @rule(expire=st.booleans())
    def venue_ends_order(self, expire: bool) -> None:
        if expire:
            self.venue.state = VenueState.EXPIRED
            self.venue.outbox.append(VenueExpired("good-till-time"))
        else:
            self.venue.state = VenueState.CANCELLED
            self.venue.outbox.append(VenueCancelled("self-trade prevention"))

    @precondition(lambda self: self.venue.state is VenueState.OPEN)
    @rule(lots=st.integers(min_value=1, max_value=3), expire=st.booleans())
    def venue_fills_then_ends_order(self, lots: int, expire: bool) -> None:
        """A partial fill racing the end of the order (the fill report may arrive last)."""
        self.venue.fill(lots)
        if self.venue.state is VenueState.OPEN:
            self.venue_ends_order(expire)

    # ---- the network ---------------------------------------------------------------------------

    @precondition(lambda self: bool(self.venue.outbox))
    @rule(data=st.data(), duplicate=st.booleans())
    def deliver(self, data: st.DataObject, duplicate: bool) -> None:
        index = data.draw(st.integers(min_value=0, max_value=len(self.venue.outbox) - 1))
        event = self.venue.outbox[index] if duplicate else self.venue.outbox.pop(index)
        self.apply(event)

    @precondition(lambda self: bool(self.venue.outbox))
    @rule()
    def deliver_newest_first(self) -> None:
        self.apply(self.venue.outbox.pop())

    @precondition(lambda self: bool(self.venue.fills))
    @rule(data=st.data())
    def redeliver_old_fill(self, data: st.DataObject) -> None:
        self.apply(VenueFill(data.draw(st.sampled_from(self.venue.fills))))

    @rule(data=st.data())
    def impossible_event_is_refused(self, data: st.DataObject) -> None:
        event = data.draw(st.sampled_from(impossible_events(self.order,
                                                            self.venue.venue_order_id)))
        before = self.order
        with pytest.raises(InvalidTransitionError):
            transition(self.order, event)
        assert self.order == before

    # ---- invariants ----------------------------------------------------------------------------

    @invariant()
    def filled_is_bounded_and_counted_once(self) -> None:
        order = self.order
        assert 0 <= order.filled_quantity <= order.quantity
        assert order.trade_ids == frozenset(self.delivered_trades)
        assert order.filled_quantity == sum(self.delivered_trades.values(), Decimal(0))
        assert order.filled_quantity <= self.venue.filled
        assert (order.status is OrderStatus.FILLED) == (order.filled_quantity == order.quantity)

    @invariant()
    def monotone_and_terminal(self) -> None:
        before, after = self.previous, self.order
        if before is None:
            return
        assert after.filled_quantity >= before.filled_quantity
        if before.status.is_terminal and after.status is not before.status:
            assert before.status in LATE_FILL_OK
            assert after.status is OrderStatus.FILLED

    def teardown(self) -> None:
        if not hasattr(self, "venue"):
            return
        venue = self.venue
        while venue.requests_in_flight:
            venue.requests_in_flight -= 1
            venue.receive_submit(accept=True)
        while venue.outbox:
            self.apply(venue.outbox.pop(0))
        self.look_up()
        order = self.order
        assert order.filled_quantity == venue.filled
        expected = {
            VenueState.FILLED: {OrderStatus.FILLED},
            VenueState.CANCELLED: {OrderStatus.CANCELLED},
            VenueState.EXPIRED: {OrderStatus.EXPIRED},
            VenueState.REJECTED: {OrderStatus.REJECTED},
            VenueState.OPEN: RESTING,
            VenueState.ABSENT: {OrderStatus.PENDING_SUBMIT, OrderStatus.CANCELLED},
        }[venue.state]
        assert order.status in expected, (venue.state, order)
        hypothesis_event(f"venue {venue.state.value}, keeper {order.status.value}")
        if venue.state is VenueState.OPEN and order.status is not OrderStatus.CANCEL_PENDING:
            assert order.status is (OrderStatus.PARTIALLY_FILLED if venue.fills
                                    else OrderStatus.ACCEPTED)
        if venue.state is not VenueState.ABSENT and venue.state is not VenueState.REJECTED:
            assert order.venue_order_id == venue.venue_order_id


OrderLifecycle.TestCase.settings = settings(max_examples=200, stateful_step_count=50,
                                            deadline=None)
TestOrderLifecycle = OrderLifecycle.TestCase


# ---- any event on any order: a valid order or a clear refusal ----------------------------------

_STATUSES = st.sampled_from(list(OrderStatus))


@st.composite
def orders(draw: st.DrawFn) -> Order:
    lots = draw(st.integers(min_value=1, max_value=10))
    status = draw(_STATUSES)
    filled_lots = lots if status is OrderStatus.FILLED else draw(
        st.integers(min_value=0, max_value=lots - 1))
    if status in (OrderStatus.REJECTED, OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED,
                  OrderStatus.UNKNOWN, OrderStatus.ACCEPTED):
        filled_lots = 0
    if status is OrderStatus.PARTIALLY_FILLED:
        filled_lots = max(filled_lots, 1)
        if filled_lots == lots:
            lots += 1
    acked = status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED,
                       OrderStatus.FILLED) or draw(st.booleans())
    return Order(client_order_id="hk-1", intent_id="d1-0", instrument="BTC-PERPETUAL",
                 side="buy", quantity=lots * LOT, status=status,  # type: ignore[arg-type]
                 venue_order_id="v-1" if acked and status is not OrderStatus.REJECTED else None,
                 filled_quantity=filled_lots * LOT,
                 trade_ids=frozenset(f"old{i}" for i in range(filled_lots)))


def _events() -> st.SearchStrategy[OrderEvent]:
    fill = st.builds(lambda trade, lots: VenueFill(Fill(trade, "hk-1", lots * LOT, Decimal(1),
                                                        Decimal(0), T0)),
                     st.sampled_from(["t1", "t2", "old0"]), st.integers(1, 4))
    return st.one_of(
        st.sampled_from([SubmitSent(), SubmitTimedOut(), CancelRequested(), VenueNotFound(),
                         VenueRejected("r"), VenueCancelled(), VenueExpired(),
                         CancelRejected(), VenueAccepted("v-1"), VenueAccepted("v-2")]),
        fill)


@settings(max_examples=300)
@given(order=orders(), event=_events())
def test_any_event_gives_a_valid_order_or_a_clear_refusal(order: Order,
                                                          event: OrderEvent) -> None:
    refusal: InvalidTransitionError | None = None
    try:
        after = transition(order, event)
    except InvalidTransitionError as exc:
        refusal = exc
    if refusal is not None:
        text = str(refusal)
        assert order.client_order_id in text
        assert order.status.value in text
        if isinstance(refusal, OverfillError):
            assert isinstance(event, VenueFill)
            assert order.filled_quantity + event.fill.quantity > order.quantity
            assert "more than the order quantity" in text
        else:
            assert type(event).__name__ in text
        return
    assert after.filled_quantity >= order.filled_quantity
    assert after.filled_quantity <= after.quantity
    if order.status.is_terminal and after.status is not order.status:
        assert order.status in LATE_FILL_OK
        assert after.status is OrderStatus.FILLED
    if isinstance(event, VenueFill) and event.fill.trade_id in order.trade_ids:
        assert after is order  # a duplicate changes nothing


@pytest.mark.parametrize(("status", "event", "message"), [
    (OrderStatus.SUBMITTED, SubmitSent(), "look it up by client order id"),
    (OrderStatus.UNKNOWN, SubmitSent(), "look it up by client order id"),
    (OrderStatus.FILLED, CancelRequested(), "the order is finished"),
    (OrderStatus.REJECTED, CancelRequested(), "the order is finished"),
    (OrderStatus.ACCEPTED, VenueRejected(), "already accepted or traded"),
    (OrderStatus.REJECTED, VenueAccepted("v-1"), "the venue rejected it"),
    (OrderStatus.EXPIRED, VenueCancelled(), "already expired"),
    (OrderStatus.ACCEPTED, VenueNotFound(), "reconcile by hand"),
])
def test_impossible_transitions_named(status: OrderStatus, event: OrderEvent,
                                      message: str) -> None:
    order = Order(client_order_id="hk-1", intent_id="d1-0", instrument="BTC-PERPETUAL",
                  side="buy", quantity=Decimal(1), status=status,  # type: ignore[arg-type]
                  venue_order_id="v-1" if status is OrderStatus.ACCEPTED else None)
    with pytest.raises(InvalidTransitionError, match=message):
        transition(order, event)


def test_fill_on_a_rejected_order_and_another_venue_id() -> None:
    rejected = Order(client_order_id="hk-1", intent_id="d1-0", instrument="BTC-PERPETUAL",
                     side="buy", quantity=Decimal(1), status=OrderStatus.REJECTED)  # type: ignore[arg-type]
    fill = VenueFill(Fill("t1", "hk-1", Decimal("0.5"), Decimal(1), Decimal(0), T0))
    with pytest.raises(InvalidTransitionError, match="a rejected order cannot trade"):
        transition(rejected, fill)
    accepted = transition(Order(client_order_id="hk-1", intent_id="d1-0",
                                instrument="BTC-PERPETUAL", side="buy",  # type: ignore[arg-type]
                                quantity=Decimal(1)), VenueAccepted("v-1"))
    with pytest.raises(InvalidTransitionError, match="already has venue order id 'v-1'"):
        transition(accepted, VenueAccepted("v-2"))
    with pytest.raises(ValueError, match="is for order hk-2, not hk-1"):
        transition(accepted, VenueFill(Fill("t1", "hk-2", Decimal(1), Decimal(1), Decimal(0),
                                            T0)))
