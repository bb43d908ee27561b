"""``SimVenue``: the paper exchange as an in-process :class:`~hedgekeeper.venues.base.Venue`.

It adds to :class:`~hedgekeeper.venues.sim.exchange.PaperExchange` what a network venue has:
latency (simulated or really slept), and injected faults (see
:mod:`hedgekeeper.venues.sim.faults` for each fault and the error the client sees).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from hedgekeeper.venues.base import (
    AccountReport,
    FeedSilent,
    OrderAck,
    OrderReport,
    OrderRequest,
    QuoteSnapshot,
    RateLimited,
    VenueReports,
    VenueTimeout,
    VenueUnavailable,
    validate_client_order_id,
)
from hedgekeeper.venues.sim.clock import Clock, WallClock
from hedgekeeper.venues.sim.config import SimConfig
from hedgekeeper.venues.sim.exchange import PaperExchange
from hedgekeeper.venues.sim.faults import Fault, FaultInjector, FaultSpec
from hedgekeeper.venues.sim.feed import PriceFeed, SyntheticFeed
from hedgekeeper.venues.sim.ledger import Ledger

__all__ = ["SimVenue", "synthetic_feed"]

_T = TypeVar("_T")


def synthetic_feed(config: SimConfig, seed: int) -> SyntheticFeed:
    """A seeded random walk for every instrument of ``config`` (its initial prices and vols)."""
    return SyntheticFeed(
        {name: spec.initial_price for name, spec in config.instruments.items()},
        {name: spec.volatility for name, spec in config.instruments.items()},
        seed=seed,
        step_seconds=config.match_interval_seconds,
    )


class SimVenue:
    """The paper exchange behind the ``Venue`` port, in this process.

    Build it with :meth:`open`. Calls pass through the fault injector and the latency model
    before reaching the exchange; an ``ack_lost`` fault lets the call complete (and be recorded
    in the ledger) and then raises :class:`VenueTimeout`.

    Attributes
    ----------
    exchange : PaperExchange
        The matching engine and its ledger.
    faults : FaultInjector
        Draws each call's fault; ``faults.inject(op, fault)`` scripts the next one.
    clock : Clock
        Venue time.
    """

    def __init__(
        self,
        exchange: PaperExchange,
        *,
        clock: Clock,
        faults: FaultInjector | None = None,
    ) -> None:
        self.exchange = exchange
        self.clock = clock
        self.faults = faults if faults is not None else FaultInjector()
        self._latency = exchange.config.latency
        self._jitter = random.Random(exchange.config.seed)
        self._silent_since: datetime | None = None
        self._silent_until: datetime | None = None
        self._closed = False

    @classmethod
    def open(
        cls,
        state: str | Path,
        config: SimConfig | None = None,
        *,
        feed: PriceFeed | None = None,
        faults: FaultSpec | FaultInjector | None = None,
        clock: Clock | None = None,
    ) -> SimVenue:
        """Open (or create) the venue whose ledger is the file ``state``.

        Parameters
        ----------
        state : str or Path
            The ledger file (SQLite); created with the config's initial balance if absent.
        config : SimConfig or None
            Instruments, account, latency (default: :class:`SimConfig` defaults).
        feed : PriceFeed or None
            Reference prices (default: :func:`synthetic_feed` seeded with ``config.seed``).
        faults : FaultSpec, FaultInjector or None
            Faults to inject (default: none).
        clock : Clock or None
            Venue time (default: the wall clock).
        """
        config = config if config is not None else SimConfig()
        clock = clock if clock is not None else WallClock()
        now = clock.now()
        ledger = Ledger.open_or_create(
            state, epoch=now, currency=config.currency, initial_balance=config.initial_balance
        )
        try:
            exchange = PaperExchange(
                config,
                ledger,
                feed if feed is not None else synthetic_feed(config, config.seed),
                now,
            )
        except BaseException:
            ledger.close()
            raise
        injector = faults if isinstance(faults, FaultInjector) else FaultInjector(faults)
        return cls(exchange, clock=clock, faults=injector)

    async def _call(self, operation: str, work: Callable[[datetime], _T]) -> _T:
        if self._closed:
            raise VenueUnavailable(operation, 503, f"{operation}: the venue is closed")
        fault = self.faults.draw(operation)
        delay = self._latency.seconds + self._jitter.uniform(0.0, self._latency.jitter_seconds)
        if self._latency.sleep:
            if delay > 0:
                await asyncio.sleep(delay)
            now = self.clock.now()
        else:
            now = self.clock.now() + timedelta(seconds=delay)
        if fault is Fault.RATE_LIMIT:
            raise RateLimited(operation, self.faults.spec.retry_after)
        if fault is Fault.UNAVAILABLE:
            raise VenueUnavailable(operation, 503)
        if fault is Fault.TIMEOUT:
            raise VenueTimeout(operation)
        if fault is Fault.FEED_SILENT:
            self._silent_since = now
            self._silent_until = now + timedelta(seconds=self.exchange.config.feed_silent_seconds)
        result = work(now)
        if fault is Fault.ACK_LOST:
            raise VenueTimeout(operation, f"{operation}: processed, but the answer was lost")
        return result

    def _quotes(self, instruments: Sequence[str]) -> Callable[[datetime], QuoteSnapshot]:
        def work(now: datetime) -> QuoteSnapshot:
            if self._silent_until is not None and now < self._silent_until:
                self.exchange.advance(now)
                raise FeedSilent(self._silent_since)
            return self.exchange.quotes(tuple(instruments), now)

        return work

    async def snapshot(self, instruments: Sequence[str]) -> QuoteSnapshot:
        """Top-of-book quotes of ``instruments`` (every listed instrument when empty)."""
        if isinstance(instruments, str):
            raise ValueError(f"instruments must be a sequence of names, got {instruments!r}")
        return await self._call("snapshot", self._quotes(instruments))

    async def account(self) -> AccountReport:
        """Positions and balances now."""
        return await self._call("account", self.exchange.account)

    async def submit(self, order: OrderRequest) -> OrderAck:
        """Place ``order``; idempotent on its client order id (see the port's contract)."""
        if not isinstance(order, OrderRequest):
            raise ValueError(f"order must be an OrderRequest, got {order!r}")

        def work(now: datetime) -> OrderAck:
            report, duplicate = self.exchange.submit(order, now)
            return OrderAck(report=report, duplicate=duplicate)

        return await self._call("submit", work)

    async def cancel(self, client_order_id: str) -> OrderReport | None:
        """Cancel a live order; the terminal order unchanged; ``None`` if unknown."""
        validate_client_order_id(client_order_id)
        return await self._call("cancel", lambda now: self.exchange.cancel(client_order_id, now))

    async def order(self, client_order_id: str) -> OrderReport | None:
        """Look an order up by client id."""
        validate_client_order_id(client_order_id)
        return await self._call("order", lambda now: self.exchange.order(client_order_id, now))

    async def reports(self, since: int = 0) -> VenueReports:
        """Open orders, order changes and fills with ledger sequence above ``since``."""
        return await self._call("reports", lambda now: self.exchange.reports(since, now))

    async def tick(self) -> None:
        """Match resting orders up to now (a server calls this on a timer; no fault, no delay)."""
        if not self._closed:
            self.exchange.advance(self.clock.now())

    async def close(self) -> None:
        """Close the ledger and release its lock; later calls raise ``VenueUnavailable``."""
        if not self._closed:
            self._closed = True
            self.exchange.ledger.close()
