"""The paper exchange: it plays the exchange, not the keeper.

An order book per instrument around a reference price (a seeded random walk or a replayed price
file) with spread and depth, latency, partial fills, rejects and injectable faults, and its
own durable ledger (SQLite, WAL, ``synchronous=FULL``) in its own file. Use it in-process
(:class:`SimVenue`) or served on 127.0.0.1 (``hedgekeeper paper-venue serve``) through
:class:`~hedgekeeper.venues.sim.client.HttpVenue`.
"""

from hedgekeeper.venues.sim.clock import Clock, ManualClock, WallClock
from hedgekeeper.venues.sim.config import (
    DEFAULT_INSTRUMENTS,
    InstrumentSpec,
    LatencySpec,
    SimConfig,
)
from hedgekeeper.venues.sim.exchange import PaperExchange
from hedgekeeper.venues.sim.faults import Fault, FaultInjector, FaultSpec
from hedgekeeper.venues.sim.feed import PriceFeed, ReplayFeed, SyntheticFeed
from hedgekeeper.venues.sim.ledger import Ledger, LedgerError, LedgerReader
from hedgekeeper.venues.sim.venue import SimVenue, synthetic_feed

__all__ = [
    "DEFAULT_INSTRUMENTS",
    "Clock",
    "Fault",
    "FaultInjector",
    "FaultSpec",
    "InstrumentSpec",
    "LatencySpec",
    "Ledger",
    "LedgerError",
    "LedgerReader",
    "ManualClock",
    "PaperExchange",
    "PriceFeed",
    "ReplayFeed",
    "SimConfig",
    "SimVenue",
    "SyntheticFeed",
    "WallClock",
    "synthetic_feed",
]
