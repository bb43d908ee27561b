"""Run one sweep task: a policy on a scenario, returning one row of metrics.

These functions run on Dask workers (or in-process); they are pure apart from reading the
scenario's price files in :func:`prepare_weights_market`, which the sweep calls once per
scenario on the client so that workers need no access to the data files.

Every row holds the task's identity and parameters, the scenario's own statistics (prefixed
``weights_`` or ``mc_``), and two frontier coordinates, ``risk`` and ``cost``, whose meaning
depends on the scenario kind (``risk_measure``/``cost_measure`` say which):

* weights: ``risk`` = annualised tracking error against the target portfolio rebalanced every
  bar at no cost (fraction); ``cost`` = costs per year over mean equity (basis points);
* montecarlo: ``risk`` = hedging-error std over the option price (Hull's performance measure);
  ``cost`` = mean transaction cost over the option price.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hedgekeeper.sweep.config import MonteCarloScenario, WeightsScenario
from hedgekeeper.sweep.grid import SweepTask, build_policy

FloatArray = npt.NDArray[np.float64]

RISK_MEASURES = {
    "weights": ("tracking_error", "cost_per_year_bps"),
    "montecarlo": ("hedge_cost_std / option_price", "transaction_cost_mean / option_price"),
}
"""Scenario kind -> (what ``risk`` is, what ``cost`` is)."""


@dataclass(frozen=True, slots=True, eq=False)
class WeightsMarket:
    """Prices of one weights scenario, prepared once and shipped to the workers.

    Attributes
    ----------
    assets : column names, the cash asset last.
    times : (n_bars,) years since the epoch of each close.
    prices : (n_bars, n_assets) closes in the cash asset's unit.
    """

    assets: tuple[str, ...]
    times: FloatArray
    prices: FloatArray


def _utc(value: dt.datetime | dt.date | None) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def prepare_weights_market(scenario: WeightsScenario, base: Path) -> WeightsMarket:
    """Load (history) or simulate (GBM) the closes of a weights scenario.

    History: each file is read with :func:`hedgekeeper.marketdata.binance.load_hourly_bars`
    between ``start`` and ``end``; a bar's time is when its close became known (open + 1 h);
    the assets are aligned on their common hours. GBM: one seeded path per asset (one generator
    drawn in asset order), hourly or every ``step``, from ``start_price``.
    """
    from hedgekeeper.backtest.weights import portfolio_prices
    from hedgekeeper.policies import years_since_epoch

    if scenario.history is not None:
        from hedgekeeper.marketdata.binance import load_hourly_bars

        history = scenario.history
        closes = {}
        for asset, name in history.files.items():
            bars = load_hourly_bars(base / name, start=_utc(history.start), end=_utc(history.end))
            closes[asset] = (bars.close_time, bars.close)
        assets, stamps, prices = portfolio_prices(closes, cash=scenario.cash)
        return WeightsMarket(tuple(assets), years_since_epoch(stamps), prices)
    from hedgekeeper.sim.paths import GeometricBrownianMotion

    gbm = scenario.gbm
    assert gbm is not None
    rng = np.random.default_rng(gbm.seed)
    columns = [
        GeometricBrownianMotion(drift=gbm.drift, vol=vol)
        .simulate(gbm.start_price, gbm.step, gbm.bars - 1, 1, rng)
        .prices[0]
        for vol in gbm.vols.values()
    ]
    prices = np.column_stack([*columns, np.ones(gbm.bars)])
    times = np.arange(gbm.bars, dtype=np.float64) * gbm.step
    return WeightsMarket((*gbm.vols, scenario.cash), times, prices)


def _weights_row(
    task: SweepTask, scenario: WeightsScenario, market: WeightsMarket
) -> dict[str, Any]:
    from hedgekeeper.backtest.weights import WeightCosts, backtest_weights

    policy = build_policy(task.policy, task.param_dict())
    targets = np.array([scenario.targets[asset] for asset in market.assets])
    result = backtest_weights(
        market.prices,
        market.times,
        targets,
        policy,
        costs=WeightCosts(fee_bps=scenario.fee_bps, slippage_bps=scenario.slippage_bps),
        initial_value=scenario.initial_value,
    )
    stats = result.statistics()
    row: dict[str, Any] = {f"weights_{k}": v for k, v in stats.as_dict().items()}
    row["risk"] = stats.tracking_error
    row["cost"] = stats.cost_per_year_bps
    row["rebalances"] = float(stats.rebalances)
    return row


def _montecarlo_row(task: SweepTask, scenario: MonteCarloScenario) -> dict[str, Any]:
    from hedgekeeper.sim.montecarlo import HedgeCosts, OptionBook, simulate_hedge
    from hedgekeeper.sim.paths import GeometricBrownianMotion

    policy = build_policy(task.policy, task.param_dict())
    if scenario.option == "straddle":
        book = OptionBook.straddle(
            scenario.strike, scenario.maturity, scenario.vol, scenario.position
        )
    else:
        book = OptionBook.single(
            scenario.option, scenario.strike, scenario.maturity, scenario.vol, scenario.position
        )
    paths = GeometricBrownianMotion(drift=scenario.drift, vol=scenario.vol).simulate(
        scenario.spot, scenario.step, scenario.steps, scenario.paths, scenario.seed
    )
    times = np.array(paths.times, dtype=np.float64)
    times[-1] = scenario.maturity  # the grid ends on the expiry itself
    result = simulate_hedge(
        paths.prices,
        times,
        book,
        policy,
        rate=scenario.rate,
        costs=HedgeCosts(fee_bps=scenario.fee_bps, half_spread_bps=scenario.half_spread_bps),
        hedge=scenario.hedge,
    )
    stats = result.statistics()
    row: dict[str, Any] = {f"mc_{k}": v for k, v in stats.as_dict().items()}
    price = stats.option_price
    row["risk"] = stats.hedge_cost_std / price if price > 0.0 else float("nan")
    row["cost"] = stats.transaction_cost_mean / price if price > 0.0 else float("nan")
    row["rebalances"] = stats.rebalances_mean
    return row


def run_task(
    task: SweepTask,
    scenario: WeightsScenario | MonteCarloScenario,
    market: WeightsMarket | None = None,
) -> dict[str, Any]:
    """Run ``task`` on ``scenario`` (with its prepared ``market`` for a weights scenario).

    Returns
    -------
    dict
        ``task_id``, ``scenario``, ``scenario_kind``, ``policy``, ``label``, ``param_<name>``
        for each parameter, the scenario kind's statistics, ``risk``, ``cost``,
        ``risk_measure``, ``cost_measure``, ``rebalances`` and ``seconds`` (wall time).
    """
    if task.scenario != scenario.name:
        raise ValueError(
            f"task {task.task_id} is for scenario {task.scenario!r}, got {scenario.name!r}"
        )
    start = time.perf_counter()
    if isinstance(scenario, WeightsScenario):
        if market is None:
            raise ValueError(f"scenario {scenario.name!r} needs its prepared market")
        metrics = _weights_row(task, scenario, market)
    else:
        metrics = _montecarlo_row(task, scenario)
    risk_measure, cost_measure = RISK_MEASURES[scenario.kind]
    row: dict[str, Any] = {
        "task_id": task.task_id,
        "scenario": task.scenario,
        "scenario_kind": task.scenario_kind,
        "policy": task.policy,
        "label": task.label,
        **{f"param_{name}": value for name, value in task.params},
        **metrics,
        "risk_measure": risk_measure,
        "cost_measure": cost_measure,
        "seconds": time.perf_counter() - start,
    }
    return row


__all__ = ["RISK_MEASURES", "WeightsMarket", "prepare_weights_market", "run_task"]
