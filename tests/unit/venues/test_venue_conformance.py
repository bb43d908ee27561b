"""The Venue conformance suite: every Venue implementation must pass it.

Run against the in-process paper exchange (``sim``) and the HTTP client talking to a paper
venue server started on 127.0.0.1 for the test (``http``). A new adapter joins by adding a
harness to ``KINDS``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from venue_harness import BTC, ETH, Harness, harness_of, limit, market

from hedgekeeper.venues.base import (
    OrderReport,
    RejectReason,
    Side,
    Venue,
    VenueFill,
    VenueOrderStatus,
    VenueRejected,
    VenueTimeout,
)
from hedgekeeper.venues.sim import Fault

KINDS = ("sim", "http")


@pytest.fixture(params=KINDS)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    with harness_of(request.param, tmp_path) as built:
        yield built


def test_venue_satisfies_the_port(harness: Harness) -> None:
    async def body(venue: Venue) -> None:
        assert isinstance(venue, Venue)

    harness.run(body)


def test_snapshot_quotes_top_of_book(harness: Harness) -> None:
    async def body(venue: Venue) -> None:
        snapshot = await venue.snapshot([BTC, ETH])
        assert set(snapshot.quotes) == {BTC, ETH}
        quote = snapshot.quotes[BTC]
        # 100,000 with a 1 bp half spread: 99,990 / 100,010, one contract each.
        assert (quote.bid, quote.ask) == (Decimal(99990), Decimal(100010))
        assert quote.bid_size == quote.ask_size == Decimal(1)
        assert quote.last is None
        assert quote.timestamp == snapshot.timestamp == harness.clock.now()
        with pytest.raises(ValueError, match="unknown instrument 'NOPE'"):
            await venue.snapshot(["NOPE"])

    harness.run(body)


def test_submit_is_idempotent_on_client_order_id(harness: Harness) -> None:
    async def body(venue: Venue) -> None:
        first = await venue.submit(limit("c-1", Side.BUY, "1", "99000"))
        again = await venue.submit(limit("c-1", Side.BUY, "1", "99000"))
        assert not first.duplicate
        assert again.duplicate
        assert again.report.venue_order_id == first.report.venue_order_id
        assert again.report.status is VenueOrderStatus.OPEN
        # A marketable order resubmitted does not trade twice.
        taken = await venue.submit(market("c-2", Side.BUY, "1.5"))
        assert taken.report.status is VenueOrderStatus.FILLED
        position = (await venue.account()).positions[BTC]
        repeat = await venue.submit(market("c-2", Side.BUY, "1.5"))
        assert repeat.duplicate
        assert repeat.report == taken.report
        assert (await venue.account()).positions[BTC] == position == Decimal("1.5")
        reports = await venue.reports(0)
        assert Counter(r.client_order_id for r in reports.orders) == {"c-1": 1, "c-2": 1}
        assert all(fill.client_order_id == "c-2" for fill in reports.fills)

    harness.run(body)


def test_resubmit_with_other_parameters_is_a_conflict(harness: Harness) -> None:
    async def body(venue: Venue) -> None:
        first = await venue.submit(limit("c-1", Side.BUY, "1", "99000"))
        with pytest.raises(VenueRejected) as caught:
            await venue.submit(limit("c-1", Side.BUY, "2", "99000"))
        assert caught.value.reason is RejectReason.CLIENT_ID_CONFLICT
        assert caught.value.report == first.report
        still = await venue.order("c-1")
        assert still == first.report

    harness.run(body)


def test_cancel_semantics(harness: Harness) -> None:
    async def body(venue: Venue) -> None:
        # Crosses 1 contract at 100,010 and rests the other 1 at 100,020.
        placed = await venue.submit(limit("c-1", Side.BUY, "2", "100020"))
        assert placed.report.status is VenueOrderStatus.PARTIALLY_FILLED
        assert placed.report.filled_quantity == Decimal(1)
        cancelled = await venue.cancel("c-1")
        assert cancelled is not None
        assert cancelled.status is VenueOrderStatus.CANCELLED
        assert cancelled.filled_quantity == Decimal(1)
        assert cancelled.remaining_quantity == 0
        assert await venue.cancel("c-1") == cancelled
        assert await venue.order("c-1") == cancelled
        assert await venue.cancel("never-sent") is None
        filled = (await venue.submit(market("c-2", Side.SELL, "0.5"))).report
        assert filled.status is VenueOrderStatus.FILLED
        assert await venue.cancel("c-2") == filled
        assert (await venue.reports(0)).open_orders == ()
        # A cancelled order no longer trades when the price comes to it.
        harness.move(BTC, 99_000.0)
        harness.advance(60)
        assert (await venue.order("c-1")) == cancelled

    harness.run(body)


def test_fills_are_reported_once_with_unique_trade_ids(harness: Harness) -> None:
    async def body(venue: Venue) -> None:
        cursor = 0
        seen: list[VenueFill] = []
        cursors = [cursor]

        async def collect() -> None:
            nonlocal cursor
            window = await venue.reports(cursor)
            assert all(fill.sequence > cursor for fill in window.fills)
            seen.extend(window.fills)
            cursor = window.cursor
            cursors.append(cursor)

        await venue.submit(market("m-1", Side.BUY, "2.5"))  # walks three levels
        await collect()
        await venue.submit(limit("l-1", Side.SELL, "3", "100500"))  # rests above the market
        await collect()
        for price in (100_300.0, 100_600.0, 100_700.0):  # the market comes up to it
            harness.move(BTC, price)
            harness.advance(3)
            await collect()
        harness.advance(30)
        await collect()
        everything = (await venue.reports(0)).fills
        assert [fill.trade_id for fill in seen] == [fill.trade_id for fill in everything]
        assert len({fill.trade_id for fill in seen}) == len(seen)
        assert cursors == sorted(cursors)
        l1 = await venue.order("l-1")
        assert l1 is not None
        assert l1.status is VenueOrderStatus.FILLED
        assert sum(f.quantity for f in seen if f.client_order_id == "l-1") == Decimal(3)
        assert {f.price for f in seen if f.client_order_id == "l-1"} == {Decimal(100500)}

    harness.run(body)


def test_reports_cursor_is_monotone(harness: Harness) -> None:
    async def body(venue: Venue) -> None:
        empty = await venue.reports(0)
        assert empty.cursor == 0
        assert empty.fills == ()
        assert empty.orders == ()
        await venue.submit(limit("c-1", Side.BUY, "1", "99000"))
        first = await venue.reports(0)
        assert first.cursor > 0
        quiet = await venue.reports(first.cursor)
        assert quiet.cursor == first.cursor
        assert quiet.fills == ()
        assert quiet.orders == ()
        assert [o.client_order_id for o in quiet.open_orders] == ["c-1"]
        await venue.cancel("c-1")
        after = await venue.reports(first.cursor)
        assert after.cursor > first.cursor
        assert [(o.client_order_id, o.status) for o in after.orders] == [
            ("c-1", VenueOrderStatus.CANCELLED)
        ]
        with pytest.raises(ValueError, match="beyond this venue's last sequence"):
            await venue.reports(after.cursor + 1)

    harness.run(body)


def test_positions_equal_the_sum_of_fills(harness: Harness) -> None:
    async def body(venue: Venue) -> None:
        await venue.submit(market("a", Side.BUY, "3.2"))
        await venue.submit(market("b", Side.SELL, "1.25"))
        await venue.submit(market("c", Side.SELL, "7.5", instrument=ETH))
        await venue.submit(limit("d", Side.BUY, "2", "99980"))
        harness.move(BTC, 99_900.0)
        harness.advance(20)
        reports = await venue.reports(0)
        account = await venue.account()
        sums: dict[str, Decimal] = {}
        for fill in reports.fills:
            sums[fill.instrument] = sums.get(fill.instrument, Decimal(0)) + fill.signed_quantity
        assert dict(account.positions) == sums == dict(reports.positions)
        assert sums[BTC] == Decimal("3.2") - Decimal("1.25") + Decimal(2)
        assert sums[ETH] == Decimal("-7.5")
        cash = Decimal(1_000_000) - sum(
            (fill.signed_quantity * fill.price + fill.fee for fill in reports.fills), Decimal(0)
        )
        assert account.balances == {"USD": cash}

    harness.run(body)


def test_lookup_resolves_an_ack_lost_order(harness: Harness) -> None:
    harness.inject("submit", Fault.ACK_LOST)

    async def body(venue: Venue) -> None:
        with pytest.raises(VenueTimeout):
            await venue.submit(limit("lost", Side.BUY, "1", "99000"))
        found = await venue.order("lost")
        assert isinstance(found, OrderReport)
        assert found.status is VenueOrderStatus.OPEN
        resent = await venue.submit(limit("lost", Side.BUY, "1", "99000"))
        assert resent.duplicate
        assert resent.report.venue_order_id == found.venue_order_id
        orders = (await venue.reports(0)).orders
        assert [o.client_order_id for o in orders] == ["lost"]

    harness.run(body)


def test_lookup_of_a_request_lost_before_the_venue_is_none(harness: Harness) -> None:
    harness.inject("submit", Fault.TIMEOUT)

    async def body(venue: Venue) -> None:
        with pytest.raises(VenueTimeout):
            await venue.submit(market("gone", Side.BUY, "1"))
        assert await venue.order("gone") is None
        assert (await venue.account()).positions == {}
        placed = await venue.submit(market("gone", Side.BUY, "1"))
        assert not placed.duplicate
        assert placed.report.status is VenueOrderStatus.FILLED

    harness.run(body)


def test_rejected_order_is_recorded_and_stays_rejected(harness: Harness) -> None:
    async def body(venue: Venue) -> None:
        with pytest.raises(VenueRejected) as caught:
            await venue.submit(limit("big", Side.BUY, "21", "99000"))
        assert caught.value.reason is RejectReason.SIZE_LIMIT
        report = caught.value.report
        assert report is not None
        assert report.status is VenueOrderStatus.REJECTED
        assert await venue.order("big") == report
        with pytest.raises(VenueRejected) as again:
            await venue.submit(limit("big", Side.BUY, "21", "99000"))
        assert again.value.reason is RejectReason.SIZE_LIMIT
        assert (await venue.reports(0)).open_orders == ()

    harness.run(body)


def test_fill_racing_a_cancel_is_reported(harness: Harness) -> None:
    async def body(venue: Venue) -> None:
        await venue.submit(limit("race", Side.BUY, "1", "99900"))
        before = await venue.reports(0)
        # The market trades through the order before the cancel arrives.
        harness.move(BTC, 99_800.0)
        harness.advance(2)
        cancelled = await venue.cancel("race")
        assert cancelled is not None
        assert cancelled.status is VenueOrderStatus.FILLED
        late = await venue.reports(before.cursor)
        assert [(f.client_order_id, f.quantity) for f in late.fills] == [("race", Decimal(1))]

    harness.run(body)
