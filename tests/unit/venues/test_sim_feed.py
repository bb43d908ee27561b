"""Reference price feeds: the seeded random walk and the price file replay."""

from __future__ import annotations

import asyncio
import math
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from venue_harness import START

from hedgekeeper.venues.sim import ManualClock, ReplayFeed, SimConfig, SimVenue, SyntheticFeed

SAMPLE_PERP = Path(__file__).parents[3] / "src/hedgekeeper/samples/deribit_perp_2026-01-26.csv"


def _walk(seed: int, vol: float = 0.6) -> SyntheticFeed:
    return SyntheticFeed({"A": 100.0, "B": 50.0}, {"A": vol, "B": vol}, seed=seed)


def test_synthetic_walk_is_seeded_per_instrument_and_query_order_free() -> None:
    forward, backward = _walk(1), _walk(1)
    times = [0.0, 0.5, 1.0, 7.9, 8.0, 5_000.0, 20_000.0]
    a = [forward.price("A", t) for t in times]
    b_first = [backward.price("B", t) for t in reversed(times)]
    assert [backward.price("A", t) for t in reversed(times)] == a[::-1]
    assert [forward.price("B", t) for t in times] == b_first[::-1]
    assert a[0] == a[1] == 100.0  # the epoch price holds for the first step
    assert forward.price("A", -5.0) == 100.0
    assert forward.price("A", 7.9) == forward.price("A", 7.0)  # holds within a step
    assert _walk(2).price("A", 5_000.0) != a[5]
    assert a[5] != b_first[1] * 2  # instruments have their own paths


def test_synthetic_walk_has_the_stated_volatility_and_no_drift() -> None:
    feed = _walk(5, vol=0.8)
    steps = 50_000
    log_prices = np.log([feed.price("A", float(t)) for t in range(steps + 1)])
    returns = np.diff(log_prices)
    dt = 1.0 / (365 * 86400)
    assert returns.std() / math.sqrt(dt) == pytest.approx(0.8, rel=0.02)
    # Martingale drift: mean log return is -sigma^2 dt / 2 (tiny); within 4 standard errors.
    assert abs(returns.mean() + 0.5 * 0.64 * dt) < 4 * returns.std() / math.sqrt(steps)
    flat = _walk(5, vol=0.0)
    assert flat.price("A", 1e6) == 100.0


def test_synthetic_walk_validates_its_inputs() -> None:
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        SyntheticFeed({"A": 1.0}, {"A": 0.1}, seed=-1)
    with pytest.raises(ValueError, match="must name the same instruments"):
        SyntheticFeed({"A": 1.0}, {"B": 0.1}, seed=0)
    with pytest.raises(ValueError, match=r"initial_prices\['A'\] must be positive"):
        SyntheticFeed({"A": 0.0}, {"A": 0.1}, seed=0)
    with pytest.raises(ValueError, match="not in the synthetic feed"):
        _walk(0).price("C", 1.0)


def test_replay_of_the_bundled_deribit_perpetual_sample() -> None:
    feed = ReplayFeed.from_csv(SAMPLE_PERP, speed=3600.0)
    assert set(feed.instruments) == {"BTC-PERPETUAL", "ETH-PERPETUAL"}
    assert feed.price("BTC-PERPETUAL", 0.0) == 87395.5
    gap = (9 * 3600 + 27 * 60 + 55) - (4 * 3600 + 11 * 60 + 38)  # 04:11:38 -> 09:27:55
    assert feed.price("BTC-PERPETUAL", gap / 3600.0 - 0.01) == 87395.5
    assert feed.price("BTC-PERPETUAL", gap / 3600.0) == 87727.0
    assert feed.price("ETH-PERPETUAL", 1e9) == 2886.05  # the last price holds
    only = ReplayFeed.from_csv(SAMPLE_PERP, instrument="ETH-PERPETUAL")
    assert only.instruments == ("ETH-PERPETUAL",)


def test_replay_of_a_bar_file_names_its_instrument(tmp_path: Path) -> None:
    bars = tmp_path / "bars.csv"
    bars.write_text(
        "timestamp,open,high,low,close,volume\n"
        "2022-11-08T00:00:00Z,20000,20100,19900,20050,1\n"
        "2022-11-08T01:00:00Z,20050,20100,18000,18500,1\n"
    )
    with pytest.raises(ValueError, match="no instrument column: name the instrument"):
        ReplayFeed.from_csv(bars)
    feed = ReplayFeed.from_csv(bars, instrument="BTCUSDT", speed=60.0)
    assert feed.price("BTCUSDT", 59.0) == 20050.0
    assert feed.price("BTCUSDT", 60.0) == 18500.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("when,price\n2022-01-01T00:00:00Z,1\n", "needs a timestamp column"),
        ("timestamp,price\n2022-01-01T00:00:00Z,1\nnot-a-time,2\n", "data row 2"),
        ("timestamp,price\n2022-01-01T00:00:00Z,-1\n", "data row 1 has no valid"),
        ("timestamp,instrument,price\n2022-01-01T00:00:00Z,A,1\n", "no rows for instrument 'B'"),
    ],
)
def test_replay_file_errors_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        ReplayFeed.from_csv(path, instrument="B" if "instrument" in content else "X")
    with pytest.raises(ValueError, match="does not exist"):
        ReplayFeed.from_csv(tmp_path / "missing.csv", instrument="X")


def test_the_exchange_quotes_around_the_replayed_price(tmp_path: Path) -> None:
    feed = ReplayFeed.from_csv(SAMPLE_PERP, speed=3600.0)
    config = SimConfig()  # the default BTC and ETH perpetuals
    clock = ManualClock(START)

    async def body() -> None:
        venue = SimVenue.open(tmp_path / "v.sqlite", config, feed=feed, clock=clock)
        try:
            first = (await venue.snapshot(["BTC-PERPETUAL"])).quotes["BTC-PERPETUAL"]
            assert first.bid < Decimal("87395.5") < first.ask
            clock.advance(6)  # six replayed hours
            later = (await venue.snapshot(["BTC-PERPETUAL"])).quotes["BTC-PERPETUAL"]
            assert later.bid < Decimal(87727) < later.ask
            assert later.timestamp == START + timedelta(seconds=6)
        finally:
            await venue.close()

    asyncio.run(body())
    with pytest.raises(ValueError, match="does not price instrument"):
        SimVenue.open(
            tmp_path / "w.sqlite",
            config,
            feed=ReplayFeed.from_csv(SAMPLE_PERP, instrument="ETH-PERPETUAL"),
        )
