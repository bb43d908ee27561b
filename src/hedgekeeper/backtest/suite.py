"""Run a family of policies over one market window and collect what the report needs."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hedgekeeper.backtest.frontier import FrontierPoint, frontier
from hedgekeeper.backtest.market import HistoricalMarket
from hedgekeeper.backtest.metrics import BacktestSummary, summarise
from hedgekeeper.backtest.replay import BacktestResult, BacktestSetup, run_backtest
from hedgekeeper.policies import Policy


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """One run of a suite.

    Attributes
    ----------
    name : unique label (family and swept parameters).
    family : the policy family (``delta_band``, ...).
    policy : the policy object.
    params : parameter name -> value, for tables.
    trade_options : offer the setup's hedge option to the sizer (gamma/vega policies).
    """

    name: str
    family: str
    policy: Policy
    params: dict[str, Any]
    trade_options: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class SuiteResult:
    """Every run of a suite, its summary, and the two frontiers.

    Attributes
    ----------
    market : the window replayed.
    specs, results, summaries : one per run, in order.
    tracking_frontier : trading cost (USD) vs tracking error (RMS net delta, USD).
    error_frontier : trading cost (USD) vs hedging-error std (daily P&L, USD).
    seconds : wall time of all the replays.
    """

    market: HistoricalMarket
    specs: tuple[PolicySpec, ...]
    results: tuple[BacktestResult, ...]
    summaries: tuple[BacktestSummary, ...]
    tracking_frontier: tuple[FrontierPoint, ...]
    error_frontier: tuple[FrontierPoint, ...]
    seconds: float


def run_suite(market: HistoricalMarket, setup: BacktestSetup, specs: Sequence[PolicySpec],
              progress: Callable[[int, int, str], None] | None = None) -> SuiteResult:
    """Replay ``market`` once per policy of ``specs`` and summarise.

    Parameters
    ----------
    market, setup : as :func:`~hedgekeeper.backtest.replay.run_backtest`.
    specs : the runs; names must be unique.
    progress : called as ``progress(done, total, name)`` after each run.

    Returns
    -------
    SuiteResult
    """
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"policy run names must be unique, got {names}")
    started = time.perf_counter()
    results: list[BacktestResult] = []
    for done, spec in enumerate(specs, start=1):
        results.append(run_backtest(market, setup, spec.policy, name=spec.name,
                                    trade_options=spec.trade_options))
        if progress is not None:
            progress(done, len(specs), spec.name)
    seconds = time.perf_counter() - started
    summaries = tuple(summarise(r) for r in results)
    families = [spec.family for spec in specs]
    cost = [s.total_cost_usd for s in summaries]
    return SuiteResult(
        market=market, specs=tuple(specs), results=tuple(results), summaries=summaries,
        tracking_frontier=frontier(names, families, cost,
                                   [s.tracking_error_usd for s in summaries]),
        error_frontier=frontier(names, families, cost,
                                [s.hedge_error_std_usd for s in summaries]),
        seconds=seconds,
    )
