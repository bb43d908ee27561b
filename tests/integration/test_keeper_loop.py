"""The keeper loop in-process: one decision path, rails tripping in the loop, kill/resume.

Each test runs a real keeper (journal in SQLite, the paper exchange with its own ledger) on a
manual clock and a scripted feed, so that rails can be made to trip on purpose.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hedgekeeper.engine import MarketInputs, Outcome, decide
from hedgekeeper.keeper.clock import ManualClock
from hedgekeeper.keeper.config import FeedConfig, parse_config
from hedgekeeper.keeper.feed import MarketUpdate, build_feed
from hedgekeeper.keeper.inputs import build_model, engine_quote, engine_state
from hedgekeeper.keeper.loop import Keeper, KeeperHaltedError
from hedgekeeper.keeper.paper import open_paper_venue
from hedgekeeper.store import Journal

BOOK = {"positions": [{"instrument": "BTC-27MAR26-88000-C", "quantity": -10},
                      {"instrument": "BTC-27MAR26-88000-P", "quantity": -10}]}
HEDGE = {"instruments": [{"name": "BTC_USDC-PERPETUAL", "max_order": 5}],
         "policy": {"halfwidth": 0.05}, "realised_vol": 0.45}


class ListFeed:
    """A scripted feed."""

    def __init__(self, updates: Sequence[MarketUpdate]) -> None:
        self._updates = list(updates)

    def updates(self, after: int = -1) -> Iterator[MarketUpdate]:
        return iter([u for u in self._updates if u.sequence > after])


def _updates(ticks: int = 12) -> list[MarketUpdate]:
    return list(build_feed(FeedConfig(bridge_ticks=ticks, seed=5)).updates())


def _keeper(folder: Path, updates: Sequence[MarketUpdate], *, rails: dict[str, Any] | None = None,
            venue: dict[str, Any] | None = None,
            journal: str = "journal.sqlite") -> tuple[Keeper, ManualClock]:
    config = parse_config({"name": "loop", "book": BOOK, "hedge": HEDGE,
                           "rails": {"fill_wait_s": 0.01, **(rails or {})},
                           "venue": {"level_size": 1.0, **(venue or {})}})
    model = build_model(config)
    clock = ManualClock(updates[0].time)
    prices = {name: updates[0].perp_price for name in model.hedges}
    sim, follow = open_paper_venue(config.venue, model.hedges, prices,
                                   folder / "venue.sqlite", clock)
    keeper = Keeper(config=config, model=model, feed=ListFeed(updates), venue=sim,
                    journal=Journal.open(f"sqlite:///{folder / journal}"), clock=clock,
                    follow=follow)
    return keeper, clock


async def _step(keeper: Keeper, clock: ManualClock, update: MarketUpdate) -> Any:
    clock.set(update.time)
    return await keeper.process(update)


async def _close(keeper: Keeper) -> None:
    await keeper.venue.close()
    keeper.journal.close()


def test_the_keeper_decides_through_the_engine_like_research(tmp_path: Path) -> None:
    updates = _updates()

    async def scenario() -> None:
        keeper, clock = _keeper(tmp_path, updates)
        await keeper.recover()
        quotes = await keeper.venue.snapshot(["BTC_USDC-PERPETUAL"])
        state = engine_state(keeper.model, {}, updates[0].time, None, None, ())
        market = MarketInputs(snapshot=updates[0].snapshot(keeper.model.option_names),
                              quotes={n: engine_quote(q.bid, q.ask)
                                      for n, q in quotes.quotes.items()}, realised_vol=0.45)
        expected = decide(state, market, keeper.model.components)
        decision = await _step(keeper, clock, updates[0])
        assert decision is not None
        assert decision == expected
        assert decision.outcome is Outcome.TRADE
        journalled = keeper.journal.decision(1)
        assert journalled is not None
        assert journalled.outcome == "trade"
        assert journalled.payload["exposure_before"]["delta"] == pytest.approx(
            expected.exposure_before.delta)
        position = keeper.positions["BTC_USDC-PERPETUAL"]
        assert position > 0
        assert keeper.journal.positions()["BTC_USDC-PERPETUAL"] == position
        account = await keeper.venue.account()
        assert account.positions["BTC_USDC-PERPETUAL"] == position
        await _close(keeper)

    asyncio.run(scenario())


def test_kill_switch_cancels_open_orders_and_blocks_until_resume(tmp_path: Path) -> None:
    updates = _updates()

    async def scenario() -> None:
        # A thin book (0.01 per level, slow to come back) leaves the hedge order resting.
        keeper, clock = _keeper(tmp_path, updates, rails={"fill_wait_s": 0.01},
                                venue={"level_size": 0.01, "levels": 1, "replenish_s": 1e6})
        await keeper.recover()
        await _step(keeper, clock, updates[0])
        orders = keeper.journal.orders()
        assert len(orders) == 1
        assert orders[0].status.value == "cancelled"  # partly filled, rest cancelled
        keeper.journal.set_kill_switch(True, "operator: test kill")  # hedgekeeper kill
        await keeper.apply_control(force=True)
        assert await _step(keeper, clock, updates[1]) is None
        assert keeper.rails.killed
        assert keeper.status()["kill_switch"] is True
        assert keeper.status()["rails"]["kill_switch"] == "operator: test kill"
        assert [t.rail for t in keeper.journal.rail_trips()] == ["kill_switch"]
        assert len(keeper.journal.orders()) == 1
        keeper.journal.set_kill_switch(False, "operator: resume")  # hedgekeeper resume
        await keeper.apply_control(force=True)
        decision = await _step(keeper, clock, updates[2])
        assert decision is not None
        assert not keeper.rails.killed
        await _close(keeper)

    asyncio.run(scenario())


def test_kill_while_an_order_rests_cancels_it(tmp_path: Path) -> None:
    updates = _updates()

    async def scenario() -> None:
        keeper, clock = _keeper(tmp_path, updates, rails={"fill_wait_s": 30.0},
                                venue={"level_size": 0.01, "levels": 1, "replenish_s": 1e6})
        await keeper.recover()
        clock.set(updates[0].time)
        working = asyncio.create_task(keeper.process(updates[0]))
        while not keeper.journal.open_orders():
            await asyncio.sleep(0.01)
        status = await keeper.request_kill("api: emergency")  # what POST /kill does
        assert status["kill_switch"] is True
        decision = await asyncio.wait_for(working, timeout=10.0)
        assert decision is not None
        assert keeper.journal.open_orders() == []
        (order,) = keeper.journal.orders()
        assert order.status.value == "cancelled"
        report = await keeper.venue.reports(0)
        assert report.open_orders == ()
        assert keeper.journal.kill_switch().engaged
        assert await _step(keeper, clock, updates[1]) is None
        assert len(keeper.journal.orders()) == 1
        await _close(keeper)

    asyncio.run(scenario())


def test_price_jump_pauses_and_says_why_until_resumed(tmp_path: Path) -> None:
    updates = _updates()
    jumped = dataclasses.replace(updates[2], index_price=updates[2].index_price * 1.2,
                                 sources={k: v * 1.2 for k, v in updates[2].sources.items()})

    async def scenario() -> None:
        keeper, clock = _keeper(tmp_path, [*updates[:2], jumped, *updates[3:]])
        await keeper.recover()
        await _step(keeper, clock, updates[0])
        await _step(keeper, clock, updates[1])
        assert await _step(keeper, clock, jumped) is None
        assert "price_jump" in keeper.status()["rails"]
        trip = keeper.journal.rail_trips(limit=1)[0]
        assert trip.rail == "price_jump"
        assert "limit 10.00%" in trip.reason
        assert await _step(keeper, clock, updates[3]) is None  # latched
        await keeper.request_resume()
        assert await _step(keeper, clock, updates[4]) is not None
        await _close(keeper)

    asyncio.run(scenario())


def test_disagreeing_sources_and_stale_data_skip_with_a_reason(tmp_path: Path) -> None:
    updates = _updates()
    split = dataclasses.replace(updates[1], sources={**updates[1].sources,
                                                     "perp": updates[1].index_price * 1.05})

    async def scenario() -> None:
        keeper, clock = _keeper(tmp_path, updates)
        await keeper.recover()
        await _step(keeper, clock, updates[0])
        clock.set(split.time)
        assert await keeper.process(split) is None
        assert "source_disagreement" in keeper.status()["rails"]
        assert await _step(keeper, clock, updates[2]) is not None  # agree again: cleared
        assert keeper.status()["rails"] == {}
        clock.set(updates[3].time + timedelta(minutes=10))
        assert await keeper.process(updates[3]) is None
        rails = [t.rail for t in keeper.journal.rail_trips()]
        assert rails[:2] == ["stale_data", "source_disagreement"]
        await _close(keeper)

    asyncio.run(scenario())


def test_repeated_venue_errors_halt_trading(tmp_path: Path) -> None:
    updates = _updates()

    async def scenario() -> None:
        keeper, clock = _keeper(tmp_path, updates, rails={"max_venue_errors": 3},
                                venue={"faults": "snapshot.unavailable=1.0"})
        await keeper.recover()
        for update in updates[:4]:
            assert await _step(keeper, clock, update) is None
        assert "venue_errors" in keeper.status()["rails"]
        assert "3 venue errors in a row" in keeper.status()["rails"]["venue_errors"]
        await _close(keeper)

    asyncio.run(scenario())


def test_same_side_cap_trips_in_the_loop(tmp_path: Path) -> None:
    updates = _updates(30)

    async def scenario() -> None:
        keeper, clock = _keeper(tmp_path, updates, rails={"max_consecutive_same_side": 1})
        await keeper.recover()
        for update in updates:
            await _step(keeper, clock, update)
            if "consecutive_same_side" in keeper.status()["rails"]:
                break
        reason = keeper.status()["rails"]["consecutive_same_side"]
        assert "orders in a row (limit 1)" in reason
        sides = [o.side for o in keeper.journal.orders()]
        assert len(sides) >= 1
        assert all(a != b for a, b in itertools.pairwise(sides))
        await _close(keeper)

    asyncio.run(scenario())


def test_a_venue_with_orders_the_journal_never_wrote_blocks_trading(tmp_path: Path) -> None:
    updates = _updates()

    async def scenario() -> None:
        keeper, clock = _keeper(tmp_path, updates)
        await keeper.recover()
        await _step(keeper, clock, updates[0])
        await _close(keeper)
        stranger, _ = _keeper(tmp_path, updates, journal="other.sqlite")
        with pytest.raises(KeeperHaltedError, match="journal does not know"):
            await stranger.recover()
        assert "reconciliation" in stranger.status()["rails"]
        assert not stranger.status()["trading"]
        await _close(stranger)

    asyncio.run(scenario())


def test_an_order_live_at_the_venue_but_closed_in_the_journal_is_cancelled(
    tmp_path: Path,
) -> None:
    # A cancel that found nothing at the venue closes the order in the journal; if the submit
    # request then arrives late, the venue holds a live order the journal calls cancelled. The
    # venue is the authority: reconciliation must cancel it rather than let it keep working.
    from decimal import Decimal

    from hedgekeeper.domain.orders import CancelRequested, Intent, OrderSide, VenueNotFound
    from hedgekeeper.venues.base import OrderRequest, OrderType, Side, TimeInForce

    updates = _updates()

    async def scenario() -> None:
        keeper, clock = _keeper(tmp_path, updates)
        await keeper.recover()
        await _step(keeper, clock, updates[0])
        intent = Intent(intent_id="late-submit", instrument="BTC_USDC-PERPETUAL",
                        side=OrderSide.BUY, quantity=Decimal("0.1"),
                        limit_price=Decimal("85000"))
        keeper.journal.record_intent(intent)
        order = keeper.journal.new_order(intent.intent_id)
        keeper.journal.apply_event(order.client_order_id, CancelRequested())
        closed = keeper.journal.apply_event(order.client_order_id, VenueNotFound())
        assert not closed.is_open
        # The late submit: a buy below the market (about 2.7 %) rests at the venue.
        await keeper.venue.submit(OrderRequest(
            client_order_id=order.client_order_id, intent_id=intent.intent_id,
            instrument=intent.instrument, side=Side.BUY, quantity=Decimal("0.1"),
            order_type=OrderType.LIMIT, limit_price=Decimal("85000"),
            time_in_force=TimeInForce.GTC))
        live = await keeper.venue.order(order.client_order_id)
        assert live is not None
        assert not live.status.is_terminal
        await keeper.sync_reports()
        after = await keeper.venue.order(order.client_order_id)
        assert after is not None
        assert after.status.is_terminal
        await _close(keeper)

    asyncio.run(scenario())
