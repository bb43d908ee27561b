"""Safety rails: each trips with a clear reason; latched ones hold until resume."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hedgekeeper.keeper.config import RailsConfig
from hedgekeeper.keeper.rails import (
    DAILY_TURNOVER,
    KILL,
    ORDER_NOTIONAL,
    ORDER_RATE,
    PRICE_JUMP,
    SAME_SIDE,
    SOURCE_DISAGREEMENT,
    STALE_DATA,
    VENUE_ERRORS,
    ProposedOrder,
    Rails,
    RailsState,
)

NOW = datetime(2026, 1, 26, 12, 0, tzinfo=UTC)


def _rails(**limits: float) -> Rails:
    return Rails(RailsConfig(**limits))  # type: ignore[arg-type]


def _buy(notional: float = 10_000.0, name: str = "PERP", side: str = "buy") -> ProposedOrder:
    return ProposedOrder(name, side, 0.1, notional)


def test_stale_data_refuses_the_update_only() -> None:
    rails = _rails(max_data_age_s=60)
    trip = rails.check_market(NOW, NOW - timedelta(seconds=61), {"index": 100.0})
    assert trip is not None
    assert trip.rail == STALE_DATA
    assert "61.0 s old (limit 60 s)" in trip.reason
    assert rails.blocking == {}
    assert rails.check_market(NOW, NOW - timedelta(seconds=30), {"index": 100.0}) is None


def test_stale_age_is_real_time_in_a_fast_replay() -> None:
    rails = _rails(max_data_age_s=60)
    late = NOW - timedelta(seconds=3600)
    assert rails.check_market(NOW, late, {"index": 100.0}, speed=3600.0) is None
    assert rails.check_market(NOW, late, {"index": 100.0}, speed=10.0) is not None


def test_price_jump_latches_until_resume() -> None:
    rails = _rails(max_price_jump=0.05)
    assert rails.check_market(NOW, NOW, {"index": 100.0}) is None
    trip = rails.check_market(NOW, NOW, {"index": 106.0})
    assert trip is not None
    assert trip.rail == PRICE_JUMP
    assert "6.00%" in trip.reason
    assert "limit 5.00%" in trip.reason
    # A return to the old price does not clear it: a human looks first.
    assert rails.check_market(NOW, NOW, {"index": 100.5}) is not None
    assert PRICE_JUMP in rails.blocking
    assert rails.resume(NOW) == [PRICE_JUMP]
    assert rails.check_market(NOW, NOW, {"index": 106.0}) is None  # the new reference


def test_disagreeing_sources_pause_while_they_disagree() -> None:
    rails = _rails(max_source_disagreement=0.01)
    trip = rails.check_market(NOW, NOW, {"index": 100.0, "perp": 102.0})
    assert trip is not None
    assert trip.rail == SOURCE_DISAGREEMENT
    assert "index 100.00 vs perp 102.00" in trip.reason
    assert SOURCE_DISAGREEMENT in rails.blocking
    assert rails.check_market(NOW, NOW, {"index": 100.0, "perp": 100.2}) is None
    assert rails.blocking == {}


def test_repeated_venue_errors_halt() -> None:
    rails = _rails(max_venue_errors=3)
    assert rails.venue_error("submit: VenueTimeout") is None
    rails.venue_ok()
    assert rails.venue_error("a") is None
    assert rails.venue_error("b") is None
    trip = rails.venue_error("reports: VenueUnavailable")
    assert trip is not None
    assert trip.rail == VENUE_ERRORS
    assert "3 venue errors in a row" in trip.reason
    assert "VenueUnavailable" in trip.reason
    assert VENUE_ERRORS in rails.blocking


def test_order_notional_cap_refuses_the_decision() -> None:
    rails = _rails(max_order_notional_usd=50_000)
    trip = rails.check_orders(NOW, [_buy(60_000)])
    assert trip is not None
    assert trip.rail == ORDER_NOTIONAL
    assert "60,000 USD (limit 50,000 USD)" in trip.reason
    assert rails.blocking == {}


def test_orders_per_minute_per_instrument() -> None:
    rails = _rails(max_orders_per_minute=2)
    for seconds in (0, 10):
        order = [_buy()]
        assert rails.check_orders(NOW + timedelta(seconds=seconds), order) is None
        rails.record_sent(NOW + timedelta(seconds=seconds), order)
    trip = rails.check_orders(NOW + timedelta(seconds=20), [_buy()])
    assert trip is not None
    assert trip.rail == ORDER_RATE
    assert rails.check_orders(NOW + timedelta(seconds=20), [_buy(name="OTHER")]) is None
    assert rails.check_orders(NOW + timedelta(seconds=61), [_buy()]) is None


def test_daily_turnover_latches_then_clears_next_day() -> None:
    rails = _rails(max_daily_turnover_usd=25_000, max_order_notional_usd=20_000)
    rails.record_sent(NOW, [_buy(15_000)])
    trip = rails.check_orders(NOW + timedelta(minutes=5), [_buy(15_000)])
    assert trip is not None
    assert trip.rail == DAILY_TURNOVER
    assert "30,000 USD (limit 25,000 USD)" in trip.reason
    assert DAILY_TURNOVER in rails.blocking
    assert not rails.new_day(NOW + timedelta(hours=1))
    assert rails.new_day(NOW + timedelta(days=1))
    assert rails.blocking == {}


def test_consecutive_same_side_cap() -> None:
    rails = _rails(max_consecutive_same_side=3, max_orders_per_minute=100)
    for i in range(3):
        assert rails.check_orders(NOW + timedelta(minutes=i), [_buy()]) is None
        rails.record_sent(NOW + timedelta(minutes=i), [_buy()])
    trip = rails.check_orders(NOW + timedelta(minutes=4), [_buy()])
    assert trip is not None
    assert trip.rail == SAME_SIDE
    assert "3 buy orders in a row (limit 3)" in trip.reason
    rails.resume(NOW + timedelta(minutes=5))
    assert rails.check_orders(NOW + timedelta(minutes=6), [_buy()]) is None


def test_a_sell_breaks_the_run() -> None:
    rails = _rails(max_consecutive_same_side=2, max_orders_per_minute=100)
    for i, side in enumerate(("buy", "buy", "sell", "buy")):
        order = [_buy(side=side)]
        assert rails.check_orders(NOW + timedelta(minutes=i), order) is None
        rails.record_sent(NOW + timedelta(minutes=i), order)


def test_kill_and_state_round_trip() -> None:
    rails = _rails()
    rails.kill("operator: maintenance")
    rails.record_sent(NOW, [_buy()])
    rails.check_market(NOW, NOW, {"index": 100.0})
    again = Rails(rails.config, RailsState.from_json(rails.state.to_json()))
    assert again.killed
    assert again.blocking == {KILL: "operator: maintenance"}
    assert again.state.last_price == 100.0
    assert again.state.sent == rails.state.sent


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_a_non_positive_index_trips(bad: float) -> None:
    trip = _rails().check_market(NOW, NOW, {"index": bad})
    assert trip is not None
    assert trip.rail == PRICE_JUMP
