"""Keeper benchmark: 1,000 price updates per second into a keeper holding a 200-option book.

The keeper (``hedgekeeper.keeper.loop.Keeper``) runs as in production — its own run loop on a
real-time replay clock, the in-process paper exchange with its ledger, the journal in SQLite
(WAL, ``synchronous=FULL``) in a temporary folder (``$TMPDIR``; on disk, not tmpfs, to measure
real commits) — fed by a seeded synthetic feed with one update every millisecond of market time
at speed 1: 1,000 updates per wall second. Book: 200 distinct BTC options of the bundled Deribit
chain (seeded choice of those more than three days from expiry, quantities ``U{-5..5}``), hedged
with the linear perpetual under a 0.01 BTC delta band, the cost model and gates of the paper
config.

Measured:

* **update -> decision**: from the wall time an update became due (its market time on the
  replay clock) to the engine's decision on it, including any wait behind the previous update;
  p50, p99, p99.9 and max over every decision;
* **queue growth**: how far behind the feed the keeper is when it decides (market time of the
  decision minus the update's time), over the run: its maximum and its value in the first and
  last seconds. The keeper conflates — when several updates are due it decides on the freshest —
  so the backlog stays bounded; the benchmark also runs the same feed *without* conflation
  (every update decided in order) to show the backlog that would otherwise grow;
* **journal commit latency**: every journal write (decision, intent, order events, fills,
  checkpoints, position snapshots) the keeper made during the run, p50/p99/p99.9;
* journal commit latency on its own: the writes of one traded update (decision, intent, order,
  submitted, accepted, fill, checkpoint) repeated, so that p99.9 rests on thousands of commits;
* the engine's ``decide`` alone on this book (the floor), for reference.

No peer library does this job, so there is no ratio; the target (issue 7) is a decision p99
under 10 ms with no unbounded queue growth.

Run alone with ``python bench/keeper.py [--seconds S] [--options N]`` or through ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import machine_info, pin_single_thread

pin_single_thread()

import numpy as np  # noqa: E402  (thread knobs must be set before numpy/numba load)

SEED = 20260126
OPTIONS = 200
SECONDS = 20.0
RATE_HZ = 1_000.0


def book_positions(n_options: int, seed: int = SEED) -> list[dict[str, Any]]:
    """``n_options`` distinct options of the bundled chain, seeded quantities in -5..5."""
    from hedgekeeper.marketdata import load_chain, sample_chain_path

    chain = load_chain(sample_chain_path())
    rng = np.random.default_rng(seed)
    live = np.flatnonzero(chain.t > 3.0 / 365.0)
    picked = rng.choice(live, size=n_options, replace=False)
    quantities = rng.integers(-5, 6, size=n_options)
    quantities[quantities == 0] = 1
    return [{"instrument": str(chain.names[i]), "quantity": float(q)}
            for i, q in zip(picked, quantities, strict=True)]


def keeper_config(n_options: int, updates: int) -> Any:
    """The benchmark's keeper config (see the module docstring)."""
    from hedgekeeper.keeper.config import parse_config

    return parse_config({
        "name": "bench",
        "book": {"positions": book_positions(n_options)},
        "feed": {"kind": "synthetic", "interval_s": 1.0 / RATE_HZ, "updates": updates,
                 "vol": 0.8, "seed": 7},
        "hedge": {"instruments": [{"name": "BTC_USDC-PERPETUAL", "max_order": 500}],
                  "policy": {"halfwidth": 0.01}, "realised_vol": 0.5},
        "rails": {"fill_wait_s": 0.05, "max_orders_per_minute": 1_000,
                  "max_consecutive_same_side": 1_000, "max_order_notional_usd": 1e9,
                  "max_daily_turnover_usd": 1e12},
        "venue": {"level_size": 50.0, "levels": 10, "max_order_size": 10_000,
                  "initial_balance_usd": 1e9},
        "hold_journal_interval_s": 1.0,
    })


def _percentiles(samples_s: Sequence[float]) -> dict[str, float]:
    values = np.asarray(samples_s) * 1e3
    if values.size == 0:
        return {"count": 0}
    return {"count": int(values.size), "p50_ms": float(np.percentile(values, 50)),
            "p99_ms": float(np.percentile(values, 99)),
            "p99_9_ms": float(np.percentile(values, 99.9)), "max_ms": float(values.max()),
            "mean_ms": float(values.mean())}


class _CommitTimer:
    """Wraps a journal so that every write's latency is recorded."""

    WRITES = ("record_decision", "record_intent", "new_order", "apply_event", "apply_fill",
              "checkpoint", "record_positions", "record_rail_trip", "set_kill_switch")

    def __init__(self, journal: Any) -> None:
        self._journal = journal
        self.samples: dict[str, list[float]] = {name: [] for name in self.WRITES}

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._journal, name)
        if name not in self.WRITES:
            return target

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return target(*args, **kwargs)
            finally:
                self.samples[name].append(time.perf_counter() - start)

        return timed


async def _run(n_options: int, seconds: float, folder: Path, conflate: bool) -> dict[str, Any]:
    from hedgekeeper.keeper.clock import ReplayClock
    from hedgekeeper.keeper.feed import build_feed
    from hedgekeeper.keeper.inputs import build_model
    from hedgekeeper.keeper.loop import Keeper
    from hedgekeeper.keeper.paper import open_paper_venue
    from hedgekeeper.store import Journal

    updates = int(seconds * RATE_HZ)
    config = keeper_config(n_options, updates)
    model = build_model(config)
    feed = build_feed(config.feed)
    first = next(iter(feed.updates()))
    clock = ReplayClock(first.time, 1.0)
    venue, follow = open_paper_venue(config.venue, model.hedges,
                                     {name: first.perp_price for name in model.hedges},
                                     folder / "venue.sqlite", clock)
    journal = _CommitTimer(Journal.open(f"sqlite:///{folder / 'journal.sqlite'}"))
    keeper = Keeper(config=config, model=model, feed=feed, venue=venue,
                    journal=journal,  # type: ignore[arg-type]
                    clock=clock, follow=follow)
    keeper.decision_latencies = []
    lags: list[tuple[float, float]] = []
    process = keeper.process

    async def observed(update: Any, arrived: float | None = None) -> Any:
        lags.append(((update.time - first.time).total_seconds(),
                     (clock.now() - update.time).total_seconds()))
        return await process(update, arrived)

    keeper.process = observed  # type: ignore[method-assign]
    stop = asyncio.Event()
    wall = time.perf_counter()
    try:
        if conflate:
            summary = await keeper.run(stop)
        else:
            await keeper.recover()
            clock.restart_at(first.time)
            summary = keeper.summary
            for update in feed.updates():
                delay = clock.wall_seconds_until(update.time)
                if delay > 0:
                    await asyncio.sleep(delay)
                due = time.perf_counter() - (clock.now() - update.time).total_seconds()
                await keeper.process(update, due)
                if time.perf_counter() - wall > 2.0 * seconds:
                    break
    finally:
        await venue.close()
        journal.close()
    elapsed = time.perf_counter() - wall
    times = np.array([t for t, _ in lags])
    behind = np.array([lag for _, lag in lags]) * 1e3
    first_second = behind[times < 1.0]
    last_second = behind[times >= times.max() - 1.0] if times.size else behind
    commits = [s for samples in journal.samples.values() for s in samples]
    return {
        "conflate": conflate,
        "updates_offered": updates,
        "updates_seen": summary.updates + summary.conflated,
        "decisions": summary.decisions,
        "conflated": summary.conflated,
        "orders": summary.orders,
        "fills": summary.fills,
        "wall_s": elapsed,
        "decision_latency": _percentiles(keeper.decision_latencies),
        "slowest_decision_index": int(np.argmax(keeper.decision_latencies))
        if keeper.decision_latencies else None,
        "behind_ms": {"max": float(behind.max(initial=0.0)),
                      "first_second_mean": float(first_second.mean()) if first_second.size
                      else 0.0,
                      "last_second_mean": float(last_second.mean()) if last_second.size
                      else 0.0},
        "journal_commit": _percentiles(commits),
        "journal_commit_by_write": {name: _percentiles(samples)
                                    for name, samples in journal.samples.items() if samples},
    }


def engine_floor(n_options: int, repeats: int) -> dict[str, Any]:
    """``decide`` alone on the benchmark book, holding and trading (no keeper, no I/O)."""
    from decimal import Decimal

    from hedgekeeper.costs import Quote
    from hedgekeeper.engine import EngineState, MarketInputs, decide
    from hedgekeeper.keeper.feed import build_feed
    from hedgekeeper.keeper.inputs import build_model

    config = keeper_config(n_options, repeats)
    model = build_model(config)
    updates = list(build_feed(config.feed).updates())
    quotes = {"BTC_USDC-PERPETUAL": Quote(bid=updates[0].perp_price - 0.5,
                                          ask=updates[0].perp_price + 0.5)}
    flat = EngineState(book=model.book({}))
    probe = decide(flat, MarketInputs(snapshot=updates[0].snapshot(model.option_names),
                                      quotes=quotes, realised_vol=0.5), model.components)
    hedge = Decimal(repr(round(-probe.exposure_before.delta, 3)))
    hedged = EngineState(book=model.book({"BTC_USDC-PERPETUAL": hedge}))
    out: dict[str, Any] = {}
    for name, state in (("hold", hedged), ("trade", flat)):
        samples = []
        outcomes: dict[str, int] = {}
        for update in updates:
            market = MarketInputs(snapshot=update.snapshot(model.option_names), quotes=quotes,
                                  realised_vol=0.5)
            start = time.perf_counter()
            decision = decide(state, market, model.components)
            samples.append(time.perf_counter() - start)
            outcomes[decision.outcome.value] = outcomes.get(decision.outcome.value, 0) + 1
        out[name] = {**_percentiles(samples), "outcomes": outcomes}
    return out


def journal_commits(folder: Path, rounds: int) -> dict[str, Any]:
    """Latency of each journal write of one traded update, ``rounds`` times (SQLite, FULL)."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from hedgekeeper.domain.orders import Fill, Intent, SubmitSent, VenueAccepted
    from hedgekeeper.keeper.feed import build_feed
    from hedgekeeper.keeper.inputs import build_model
    from hedgekeeper.store import Journal

    config = keeper_config(OPTIONS, 1)
    model = build_model(config)
    update = next(iter(build_feed(config.feed).updates()))
    from hedgekeeper.costs import Quote
    from hedgekeeper.engine import EngineState, MarketInputs, decide

    decision = decide(EngineState(book=model.book({})), MarketInputs(
        snapshot=update.snapshot(model.option_names), realised_vol=0.5,
        quotes={"BTC_USDC-PERPETUAL": Quote(bid=update.perp_price - 0.5,
                                            ask=update.perp_price + 0.5)}), model.components)
    journal = _CommitTimer(Journal.open(f"sqlite:///{folder / 'commits.sqlite'}"))
    at = datetime(2026, 1, 26, tzinfo=UTC)
    try:
        for i in range(rounds):
            decision_id = journal.record_decision(decision, at=at)
            intent = Intent(f"bench-{i}-0", "BTC_USDC-PERPETUAL", "buy", Decimal("0.5"),
                            Decimal("87400"), decision_id)
            journal.record_intent(intent, at=at)
            order = journal.new_order(intent.intent_id, at=at)
            journal.apply_event(order.client_order_id, SubmitSent(), at=at)
            journal.apply_event(order.client_order_id, VenueAccepted(f"V{i}"), at=at)
            journal.apply_fill(Fill(f"T{i}", order.client_order_id, Decimal("0.5"),
                                    Decimal("87400"), Decimal("0.01"), at), at=at)
            journal.checkpoint(venue_cursor=str(i), details={"sequence": i}, at=at)
            at += timedelta(seconds=1)
    finally:
        journal.close()
    samples = [s for values in journal.samples.values() for s in values]
    return {"rounds": rounds, "all": _percentiles(samples),
            "by_write": {name: _percentiles(values)
                         for name, values in journal.samples.items() if values}}


def summarise(result: dict[str, Any]) -> list[str]:
    """Human-readable lines."""
    lines = []
    for run in result["runs"]:
        d, c, b = run["decision_latency"], run["journal_commit"], run["behind_ms"]
        mode = "conflating (the keeper)" if run["conflate"] else "every update, no conflation"
        lines.append(
            f"keeper {result['options']} options, {run['updates_offered']} updates at "
            f"{RATE_HZ:.0f}/s, {mode}: {run['decisions']} decisions, {run['conflated']} "
            f"conflated, {run['orders']} orders, {run['fills']} fills in {run['wall_s']:.1f} s")
        if d.get("count"):
            lines.append(f"  update->decision p50 {d['p50_ms']:.2f} ms, p99 {d['p99_ms']:.2f} "
                         f"ms, p99.9 {d['p99_9_ms']:.2f} ms, max {d['max_ms']:.1f} ms")
        lines.append(f"  behind the feed: max {b['max']:.1f} ms; mean in the first second "
                     f"{b['first_second_mean']:.1f} ms, in the last {b['last_second_mean']:.1f} ms")
        if c.get("count"):
            lines.append(f"  journal commits ({c['count']}): p50 {c['p50_ms']:.2f} ms, p99 "
                         f"{c['p99_ms']:.2f} ms, p99.9 {c['p99_9_ms']:.2f} ms")
    commits = result["journal_commits"]["all"]
    lines.append(f"  journal commits alone ({commits['count']} writes of "
                 f"{result['journal_commits']['rounds']} traded updates, SQLite WAL FULL): p50 "
                 f"{commits['p50_ms']:.2f} ms, p99 {commits['p99_ms']:.2f} ms, p99.9 "
                 f"{commits['p99_9_ms']:.2f} ms")
    floor = result["engine_decide"]
    lines.append(f"  engine decide() alone: hold p50 {floor['hold']['p50_ms']:.2f} ms / p99 "
                 f"{floor['hold']['p99_ms']:.2f} ms; trade p50 {floor['trade']['p50_ms']:.2f} "
                 f"ms / p99 {floor['trade']['p99_ms']:.2f} ms")
    return lines


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the keeper benchmark; return JSON-serialisable results with a ``summary``."""
    quick = os.environ.get("HEDGEKEEPER_BENCH_QUICK", "") not in ("", "0")
    parser = argparse.ArgumentParser(prog="bench/keeper.py", description=__doc__.split("\n")[0])
    parser.add_argument("--options", type=int, default=OPTIONS)
    parser.add_argument("--seconds", type=float, default=3.0 if quick else SECONDS)
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the run without conflation")
    args = parser.parse_args([] if argv is None else list(argv))
    folder = Path(tempfile.mkdtemp(prefix="hedgekeeper-keeper-bench-"))
    runs = []
    try:
        for conflate in (True, False) if not args.no_baseline else (True,):
            run_folder = folder / ("conflating" if conflate else "every-update")
            run_folder.mkdir()
            seconds = args.seconds if conflate else min(args.seconds, 5.0)
            runs.append(asyncio.run(_run(args.options, seconds, run_folder, conflate)))
        commits = journal_commits(folder, 50 if quick else 300)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result: dict[str, Any] = {"options": args.options, "rate_hz": RATE_HZ, "runs": runs,
                              "journal_commits": commits,
                              "engine_decide": engine_floor(args.options, 200 if quick else 1000),
                              "journal_folder": str(folder)}
    result["summary"] = summarise(result)
    return result


if __name__ == "__main__":
    outcome = main(sys.argv[1:])
    outcome["machine"] = machine_info()
    print(json.dumps({k: v for k, v in outcome.items() if k != "summary"}, indent=2))
    print("\n".join(outcome["summary"]))
