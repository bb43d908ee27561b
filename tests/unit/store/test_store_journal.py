"""The Journal API, run against SQLite and PostgreSQL (the ``journal`` fixture is parametrised)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from hedgekeeper.costs import HalfSpread, ProportionalFee, Quote
from hedgekeeper.domain import ForwardQuote, ForwardSource, MarketSnapshot, parse_instrument
from hedgekeeper.domain.book import Book, Position
from hedgekeeper.domain.orders import (
    CancelRequested,
    Fill,
    Intent,
    InvalidTransitionError,
    Order,
    OrderStatus,
    OverfillError,
    SubmitSent,
    VenueAccepted,
    VenueCancelled,
    VenueRejected,
    client_order_id,
)
from hedgekeeper.engine import (
    Components,
    EngineState,
    HedgeInstrument,
    MarketInputs,
    Outcome,
    SizerConfig,
    decide,
)
from hedgekeeper.policies import DeltaBand
from hedgekeeper.store import Journal, JournalOpenError, plain_decimal

T0 = datetime(2026, 1, 26, 9, 0, tzinfo=UTC)


def _fill(order: Order, trade_id: str, quantity: str, price: str = "88000.5",
          fee: str = "0") -> Fill:
    return Fill(trade_id=trade_id, client_order_id=order.client_order_id,
                quantity=Decimal(quantity), price=Decimal(price), fee=Decimal(fee),
                timestamp=T0)


def _working_order(journal: Journal, intent_id: str = "d1-0", quantity: str = "1",
                   side: str = "buy", instrument: str = "BTC-PERPETUAL") -> Order:
    journal.record_intent(Intent(intent_id, instrument, side, Decimal(quantity)))  # type: ignore[arg-type]
    order = journal.new_order(intent_id)
    journal.apply_event(order.client_order_id, SubmitSent())
    return journal.apply_event(order.client_order_id, VenueAccepted(f"v-{intent_id}"))


def test_amounts_round_trip_exactly(journal: Journal) -> None:
    order = _working_order(journal, quantity="0.3")
    assert journal.apply_fill(_fill(order, "t1", "0.1", price="0.1"))
    assert journal.apply_fill(_fill(order, "t2", "0.2", price="0.2"))
    stored = journal.order(order.client_order_id)
    assert stored is not None
    # As floats 0.1 + 0.2 != 0.3; stored exactly, the order is exactly filled.
    assert stored.filled_quantity == Decimal("0.3")
    assert stored.status is OrderStatus.FILLED
    assert journal.positions() == {"BTC-PERPETUAL": Decimal("0.3")}
    assert [f.price for f in journal.fills()] == [Decimal("0.1"), Decimal("0.2")]


def test_amounts_beyond_float_precision(journal: Journal) -> None:
    quantity = "12345678901234567890.123456789012345678"
    order = _working_order(journal, quantity=quantity)
    price = "0.000000000000000000123456789"
    assert journal.apply_fill(_fill(order, "t1", quantity, price=price, fee="-0.00000001"))
    (fill,) = journal.fills()
    assert fill.quantity == Decimal(quantity)
    assert fill.price == Decimal(price)
    assert fill.fee == Decimal("-0.00000001")
    assert journal.positions()["BTC-PERPETUAL"] == Decimal(quantity)


def test_amounts_are_stored_as_text_not_floats(journal: Journal, journal_url: str) -> None:
    order = _working_order(journal, quantity="0.3")
    journal.apply_fill(_fill(order, "t1", "0.1"))
    engine = create_engine(journal_url)
    try:
        with engine.connect() as connection:
            raw = connection.execute(text("SELECT quantity, price FROM fills")).one()
    finally:
        engine.dispose()
    assert raw == ("0.1", "88000.5")


def test_duplicate_fill_is_a_no_op(journal: Journal) -> None:
    order = _working_order(journal, quantity="2")
    fill = _fill(order, "trade-1", "0.5")
    assert journal.apply_fill(fill) is True
    assert journal.apply_fill(fill) is False
    assert journal.apply_fill(fill) is False
    assert len(journal.fills()) == 1
    stored = journal.order(order.client_order_id)
    assert stored is not None
    assert stored.filled_quantity == Decimal("0.5")
    assert stored.trade_ids == frozenset({"trade-1"})
    assert journal.positions() == {"BTC-PERPETUAL": Decimal("0.5")}


def test_same_trade_id_with_other_figures_is_refused(journal: Journal) -> None:
    order = _working_order(journal, quantity="2")
    journal.apply_fill(_fill(order, "trade-1", "0.5"))
    with pytest.raises(ValueError, match="trade-1 is already journalled with different"):
        journal.apply_fill(_fill(order, "trade-1", "0.6"))
    other = _working_order(journal, intent_id="d1-1", quantity="2")
    with pytest.raises(ValueError, match="trade-1 is already journalled"):
        journal.apply_fill(_fill(other, "trade-1", "0.5"))
    assert len(journal.fills()) == 1


def test_fill_for_unknown_order_is_refused(journal: Journal) -> None:
    ghost = Order(client_order_id="hk-ghost", intent_id="nope", instrument="BTC-PERPETUAL",
                  side="buy", quantity=Decimal(1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hk-ghost' is not journalled"):
        journal.apply_fill(_fill(ghost, "t1", "1"))
    assert journal.fills() == []


def test_overfill_is_refused_and_nothing_stored(journal: Journal) -> None:
    order = _working_order(journal, quantity="1")
    journal.apply_fill(_fill(order, "t1", "0.7"))
    with pytest.raises(OverfillError):
        journal.apply_fill(_fill(order, "t2", "0.4"))
    assert [f.trade_id for f in journal.fills()] == ["t1"]
    stored = journal.order(order.client_order_id)
    assert stored is not None
    assert stored.filled_quantity == Decimal("0.7")


def test_fill_after_cancel_is_applied(journal: Journal) -> None:
    order = _working_order(journal, quantity="1")
    journal.apply_event(order.client_order_id, CancelRequested())
    cancelled = journal.apply_event(order.client_order_id, VenueCancelled("by request"))
    assert cancelled.status is OrderStatus.CANCELLED
    assert journal.apply_fill(_fill(order, "late", "0.25"))
    stored = journal.order(order.client_order_id)
    assert stored is not None
    assert stored.status is OrderStatus.CANCELLED
    assert stored.filled_quantity == Decimal("0.25")
    assert stored.reason == "by request"
    assert journal.positions() == {"BTC-PERPETUAL": Decimal("0.25")}


def test_impossible_transition_raises_and_changes_nothing(journal: Journal) -> None:
    order = _working_order(journal)
    with pytest.raises(InvalidTransitionError, match="VenueRejected is impossible"):
        journal.apply_event(order.client_order_id, VenueRejected("late reject"))
    stored = journal.order(order.client_order_id)
    assert stored is not None
    assert stored.status is OrderStatus.ACCEPTED
    journal.apply_event(order.client_order_id, VenueCancelled())
    with pytest.raises(InvalidTransitionError, match="the order is finished"):
        journal.apply_event(order.client_order_id, CancelRequested())
    stored = journal.order(order.client_order_id)
    assert stored is not None
    assert stored.status is OrderStatus.CANCELLED


def test_resubmit_without_lookup_is_refused(journal: Journal) -> None:
    journal.record_intent(Intent("d1-0", "BTC-PERPETUAL", "buy", Decimal(1)))  # type: ignore[arg-type]
    order = journal.new_order("d1-0")
    journal.apply_event(order.client_order_id, SubmitSent())
    with pytest.raises(InvalidTransitionError, match="look it up"):
        journal.apply_event(order.client_order_id, SubmitSent())


def test_orders_need_their_intent_first(journal: Journal, journal_url: str) -> None:
    order = Order.for_intent(Intent("never-saved", "BTC-PERPETUAL", "buy", Decimal(1)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not journalled: record_intent first"):
        journal.record_order(order)
    with pytest.raises(ValueError, match="not journalled: record_intent first"):
        journal.new_order("never-saved")
    assert journal.orders() == []
    # The database itself refuses an order row whose intent is missing (foreign keys on).
    engine = create_engine(journal_url)
    if engine.dialect.name == "sqlite":
        from sqlalchemy import event

        event.listen(engine, "connect",
                     lambda dbapi, _: dbapi.execute("PRAGMA foreign_keys=ON"))
    try:
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO orders (client_order_id, intent_id, attempt, instrument, side, "
                "quantity, status, filled_quantity, created_at, updated_at) VALUES "
                "('x', 'missing', 0, 'BTC-PERPETUAL', 'buy', '1', 'pending_submit', '0', "
                ":t, :t)"), {"t": T0})
    finally:
        engine.dispose()


def test_record_intent_is_idempotent_and_refuses_conflicts(journal: Journal) -> None:
    intent = Intent("d1-0", "BTC-PERPETUAL", "sell", Decimal("0.5"), Decimal("88000"))  # type: ignore[arg-type]
    assert journal.record_intent(intent) is True
    assert journal.record_intent(intent) is False
    assert journal.intent("d1-0") == intent
    assert journal.intent("other") is None
    with pytest.raises(ValueError, match="different content"):
        journal.record_intent(Intent("d1-0", "BTC-PERPETUAL", "sell", Decimal("0.6")))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="decision 99, which is not journalled"):
        journal.record_intent(Intent("d99-0", "BTC-PERPETUAL", "buy", Decimal(1), None, 99))  # type: ignore[arg-type]


def test_unexecuted_intents(journal: Journal) -> None:
    journal.record_intent(Intent("a", "BTC-PERPETUAL", "buy", Decimal(1)))  # type: ignore[arg-type]
    journal.record_intent(Intent("b", "BTC-PERPETUAL", "buy", Decimal(1)))  # type: ignore[arg-type]
    journal.new_order("a")
    assert [i.intent_id for i in journal.unexecuted_intents()] == ["b"]


def test_new_order_attempts_and_remaining_quantity(journal: Journal) -> None:
    journal.record_intent(Intent("d1-0", "BTC-PERPETUAL", "buy", Decimal("1.5")))  # type: ignore[arg-type]
    first = journal.new_order("d1-0", at=T0)
    assert first.client_order_id == client_order_id("d1-0", 0)
    assert first.status is OrderStatus.PENDING_SUBMIT
    assert first.quantity == Decimal("1.5")
    with pytest.raises(ValueError, match="already has open order"):
        journal.new_order("d1-0")
    journal.apply_event(first.client_order_id, SubmitSent())
    journal.apply_event(first.client_order_id, VenueAccepted("v1"))
    journal.apply_fill(_fill(first, "t1", "0.5"))
    journal.apply_event(first.client_order_id, CancelRequested())
    journal.apply_event(first.client_order_id, VenueCancelled())
    second = journal.new_order("d1-0")
    assert second.client_order_id == client_order_id("d1-0", 1)
    assert second.quantity == Decimal("1.0")
    journal.apply_event(second.client_order_id, SubmitSent())
    journal.apply_event(second.client_order_id, VenueAccepted("v2"))
    journal.apply_fill(_fill(second, "t2", "1.0"))
    with pytest.raises(ValueError, match="already filled"):
        journal.new_order("d1-0")
    assert [o.client_order_id for o in journal.orders("d1-0")] == [
        first.client_order_id, second.client_order_id]


def test_record_order_is_idempotent_and_checks_the_intent(journal: Journal) -> None:
    intent = Intent("d1-0", "BTC-PERPETUAL", "buy", Decimal("1"))  # type: ignore[arg-type]
    journal.record_intent(intent)
    order = Order.for_intent(intent)
    assert journal.record_order(order) == order
    assert journal.record_order(order) == order
    assert len(journal.orders()) == 1
    wrong_side = Order(client_order_id="hk-other", intent_id="d1-0",
                       instrument="BTC-PERPETUAL", side="sell", quantity=Decimal(1))  # type: ignore[arg-type]
    journal.apply_event(order.client_order_id, SubmitSent())
    journal.apply_event(order.client_order_id, VenueRejected("no margin"))
    with pytest.raises(ValueError, match="does not match intent"):
        journal.record_order(wrong_side)
    too_big = Order(client_order_id="hk-big", intent_id="d1-0", instrument="BTC-PERPETUAL",
                    side="buy", quantity=Decimal(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exceeds what intent d1-0 still needs"):
        journal.record_order(too_big)


def test_open_orders(journal: Journal) -> None:
    working = _working_order(journal, intent_id="a")
    done = _working_order(journal, intent_id="b", quantity="1")
    journal.apply_fill(_fill(done, "t-b", "1"))
    partial = _working_order(journal, intent_id="c", quantity="2")
    journal.apply_fill(_fill(partial, "t-c", "1"))
    journal.record_intent(Intent("d", "BTC-PERPETUAL", "buy", Decimal(1)))  # type: ignore[arg-type]
    pending = journal.new_order("d")
    open_orders = journal.open_orders()
    assert [o.client_order_id for o in open_orders] == [
        working.client_order_id, partial.client_order_id, pending.client_order_id]
    assert open_orders[1].trade_ids == frozenset({"t-c"})
    assert open_orders[1].status is OrderStatus.PARTIALLY_FILLED


def test_positions_net_buys_and_sells(journal: Journal) -> None:
    buy = _working_order(journal, intent_id="a", quantity="3")
    sell = _working_order(journal, intent_id="b", quantity="1.25", side="sell")
    call = _working_order(journal, intent_id="c", quantity="2", side="sell",
                          instrument="BTC-27MAR26-90000-C")
    journal.apply_fill(_fill(buy, "t1", "3"))
    journal.apply_fill(_fill(sell, "t2", "1.25"))
    journal.apply_fill(_fill(call, "t3", "0.1", price="0.056"))
    assert journal.positions() == {"BTC-27MAR26-90000-C": Decimal("-0.1"),
                                   "BTC-PERPETUAL": Decimal("1.75")}


def test_concurrent_writers_apply_each_trade_once(journal_url: str) -> None:
    with Journal.open(journal_url) as journal:
        order = _working_order(journal, quantity="8")
    fills = [_fill(order, f"t{i}", "1") for i in range(8)]
    results: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(offset: int) -> None:
        try:
            with Journal.open(journal_url) as mine:
                for k in range(len(fills)):
                    new = mine.apply_fill(fills[(k + offset) % len(fills)])
                    with lock:
                        results.append(new)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(results) == 8
    assert len(results) == 32
    with Journal.open(journal_url) as journal:
        stored = journal.order(order.client_order_id)
        assert stored is not None
        assert stored.filled_quantity == Decimal(8)
        assert stored.status is OrderStatus.FILLED
        assert len(journal.fills()) == 8


def test_record_decision_from_the_engine(journal: Journal) -> None:
    expiry = datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    call = parse_instrument("BTC-27MAR26-90000-C")
    perp = parse_instrument("BTC-PERPETUAL")
    snapshot = MarketSnapshot(
        timestamp=T0, underlying="BTC", index_price=88_000.0,
        forwards={expiry: ForwardQuote(expiry, 88_600.0, ForwardSource.LISTED_UNDERLYING)},
        perp_prices={"BTC-PERPETUAL": 88_000.0}, mark_ivs={call.name: 0.45})
    market = MarketInputs(snapshot=snapshot,
                          quotes={"BTC-PERPETUAL": Quote(bid=87_999.5, ask=88_000.5)},
                          realised_vol=0.5)
    components = Components(policy=DeltaBand(halfwidth=0.1),
                            sizer=SizerConfig((HedgeInstrument(perp, max_order=1e6),)),
                            cost_model=ProportionalFee(taker_bps=5.0) + HalfSpread())
    decision = decide(EngineState(Book((Position(instrument=call, quantity=-5.0),))), market,
                      components)
    assert decision.outcome is Outcome.TRADE
    decision_id = journal.record_decision(decision, at=T0 + timedelta(seconds=1))
    record = journal.decision(decision_id)
    assert record is not None
    assert record.decided_at == T0
    assert record.recorded_at == T0 + timedelta(seconds=1)
    assert record.outcome == "trade"
    assert record.reason == decision.reason
    payload = record.payload
    assert payload["timestamp"] == T0.isoformat()
    assert payload["orders"][0]["instrument"] == "BTC-PERPETUAL"
    assert payload["orders"][0]["quantity"] == decision.orders[0].quantity
    assert payload["hedge"]["trades"] == decision.hedge.trades.tolist()  # type: ignore[union-attr]
    assert payload["exposure_before"]["delta"] == decision.exposure_before.delta
    assert journal.decision(decision_id + 1000) is None
    # The intent refers to it.
    order = decision.orders[0]
    assert journal.record_intent(Intent(f"d{decision_id}-0", order.instrument, order.side,  # type: ignore[arg-type]
                                        order.quantity, order.limit_price, decision_id))


def test_record_decision_refuses_non_dataclasses(journal: Journal) -> None:
    with pytest.raises(ValueError, match="dataclass instance"):
        journal.record_decision("buy everything")  # type: ignore[arg-type]


def test_kill_switch(journal: Journal) -> None:
    initial = journal.kill_switch()
    assert (initial.engaged, initial.reason, initial.changed_at) == (False, "", None)
    journal.set_kill_switch(True, "operator: hedgekeeper kill", at=T0)
    assert journal.kill_switch().engaged is True
    assert journal.kill_switch().reason == "operator: hedgekeeper kill"
    assert journal.kill_switch().changed_at == T0
    journal.set_kill_switch(False, "operator: resume", at=T0 + timedelta(minutes=1))
    assert journal.kill_switch().engaged is False
    with pytest.raises(ValueError, match="reason must be a non-empty string"):
        journal.set_kill_switch(True, "")


def test_checkpoints_and_rail_trips(journal: Journal) -> None:
    assert journal.last_checkpoint() is None
    journal.checkpoint(venue_cursor="fills:41", details={"orders": 3}, at=T0)
    last = journal.checkpoint(venue_cursor="fills:42", details={"orders": 4, "x": 0.5},
                              at=T0 + timedelta(seconds=5))
    stored = journal.last_checkpoint()
    assert stored == last
    assert stored is not None
    assert stored.details == {"orders": 4, "x": 0.5}
    assert journal.rail_trips() == []
    journal.record_rail_trip("stale_data", "snapshot 12.5 s old > 5 s", at=T0)
    journal.record_rail_trip("price_jump", "BTC moved 9% in 1 s > 5%", at=T0)
    trips = journal.rail_trips()
    assert [t.rail for t in trips] == ["price_jump", "stale_data"]
    assert trips[1].reason == "snapshot 12.5 s old > 5 s"
    assert len(journal.rail_trips(limit=1)) == 1


def test_position_snapshots(journal: Journal) -> None:
    assert journal.position_snapshot() is None
    journal.record_positions({"BTC-PERPETUAL": Decimal("1.1"), "ETH-PERPETUAL": Decimal("-2")},
                             source="venue", at=T0)
    flat = journal.record_positions({}, source="keeper", at=T0 + timedelta(seconds=1))
    latest = journal.position_snapshot()
    assert latest is not None
    assert latest.snapshot_id == flat
    assert latest.positions == {}
    venue = journal.position_snapshot("venue")
    assert venue is not None
    assert venue.taken_at == T0
    assert venue.positions == {"BTC-PERPETUAL": Decimal("1.1"), "ETH-PERPETUAL": Decimal(-2)}
    with pytest.raises(ValueError, match="must be a finite Decimal"):
        journal.record_positions({"BTC-PERPETUAL": 1.1}, source="venue")  # type: ignore[dict-item]


def test_export_shape(journal: Journal) -> None:
    order = _working_order(journal, quantity="1.50")
    journal.apply_fill(_fill(order, "t1", "0.50", price="88000.50"))
    journal.record_intent(Intent("d2-0", "BTC-PERPETUAL", "sell", Decimal(100)))  # type: ignore[arg-type]
    pending = journal.new_order("d2-0")
    records = list(journal.export())
    assert records == [
        {"type": "order", "client_order_id": order.client_order_id,
         "venue_order_id": "v-d1-0", "intent_id": "d1-0", "instrument": "BTC-PERPETUAL",
         "side": "buy", "quantity": "1.5", "status": "partially_filled"},
        {"type": "order", "client_order_id": pending.client_order_id, "venue_order_id": None,
         "intent_id": "d2-0", "instrument": "BTC-PERPETUAL", "side": "sell",
         "quantity": "100", "status": "pending_submit"},
        {"type": "fill", "trade_id": "t1", "client_order_id": order.client_order_id,
         "quantity": "0.5", "price": "88000.5"},
    ]
    assert all(json.loads(json.dumps(r)) == r for r in records)


def test_reopen_keeps_everything(journal_url: str) -> None:
    with Journal.open(journal_url) as journal:
        order = _working_order(journal, quantity="1")
        journal.apply_fill(_fill(order, "t1", "0.4"))
        journal.set_kill_switch(True, "test")
        before = list(journal.export())
    with Journal.open(journal_url, create=False) as journal:
        assert list(journal.export()) == before
        assert journal.kill_switch().engaged is True
        assert journal.positions() == {"BTC-PERPETUAL": Decimal("0.4")}


def test_open_without_create_needs_a_journal(journal_url: str) -> None:
    with pytest.raises(JournalOpenError, match="no journal at"):
        Journal.open(journal_url, create=False)


def test_journal_hides_the_password() -> None:
    with pytest.raises(JournalOpenError) as raised:
        Journal.open("postgresql+psycopg://keeper:canary-s3cret@127.0.0.1:1/journal")
    assert "canary-s3cret" not in str(raised.value)
    assert "keeper:***@127.0.0.1:1/journal" in str(raised.value)


@pytest.mark.parametrize("value", ["0.1", "100", "1E+2", "0.10", "-0", "1.2300E-7", "5"])
def test_plain_decimal(value: str) -> None:
    text_value = plain_decimal(Decimal(value))
    assert Decimal(text_value) == Decimal(value)
    assert "E" not in text_value
    assert not (text_value.endswith("0") and "." in text_value)
