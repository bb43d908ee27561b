"""Historical replay: accounting identities, costs, funding, rolls, fills and no look-ahead."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from hedgekeeper.backtest import (
    BacktestResult,
    BacktestSetup,
    CostTerms,
    HedgeOptionSpec,
    HistoricalMarket,
    RollingBook,
    daily_pnl,
    load_market,
    run_backtest,
    summarise,
)
from hedgekeeper.backtest.samples import bundled_market_files
from hedgekeeper.costs import HalfSpread, ProportionalFee, SquareRootImpact
from hedgekeeper.domain.market import to_datetime64
from hedgekeeper.policies import Calendar, DeltaBand, GreekBands, Policy, WhalleyWilmottBand
from hedgekeeper.pricing.black import black76

START = datetime(2022, 11, 7, 8, tzinfo=UTC)
END = datetime(2022, 11, 11, 8, tzinfo=UTC)  # the FTX crash, 96 hourly steps
HOUR = 1.0 / 8760.0
COSTS = CostTerms(ProportionalFee(taker_bps=5.0), HalfSpread(), SquareRootImpact(eta=0.5))
FREE = CostTerms(None, None, None)


@pytest.fixture(scope="module")
def market() -> HistoricalMarket:
    return load_market(bundled_market_files(), coin="BTC", symbol="BTCUSDT", start=START,
                       end=END)


def _setup(costs: CostTerms = COSTS, tenor_days: int = 2, **kwargs: object) -> BacktestSetup:
    return BacktestSetup(book=RollingBook.straddle(-10.0, tenor_days=tenor_days,
                                                   strike_step=500.0),
                         costs=costs, **kwargs)  # type: ignore[arg-type]


def _identity_gap(r: BacktestResult) -> float:
    rebuilt = r.option_pnl + r.hedge_pnl - r.fees - r.spread - r.impact + r.funding
    return float(np.max(np.abs(r.equity - rebuilt)))


@pytest.mark.parametrize("policy", [DeltaBand(0.5), Calendar(HOUR),
                                    WhalleyWilmottBand(cost=0.00055, risk_aversion=1e-4)])
def test_equity_is_option_plus_hedge_minus_costs_plus_funding(market: HistoricalMarket,
                                                              policy: Policy) -> None:
    result = run_backtest(market, _setup(), policy)
    assert len(result) == len(market) == 97
    # equity comes from the simulated venue's cash and marks; the categories from the fills
    assert _identity_gap(result) < 1e-6 * max(1.0, float(np.max(np.abs(result.equity))))
    assert result.fees[-1] > 0.0
    assert result.spread[-1] > 0.0
    assert result.impact[-1] > 0.0
    assert np.all(np.diff(result.fees) >= 0.0)
    assert result.rebalanced.sum() > 0
    assert result.funding[-1] != 0.0


def test_costs_are_charged_in_full(market: HistoricalMarket) -> None:
    # A calendar to a point trades the same quantities whatever the costs; the equity gap of
    # the two runs is exactly the costs paid.
    policy = Calendar(HOUR)
    costly = run_backtest(market, _setup(COSTS), policy)
    free = run_backtest(market, _setup(FREE), policy)
    np.testing.assert_array_equal(costly.traded_coin, free.traded_coin)
    assert free.costs[-1] == 0.0
    np.testing.assert_allclose(free.equity - costly.equity, costly.costs, rtol=1e-9, atol=1e-6)
    hedges = [f for f in costly.fills if f.purpose == "hedge"]
    fee = sum(5e-4 * abs(f.quantity) * f.price for f in hedges)
    spread = sum(0.5e-4 * abs(f.quantity) * f.price for f in hedges)  # half spread 0.5 bp
    assert costly.fees[-1] == pytest.approx(fee, rel=1e-12)
    assert costly.spread[-1] == pytest.approx(spread, rel=1e-9)


def test_funding_paid_on_the_position_held_through_each_settlement(
        market: HistoricalMarket) -> None:
    result = run_backtest(market, _setup(FREE), DeltaBand(0.5))
    expected = 0.0
    for when, rate in zip(market.funding_time, market.funding_rate, strict=True):
        step = int(np.searchsorted(market.time, when))
        assert market.time[step] == when  # settlements fall on bar closes
        if step == 0:
            continue  # nothing was held before the first step
        held = result.hedge_position[step - 1]
        expected += -held * float(market.perp_mark[step]) * float(rate)
    assert expected != 0.0
    assert result.funding[-1] == pytest.approx(expected, rel=1e-12)


def test_hedge_fills_at_the_close_and_option_legs_at_model_mid(market: HistoricalMarket) -> None:
    result = run_backtest(market, _setup(), DeltaBand(0.5))
    closes = dict(zip(market.time.tolist(), market.perp_close.tolist(), strict=True))
    hedges = [f for f in result.fills if f.purpose == "hedge"]
    assert hedges
    for fill in hedges:
        assert fill.price == closes[to_datetime64(fill.time).item()]
    legs = [f for f in result.fills if f.purpose == "roll"]
    first = [f for f in legs if f.time == START]
    assert {f.instrument[-1] for f in first} == {"C", "P"}
    index = float(market.index[0])
    strike = round(index / 500.0) * 500.0
    for fill in first:
        assert fill.quantity == -10.0
        assert fill.cost_usd == 0.0
        kind = 1 if fill.instrument.endswith("C") else -1
        t = 2.0 / 365.0  # 08:00 to 08:00 two days later
        vol = float(market.implied_vol[0])
        assert fill.price == pytest.approx(float(black76(index, strike, t, 0.0, vol, kind).price),
                                           rel=1e-12)


def test_next_open_fills_at_the_following_bar_open(market: HistoricalMarket) -> None:
    result = run_backtest(market, _setup(fill="next_open"), DeltaBand(0.5))
    opens = dict(zip(market.time.tolist(), market.perp_open.tolist(), strict=True))
    hedges = [f for f in result.fills if f.purpose == "hedge"]
    assert hedges
    for fill in hedges:
        # the fill is stamped with the decision's snapshot; it executes at the next bar's open
        decided = to_datetime64(fill.time)
        nxt = (decided + np.timedelta64(1, "h")).item()
        assert fill.price == opens[nxt]
    assert _identity_gap(result) < 1e-6 * float(np.max(np.abs(result.equity)))


def test_expiring_legs_settle_at_intrinsic_and_roll(market: HistoricalMarket) -> None:
    result = run_backtest(market, _setup(FREE), DeltaBand(1.0))
    rolls = np.flatnonzero(result.rolled)
    assert rolls.tolist() == [0, 48, 96]  # every two days at 08:00
    step = 48
    before = result.option_pnl[step - 1]
    old = [f for f in result.fills if f.purpose == "roll" and f.time == START]
    strike = float(old[0].instrument.split("-")[2])
    index = float(market.index[step])
    payoff = 10.0 * abs(index - strike)  # short 10 calls and 10 puts at one strike
    # change over the step = mark-to-model of the old legs to intrinsic, then a new premium
    # received that equals the new legs' mark: the step's option P&L is the old legs' move.
    vol = float(market.implied_vol[step - 1])
    t_prev = 1.0 / 8760.0
    prev_index = float(market.index[step - 1])
    old_mark = -10.0 * sum(float(black76(prev_index, strike, t_prev, 0.0, vol, k).price)
                           for k in (1, -1))
    assert result.option_pnl[step] - before == pytest.approx(-payoff - old_mark, rel=1e-9)


def test_hedging_reduces_the_daily_pnl_variability(market: HistoricalMarket) -> None:
    result = run_backtest(market, _setup(tenor_days=30), Calendar(HOUR))
    summary = summarise(result)
    assert summary.hedge_error_ratio < 0.7
    assert summary.unhedged_std_usd == pytest.approx(float(np.std(
        daily_pnl(result, "option_pnl"), ddof=1)))
    assert summary.max_abs_delta_coin < 5.0
    assert summary.rebalances >= 80


def test_a_decision_does_not_change_when_the_future_changes(market: HistoricalMarket) -> None:
    cut = START + timedelta(hours=40)
    k = int(np.searchsorted(market.time, to_datetime64(cut)))
    assert market.time[k] == to_datetime64(cut)
    changed = market.perturbed_after(cut, 1.3)
    assert not np.array_equal(changed.perp_close, market.perp_close)
    for policy in (DeltaBand(0.5), WhalleyWilmottBand(cost=0.00055, risk_aversion=1e-4)):
        base = run_backtest(market, _setup(), policy)
        other = run_backtest(changed, _setup(), policy)
        upto = slice(0, k + 1)
        for name in ("traded_coin", "hedge_position", "net_delta_before", "equity", "fees",
                     "funding", "band_lower"):
            np.testing.assert_array_equal(getattr(base, name)[upto], getattr(other, name)[upto],
                                          err_msg=name)
        np.testing.assert_array_equal(base.outcome[upto], other.outcome[upto])
        # and the perturbation does reach the later steps (the test can fail)
        assert not np.allclose(base.equity[k + 1:], other.equity[k + 1:])


def test_delta_gamma_policy_trades_the_hedge_option(market: HistoricalMarket) -> None:
    setup = _setup(tenor_days=30, hedge_option=HedgeOptionSpec(tenor_days=60, max_order=50.0))
    policy = GreekBands(gamma_halfwidth=1.5e-3, delta_halfwidth=1.0)
    result = run_backtest(market, setup, policy, trade_options=True)
    options = [f for f in result.fills if f.purpose == "hedge" and f.instrument.endswith("-C")]
    assert options
    assert all(f.quantity > 0 for f in options[:1])
    after = np.abs(result.gamma[1:])
    plain = run_backtest(market, setup, DeltaBand(1.0))
    assert float(np.mean(after)) < 0.8 * float(np.mean(np.abs(plain.gamma[1:])))
    assert _identity_gap(result) < 1e-6 * float(np.max(np.abs(result.equity)))
    with pytest.raises(ValueError, match="hedge_option"):
        run_backtest(market, _setup(), policy, trade_options=True)


def test_band_probe_matches_the_policy(market: HistoricalMarket) -> None:
    result = run_backtest(market, _setup(), DeltaBand(0.75))
    np.testing.assert_allclose(result.band_lower, -0.75)
    np.testing.assert_allclose(result.band_upper, 0.75)
    assert np.all(np.isnan(run_backtest(market, _setup(), Calendar(HOUR)).band_lower))


def test_setup_validation() -> None:
    with pytest.raises(ValueError, match="tenor_days"):
        _setup(tenor_days=30, hedge_option=HedgeOptionSpec(tenor_days=20))
    with pytest.raises(ValueError, match="fill"):
        _setup(fill="tomorrow")
    with pytest.raises(ValueError, match="half_spread_bps"):
        _setup(half_spread_bps=-1.0)
    assert math.isfinite(_setup().atm_ratio)


def test_decide_is_cheap_enough_for_hourly_replays(market: HistoricalMarket) -> None:
    # A month of hours x 7 policies must run well under a minute: ~ 5,000 steps, so a step
    # must cost well under 12 ms. Generous bound for a loaded CI machine.
    import time

    started = time.perf_counter()
    run_backtest(market, _setup(), DeltaBand(0.5))
    per_step = (time.perf_counter() - started) / len(market)
    assert per_step < 0.012


def test_the_book_pnl_does_not_depend_on_the_hedge(market: HistoricalMarket) -> None:
    # A 4-day hedge series listed at one roll has the expiry of the 2-day book legs opened at
    # the next; with a coarse strike step they are the same instrument. The hedge is closed
    # before the new legs open, so the book's P&L is the same under every policy.
    setup = BacktestSetup(book=RollingBook.straddle(-10.0, tenor_days=2, strike_step=5000.0),
                          costs=FREE, hedge_option=HedgeOptionSpec(tenor_days=4))
    gamma = run_backtest(market, setup, GreekBands(gamma_halfwidth=1e-3, delta_halfwidth=1.0),
                         trade_options=True)
    plain = run_backtest(market, setup, DeltaBand(1.0))
    hedge_names = {f.instrument for f in gamma.fills if f.purpose == "hedge"}
    book_names = {f.instrument for f in gamma.fills if f.purpose == "roll" and f.cost_usd == 0.0}
    assert hedge_names & book_names  # the collision this test is about does happen
    np.testing.assert_allclose(gamma.option_pnl, plain.option_pnl, rtol=1e-12, atol=1e-6)
    assert _identity_gap(gamma) < 1e-6 * float(np.max(np.abs(gamma.equity)))
