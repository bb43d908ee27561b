"""Grid expansion, the Pareto frontier and single tasks run in-process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sweep_configs import SMALL, SMALL_TASKS, write_config

from hedgekeeper.backtest.weights import WeightCosts, backtest_weights
from hedgekeeper.policies import Calendar, DeltaBand, WeightBand, ZakamoulineBand
from hedgekeeper.sim.montecarlo import HedgeCosts, OptionBook, simulate_hedge
from hedgekeeper.sim.paths import GeometricBrownianMotion
from hedgekeeper.sweep import (
    build_policy,
    expand_grid,
    frontier,
    load_sweep_config,
    mark_frontier,
    prepare_weights_market,
    run_task,
)
from hedgekeeper.sweep.config import MonteCarloScenario, WeightsScenario


def test_grid_is_scenarios_times_policies_times_values(tmp_path: Path) -> None:
    config, _ = load_sweep_config(write_config(tmp_path))
    tasks = expand_grid(config)
    assert len(tasks) == SMALL_TASKS
    assert [t.task_id for t in tasks] == list(range(SMALL_TASKS))
    labels = [(t.scenario, t.label) for t in tasks]
    assert labels == [
        ("gbm3", "WeightBand(relative=0.05, hedge_to=centre)"),
        ("gbm3", "WeightBand(relative=0.05, hedge_to=edge)"),
        ("gbm3", "WeightBand(relative=0.2, hedge_to=centre)"),
        ("gbm3", "WeightBand(relative=0.2, hedge_to=edge)"),
        ("gbm3", "Calendar(interval=1d)"),
        ("short-call", "Calendar(interval=1d)"),
        ("short-call", "DeltaBand(halfwidth=0.05, unit=coin, hedge_to=centre)"),
        ("short-call", "DeltaBand(halfwidth=0.2, unit=coin, hedge_to=centre)"),
    ]
    assert tasks[4].param_dict() == {"interval": pytest.approx(1 / 365)}


def test_scenario_defaults_fill_costs_and_names_restrict(tmp_path: Path) -> None:
    text = SMALL + (
        '\n[[policies]]\npolicy = "ZakamoulineBand"\nrisk_aversion = [0.01, 0.1]\n'
        'scenarios = ["short-call"]\n'
    )
    config, _ = load_sweep_config(write_config(tmp_path, text))
    tasks = [t for t in expand_grid(config) if t.policy == "ZakamoulineBand"]
    assert len(tasks) == 2
    # cost defaults to the scenario's fee (5 bp) + half spread (0)
    assert tasks[0].param_dict()["cost"] == pytest.approx(5e-4)
    policy = build_policy(tasks[1].policy, tasks[1].param_dict())
    assert isinstance(policy, ZakamoulineBand)
    assert policy.risk_aversion == pytest.approx(0.1)
    assert policy.hedge_to == "edge"


def test_build_policy_families() -> None:
    assert isinstance(build_policy("Calendar", {"interval": 0.01}), Calendar)
    band = build_policy("WeightBand", {"absolute": 0.05, "hedge_to": "edge"})
    assert isinstance(band, WeightBand)
    assert band.absolute == pytest.approx(0.05)
    assert band.relative is None
    assert isinstance(
        build_policy("DeltaBand", {"halfwidth": 0.1, "unit": "coin", "hedge_to": "centre"}),
        DeltaBand,
    )
    with pytest.raises(ValueError, match="unknown policy family"):
        build_policy("Nope", {})


def test_mark_frontier_by_hand() -> None:
    rows = pd.DataFrame(
        {
            "scenario": ["a"] * 8,
            "risk": [1.0, 2.0, 3.0, 2.0, 1.0, np.nan, 4.0, 3.0],
            "cost": [5.0, 3.0, 1.0, 4.0, 5.0, 0.0, 1.0, 1.0],
        }
    )
    # (1,5) twice: efficient (nothing has risk <= 1 and cost < 5); (2,3) efficient; (2,4)
    # dominated by (2,3); (3,1) twice efficient; (4,1) dominated by (3,1); NaN never.
    expected = [True, True, True, False, True, False, False, True]
    assert list(mark_frontier(rows)["pareto"]) == expected
    assert mark_frontier(rows.iloc[:0])["pareto"].dtype == bool


def test_frontier_is_per_scenario() -> None:
    rows = pd.DataFrame(
        {
            "scenario": ["a", "a", "a", "b", "b"],
            "label": ["p", "q", "r", "p", "q"],
            "risk": [1.0, 2.0, 3.0, 100.0, 50.0],
            "cost": [3.0, 1.0, 4.0, 1.0, 2.0],
        }
    )
    marked = mark_frontier(rows)
    assert list(marked["pareto"]) == [True, True, False, True, True]
    best = frontier(marked)
    assert list(zip(best["scenario"], best["label"], strict=True)) == [
        ("a", "p"),
        ("a", "q"),
        ("b", "q"),
        ("b", "p"),
    ]


def test_weights_task_is_the_backtest(tmp_path: Path) -> None:
    config, base = load_sweep_config(write_config(tmp_path))
    scenario = config.scenarios[0]
    assert isinstance(scenario, WeightsScenario)
    market = prepare_weights_market(scenario, base)
    assert market.assets == ("A", "B", "USDT")
    assert market.prices.shape == (1500, 3)
    task = expand_grid(config)[1]
    row = run_task(task, scenario, market)
    direct = backtest_weights(
        market.prices,
        market.times,
        [0.4, 0.4, 0.2],
        WeightBand(relative=0.05, hedge_to="edge"),
        costs=WeightCosts(fee_bps=10.0, slippage_bps=2.0),
        initial_value=scenario.initial_value,
    ).statistics()
    assert row["risk"] == direct.tracking_error
    assert row["cost"] == direct.cost_per_year_bps
    assert row["weights_rebalances"] == direct.rebalances
    assert row["param_relative"] == 0.05
    assert row["param_hedge_to"] == "edge"
    assert row["risk_measure"] == "tracking_error"
    # the same seed gives the same market
    again = prepare_weights_market(scenario, base)
    np.testing.assert_array_equal(again.prices, market.prices)
    with pytest.raises(ValueError, match="needs its prepared market"):
        run_task(task, scenario, None)


def test_montecarlo_task_is_the_simulation(tmp_path: Path) -> None:
    config, _ = load_sweep_config(write_config(tmp_path))
    scenario = config.scenarios[1]
    assert isinstance(scenario, MonteCarloScenario)
    task = expand_grid(config)[6]
    row = run_task(task, scenario)
    paths = GeometricBrownianMotion(drift=0.0, vol=0.5).simulate(100.0, 4 / 8760, 60, 200, 1)
    times = np.array(paths.times)
    times[-1] = 10 / 365
    stats = simulate_hedge(
        paths.prices,
        times,
        OptionBook.single("call", 100.0, 10 / 365, 0.5, "short"),
        DeltaBand(0.05),
        costs=HedgeCosts(fee_bps=5.0),
    ).statistics()
    assert row["mc_hedge_cost_std"] == stats.hedge_cost_std
    assert row["risk"] == pytest.approx(stats.hedge_cost_std / stats.option_price, rel=1e-15)
    assert row["cost"] == pytest.approx(stats.transaction_cost_mean / stats.option_price)
    assert row["rebalances"] == stats.rebalances_mean
    with pytest.raises(ValueError, match="is for scenario"):
        run_task(task, config.scenarios[0])
