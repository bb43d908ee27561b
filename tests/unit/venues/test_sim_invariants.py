"""Invariants of the paper exchange under random sequences of orders, cancels, faults and moves."""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from venue_harness import BTC, ETH, START, SteerableFeed, small_config

from hedgekeeper.venues.base import (
    OrderRequest,
    OrderType,
    Side,
    VenueError,
    VenueOrderStatus,
)
from hedgekeeper.venues.sim import Fault, ManualClock, SimVenue

_PRICES = {BTC: 100_000.0, ETH: 3_000.0}
_TICKS = {BTC: Decimal("0.5"), ETH: Decimal("0.05")}
_LOTS = {BTC: Decimal("0.001"), ETH: Decimal("0.01")}

submit = st.tuples(
    st.just("submit"),
    st.integers(0, 11),  # client id: small range, so ids repeat
    st.sampled_from([BTC, ETH]),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 3000),  # lots
    st.one_of(st.none(), st.integers(-40, 40)),  # limit offset in bps of the price; None: market
    st.sampled_from([None, Fault.ACK_LOST, Fault.TIMEOUT, Fault.UNAVAILABLE]),
)
cancel = st.tuples(st.just("cancel"), st.integers(0, 11), st.sampled_from([None, Fault.ACK_LOST]))
move = st.tuples(
    st.just("move"), st.sampled_from([BTC, ETH]), st.integers(-60, 60), st.integers(0, 9)
)
operations = st.lists(st.one_of(submit, cancel, move), min_size=1, max_size=25)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(operations)
def test_exchange_invariants_hold(steps: list[tuple[object, ...]]) -> None:
    asyncio.run(_check(steps))


async def _check(steps: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        feed = SteerableFeed(dict(_PRICES))
        clock = ManualClock(START)
        venue = SimVenue.open(Path(directory) / "v.sqlite", small_config(), feed=feed, clock=clock)
        sent: dict[str, OrderRequest] = {}
        cursor = 0
        windows: list[str] = []
        try:
            for step in steps:
                if step[0] == "submit":
                    _, number, instrument, side, lots, offset, fault = step
                    assert isinstance(instrument, str)
                    assert isinstance(side, Side)
                    assert isinstance(lots, int)
                    client_order_id = f"c{number}"
                    request = sent.get(client_order_id) or _request(
                        client_order_id, instrument, side, lots, offset, feed
                    )
                    sent[client_order_id] = request
                    if fault is not None:
                        venue.faults.inject("submit", fault)  # type: ignore[arg-type]
                    try:
                        ack = await venue.submit(request)
                        assert ack.report.client_order_id == client_order_id
                    except VenueError:
                        pass
                elif step[0] == "cancel":
                    _, number, fault = step
                    if fault is not None:
                        venue.faults.inject("cancel", fault)  # type: ignore[arg-type]
                    try:
                        report = await venue.cancel(f"c{number}")
                    except VenueError:
                        report = None
                    if report is not None:
                        assert report.status.is_terminal
                else:
                    _, instrument, bps, seconds = step
                    assert isinstance(instrument, str)
                    assert isinstance(bps, int)
                    assert isinstance(seconds, int)
                    feed.prices[instrument] *= 1 + bps / 1e4
                    clock.advance(seconds)
                window = await venue.reports(cursor)
                assert window.cursor >= cursor
                assert all(fill.sequence > cursor for fill in window.fills)
                windows.extend(fill.trade_id for fill in window.fills)
                cursor = window.cursor
            everything = await venue.reports(0)
            account = await venue.account()
        finally:
            await venue.close()
    # Each fill reported once, in one window, with a unique trade id.
    assert windows == [fill.trade_id for fill in everything.fills]
    assert len(set(windows)) == len(windows)
    # One order per client id, and only ids that were sent.
    ids = Counter(order.client_order_id for order in everything.orders)
    assert set(ids) <= set(sent)
    assert all(count == 1 for count in ids.values())
    # Orders carry what was asked; fills add up to the filled quantity, never more.
    for order in everything.orders:
        request = sent[order.client_order_id]
        assert request.same_parameters(order)
        filled = sum(
            (f.quantity for f in everything.fills if f.client_order_id == order.client_order_id),
            Decimal(0),
        )
        assert filled == order.filled_quantity <= order.quantity
        if order.status is VenueOrderStatus.FILLED:
            assert filled == order.quantity
        if order.status is VenueOrderStatus.REJECTED:
            assert filled == 0
        assert (order.status in (VenueOrderStatus.OPEN, VenueOrderStatus.PARTIALLY_FILLED)) == (
            order in everything.open_orders
        )
        for fill in everything.fills:
            if fill.client_order_id == order.client_order_id and request.limit_price is not None:
                assert fill.price * request.side.sign <= request.limit_price * request.side.sign
    # Positions are the sum of the fills.
    sums: dict[str, Decimal] = {}
    for fill in everything.fills:
        sums[fill.instrument] = sums.get(fill.instrument, Decimal(0)) + fill.signed_quantity
    assert dict(account.positions) == sums == dict(everything.positions)


def _request(
    client_order_id: str,
    instrument: str,
    side: Side,
    lots: int,
    offset: object,
    feed: SteerableFeed,
) -> OrderRequest:
    quantity = lots * _LOTS[instrument]
    if offset is None:
        return OrderRequest(
            client_order_id=client_order_id,
            intent_id=f"i-{client_order_id}",
            instrument=instrument,
            side=side,
            quantity=quantity,
            order_type=OrderType.MARKET,
        )
    assert isinstance(offset, int)
    raw = Decimal(repr(feed.prices[instrument] * (1 + offset / 1e4)))
    price = (raw / _TICKS[instrument]).to_integral_value() * _TICKS[instrument]
    return OrderRequest(
        client_order_id=client_order_id,
        intent_id=f"i-{client_order_id}",
        instrument=instrument,
        side=side,
        quantity=quantity,
        limit_price=price,
    )
