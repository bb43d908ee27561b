"""Paper exchange book mechanics: ladder shape, walking the book, resting orders, rejects, fees."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from venue_harness import BTC, START, Harness, limit, market, sim_harness, small_config

from hedgekeeper.venues.base import (
    Liquidity,
    OrderRequest,
    OrderType,
    RejectReason,
    Side,
    TimeInForce,
    Venue,
    VenueOrderStatus,
    VenueRejected,
)
from hedgekeeper.venues.sim import DEFAULT_INSTRUMENTS, InstrumentSpec, LatencySpec
from hedgekeeper.venues.sim.book import Depletion, Level, ladder


def test_ladder_shape_spread_depth_and_tick_rounding() -> None:
    spec = small_config().instruments[BTC]
    bids, asks = ladder(spec, 100_000.0)
    assert [b.price for b in bids] == [Decimal(p) for p in (99990, 99970, 99950, 99930, 99910)]
    assert [a.price for a in asks] == [Decimal(p) for p in (100010, 100030, 100050, 100070, 100090)]
    assert all(level.size == Decimal(1) for level in bids + asks)
    # An off-grid reference: bids round down, asks up, to the 0.5 tick.
    bids, asks = ladder(spec, 100_000.3)
    assert bids[0].price == Decimal("99990.0")
    assert asks[0].price == Decimal("100010.5")
    assert all(price % spec.tick_size == 0 for price in [lv.price for lv in bids + asks])


def test_ladder_levels_stay_distinct_when_spacing_is_below_a_tick() -> None:
    spec = replace(DEFAULT_INSTRUMENTS[BTC], tick_size=Decimal(100), size_growth=0.5)
    bids, asks = ladder(spec, 87_395.5)
    assert all(a.price > b.price for a, b in itertools.pairwise(bids))
    assert all(b.price > a.price for a, b in itertools.pairwise(asks))
    assert bids[0].price < asks[0].price
    # Size grows 50 % a level, rounded down to the lot.
    assert [lv.size for lv in asks[:3]] == [Decimal("0.5"), Decimal("0.75"), Decimal(1)]


def test_ladder_rejects_a_non_positive_reference() -> None:
    with pytest.raises(ValueError, match="reference price must be positive"):
        ladder(small_config().instruments[BTC], 0.0)


def test_depletion_takes_from_the_top_and_comes_back_linearly() -> None:
    levels = (Level(Decimal(10), Decimal(1)), Level(Decimal(11), Decimal(1)))
    depletion = Depletion(replenish_seconds=10.0)
    depletion.take(Decimal("1.5"), levels, START)
    assert depletion.available(levels, START) == [Level(Decimal(11), Decimal("0.5"))]
    # The whole depth (2) comes back per 10 s: after 5 s, 1 of the 1.5 taken is back.
    later = depletion.available(levels, START + timedelta(seconds=5))
    assert later == [Level(Decimal(10), Decimal("0.5")), Level(Decimal(11), Decimal(1))]
    assert depletion.available(levels, START + timedelta(seconds=8)) == list(levels)


def _run(harness: Harness, body: object) -> None:
    harness.run(body)  # type: ignore[arg-type]


def test_market_order_walks_the_book_one_fill_per_level(tmp_path: Path) -> None:
    with sim_harness(tmp_path) as harness:

        async def body(venue: Venue) -> None:
            ack = await venue.submit(market("m", Side.BUY, "2.5"))
            fills = (await venue.reports(0)).fills
            assert [(f.price, f.quantity) for f in fills] == [
                (Decimal(100010), Decimal(1)),
                (Decimal(100030), Decimal(1)),
                (Decimal(100050), Decimal("0.5")),
            ]
            assert all(f.liquidity is Liquidity.TAKER for f in fills)
            assert ack.report.average_price == (
                100010 + 100030 + Decimal("0.5") * 100050
            ) / Decimal("2.5")
            # Taken depth is gone from the quote until it comes back.
            quote = (await venue.snapshot([BTC])).quotes[BTC]
            assert (quote.ask, quote.ask_size) == (Decimal(100050), Decimal("0.5"))
            assert quote.last == Decimal(100050)
            harness.advance(10)
            quote = (await venue.snapshot([BTC])).quotes[BTC]
            assert (quote.ask, quote.ask_size) == (Decimal(100010), Decimal(1))

        _run(harness, body)


def test_market_order_larger_than_the_book_fills_partly_and_cancels_the_rest(
    tmp_path: Path,
) -> None:
    with sim_harness(tmp_path) as harness:

        async def body(venue: Venue) -> None:
            report = (await venue.submit(market("big", Side.SELL, "7"))).report
            assert report.status is VenueOrderStatus.CANCELLED
            assert report.filled_quantity == Decimal(5)  # five levels of one contract
            assert (await venue.account()).positions[BTC] == Decimal(-5)

        _run(harness, body)


def test_limit_order_crosses_what_it_can_then_rests_and_fills_as_the_price_comes(
    tmp_path: Path,
) -> None:
    with sim_harness(tmp_path) as harness:

        async def body(venue: Venue) -> None:
            report = (await venue.submit(limit("l", Side.BUY, "4", "100030"))).report
            # Two levels at or below 100,030 cross at once; two contracts rest at 100,030.
            assert report.status is VenueOrderStatus.PARTIALLY_FILLED
            assert report.filled_quantity == Decimal(2)
            assert report.remaining_quantity == Decimal(2)
            # Liquidity comes back: 5 contracts per 10 s, priced at 100,010 and 100,030.
            harness.advance(1)
            report = await venue.order("l")
            assert report is not None
            assert report.filled_quantity == Decimal("2.5")
            harness.advance(10)
            report = await venue.order("l")
            assert report is not None
            assert report.status is VenueOrderStatus.FILLED
            fills = (await venue.reports(0)).fills
            makers = [f for f in fills if f.liquidity is Liquidity.MAKER]
            assert makers
            assert {f.price for f in makers} == {Decimal(100030)}
            assert sum(f.quantity for f in fills) == Decimal(4)

        _run(harness, body)


def test_resting_order_fills_in_pieces_as_the_market_moves_through_it(tmp_path: Path) -> None:
    with sim_harness(tmp_path) as harness:

        async def body(venue: Venue) -> None:
            await venue.submit(limit("rest", Side.BUY, "3", "99800"))
            harness.advance(5)
            report = await venue.order("rest")
            assert report is not None
            assert report.filled_quantity == 0
            # Ask ladder at 99,780: 99,790 and 99,810 .. ; only 99,790 is at or below 99,800.
            harness.move(BTC, 99_780.0)
            harness.advance(1)
            report = await venue.order("rest")
            assert report is not None
            assert report.filled_quantity == Decimal(1)
            assert report.status is VenueOrderStatus.PARTIALLY_FILLED
            harness.move(BTC, 99_700.0)
            harness.advance(1)
            report = await venue.order("rest")
            assert report is not None
            assert report.status is VenueOrderStatus.FILLED
            assert report.average_price == Decimal(99800)

        _run(harness, body)


def test_ioc_limit_cancels_what_does_not_cross(tmp_path: Path) -> None:
    with sim_harness(tmp_path) as harness:

        async def body(venue: Venue) -> None:
            order = OrderRequest(
                client_order_id="ioc",
                intent_id="i",
                instrument=BTC,
                side=Side.BUY,
                quantity=Decimal(3),
                limit_price=Decimal(100030),
                time_in_force=TimeInForce.IOC,
            )
            report = (await venue.submit(order)).report
            assert report.status is VenueOrderStatus.CANCELLED
            assert report.filled_quantity == Decimal(2)
            assert (await venue.reports(0)).open_orders == ()

        _run(harness, body)


@pytest.mark.parametrize(
    ("order", "reason", "message"),
    [
        (limit("q", Side.BUY, "0.0005", "99000"), RejectReason.INVALID_QUANTITY, "lot size"),
        (limit("s", Side.BUY, "20.001", "99000"), RejectReason.SIZE_LIMIT, "maximum order"),
        (limit("t", Side.BUY, "1", "99000.2"), RejectReason.INVALID_PRICE, "tick size"),
        (limit("b", Side.SELL, "1", "120000"), RejectReason.INVALID_PRICE, "from the reference"),
        (
            limit("u", Side.BUY, "1", "99000", instrument="SOL-PERPETUAL"),
            RejectReason.UNKNOWN_INSTRUMENT,
            "SOL-PERPETUAL",
        ),
    ],
)
def test_rejects_name_their_reason(
    tmp_path: Path, order: OrderRequest, reason: RejectReason, message: str
) -> None:
    with sim_harness(tmp_path) as harness:

        async def body(venue: Venue) -> None:
            with pytest.raises(VenueRejected, match=message) as caught:
                await venue.submit(order)
            assert caught.value.reason is reason
            stored = await venue.order(order.client_order_id)
            assert stored is not None
            assert stored.reject_reason is reason

        _run(harness, body)


def test_insufficient_margin_counts_positions_and_open_orders(tmp_path: Path) -> None:
    # 20,000 USD equity at a 10 % initial margin carries 200,000 USD gross: two BTC at 100,000.
    config = small_config(initial_balance=Decimal(20_000), initial_margin_rate=0.1)
    with sim_harness(tmp_path, config) as harness:

        async def body(venue: Venue) -> None:
            await venue.submit(limit("a", Side.BUY, "1.5", "99000"))
            with pytest.raises(VenueRejected) as caught:
                await venue.submit(limit("b", Side.BUY, "0.6", "99000"))
            assert caught.value.reason is RejectReason.INSUFFICIENT_MARGIN
            # A sell on the other side does not add to the buy side's worst case.
            await venue.submit(limit("c", Side.SELL, "1.5", "101000"))
            await venue.cancel("a")
            await venue.submit(limit("b2", Side.BUY, "0.4", "99000"))

        _run(harness, body)


def test_fees_are_charged_on_notional_and_taken_from_cash(tmp_path: Path) -> None:
    config = small_config(taker_fee_rate=0.001, maker_fee_rate=-0.0001)
    with sim_harness(tmp_path, config) as harness:

        async def body(venue: Venue) -> None:
            await venue.submit(market("t", Side.BUY, "1"))
            await venue.submit(limit("m", Side.SELL, "1", "100200"))
            harness.move(BTC, 100_300.0)
            harness.advance(1)
            fills = (await venue.reports(0)).fills
            assert [(f.liquidity, f.fee) for f in fills] == [
                (Liquidity.TAKER, Decimal("100.01")),
                (Liquidity.MAKER, Decimal("-10.02")),
            ]
            cash = (await venue.account()).balances["USD"]
            assert cash == Decimal(1_000_000) - 100010 - Decimal("100.01") + 100200 + Decimal(
                "10.02"
            )

        _run(harness, body)


def test_simulated_latency_lets_the_market_move_before_the_order_arrives(tmp_path: Path) -> None:
    config = small_config(latency=LatencySpec(seconds=2.0))
    with sim_harness(tmp_path, config) as harness:

        async def body(venue: Venue) -> None:
            ack = await venue.submit(market("late", Side.BUY, "1"))
            assert ack.report.created_at == START + timedelta(seconds=2)
            assert harness.clock.now() == START  # no wall time passed

        _run(harness, body)


def test_order_types_validate_their_fields() -> None:
    with pytest.raises(ValueError, match="limit_price is required"):
        OrderRequest(client_order_id="x", intent_id="i", instrument=BTC, side=Side.BUY, quantity=1)
    with pytest.raises(ValueError, match="limit_price must be None for a market order"):
        OrderRequest(
            client_order_id="x",
            intent_id="i",
            instrument=BTC,
            side=Side.BUY,
            quantity=1,
            order_type=OrderType.MARKET,
            limit_price=Decimal(1),
        )
    with pytest.raises(ValueError, match="quantity must be positive"):
        limit("x", Side.BUY, "0", "1")
    with pytest.raises(ValueError, match="side must be one of 'buy', 'sell'"):
        OrderRequest(
            client_order_id="x",
            intent_id="i",
            instrument=BTC,
            side="long",
            quantity=1,
            limit_price=1,
        )  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="client_order_id must be 1-64 characters"):
        limit("has space", Side.BUY, "1", "1")
    with pytest.raises(ValueError, match="tick_size must be positive"):
        InstrumentSpec(name="X", initial_price=1.0, tick_size=Decimal(0))


def test_instrument_spec_scales_with_price() -> None:
    spec = InstrumentSpec.for_price("BTCUSDT", 87_395.5)
    assert (spec.tick_size, spec.lot_size) == (Decimal("0.1"), Decimal("0.001"))
    assert spec.level_size == Decimal("0.5")
    eth = InstrumentSpec.for_price("ETHUSDT", 2855.05)
    assert (eth.tick_size, eth.lot_size) == (Decimal("0.01"), Decimal("0.01"))


def test_resting_order_fills_when_the_best_level_just_reaches_its_limit(tmp_path: Path) -> None:
    with sim_harness(tmp_path) as harness:

        async def body(venue: Venue) -> None:
            await venue.submit(limit("edge", Side.BUY, "1", "99990"))
            # Reference 99,981: the best ask 99,990.9981 rounds up to 99,991, above the limit.
            harness.move(BTC, 99_981.0)
            harness.advance(1)
            report = await venue.order("edge")
            assert report is not None
            assert report.filled_quantity == 0
            # Reference 99,980: the best ask 99,989.998 rounds up to 99,990, the limit itself.
            harness.move(BTC, 99_980.0)
            harness.advance(1)
            report = await venue.order("edge")
            assert report is not None
            assert report.status is VenueOrderStatus.FILLED

        _run(harness, body)
