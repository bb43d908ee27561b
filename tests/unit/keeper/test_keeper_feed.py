"""Market feeds: deterministic, resumable, real snapshots kept exact."""

from __future__ import annotations

import itertools
import math

import pytest

from hedgekeeper.keeper.config import FeedConfig
from hedgekeeper.keeper.feed import build_feed
from shared_data import shared_data

OPTIONS = ("BTC-27MAR26-88000-C", "BTC-27MAR26-88000-P")


def test_chain_replay_keeps_the_real_snapshots_and_bridges_between() -> None:
    updates = list(build_feed(FeedConfig(bridge_ticks=9, seed=4)).updates())
    assert [u.sequence for u in updates] == list(range(11))
    first, last = updates[0], updates[-1]
    # SOURCE: bundled sample, Deribit index and BTC-PERPETUAL at 04:11:38Z and 09:27:55Z.
    assert first.origin == last.origin == "snapshot"
    assert first.sources["perp"] == 87395.5
    assert last.sources["perp"] == 87727.0
    assert all(u.origin == "bridge" for u in updates[1:-1])
    times = [u.time for u in updates]
    assert times == sorted(times)
    assert all(abs(u.sources["perp"] / u.index_price - 1) < 1e-3 for u in updates)


def test_resume_after_a_sequence_gives_the_same_tail() -> None:
    config = FeedConfig(bridge_ticks=20, seed=9)
    everything = [(u.sequence, u.time, u.index_price) for u in build_feed(config).updates()]
    tail = [(u.sequence, u.time, u.index_price) for u in build_feed(config).updates(after=13)]
    assert tail == everything[14:]


def test_synthetic_feed_is_seeded_and_lazy() -> None:
    config = FeedConfig(kind="synthetic", seed=3, interval_s=1.0, updates=0, vol=0.5)
    a = build_feed(config).updates()
    b = build_feed(config).updates(after=4999)
    series = [next(a).index_price for _ in range(5001)]
    assert next(b).index_price == series[5000]
    steps = [math.log(y / x) for x, y in itertools.pairwise(series)]
    annualised = float(sum(s * s for s in steps) / len(steps) * 365 * 86400) ** 0.5
    assert annualised == pytest.approx(0.5, rel=0.05)


def test_snapshot_scales_forwards_with_the_index_and_holds_vols() -> None:
    updates = list(build_feed(FeedConfig(bridge_ticks=3, seed=1)).updates())
    reference = updates[1].reference.snapshot
    snapshot = updates[1].snapshot(OPTIONS)
    ratio = updates[1].index_price / reference.index_price
    expiry = next(e for e in snapshot.forwards if e.month == 3 and e.year == 2026)
    assert snapshot.forward(expiry) == pytest.approx(reference.forward(expiry) * ratio)
    assert snapshot.mark_ivs[OPTIONS[0]] == reference.mark_ivs[OPTIONS[0]]
    assert snapshot.timestamp == updates[1].time
    with pytest.raises(ValueError, match="not in the reference chain"):
        updates[1].snapshot(("BTC-27MAR26-1000-C",))


@pytest.mark.shared_data
def test_bars_replay_of_a_real_crash() -> None:
    spot = shared_data("binance_spot_BTCUSDT_1h_to2024.csv.gz")
    perp = shared_data("binance_usdm_perp_BTCUSDT_1h_to2024.csv.gz")
    config = FeedConfig(kind="bars", bars=str(spot), perp_bars=str(perp), start="2022-11-08",
                        updates=48)
    updates = list(build_feed(config).updates())
    assert len(updates) == 48
    # FTX, 2022-11-08/09: BTC fell by more than 10 % within two days.
    assert min(u.index_price for u in updates) / updates[0].index_price < 0.9
    assert all("perp" in u.sources for u in updates)
