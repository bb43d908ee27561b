"""Historical backtests: event replay of an option book through ``engine.decide``.

``load_market`` aligns real hourly bars, DVOL and funding; ``run_backtest`` replays one policy
with a simulated venue and clock; ``run_suite`` runs a family of policies and computes their
summaries and cost-risk frontiers (``pareto_mask``). See ``docs/backtest.md``. The multi-asset
target-weight backtest lives in :mod:`hedgekeeper.backtest.weights`.
"""

from hedgekeeper.backtest.book import LegSpec, RollingBook
from hedgekeeper.backtest.frontier import FrontierPoint, frontier, pareto_mask
from hedgekeeper.backtest.market import (
    HistoricalMarket,
    MarketFiles,
    VolSettings,
    build_market,
    load_market,
)
from hedgekeeper.backtest.metrics import BacktestSummary, daily_pnl, summarise
from hedgekeeper.backtest.replay import (
    BacktestResult,
    BacktestSetup,
    HedgeOptionSpec,
    ReplayClock,
    binance_perpetual,
    run_backtest,
)
from hedgekeeper.backtest.smile import DvolSmile
from hedgekeeper.backtest.suite import PolicySpec, SuiteResult, run_suite
from hedgekeeper.backtest.venue import CostTerms, Fill, SimVenue

__all__ = [
    "BacktestResult",
    "BacktestSetup",
    "BacktestSummary",
    "CostTerms",
    "DvolSmile",
    "Fill",
    "FrontierPoint",
    "HedgeOptionSpec",
    "HistoricalMarket",
    "LegSpec",
    "MarketFiles",
    "PolicySpec",
    "ReplayClock",
    "RollingBook",
    "SimVenue",
    "SuiteResult",
    "VolSettings",
    "binance_perpetual",
    "build_market",
    "daily_pnl",
    "frontier",
    "load_market",
    "pareto_mask",
    "run_backtest",
    "run_suite",
    "summarise",
]
