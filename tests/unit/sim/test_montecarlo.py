"""Monte Carlo hedging engine: accounting by hand, kernel vs numpy reference vs policy engine,
every policy through the generic engine, costs, perpetual funding, statistics, input errors."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from hedgekeeper.costs import HalfSpread, ProportionalFee, SquareRootImpact
from hedgekeeper.policies import (
    AnyOf,
    Calendar,
    Cooldown,
    DeltaBand,
    GreekBands,
    LelandDelta,
    MaxFrequency,
    MinTradeSize,
    Reason,
    VolRegimeBand,
    WeightBand,
    WhalleyWilmottBand,
    ZakamoulineBand,
)
from hedgekeeper.pricing.black import black_scholes
from hedgekeeper.sim import GeometricBrownianMotion
from hedgekeeper.sim import hedge_kernels as kernels
from hedgekeeper.sim.montecarlo import (
    EVERY_DATE,
    HedgeCosts,
    HedgeResult,
    OptionBook,
    compare_policies,
    funding_rate_on_grid,
    simulate_hedge,
)

OUTPUTS = (
    "pnl_pv",
    "transaction_cost_pv",
    "funding_pv",
    "rebalances",
    "turnover_coin",
    "turnover_usd",
    "max_abs_delta_deviation",
)
IMPACT = HedgeCosts(
    fee_bps=5.0, half_spread_bps=2.0, impact_eta=0.7, daily_volume=500.0, daily_volatility=0.03
)


def gbm(
    n_paths: int,
    n_steps: int,
    dt: float,
    seed: int = 7,
    s0: float = 100.0,
    vol: float = 0.5,
    drift: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    paths = GeometricBrownianMotion(drift=drift, vol=vol).simulate(s0, dt, n_steps, n_paths, seed)
    return np.array(paths.prices), paths.times


def assert_same(a: HedgeResult, b: HedgeResult, rtol: float = 1e-10) -> None:
    for name in (*OUTPUTS, "premium"):
        x, y = getattr(a, name), getattr(b, name)
        scale = max(float(np.max(np.abs(y))), 1.0)
        assert np.max(np.abs(x - y)) <= rtol * scale, (name, np.max(np.abs(x - y)))


# ---------------------------------------------------------------- accounting by hand


def test_one_step_short_call_by_hand() -> None:
    s0, s1, strike, t, rate, vol, fee = 100.0, 104.0, 100.0, 0.1, 0.05, 0.3, 10.0
    book = OptionBook.single("call", strike, t, vol, position="short")
    result = simulate_hedge(
        np.array([[s0, s1]]),
        np.array([0.0, t]),
        book,
        rate=rate,
        costs=HedgeCosts(fee_bps=fee),
    )
    greeks = black_scholes(s0, strike, t, rate, vol, "call")
    price, delta = float(greeks.price), float(greeks.delta)
    c0 = delta * s0 * fee / 1e4
    c1 = delta * s1 * fee / 1e4  # cash settlement: the whole hedge is sold at expiry
    cash = (price - delta * s0 - c0) * math.exp(rate * t) + delta * s1 - (s1 - strike) - c1
    assert result.pnl_pv[0] == pytest.approx(cash * math.exp(-rate * t), rel=1e-12)
    assert result.premium[0] == pytest.approx(price, rel=1e-12)
    assert result.transaction_cost_pv[0] == pytest.approx(c0 + c1 * math.exp(-rate * t))
    assert result.hedge_cost_pv[0] == pytest.approx(price - result.pnl_pv[0])
    assert result.rebalances[0] == 1.0
    assert result.turnover_coin[0] == pytest.approx(2 * delta)
    assert result.max_abs_delta_deviation[0] == 0.0  # one decision date: the start is left out


def test_physical_settlement_charges_only_the_residual() -> None:
    s0, s1, strike, t = 100.0, 130.0, 100.0, 0.1
    book = OptionBook.single("call", strike, t, 0.3)
    delta = float(black_scholes(s0, strike, t, 0.0, 0.3, "call").delta)
    cash = simulate_hedge([[s0, s1]], [0.0, t], book, costs=HedgeCosts(fee_bps=10.0))
    physical = simulate_hedge(
        [[s0, s1]], [0.0, t], book, costs=HedgeCosts(fee_bps=10.0, settlement="physical")
    )
    # In the money: delivering one coin uses `delta` of hedge, the rest (1 - delta) is bought.
    assert physical.transaction_cost_pv[0] == pytest.approx(
        1e-3 * (delta * s0 + (1.0 - delta) * s1)
    )
    assert cash.transaction_cost_pv[0] == pytest.approx(1e-3 * delta * (s0 + s1))
    assert physical.pnl_pv[0] - cash.pnl_pv[0] == pytest.approx(
        cash.transaction_cost_pv[0] - physical.transaction_cost_pv[0]
    )


def test_perpetual_hedge_pays_funding_and_matches_spot_hedge_without_rates() -> None:
    prices, times = gbm(50, 12, 1 / 365)
    book = OptionBook.single("put", 100.0, times[-1], 0.5, position="long")
    spot_hedge = simulate_hedge(prices, times, book)
    perp = simulate_hedge(prices, times, book, hedge="perpetual")
    np.testing.assert_allclose(perp.pnl_pv, spot_hedge.pnl_pv, rtol=0, atol=1e-9)
    funded = simulate_hedge(prices, times, book, hedge="perpetual", funding_rate=0.1)
    # A long put is hedged with a long perpetual, which pays positive funding.
    assert np.all(funded.funding_pv > 0.0)
    np.testing.assert_allclose(funded.pnl_pv, perp.pnl_pv - funded.funding_pv, atol=1e-9)


def test_perpetual_funding_one_step_by_hand() -> None:
    s0, s1, t, f = 100.0, 95.0, 8 / 8760, 0.0001 * 3 * 365
    book = OptionBook.single("call", 100.0, t, 0.5)
    delta = float(black_scholes(s0, 100.0, t, 0.0, 0.5, "call").delta)
    result = simulate_hedge([[s0, s1]], [0.0, t], book, hedge="perpetual", funding_rate=f)
    assert result.funding_pv[0] == pytest.approx(delta * s0 * f * t, rel=1e-12)


def test_rate_discounting_zero_vol_paths() -> None:
    # Spot grows at the rate and the option is deep in the money: the hedge is exact.
    rate, t = 0.05, 0.5
    times = np.linspace(0.0, t, 11)
    prices = 100.0 * np.exp(rate * times)[None, :]
    book = OptionBook.single("call", 50.0, t, 0.01)
    result = simulate_hedge(prices, times, book, rate=rate)
    assert abs(result.pnl_pv[0]) < 1e-9


def test_long_is_minus_short_without_costs() -> None:
    prices, times = gbm(200, 20, 1 / 52)
    short = simulate_hedge(prices, times, OptionBook.straddle(100.0, times[-1], 0.4))
    long = simulate_hedge(prices, times, OptionBook.straddle(100.0, times[-1], 0.4, "long"))
    np.testing.assert_allclose(long.pnl_pv, -short.pnl_pv, atol=1e-9)
    np.testing.assert_allclose(long.premium, -short.premium)


def test_leg_after_horizon_is_marked_at_black_scholes() -> None:
    prices, times = gbm(20, 5, 1 / 365)
    book = OptionBook.single("call", 100.0, 1.0, 0.5)
    result = simulate_hedge(prices, times, book, policy=DeltaBand(10.0))  # never trades
    mark = black_scholes(prices[:, -1], 100.0, 1.0 - times[-1], 0.0, 0.5, "call").price
    premium = black_scholes(prices[:, 0], 100.0, 1.0, 0.0, 0.5, "call").price
    np.testing.assert_allclose(result.pnl_pv, premium - mark, rtol=1e-12)
    assert np.all(result.rebalances == 0.0)


# ---------------------------------------------------------------- engines agree

RULES = [
    None,
    EVERY_DATE,
    Calendar(interval=3 / 365),
    DeltaBand(0.1),
    DeltaBand(0.1, hedge_to="edge"),
    DeltaBand(8.0, unit="usd"),
    DeltaBand(8.0, unit="usd", hedge_to="edge"),
]


def _mixed_book(horizon: float) -> OptionBook:
    # A short straddle expiring at the horizon, a long put expiring mid-way, a short call after.
    return OptionBook(
        strike=np.array([100.0, 100.0, 90.0, 115.0]),
        expiry=np.array([horizon, horizon, horizon / 2, 2 * horizon]),
        vol=np.array([0.5, 0.55, 0.6, 0.45]),
        kind=np.array([1, -1, -1, 1], dtype=np.int8),
        quantity=np.array([-1.0, -1.0, 2.0, -0.5]),
    )


@pytest.mark.parametrize("policy", RULES, ids=lambda p: repr(p) if p is None else type(p).__name__)
@pytest.mark.parametrize(
    ("hedge", "costs", "settlement"),
    [
        ("underlying", HedgeCosts(), "cash"),
        ("underlying", IMPACT, "physical"),
        ("perpetual", IMPACT, "cash"),
    ],
)
def test_kernel_numpy_and_policy_engines_agree(
    policy: object, hedge: str, costs: HedgeCosts, settlement: str
) -> None:
    prices, times = gbm(300, 24, 1 / 365)
    book = _mixed_book(float(times[-1]))
    costs = dataclasses.replace(costs, settlement=settlement)
    rng = np.random.default_rng(3)
    funding = rng.normal(0.1, 0.3, size=(300, 24)) if hedge == "perpetual" else 0.0
    kwargs = dict(rate=0.03, costs=costs, hedge=hedge, funding_rate=funding, start_time=56.07)
    by_kernel = simulate_hedge(prices, times, book, policy, engine="kernel", **kwargs)
    by_policy = simulate_hedge(prices, times, book, policy, engine="policy", **kwargs)
    assert by_kernel.engine == "kernel"
    assert by_policy.engine == "policy"
    assert_same(by_kernel, by_policy)

    from hedgekeeper.sim.montecarlo import _kernel_rule, _prepare, _run_kernel

    setup = _prepare(prices, times, book, 0.03, hedge, funding, 56.07)
    rule = _kernel_rule(policy)  # type: ignore[arg-type]
    assert rule is not None
    reference = _run_kernel(setup, book, costs, rule, use_numpy=True)
    compiled = _run_kernel(setup, book, costs, rule)
    np.testing.assert_allclose(compiled, reference, rtol=1e-11, atol=1e-10)
    assert np.max(by_kernel.rebalances) > 0


def test_auto_engine_picks_the_kernel_only_for_exact_types() -> None:
    prices, times = gbm(10, 4, 1 / 52)
    book = OptionBook.single("call", 100.0, times[-1], 0.5)

    class MyBand(DeltaBand):
        pass

    assert simulate_hedge(prices, times, book, DeltaBand(0.1)).engine == "kernel"
    assert simulate_hedge(prices, times, book, MyBand(0.1)).engine == "policy"
    assert simulate_hedge(prices, times, book, Calendar(0.1)).engine == "kernel"
    assert simulate_hedge(prices, times, book, LelandDelta(0.001, 1 / 52)).engine == "policy"
    with pytest.raises(ValueError, match="engine='kernel' runs"):
        simulate_hedge(prices, times, book, LelandDelta(0.001, 1 / 52), engine="kernel")


def test_kernel_without_numba_matches_compiled() -> None:
    script = (
        "import numpy as np\n"
        "from hedgekeeper.sim.montecarlo import OptionBook, HedgeCosts, simulate_hedge\n"
        "from hedgekeeper.policies import DeltaBand\n"
        "from hedgekeeper.sim import GeometricBrownianMotion\n"
        "p = GeometricBrownianMotion(0.0, 0.5).simulate(100.0, 1/365, 30, 25, 11)\n"
        "r = simulate_hedge(p.prices, p.times, OptionBook.straddle(100.0, p.times[-1], 0.5),\n"
        "    DeltaBand(0.1), rate=0.02, costs=HedgeCosts(fee_bps=5.0), engine='kernel')\n"
        "import json; print(json.dumps([r.pnl_pv.tolist(), r.rebalances.tolist()]))\n"
    )
    outputs = []
    for disabled in ("1", "0"):
        env = {**os.environ, "HEDGEKEEPER_DISABLE_NUMBA": disabled}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        outputs.append(json.loads(done.stdout))
    np.testing.assert_allclose(outputs[0][0], outputs[1][0], rtol=1e-12)
    assert outputs[0][1] == outputs[1][1]


# ---------------------------------------------------------------- costs reuse costs/


def test_kernel_costs_equal_the_cost_models() -> None:
    model = IMPACT.model()
    assert model is not None
    size = np.array([0.0, 0.3, 1.7, 12.0])
    spot = np.array([100.0, 101.0, 99.0, 250.0])
    from_models = model.cost(size, IMPACT.context(spot))
    by_hand = (
        ProportionalFee(taker_bps=5.0).cost(size, IMPACT.context(spot))
        + HalfSpread().cost(size, IMPACT.context(spot))
        + SquareRootImpact(eta=0.7).cost(size, IMPACT.context(spot))
    )
    np.testing.assert_allclose(from_models, by_hand, rtol=1e-14)
    in_kernel = [
        kernels._trade_cost(q, s, IMPACT.linear_rate, IMPACT.impact_coef, 0.5, 500.0)
        for q, s in zip(size, spot, strict=True)
    ]
    np.testing.assert_allclose(in_kernel, from_models, rtol=1e-12, atol=1e-15)
    assert HedgeCosts().model() is None


def test_costs_reduce_pnl_by_what_was_paid_for_the_same_trades() -> None:
    prices, times = gbm(400, 20, 1 / 52)
    book = OptionBook.single("call", 100.0, times[-1], 0.5)
    free = simulate_hedge(prices, times, book, Calendar(2 / 52), rate=0.02)
    paid = simulate_hedge(
        prices,
        times,
        book,
        Calendar(2 / 52),
        rate=0.02,
        costs=HedgeCosts(fee_bps=10.0, half_spread_bps=5.0),
    )
    np.testing.assert_allclose(paid.pnl_pv, free.pnl_pv - paid.transaction_cost_pv, atol=1e-9)
    np.testing.assert_allclose(paid.transaction_cost_pv, 15e-4 * paid.turnover_usd, rtol=0.05)


# ---------------------------------------------------------------- any policy


POLICIES = {
    "leland": LelandDelta(cost_round_trip=0.002, interval=2 / 365),
    "whalley-wilmott": WhalleyWilmottBand(cost=0.001, risk_aversion=0.01),
    "zakamouline": ZakamoulineBand(cost=0.001, risk_aversion=0.01),
    "greek-bands": GreekBands(gamma_halfwidth=0.001, delta_halfwidth=0.2),
    "regime": VolRegimeBand("realised_vol", thresholds=(0.45,), halfwidths=(0.3, 0.1)),
    "cooldown": Cooldown(DeltaBand(0.05), 3 / 365),
    "max-frequency": MaxFrequency(DeltaBand(0.05), max_count=2, window=5 / 365),
    "min-size": MinTradeSize(EVERY_DATE, min_delta=0.05),
    "any-of": AnyOf(Calendar(7 / 365), DeltaBand(0.3)),
}


@pytest.mark.parametrize("name", list(POLICIES))
def test_every_policy_runs_through_the_generic_engine(name: str) -> None:
    prices, times = gbm(200, 30, 1 / 365)
    book = OptionBook.straddle(100.0, float(times[-1]), 0.5)
    result = simulate_hedge(
        prices, times, book, POLICIES[name], rate=0.01, costs=HedgeCosts(fee_bps=5.0)
    )
    stats = result.statistics()
    assert result.engine == "policy"
    assert np.all(np.isfinite(result.pnl_pv))
    assert 1.0 <= stats.rebalances_mean <= 30.0
    assert stats.transaction_cost_mean > 0.0
    assert stats.refused_mean == 0.0


def test_combinators_limit_trading_as_they_say() -> None:
    prices, times = gbm(300, 40, 1 / 365)
    book = OptionBook.straddle(100.0, float(times[-1]), 0.5)
    band = simulate_hedge(prices, times, book, DeltaBand(0.02), engine="policy")
    capped = simulate_hedge(
        prices, times, book, MaxFrequency(DeltaBand(0.02), max_count=1, window=4 / 365)
    )
    cooled = simulate_hedge(prices, times, book, Cooldown(DeltaBand(0.02), 4 / 365))
    # At most one trade per 4-day window (the start included): ceil(40 / 4) trades.
    assert np.max(capped.rebalances) <= 10
    assert np.max(cooled.rebalances) <= 10
    assert np.mean(band.rebalances) > np.mean(capped.rebalances)


def test_band_max_deviation_stays_near_the_band_and_every_date_trades_each_date() -> None:
    prices, times = gbm(500, 50, 1 / 365)
    book = OptionBook.single("call", 100.0, float(times[-1]), 0.5)
    every = simulate_hedge(prices, times, book)
    assert np.all(every.rebalances == 50)
    band = simulate_hedge(prices, times, book, DeltaBand(0.1))
    assert np.all(band.rebalances < 50)
    # Before trading the deviation is the band plus one step's delta move at most.
    assert (
        band.statistics().max_abs_delta_deviation_mean
        < every.statistics().max_abs_delta_deviation_mean + 0.1
    )


def test_leland_refuses_a_long_book_when_its_variance_is_negative() -> None:
    prices, times = gbm(50, 10, 1 / 365)
    book = OptionBook.single("call", 100.0, float(times[-1]), 0.5, position="long")
    result = simulate_hedge(prices, times, book, LelandDelta(cost_round_trip=0.05, interval=1e-4))
    assert result.statistics().refused_mean == 10.0
    assert np.all(result.rebalances == 0.0)
    assert Reason.REFUSED_MODEL.refused


def test_policy_without_a_delta_target_is_an_error() -> None:
    prices, times = gbm(5, 3, 1 / 365)
    book = OptionBook.single("call", 100.0, float(times[-1]), 0.5)
    with pytest.raises(ValueError, match=r"view\.weights is required by WeightBand"):
        simulate_hedge(prices, times, book, WeightBand(absolute=0.05))


# ---------------------------------------------------------------- statistics


def test_statistics_definitions() -> None:
    prices, times = gbm(1000, 10, 1 / 52)
    result = simulate_hedge(
        prices,
        times,
        OptionBook.single("put", 100.0, times[-1], 0.5),
        costs=HedgeCosts(fee_bps=3.0),
    )
    stats = result.statistics()
    pnl = np.sort(result.pnl_pv)
    assert stats.pnl_cvar_95 == pytest.approx(pnl[:50].mean())
    assert stats.hedge_cost_std == pytest.approx(stats.pnl_std)
    assert stats.performance == pytest.approx(stats.hedge_cost_std / stats.option_price)
    assert stats.option_price == pytest.approx(
        float(black_scholes(100.0, 100.0, times[-1], 0.0, 0.5, "put").price)
    )
    assert stats.hedge_cost_mean == pytest.approx(stats.option_price - stats.pnl_mean)
    assert stats.as_dict()["engine"] == "kernel"
    joined = HedgeResult.concatenate([result, result])
    assert joined.pnl_pv.shape == (2000,)
    assert joined.statistics().pnl_mean == pytest.approx(stats.pnl_mean)


def test_compare_policies_runs_each_on_the_same_paths() -> None:
    prices, times = gbm(300, 20, 1 / 365)
    book = OptionBook.single("call", 100.0, times[-1], 0.5)
    table = compare_policies(
        prices, times, book, {"every": None, "band": DeltaBand(0.1)}, costs=HedgeCosts(fee_bps=10.0)
    )
    assert set(table) == {"every", "band"}
    assert table["band"].transaction_cost_mean < table["every"].transaction_cost_mean
    assert table["band"].option_price == table["every"].option_price


# ---------------------------------------------------------------- input errors


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"spot_paths": [[100.0, -1.0]]}, "spot_paths must be finite and > 0"),
        ({"spot_paths": [100.0, 101.0]}, r"spot_paths must have shape \(paths, dates >= 2\)"),
        ({"times": [0.0, 0.1, 0.2]}, r"times must have shape \(2,\)"),
        ({"times": [0.1, 0.1]}, "times must be finite and strictly increasing"),
        ({"book": "call"}, "book must be an OptionBook"),
        ({"rate": math.nan}, "rate must be finite"),
        ({"hedge": "future"}, "hedge must be 'underlying' or 'perpetual'"),
        ({"engine": "gpu"}, "engine must be 'auto', 'kernel' or 'policy'"),
        ({"funding_rate": [0.1, 0.2]}, "funding_rate must be a number"),
        ({"policy": "band"}, "policy must have a decide"),
        ({"costs": 5.0}, "costs must be HedgeCosts"),
        ({"hedge": "perpetual", "costs": HedgeCosts(settlement="physical")}, "settlement='phys"),
        ({"realised_vol_decay": 1.0}, "realised_vol_decay must be in"),
    ],
)
def test_bad_inputs_name_the_argument(change: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "spot_paths": [[100.0, 101.0]],
        "times": [0.0, 0.1],
        "book": OptionBook.single("call", 100.0, 0.1, 0.5),
        **change,
    }
    with pytest.raises(ValueError, match=message):
        simulate_hedge(**arguments)  # type: ignore[arg-type]


def test_expiry_must_be_on_the_grid_or_after_it() -> None:
    with pytest.raises(ValueError, match=r"book\.expiry\[0\] = 0\.05 falls between dates"):
        simulate_hedge([[100.0, 101.0]], [0.0, 0.1], OptionBook.single("call", 100.0, 0.05, 0.5))
    with pytest.raises(ValueError, match=r"book\.expiry\[0\] .* must be after the first date"):
        simulate_hedge([[100.0, 101.0]], [0.2, 0.3], OptionBook.single("call", 100.0, 0.1, 0.5))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"strike": -1.0}, r"book\.strike must be finite and > 0"),
        ({"vol": math.nan}, r"book\.vol must be finite and > 0"),
        ({"kind": "straddle"}, r"book\.kind must be"),
        ({"quantity": 0.0}, "book.quantity must hold at least one non-zero leg"),
    ],
)
def test_bad_books_name_the_field(arguments: dict[str, object], message: str) -> None:
    legs: dict[str, object] = {
        "strike": 100.0,
        "expiry": 0.1,
        "vol": 0.5,
        "kind": "call",
        "quantity": -1.0,
        **arguments,
    }
    with pytest.raises(ValueError, match=message):
        OptionBook(**legs)  # type: ignore[arg-type]


def test_bad_costs_name_the_field() -> None:
    with pytest.raises(ValueError, match=r"HedgeCosts\.fee_bps must be finite and >= 0"):
        HedgeCosts(fee_bps=-1.0)
    with pytest.raises(ValueError, match=r"HedgeCosts\.daily_volume must be finite and > 0"):
        HedgeCosts(impact_eta=1.0, daily_volatility=0.02)
    with pytest.raises(ValueError, match=r"HedgeCosts\.settlement must be"):
        HedgeCosts(settlement="delivery")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="position must be 'short' or 'long'"):
        OptionBook.single("call", 100.0, 0.1, 0.5, position="flat")  # type: ignore[arg-type]


def test_kernel_batches_give_the_same_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    import hedgekeeper.sim.montecarlo as montecarlo

    prices, times = gbm(257, 12, 1 / 365)
    book = OptionBook.straddle(100.0, float(times[-1]), 0.5)
    funding = np.random.default_rng(1).normal(0.1, 0.2, size=(257, 12))
    kwargs = dict(hedge="perpetual", funding_rate=funding, costs=IMPACT, rate=0.02)
    whole = simulate_hedge(prices, times, book, DeltaBand(0.1), **kwargs)
    monkeypatch.setattr(montecarlo, "_KERNEL_BATCH_VALUES", 13 * 10)  # 10 paths per call
    batched = simulate_hedge(prices, times, book, DeltaBand(0.1), **kwargs)
    assert_same(batched, whole, rtol=0.0)


def test_funding_history_on_the_grid_charges_each_settlement() -> None:
    hour = 1.0 / 8760.0
    start = 50.0
    times = start + hour * np.arange(25)  # one day, hourly
    settlements = start + hour * np.array([-8.0, 0.0, 8.0, 16.0, 24.0, 32.0])
    rates = np.array([9.0, 9.0, 1e-4, -2e-4, 3e-4, 9.0])  # only the three inside (t0, t24]
    per_step = funding_rate_on_grid(times, settlements, rates)
    assert per_step.shape == (24,)
    np.testing.assert_allclose(per_step[[7, 15, 23]] * hour, [1e-4, -2e-4, 3e-4])
    assert np.count_nonzero(per_step) == 3
    prices = np.full((1, 25), 100.0)
    book = OptionBook.single("put", 100.0, 30 * hour, 0.5, position="long")
    result = simulate_hedge(
        prices,
        times - start,
        book,
        DeltaBand(10.0, unit="usd"),
        hedge="perpetual",
        funding_rate=per_step,
        start_time=start,
    )
    delta = float(black_scholes(100.0, 100.0, 30 * hour, 0.0, 0.5, "put").delta)
    assert result.funding_pv[0] == pytest.approx(-delta * 100.0 * 2e-4, rel=1e-9)
    with pytest.raises(ValueError, match="settlement_times must be sorted"):
        funding_rate_on_grid(times, settlements[::-1], rates)


def test_real_binance_funding_history_is_conserved_on_an_hourly_grid() -> None:
    import pandas as pd

    from hedgekeeper.policies import years_since_epoch
    from shared_data import shared_data

    frame = pd.read_csv(shared_data("binance_usdm_funding_8h_2019-2024.csv"))
    frame = frame[frame["symbol"] == "BTCUSDT"]
    settled = years_since_epoch(pd.to_datetime(frame["timestamp"]).dt.tz_localize(None).to_numpy())
    start = float(years_since_epoch(np.datetime64("2022-11-01T00:00")))
    times = start + np.arange(30 * 24 + 1) / 8760.0
    per_step = funding_rate_on_grid(times, settled, frame["funding_rate"].to_numpy())
    inside = (settled > times[0]) & (settled <= times[-1])
    assert np.count_nonzero(inside) == 90  # 30 days x 3 settlements
    assert np.sum(per_step * np.diff(times)) == pytest.approx(
        float(frame["funding_rate"].to_numpy()[inside].sum()), rel=1e-9
    )
