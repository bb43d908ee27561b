"""Target-weight portfolio backtest: hand-computed bars, costs, no look-ahead, kernel = policies."""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt
import pytest

from hedgekeeper.backtest.weights import (
    WeightCosts,
    backtest_weights,
    portfolio_prices,
)
from hedgekeeper.policies import (
    Calendar,
    HedgeTarget,
    MinTradeSize,
    Policy,
    PolicyView,
    Reason,
    WeightBand,
)
from hedgekeeper.sim.paths import HOUR

FloatArray = npt.NDArray[np.float64]
START = 50.0  # years since the epoch (2020-01-01 and a bit): any origin works


def random_market(n_bars: int, n_risky: int, seed: int) -> tuple[FloatArray, FloatArray]:
    rng = np.random.default_rng(seed)
    log_returns = rng.normal(0.0, 0.012, (n_bars, n_risky))
    log_returns[0] = 0.0
    risky = 100.0 * np.exp(np.cumsum(log_returns, axis=0))
    prices: FloatArray = np.hstack([risky, np.ones((n_bars, 1))])
    return prices, START + np.arange(n_bars, dtype=np.float64) * HOUR


TARGET = np.array([0.4, 0.3, 0.2, 0.1])


def test_three_bars_by_hand() -> None:
    prices = np.array([[100.0, 50.0, 1.0], [110.0, 50.0, 1.0], [130.0, 45.0, 1.0]])
    times = START + np.arange(3) * HOUR
    result = backtest_weights(
        prices,
        times,
        [0.5, 0.3, 0.2],
        WeightBand(absolute=0.05),
        costs=WeightCosts(fee_bps=10.0),
        initial_value=1000.0,
    )
    # Bar 0: all cash -> buy 5 A (500 USD) and 6 B (300 USD); fee 0.1 % of 800 = 0.8.
    # Bar 1: A 550, B 300, cash 199.2 -> weights 0.524, 0.286, 0.190: inside the 5-point band.
    # Bar 2: A 650, B 270, cash 199.2, V = 1119.2 -> w_A = 0.5808 > 0.55: rebalance to target:
    #   A to 0.5 * 1119.2 / 130 = 4.304615 (sell 0.695385 = 90.40 USD),
    #   B to 0.3 * 1119.2 / 45 = 7.461333 (buy 1.461333 = 65.76 USD), fee 0.15616.
    np.testing.assert_array_equal(result.rebalance, [True, False, True])
    np.testing.assert_allclose(result.fees, [0.8, 0.0, 0.15616], rtol=1e-12)
    np.testing.assert_allclose(result.equity, [999.2, 1049.2, 1119.2 - 0.15616], rtol=1e-12)
    np.testing.assert_allclose(
        result.holdings[2], [0.5 * 1119.2 / 130, 0.3 * 1119.2 / 45, 223.84 - 0.15616], rtol=1e-12
    )
    np.testing.assert_allclose(result.trades[1], 0.0)
    np.testing.assert_allclose(result.turnover, [800.0, 0.0, 90.4 + 65.76], rtol=1e-12)
    assert result.rebalances == 2
    log = result.trade_log(["A", "B", "USDT"])
    assert list(log["asset"]) == ["A", "B", "A", "B"]
    assert list(log["side"]) == ["buy", "buy", "sell", "buy"]
    np.testing.assert_allclose(log["notional_usd"], [500.0, 300.0, 90.4, 65.76], rtol=1e-12)


def test_fees_and_slippage_on_one_buy() -> None:
    prices = np.array([[200.0, 1.0], [200.0, 1.0]])
    times = START + np.arange(2) * HOUR
    fee, slip = 10.0, 25.0
    result = backtest_weights(
        prices,
        times,
        [0.6, 0.4],
        Calendar(interval=1.0),
        costs=WeightCosts(fee_bps=fee, slippage_bps=slip),
        initial_value=10_000.0,
    )
    quantity = 0.6 * 10_000.0 / 200.0
    fill = 200.0 * (1.0 + slip / 1e4)
    assert result.trades[0, 0] == pytest.approx(quantity, rel=1e-14)
    assert result.slippage[0] == pytest.approx(quantity * 200.0 * slip / 1e4, rel=1e-12)
    assert result.fees[0] == pytest.approx(quantity * fill * fee / 1e4, rel=1e-12)
    cash = 10_000.0 - quantity * fill * (1.0 + fee / 1e4)
    assert result.holdings[0, 1] == pytest.approx(cash, rel=1e-12)
    # Equity marks at the close: the loss vs the start is exactly the costs paid.
    assert result.equity[0] == pytest.approx(10_000.0 - result.costs[0], rel=1e-12)
    assert not result.rebalance[1]  # one-year calendar: not due an hour later
    stats = result.statistics()
    assert stats.costs == pytest.approx(stats.fees + stats.slippage)
    assert stats.rebalances == 1


def test_sells_receive_less_by_slippage_and_pay_fees() -> None:
    prices = np.array([[100.0, 1.0], [100.0, 1.0]])
    times = START + np.arange(2) * HOUR
    result = backtest_weights(
        prices,
        times,
        [0.2, 0.8],
        WeightBand(absolute=0.01),
        costs=WeightCosts(fee_bps=20.0, slippage_bps=30.0),
        initial_value=1000.0,
        initial_weights=[1.0, 0.0],
    )
    sold = 8.0  # from 10 units (all of it) to 2
    assert result.trades[0, 0] == pytest.approx(-sold)
    received = sold * 100.0 * (1 - 30e-4) * (1 - 20e-4)
    assert result.holdings[0, 1] == pytest.approx(received, rel=1e-12)


def test_no_look_ahead() -> None:
    prices, times = random_market(600, 3, seed=11)
    policy = WeightBand(relative=0.05, hedge_to="edge")
    costs = WeightCosts(fee_bps=10.0, slippage_bps=5.0)
    base = backtest_weights(prices, times, TARGET, policy, costs=costs)
    cut = 300
    changed = prices.copy()
    changed[cut + 1 :, :3] *= np.random.default_rng(3).uniform(0.5, 1.5, (599 - cut, 3))
    other = backtest_weights(changed, times, TARGET, policy, costs=costs)
    for name in ("equity", "trades", "fees", "slippage", "rebalance"):
        np.testing.assert_array_equal(
            getattr(base, name)[: cut + 1], getattr(other, name)[: cut + 1], err_msg=name
        )
    assert not np.array_equal(base.equity[cut + 1 :], other.equity[cut + 1 :])


POLICIES: dict[str, Policy] = {
    "band-relative-centre": WeightBand(relative=0.05),
    "band-absolute-edge": WeightBand(absolute=0.02, hedge_to="edge"),
    "band-5-25-edge": WeightBand(absolute=0.03, relative=0.25, hedge_to="edge"),
    "calendar-daily": Calendar(interval=1.0 / 365.0),
    "calendar-aligned": Calendar(interval=1.0 / 365.0, align_to=dt.time(8, 0)),
}


@pytest.mark.parametrize("name", list(POLICIES))
def test_kernel_agrees_with_policy_engine(name: str) -> None:
    prices, times = random_market(1500, 3, seed=5)
    policy = POLICIES[name]
    costs = WeightCosts(fee_bps=10.0, slippage_bps=5.0)
    kernel = backtest_weights(prices, times, TARGET, policy, costs=costs, engine="kernel")
    engine = backtest_weights(prices, times, TARGET, policy, costs=costs, engine="policy")
    assert (kernel.engine, engine.engine) == ("kernel", "policy")
    assert kernel.rebalances > 3
    np.testing.assert_array_equal(kernel.rebalance, engine.rebalance)
    np.testing.assert_allclose(kernel.equity, engine.equity, rtol=1e-13)
    np.testing.assert_allclose(kernel.trades, engine.trades, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(kernel.fees, engine.fees, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(kernel.slippage, engine.slippage, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("name", list(POLICIES))
def test_kernel_decisions_are_the_policy_objects_decisions(name: str) -> None:
    """At every bar, the policy object shown the kernel's drifted weights decides what the
    kernel did: the same bars fire, and the kernel trades to the policy's target weights."""
    prices, times = random_market(800, 3, seed=9)
    policy = POLICIES[name]
    result = backtest_weights(prices, times, TARGET, policy, engine="kernel")
    drifted = result.drifted_weights
    last = np.nan
    for bar in range(len(times)):
        view = PolicyView(
            time=times[bar : bar + 1],
            spot=np.ones(1),
            net_delta=np.zeros(1),
            data_time=times[bar : bar + 1],
            last_rebalance_time=np.array([last]),
            weights=drifted[bar : bar + 1],
            target_weights=TARGET[None, :],
        )
        decision = policy.decide(view)
        fired = decision is not None and bool(decision.rebalance[0])
        assert fired == bool(result.rebalance[bar]), f"bar {bar}"
        if fired:
            assert decision is not None
            assert decision.weights is not None
            # no costs: post-trade weights are exactly the policy's targets
            np.testing.assert_allclose(result.weights[bar], decision.weights[0], atol=1e-13)
            last = times[bar]


def test_band_keeps_weights_inside_and_calendar_counts() -> None:
    prices, times = random_market(24 * 40, 3, seed=2)
    band = backtest_weights(prices, times, TARGET, WeightBand(absolute=0.03))
    assert np.all(np.abs(band.weights - TARGET) <= 0.03 + 1e-12)
    daily = backtest_weights(prices, times, TARGET, Calendar(interval=1.0 / 365.0))
    assert daily.rebalances == 40
    stats = daily.statistics()
    assert stats.bars == 24 * 40
    assert stats.tracking_error > 0.0
    assert stats.engine == "kernel"


def test_combinator_runs_on_the_policy_engine() -> None:
    prices, times = random_market(400, 3, seed=4)
    band = WeightBand(absolute=0.01)
    plain = backtest_weights(prices, times, TARGET, band)
    gated = backtest_weights(
        prices, times, TARGET, MinTradeSize(band, min_turnover=0.02), engine="auto"
    )
    assert gated.engine == "policy"
    assert 0 < gated.rebalances < plain.rebalances


def test_initial_weights_start_invested_without_cost() -> None:
    prices, times = random_market(10, 3, seed=1)
    result = backtest_weights(
        prices,
        times,
        TARGET,
        WeightBand(relative=0.5),
        costs=WeightCosts(50.0),
        initial_value=100.0,
        initial_weights=TARGET,
    )
    assert not result.rebalance[0]
    assert result.equity[0] == pytest.approx(100.0)


class FiresWithoutWeights:
    """A delta-only policy that always fires: no target weights to trade to."""

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        n = view.size
        return HedgeTarget(
            rebalance=np.ones(n, dtype=bool),
            reason=np.full(n, Reason.SCHEDULE),
            policy=np.full(n, "fake"),
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prices": [[1.0, np.nan], [1.0, 1.0]]}, "prices must be finite and > 0"),
        ({"prices": [[1.0, 1.0]] * 2, "target_weights": [0.5, 0.6]}, "target_weights must sum"),
        ({"target_weights": [1.2, -0.2]}, "target_weights must be finite and >= 0"),
        ({"times": [2.0, 1.0]}, "times must be finite and strictly increasing"),
        ({"times": [1.0]}, "times must have shape"),
        ({"cash_asset": 5}, "cash_asset must index"),
        ({"initial_value": 0.0}, "initial_value must be > 0"),
        ({"engine": "fast"}, "engine must be"),
        (
            {"policy": MinTradeSize(WeightBand(0.1), min_turnover=0.1), "engine": "kernel"},
            "engine='kernel' runs Calendar and WeightBand only",
        ),
        ({"policy": FiresWithoutWeights()}, "without target weights"),
    ],
)
def test_bad_inputs_name_the_argument(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "prices": [[10.0, 1.0], [11.0, 1.0]],
        "times": [1.0, 1.0 + HOUR],
        "target_weights": [0.5, 0.5],
        "policy": WeightBand(0.1),
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        backtest_weights(**args)  # type: ignore[arg-type]


def test_costs_validation() -> None:
    with pytest.raises(ValueError, match=r"WeightCosts\.slippage_bps must be < 10000"):
        WeightCosts(slippage_bps=1e4)
    with pytest.raises(ValueError, match=r"WeightCosts\.fee_bps"):
        WeightCosts(fee_bps=-1.0)


def test_portfolio_prices_inner_join_and_cash() -> None:
    hours = np.arange("2024-01-01T00", "2024-01-01T05", dtype="datetime64[h]")
    names, times, prices = portfolio_prices(
        {
            "BTC": (hours, [1.0, 2.0, 3.0, 4.0, 5.0]),
            "ETH": (hours[[0, 1, 3, 4]], [10.0, 20.0, 40.0, 50.0]),
        }
    )
    assert names == ["BTC", "ETH", "USDT"]
    np.testing.assert_array_equal(times, hours[[0, 1, 3, 4]].astype("datetime64[ns]"))
    np.testing.assert_array_equal(
        prices, [[1.0, 10.0, 1.0], [2.0, 20.0, 1.0], [4.0, 40.0, 1.0], [5.0, 50.0, 1.0]]
    )
    with pytest.raises(ValueError, match="must not be among"):
        portfolio_prices({"USDT": (hours, np.ones(5))})


@pytest.mark.shared_data
def test_btc_eth_cash_2019_2024_on_real_hourly_closes() -> None:
    import pandas as pd

    from shared_data import shared_data

    closes = {}
    for coin in ("BTC", "ETH"):
        frame = pd.read_csv(
            shared_data(f"binance_spot_{coin}USDT_1h_to2024.csv.gz"), usecols=["timestamp", "close"]
        )
        opened = pd.to_datetime(frame["timestamp"], utc=True).dt.tz_localize(None)
        keep = (opened >= pd.Timestamp("2019-01-01")) & (opened < pd.Timestamp("2025-01-01"))
        # a bar's close is known when the hour ends
        closes[coin] = (
            (opened[keep] + pd.Timedelta(hours=1)).to_numpy(),
            frame["close"][keep].to_numpy(),
        )
    names, times, prices = portfolio_prices(closes)
    assert names == ["BTC", "ETH", "USDT"]
    assert prices.shape[0] > 52_000  # six years of hours, a few exchange gaps dropped
    target = [0.4, 0.4, 0.2]
    costs = WeightCosts(fee_bps=10.0, slippage_bps=2.0)
    band = backtest_weights(
        prices, times, target, WeightBand(relative=0.1), costs=costs, initial_value=1e6
    )
    daily = backtest_weights(
        prices, times, target, Calendar(interval=1.0 / 365.0), costs=costs, initial_value=1e6
    )
    assert band.rebalances < daily.rebalances / 5
    assert np.all(np.abs(band.weights - target) <= 0.1 * np.array(target) + 1e-12)
    # fees are 10 bp of every fill's notional, fills at the close +- 2 bp
    traded = np.asarray(band.trades)[:, :2]
    fills = np.abs(traded) * prices[:, :2] * (1.0 + np.sign(traded) * 2e-4)
    assert band.fees.sum() == pytest.approx(1e-3 * fills.sum(), rel=1e-12)
    for result in (band, daily):
        stats = result.statistics()
        assert stats.years == pytest.approx(6.0, abs=0.01)
        assert 0.0 < stats.tracking_error < 0.05
        assert 0.0 < stats.cost_per_year_bps < 50.0
        assert 0.3 < stats.max_drawdown < 0.9  # 2022 took most crypto portfolios down 60-80 %
    # the numba kernel agrees with the policy objects bar by bar on a real stretch (2020-03)
    crash = slice(int(np.searchsorted(times, np.datetime64("2020-03-01"))), None)
    window = slice(crash.start, crash.start + 2000)
    kernel = backtest_weights(
        prices[window],
        times[window],
        target,
        WeightBand(relative=0.05, hedge_to="edge"),
        costs=costs,
        engine="kernel",
    )
    engine = backtest_weights(
        prices[window],
        times[window],
        target,
        WeightBand(relative=0.05, hedge_to="edge"),
        costs=costs,
        engine="policy",
    )
    assert kernel.rebalances > 20
    np.testing.assert_array_equal(kernel.rebalance, engine.rebalance)
    np.testing.assert_allclose(kernel.equity, engine.equity, rtol=1e-13)
