"""Venue quotes to USD per-contract cost inputs."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from hedgekeeper.costs import HalfSpread, ProportionalFee, Quote, trade_context
from hedgekeeper.domain import ForwardQuote, ForwardSource, MarketSnapshot, parse_instrument

NOW = datetime(2026, 1, 26, 9, 0, tzinfo=UTC)
EXPIRY = datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
SNAPSHOT = MarketSnapshot(
    timestamp=NOW, underlying="BTC", index_price=88_000.0,
    forwards={EXPIRY: ForwardQuote(EXPIRY, 88_600.0, ForwardSource.LISTED_UNDERLYING)},
)
CALL = parse_instrument("BTC-27MAR26-90000-C")
PERP = parse_instrument("BTC-PERPETUAL")
LINEAR_PERP = parse_instrument("BTC_USDC-PERPETUAL")


def test_inverse_option_premium_converts_at_the_forward() -> None:
    context = trade_context([CALL], {CALL.name: Quote(bid=0.056, ask=0.057)}, SNAPSHOT)
    assert float(context.bid_usd[0]) == pytest.approx(0.056 * 88_600.0)
    assert float(context.ask_usd[0]) == pytest.approx(0.057 * 88_600.0)
    assert float(context.notional_usd[0]) == pytest.approx(88_000.0)
    # Half spread of 0.0005 BTC at the forward: 44.3 USD per option.
    assert float(HalfSpread().cost(1.0, context)[0]) == pytest.approx(44.3)


def test_inverse_perpetual_contract_is_worth_its_face() -> None:
    context = trade_context([PERP], {PERP.name: Quote(bid=87_999.0, ask=88_001.0)}, SNAPSHOT)
    assert float(context.notional_usd[0]) == 10.0
    # Crossing half a 2 USD spread on a 10 USD face: 10 * 1 / 88,000 USD per contract.
    assert float(HalfSpread().cost(1.0, context)[0]) == pytest.approx(10.0 / 88_000.0)
    assert float(ProportionalFee(taker_bps=5.0).cost(1.0, context)[0]) == pytest.approx(0.005)


def test_linear_perpetual_in_quote_currency() -> None:
    quote = Quote(bid=87_990.0, ask=88_010.0, daily_volume=1e5, daily_volatility=0.03)
    context = trade_context([LINEAR_PERP], {LINEAR_PERP.name: quote}, SNAPSHOT)
    size = LINEAR_PERP.contract_size
    assert float(context.bid_usd[0]) == pytest.approx(87_990.0 * size)
    assert float(context.notional_usd[0]) == pytest.approx(88_000.0 * size)
    assert float(context.daily_volume[0]) == 1e5
    assert float(context.daily_volatility[0]) == 0.03


def test_missing_quote_and_bad_quotes_are_named() -> None:
    with pytest.raises(ValueError, match="BTC-PERPETUAL"):
        trade_context([PERP], {}, SNAPSHOT)
    with pytest.raises(ValueError, match="bid"):
        Quote(bid=2.0, ask=1.0)
    with pytest.raises(ValueError, match="bid"):
        Quote(bid=0.0, ask=1.0)
    with pytest.raises(ValueError, match="daily_volume"):
        Quote(bid=1.0, ask=1.0, daily_volume=-1.0)
    assert math.isnan(Quote(bid=1.0, ask=2.0).daily_volume)
    assert Quote(bid=1.0, ask=2.0).mid == 1.5


def test_other_underlying_is_refused() -> None:
    eth = parse_instrument("ETH-PERPETUAL")
    with pytest.raises(ValueError, match="ETH"):
        trade_context([eth], {eth.name: Quote(bid=1.0, ask=2.0)}, SNAPSHOT)
