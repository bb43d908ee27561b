"""Prometheus metrics of one keeper (its own registry, so tests and benchmarks can hold several).

Names follow Prometheus conventions: ``hedgekeeper_`` prefix, base units (seconds), ``_total``
for counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class KeeperMetrics:
    """The keeper's counters, gauges and histograms, registered in ``registry``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.updates = Counter("hedgekeeper_market_updates", "Market updates processed", ["origin"],
                               registry=r)
        self.decisions = Counter("hedgekeeper_decisions", "Engine decisions by outcome",
                                 ["outcome"], registry=r)
        self.orders = Counter("hedgekeeper_orders", "Orders by final status", ["status"],
                              registry=r)
        self.fills = Counter("hedgekeeper_fills", "Fills applied (once per trade id)", registry=r)
        self.rail_trips = Counter("hedgekeeper_rail_trips", "Safety rail trips", ["rail"],
                                  registry=r)
        self.venue_errors = Counter("hedgekeeper_venue_errors", "Venue call failures", ["kind"],
                                    registry=r)
        self.skipped = Counter("hedgekeeper_updates_skipped",
                               "Updates with no decision, by rail", ["rail"], registry=r)
        self.decision_seconds = Histogram(
            "hedgekeeper_decision_seconds", "Market update received to decision made",
            buckets=_LATENCY_BUCKETS, registry=r)
        self.commit_seconds = Histogram(
            "hedgekeeper_journal_commit_seconds", "Journal write (commit) latency",
            buckets=_LATENCY_BUCKETS, registry=r)
        self.trading_blocked = Gauge("hedgekeeper_trading_blocked",
                                     "1 while any rail blocks trading", registry=r)
        self.killed = Gauge("hedgekeeper_kill_switch", "1 while the kill switch is on",
                            registry=r)
        self.reconciled = Gauge("hedgekeeper_reconciled",
                                "1 once startup reconciliation succeeded", registry=r)
        self.position = Gauge("hedgekeeper_position_contracts", "Position per instrument",
                              ["instrument"], registry=r)
        self.net_delta = Gauge("hedgekeeper_net_delta_coin", "Book net delta after the last "
                               "decision, coin", registry=r)
        self.spot = Gauge("hedgekeeper_index_price_usd", "Last index price, USD", registry=r)
        self.data_age = Gauge("hedgekeeper_data_age_seconds",
                              "Market time between the update and its processing", registry=r)
        self.open_orders = Gauge("hedgekeeper_open_orders", "Orders not yet terminal",
                                 registry=r)
        self.queue_depth = Gauge("hedgekeeper_update_queue_depth",
                                 "Market updates waiting to be processed", registry=r)
