"""Injected faults: the spec grammar, the draws, and the client-side error each fault produces."""

from __future__ import annotations

import asyncio
import math
import socket
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from venue_harness import (
    BTC,
    START,
    harness_of,
    http_harness,
    limit,
    market,
    sim_harness,
    small_config,
)

from hedgekeeper.venues.base import (
    FeedSilent,
    RateLimited,
    Side,
    Venue,
    VenueError,
    VenueOrderStatus,
    VenueTimeout,
    VenueUnavailable,
)
from hedgekeeper.venues.sim import Fault, FaultInjector, FaultSpec
from hedgekeeper.venues.sim.client import HttpVenue

KINDS = ("sim", "http")


def test_spec_grammar() -> None:
    spec = FaultSpec.parse(
        "ack_lost=0.1, timeout=0.05, order.timeout=0.5, submit#3=rate_limit, "
        "snapshot#1=feed_silent, seed=7, retry_after=2.5, hang=3"
    )
    assert spec.probabilities[("submit", Fault.ACK_LOST)] == 0.1
    assert spec.probabilities[("cancel", Fault.ACK_LOST)] == 0.1
    assert ("order", Fault.ACK_LOST) not in spec.probabilities
    assert spec.probabilities[("account", Fault.TIMEOUT)] == 0.05
    assert spec.probabilities[("order", Fault.TIMEOUT)] == 0.5
    assert spec.script == {("submit", 3): Fault.RATE_LIMIT, ("snapshot", 1): Fault.FEED_SILENT}
    assert (spec.seed, spec.retry_after, spec.hang) == (7, 2.5, 3.0)
    assert FaultSpec.parse("") == FaultSpec()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lag=0.1", "unknown fault 'lag'"),
        ("buy.timeout=0.1", "unknown operation 'buy'"),
        ("order.ack_lost=0.1", "ack_lost cannot happen on order"),
        ("submit#2=feed_silent", "feed_silent cannot happen on submit"),
        ("timeout=1.5", "probability in \\[0, 1\\]"),
        ("timeout=0.6,unavailable=0.6", "add up to 1.2"),
        ("timeout", "is not KEY=VALUE"),
        ("submit#x=timeout", "call number 'x'"),
        ("submit#0=timeout", "numbered from 1"),
        ("seed=1.5", "seed must be an integer"),
        ("hang=-1", "a number >= 0"),
    ],
)
def test_spec_errors_name_the_item(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FaultSpec.parse(text)


def test_draws_queued_then_scripted_then_random_and_seeded() -> None:
    injector = FaultInjector(FaultSpec.parse("submit#2=ack_lost"))
    injector.inject("submit", Fault.UNAVAILABLE)
    assert [injector.draw("submit") for _ in range(3)] == [Fault.UNAVAILABLE, Fault.ACK_LOST, None]
    assert injector.calls["submit"] == 3
    spec = FaultSpec.parse("timeout=0.2,rate_limit=0.1,seed=11")
    first = [FaultInjector(spec).draw("order") for _ in range(1)]
    a, b = FaultInjector(spec), FaultInjector(spec)
    draws = [a.draw("order") for _ in range(4000)]
    assert draws == [b.draw("order") for _ in range(4000)]
    assert first[0] == draws[0]
    for fault, probability in ((Fault.TIMEOUT, 0.2), (Fault.RATE_LIMIT, 0.1)):
        count = draws.count(fault)
        sigma = math.sqrt(4000 * probability * (1 - probability))
        assert abs(count - 4000 * probability) < 5 * sigma
    with pytest.raises(ValueError, match="ack_lost cannot happen on reports"):
        a.inject("reports", Fault.ACK_LOST)


@pytest.mark.parametrize("kind", KINDS)
def test_timeout_loses_the_request_before_the_venue(kind: str, tmp_path: Path) -> None:
    with harness_of(kind, tmp_path) as harness:
        harness.inject("submit", Fault.TIMEOUT)
        harness.inject("order", Fault.TIMEOUT)

        async def body(venue: Venue) -> None:
            with pytest.raises(VenueTimeout):
                await venue.submit(market("t", Side.BUY, "1"))
            with pytest.raises(VenueTimeout):
                await venue.order("t")
            assert await venue.order("t") is None

        harness.run(body)


@pytest.mark.parametrize("kind", KINDS)
def test_ack_lost_cancel_is_processed(kind: str, tmp_path: Path) -> None:
    with harness_of(kind, tmp_path) as harness:

        async def body(venue: Venue) -> None:
            await venue.submit(limit("c", Side.BUY, "1", "99000"))
            harness.inject("cancel", Fault.ACK_LOST)
            with pytest.raises(VenueTimeout):
                await venue.cancel("c")
            report = await venue.order("c")
            assert report is not None
            assert report.status is VenueOrderStatus.CANCELLED

        harness.run(body)


@pytest.mark.parametrize("kind", KINDS)
def test_unavailable_is_a_5xx_and_not_processed(kind: str, tmp_path: Path) -> None:
    with harness_of(kind, tmp_path) as harness:
        harness.inject("submit", Fault.UNAVAILABLE)

        async def body(venue: Venue) -> None:
            with pytest.raises(VenueUnavailable) as caught:
                await venue.submit(market("u", Side.BUY, "1"))
            assert caught.value.status_code == 503
            assert await venue.order("u") is None

        harness.run(body)


@pytest.mark.parametrize("kind", KINDS)
def test_rate_limit_says_when_to_retry_and_is_not_processed(kind: str, tmp_path: Path) -> None:
    faults = FaultSpec.parse("submit#1=rate_limit,retry_after=2.5")
    with harness_of(kind, tmp_path, faults=faults) as harness:

        async def body(venue: Venue) -> None:
            with pytest.raises(RateLimited) as caught:
                await venue.submit(market("r", Side.BUY, "1"))
            assert caught.value.retry_after == 2.5
            assert await venue.order("r") is None
            assert not (await venue.submit(market("r", Side.BUY, "1"))).duplicate

        harness.run(body)


@pytest.mark.parametrize("kind", KINDS)
def test_silent_feed_raises_until_the_window_ends(kind: str, tmp_path: Path) -> None:
    config = small_config(feed_silent_seconds=30.0)
    with harness_of(kind, tmp_path, config) as harness:
        harness.inject("snapshot", Fault.FEED_SILENT)

        async def body(venue: Venue) -> None:
            with pytest.raises(FeedSilent) as caught:
                await venue.snapshot([BTC])
            assert caught.value.last_update == START
            harness.advance(29)
            with pytest.raises(FeedSilent):
                await venue.snapshot([BTC])
            # Trading goes on while the feed is quiet.
            assert (await venue.submit(market("m", Side.BUY, "1"))).report.filled_quantity == 1
            harness.advance(1)
            snapshot = await venue.snapshot([BTC])
            assert snapshot.timestamp == START + timedelta(seconds=30)

        harness.run(body)


def test_http_timeout_is_a_real_client_timeout(tmp_path: Path) -> None:
    # The server holds an ack-lost request longer than the client waits.
    with http_harness(tmp_path, hang_seconds=1.5, client_timeout=0.3) as harness:
        harness.inject("submit", Fault.ACK_LOST)

        async def body(venue: Venue) -> None:
            started = time.monotonic()
            with pytest.raises(VenueTimeout, match="ReadTimeout"):
                await venue.submit(limit("h", Side.BUY, "1", "99000"))
            assert time.monotonic() - started < 1.2
            found = await venue.order("h")
            assert found is not None
            assert found.status is VenueOrderStatus.OPEN

        harness.run(body)


def test_http_connection_refused_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def body() -> None:
        venue = HttpVenue(f"http://127.0.0.1:{port}", timeout_seconds=1.0)
        try:
            with pytest.raises(VenueUnavailable, match="cannot connect"):
                await venue.submit(market("x", Side.BUY, "1"))
        finally:
            await venue.close()

    asyncio.run(body())


def test_http_api_key_is_required_when_configured(tmp_path: Path) -> None:
    with http_harness(tmp_path, api_key="s3cret-key", client_key="wrong") as harness:

        async def body(venue: Venue) -> None:
            with pytest.raises(VenueError, match="401") as caught:
                await venue.account()
            assert "s3cret-key" not in str(caught.value)

        harness.run(body)
    (tmp_path / "b").mkdir()
    with http_harness(tmp_path / "b", api_key="s3cret-key") as harness:

        async def good(venue: Venue) -> None:
            assert (await venue.account()).balances["USD"] == Decimal(1_000_000)

        harness.run(good)


def test_scripted_spec_on_open(tmp_path: Path) -> None:
    with sim_harness(tmp_path, faults=FaultSpec.parse("submit#2=ack_lost")) as harness:

        async def body(venue: Venue) -> None:
            await venue.submit(market("one", Side.BUY, "1"))
            with pytest.raises(VenueTimeout):
                await venue.submit(market("two", Side.BUY, "1"))
            assert (await venue.account()).positions[BTC] == Decimal(2)

        harness.run(body)
