"""Acceptance: delta-gamma-vega hedging of a real Deribit book (bundled 2026-01-26 sample).

A book short near-the-money options of three expiries, with a stale perpetual hedge, is hedged
with three listed options (a short-dated call for gamma, a mid-dated put, a long-dated call for
vega) and BTC-PERPETUAL for delta. Every Greek must end inside its band in whole lots (options
0.1 BTC, perpetual one 10-USD contract), at a cost no higher than a brute-force search finds:
every combination of -30..30 lots of each option, the perpetual sized in closed form for delta.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hedgekeeper.costs import HalfSpread, ProportionalFee, Quote, trade_context
from hedgekeeper.domain import Book, OptionChain, Position, parse_instrument
from hedgekeeper.engine import (
    Components,
    EngineState,
    HedgeInstrument,
    MarketInputs,
    Outcome,
    SizerConfig,
    decide,
)
from hedgekeeper.hedging import HedgeProblem, HedgeStatus, size_hedge
from hedgekeeper.marketdata import (
    load_chain,
    load_perp_prices,
    sample_chain_path,
    sample_perp_path,
)
from hedgekeeper.policies import GreekBands
from hedgekeeper.pricing.exposure import book_exposure
from hedgekeeper.pricing.forward import snapshot_from_chain
from hedgekeeper.risk import CostBenefitGate, LimitsGate

BOOK_LEGS = {"BTC-6FEB26-87000-C": -2.0, "BTC-27FEB26-88000-P": -1.5, "BTC-27MAR26-88000-C": -1.0}
HEDGE_OPTIONS = ("BTC-30JAN26-87000-C", "BTC-13FEB26-88000-P", "BTC-26JUN26-90000-C")
PERP = "BTC-PERPETUAL"
# Bands: delta coin, gamma coin/USD, vega USD per 1.00 vol (15 USD per vol point).
HALFWIDTH = np.array([0.05, 1.0e-5, 1_500.0])
# Deribit: options 0.03 % of the underlying capped at 12.5 % of the premium, plus half the spread.
COST = ProportionalFee(taker_bps=3.0, cap_fraction_of_price=0.125) + HalfSpread()
SEARCH = range(-30, 31)


@pytest.fixture(scope="module")
def market() -> tuple[OptionChain, MarketInputs]:
    chain = load_chain(sample_chain_path())
    perp = load_perp_prices(sample_perp_path(), "BTC").at(chain.timestamp)
    snapshot = snapshot_from_chain(chain, perp_prices={PERP: perp})
    rows = chain.locate(list(HEDGE_OPTIONS))
    quotes = {name: Quote(bid=float(chain.bid[i]), ask=float(chain.ask[i]))
              for name, i in zip(HEDGE_OPTIONS, rows, strict=True)}
    # The sample has no perpetual order book: a one-tick (0.5 USD) spread around its price.
    quotes[PERP] = Quote(bid=perp - 0.25, ask=perp + 0.25)
    return chain, MarketInputs(snapshot=snapshot, quotes=quotes, realised_vol=0.45)


def _book(chain: OptionChain) -> Book:
    options = {o.name: o for o in chain.options}
    legs = tuple(Position(instrument=options[name], quantity=quantity)
                 for name, quantity in BOOK_LEGS.items())
    # A stale perpetual hedge: 30,000 contracts of 10 USD (about +3.4 BTC).
    return Book((*legs, Position(instrument=parse_instrument(PERP), quantity=30_000.0)))


def _problem(chain: OptionChain, market: MarketInputs) -> HedgeProblem:
    snapshot = market.snapshot
    book = book_exposure(_book(chain), snapshot).by_underlying.row("BTC")
    exposure = np.array([book["delta_coin"], book["gamma_coin_per_usd"],
                         100.0 * book["vega_per_vol_point"]])
    options = {o.name: o for o in chain.options}
    hedges = [options[name] for name in HEDGE_OPTIONS] + [parse_instrument(PERP)]
    one_each = book_exposure(Book(tuple(Position(instrument=h, quantity=1.0) for h in hedges)),
                             snapshot).per_position
    sensitivity = np.column_stack([one_each.delta_coin, one_each.gamma_coin_per_usd,
                                   100.0 * one_each.vega_per_vol_point])
    return HedgeProblem(
        greeks=("delta", "gamma", "vega"), exposure=exposure, lower=-HALFWIDTH, upper=HALFWIDTH,
        instruments=tuple(h.name for h in hedges), sensitivity=sensitivity,
        lot=np.array([h.lot_size for h in hedges]), max_order=np.array([50.0, 50.0, 50.0, 1e7]),
        cost_model=COST, context=trade_context(hedges, market.quotes, snapshot),
        position=np.array([0.0, 0.0, 0.0, 30_000.0]),
    )


def _brute_force(problem: HedgeProblem) -> tuple[float, np.ndarray]:
    """Least cost over SEARCH lots of each option, the perpetual in closed form for delta."""
    lots = np.array(list(itertools.product(SEARCH, repeat=3)), dtype=np.float64)
    trades = np.zeros((lots.shape[0], 4))
    trades[:, :3] = lots * problem.lot[:3]
    after = problem.exposure + trades @ problem.sensitivity
    tol = problem.tolerance
    ok = np.all((after[:, 1:] >= problem.lower[1:] - tol[1:])
                & (after[:, 1:] <= problem.upper[1:] + tol[1:]), axis=1)
    per_lot = problem.sensitivity[3, 0] * problem.lot[3]
    ends = np.sort(np.stack([(problem.lower[0] - after[:, 0]) / per_lot,
                             (problem.upper[0] - after[:, 0]) / per_lot]), axis=0)
    low, high = np.ceil(ends[0] - 1e-9), np.floor(ends[1] + 1e-9)
    ok &= low <= high
    # Cheapest perpetual count: the whole lot of the delta interval nearest zero.
    trades[:, 3] = np.where(low > 0, low, np.where(high < 0, high, 0.0)) * problem.lot[3]
    final = problem.exposure + trades @ problem.sensitivity
    ok &= np.all((final >= problem.lower - tol) & (final <= problem.upper + tol), axis=1)
    cost = np.sum(problem.cost_model.cost(trades, problem.context), axis=1)
    cost = np.where(ok, cost, np.inf)
    best = int(np.argmin(cost))
    return float(cost[best]), trades[best]


def test_book_is_off_band_in_every_greek(market: tuple[OptionChain, MarketInputs]) -> None:
    problem = _problem(*market)
    assert np.all(np.abs(problem.exposure) > 10 * HALFWIDTH)


def test_milp_hedge_is_in_band_with_whole_lots_and_beats_brute_force(
    market: tuple[OptionChain, MarketInputs],
) -> None:
    problem = _problem(*market)
    result = size_hedge(problem)
    assert result.status is HedgeStatus.OK, result.reason
    assert result.trades[3] < 0.0  # sells perpetual contracts
    lots = result.trades / problem.lot
    np.testing.assert_allclose(lots, np.round(lots), rtol=0, atol=1e-9)
    assert np.all(np.abs(result.exposure_after) <= HALFWIDTH * (1 + 1e-9))
    np.testing.assert_allclose(result.exposure_after,
                               problem.exposure + result.trades @ problem.sensitivity)
    assert result.cost_usd == pytest.approx(float(np.sum(COST.cost(result.trades,
                                                                   problem.context))))
    best_cost, best_trades = _brute_force(problem)
    assert np.isfinite(best_cost), "the brute-force range holds no in-band hedge"
    assert np.all(np.abs(problem.greeks_after(best_trades)) <= HALFWIDTH * (1 + 1e-9))
    assert result.cost_usd <= best_cost * (1 + 1e-9)
    # The option legs are within the search box, so the MILP's optimum is the brute force's.
    if np.all(np.abs(lots[:3]) <= SEARCH.stop - 1):
        assert result.cost_usd == pytest.approx(best_cost, rel=1e-9)


def test_engine_hedges_the_real_book_into_its_bands(
    market: tuple[OptionChain, MarketInputs],
) -> None:
    chain, inputs = market
    options = {o.name: o for o in chain.options}
    policy = GreekBands(gamma_halfwidth=4e-5, vega_halfwidth=6_000.0, delta_halfwidth=0.2)
    hedges = tuple(HedgeInstrument(options[name], max_order=50.0) for name in HEDGE_OPTIONS)
    components = Components(
        policy=policy,
        sizer=SizerConfig((*hedges, HedgeInstrument(parse_instrument(PERP), max_order=1e7))),
        cost_model=COST,
        gates=(CostBenefitGate(risk_aversion=1e-4, horizon_years=1 / 365, vol_of_vol=1.0),
               LimitsGate(max_order_notional_usd=5e6)),
    )
    decision = decide(EngineState(_book(chain)), inputs, components)
    assert decision.outcome is Outcome.TRADE, decision.reason
    assert decision.policy == "GreekBands"
    after = decision.exposure_after
    # Centre targets within 25 % of each band's half-width.
    assert abs(after.delta) <= 0.25 * 0.2 * (1 + 1e-9)
    assert abs(after.gamma) <= 0.25 * 4e-5 * (1 + 1e-9)
    assert abs(after.vega) <= 0.25 * 6_000.0 * (1 + 1e-9)
    assert decision.benefit_usd is not None
    assert decision.cost_usd is not None
    assert decision.benefit_usd > decision.cost_usd
    for order in decision.orders:
        lot = 1.0 if order.instrument == PERP else 0.1
        assert order.quantity / lot == pytest.approx(round(order.quantity / lot), abs=1e-9)
