"""Test harness for Venue implementations: the in-process paper exchange and its HTTP client.

Both drive the same server-side :class:`SimVenue` on a :class:`ManualClock` with a feed whose
price the test sets, so tests can move time and the market deterministically.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import uvicorn

from hedgekeeper.venues.base import OrderRequest, OrderType, Side, Venue
from hedgekeeper.venues.sim import (
    Fault,
    FaultSpec,
    InstrumentSpec,
    ManualClock,
    SimConfig,
    SimVenue,
)
from hedgekeeper.venues.sim.client import HttpVenue
from hedgekeeper.venues.sim.server import bind_socket, create_app

T = TypeVar("T")

START = datetime(2026, 1, 26, 4, 11, 38, tzinfo=UTC)
BTC = "BTC-PERPETUAL"
ETH = "ETH-PERPETUAL"


class SteerableFeed:
    """A price feed whose price the test sets (flat between changes)."""

    def __init__(self, prices: dict[str, float]) -> None:
        self.prices = dict(prices)

    def has(self, instrument: str) -> bool:
        return instrument in self.prices

    def price(self, instrument: str, elapsed_seconds: float) -> float:
        return self.prices[instrument]


def small_config(**overrides: object) -> SimConfig:
    """Two instruments with a small, round book (BTC at 100,000: 1 bp = 10 USD)."""
    btc = InstrumentSpec(
        name=BTC,
        initial_price=100_000.0,
        tick_size=Decimal("0.5"),
        lot_size=Decimal("0.001"),
        half_spread_bps=1.0,
        level_spacing_bps=2.0,
        levels=5,
        level_size=Decimal(1),
        size_growth=0.0,
        replenish_seconds=10.0,
        max_order_size=Decimal(20),
    )
    eth = InstrumentSpec(
        name=ETH,
        initial_price=3_000.0,
        tick_size=Decimal("0.05"),
        lot_size=Decimal("0.01"),
        levels=5,
        level_size=Decimal(10),
        max_order_size=Decimal(500),
    )
    values: dict[str, object] = {"instruments": {BTC: btc, ETH: eth}, "taker_fee_rate": 0.0005}
    values.update(overrides)
    return SimConfig(**values)  # type: ignore[arg-type]


def limit(
    client_order_id: str,
    side: Side,
    quantity: str,
    price: str,
    *,
    instrument: str = BTC,
    intent_id: str | None = None,
) -> OrderRequest:
    return OrderRequest(
        client_order_id=client_order_id,
        intent_id=intent_id or f"intent-{client_order_id}",
        instrument=instrument,
        side=side,
        quantity=Decimal(quantity),
        limit_price=Decimal(price),
    )


def market(
    client_order_id: str, side: Side, quantity: str, *, instrument: str = BTC
) -> OrderRequest:
    return OrderRequest(
        client_order_id=client_order_id,
        intent_id=f"intent-{client_order_id}",
        instrument=instrument,
        side=side,
        quantity=Decimal(quantity),
        order_type=OrderType.MARKET,
    )


@dataclass
class Harness:
    """A venue under test plus the controls behind it."""

    kind: str
    sim: SimVenue
    clock: ManualClock
    feed: SteerableFeed
    state: Path
    make_client: Callable[[], Venue] | None = None
    notes: dict[str, object] = field(default_factory=dict)

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def move(self, instrument: str, price: float) -> None:
        self.feed.prices[instrument] = price

    def inject(self, operation: str, fault: Fault) -> None:
        self.sim.faults.inject(operation, fault)

    def run(self, body: Callable[[Venue], Awaitable[T]]) -> T:
        """Run ``body(venue)`` in a fresh event loop (a fresh client for HTTP)."""

        async def main() -> T:
            if self.make_client is None:
                return await body(self.sim)
            client = self.make_client()
            try:
                return await body(client)
            finally:
                await client.close()

        return asyncio.run(main())


def _open_sim(
    tmp_path: Path, config: SimConfig | None, faults: FaultSpec | None
) -> tuple[SimVenue, ManualClock, SteerableFeed, Path]:
    config = config or small_config()
    feed = SteerableFeed({name: spec.initial_price for name, spec in config.instruments.items()})
    clock = ManualClock(START)
    state = tmp_path / "venue.sqlite"
    sim = SimVenue.open(state, config, feed=feed, faults=faults, clock=clock)
    return sim, clock, feed, state


@contextmanager
def sim_harness(
    tmp_path: Path, config: SimConfig | None = None, faults: FaultSpec | None = None
) -> Iterator[Harness]:
    sim, clock, feed, state = _open_sim(tmp_path, config, faults)
    try:
        yield Harness("sim", sim, clock, feed, state)
    finally:
        asyncio.run(sim.close())


@contextmanager
def http_harness(
    tmp_path: Path,
    config: SimConfig | None = None,
    faults: FaultSpec | None = None,
    *,
    hang_seconds: float = 0.0,
    client_timeout: float = 5.0,
    api_key: str | None = None,
    client_key: str | None = None,
) -> Iterator[Harness]:
    """The SimVenue served by uvicorn in a thread on 127.0.0.1 (free port), stopped after."""
    sim, clock, feed, state = _open_sim(tmp_path, config, faults)
    app = create_app(sim, hang_seconds=hang_seconds, api_key=api_key)
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            ws="none",
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    key = client_key if client_key is not None else api_key
    try:
        yield Harness(
            "http",
            sim,
            clock,
            feed,
            state,
            make_client=lambda: HttpVenue(url, timeout_seconds=client_timeout, api_key=key),
            notes={"url": url},
        )
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
        asyncio.run(sim.close())


@contextmanager
def harness_of(
    kind: str, tmp_path: Path, config: SimConfig | None = None, faults: FaultSpec | None = None
) -> Iterator[Harness]:
    if kind == "sim":
        with sim_harness(tmp_path, config, faults) as harness:
            yield harness
    else:
        with http_harness(tmp_path, config, faults) as harness:
            yield harness
