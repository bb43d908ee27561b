"""The simulated venue: fills at mid, costs by the same models the sizer used, cash and marks."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from hedgekeeper.backtest import CostTerms, SimVenue, binance_perpetual
from hedgekeeper.backtest.book import linear_option
from hedgekeeper.costs import HalfSpread, ProportionalFee, Quote, SquareRootImpact, trade_context
from hedgekeeper.domain.instruments import OptionKind
from hedgekeeper.domain.market import ForwardQuote, ForwardSource, MarketSnapshot

NOW = datetime(2022, 11, 9, 8, tzinfo=UTC)
EXPIRY = datetime(2022, 12, 9, 8, tzinfo=UTC)
PERP = binance_perpetual()
CALL = linear_option("BTC", "USDC", EXPIRY, 17_000.0, OptionKind.CALL)
SNAPSHOT = MarketSnapshot(timestamp=NOW, underlying="BTC", index_price=17_000.0,
                          forwards={EXPIRY: ForwardQuote(EXPIRY, 17_000.0,
                                                         ForwardSource.LISTED_UNDERLYING)})
QUOTES = {PERP.name: Quote(bid=16_999.0, ask=17_001.0, daily_volume=2e5, daily_volatility=0.05),
          CALL.name: Quote(bid=990.0, ask=1010.0, daily_volume=500.0, daily_volatility=0.4)}
TERMS = CostTerms(ProportionalFee(taker_bps=5.0), HalfSpread(), SquareRootImpact(eta=0.5))


def test_fill_costs_are_the_sizers_cost_model_term_by_term() -> None:
    venue = SimVenue(costs=TERMS)
    fills = venue.execute([(PERP, 2.5), (CALL, -3.0)], QUOTES, SNAPSHOT)
    model = TERMS.model
    for fill, instrument in zip(fills, (PERP, CALL), strict=True):
        context = trade_context([instrument], QUOTES, SNAPSHOT)
        expected = float(model.cost(np.array([fill.quantity]), context)[0])
        assert fill.cost_usd == pytest.approx(expected, rel=1e-12)
        assert fill.price == QUOTES[instrument.name].mid
    perp, call = fills
    assert perp.fee_usd == pytest.approx(5e-4 * 2.5 * 17_000.0)
    assert perp.spread_usd == pytest.approx(2.5 * 1.0)
    assert call.spread_usd == pytest.approx(3.0 * 10.0)
    assert venue.positions == {PERP.name: 2.5, CALL.name: -3.0}
    cash = -2.5 * 17_000.0 + 3.0 * 1000.0 - perp.cost_usd - call.cost_usd
    assert venue.cash_usd == pytest.approx(cash)
    marks = {PERP.name: 17_100.0, CALL.name: 1100.0}
    assert venue.value_usd(marks) == pytest.approx(cash + 2.5 * 17_100.0 - 3.0 * 1100.0)


def test_uncharged_fills_settlement_and_funding() -> None:
    venue = SimVenue(costs=TERMS)
    venue.execute([(CALL, -2.0)], QUOTES, SNAPSHOT, purpose="roll", charge=False)
    assert venue.fills[0].cost_usd == 0.0
    assert venue.settle(CALL.name, 500.0) == -1000.0
    assert CALL.name not in venue.positions
    venue.execute([(PERP, -4.0)], QUOTES, SNAPSHOT)
    assert venue.pay_funding(PERP.name, 1e-4, 17_000.0) == pytest.approx(4.0 * 1.7)
    with pytest.raises(ValueError, match="only options settle"):
        venue.settle(PERP.name, 1.0)


def test_zero_cost_terms() -> None:
    venue = SimVenue(costs=CostTerms(None, None, None))
    (fill,) = venue.execute([(PERP, 1.0)], QUOTES, SNAPSHOT)
    assert fill.cost_usd == 0.0
    context = trade_context([PERP], QUOTES, SNAPSHOT)
    assert float(venue.costs.model.cost(np.array([1.0]), context)[0]) == 0.0
