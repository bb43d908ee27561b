"""The keeper: the long-running shell that keeps a book on target through a venue.

Crash-only: startup is recovery and reconciliation with the venue; every decision goes through
:func:`hedgekeeper.engine.decide`; intents are journalled before orders are sent; safety rails
stop trading with a journalled reason. See ``docs/keeper.md``.
"""

from hedgekeeper.keeper.clock import Clock, ManualClock, ReplayClock, WallClock
from hedgekeeper.keeper.config import ConfigError, KeeperConfig, load_config, parse_config
from hedgekeeper.keeper.crash import CRASH_ENV, CrashPoints
from hedgekeeper.keeper.feed import MarketFeed, MarketUpdate, build_feed
from hedgekeeper.keeper.inputs import KeeperModel, build_model
from hedgekeeper.keeper.loop import Keeper, KeeperHaltedError, KeeperState, RunSummary
from hedgekeeper.keeper.metrics import KeeperMetrics
from hedgekeeper.keeper.rails import Rails, RailsState, Trip
from hedgekeeper.keeper.runner import RunOptions, run_keeper

__all__ = [
    "CRASH_ENV",
    "Clock",
    "ConfigError",
    "CrashPoints",
    "Keeper",
    "KeeperConfig",
    "KeeperHaltedError",
    "KeeperMetrics",
    "KeeperModel",
    "KeeperState",
    "ManualClock",
    "MarketFeed",
    "MarketUpdate",
    "Rails",
    "RailsState",
    "ReplayClock",
    "RunOptions",
    "RunSummary",
    "Trip",
    "WallClock",
    "build_feed",
    "build_model",
    "load_config",
    "parse_config",
    "run_keeper",
]
