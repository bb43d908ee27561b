"""Assemble and run a keeper from its configuration (what ``hedgekeeper run`` does).

:func:`run_keeper` opens the journal, builds the feed, the clock (a :class:`ReplayClock` at
``speed``, anchored at the journal's checkpoint so that a restarted replay resumes where it
was), the venue (the in-process paper exchange, or the HTTP client of a ``paper-venue serve``),
optionally the HTTP API, and runs the loop until the feed ends, ``duration_s`` of wall time
has passed, or SIGINT/SIGTERM asks it to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from hedgekeeper.keeper.clock import Clock, ReplayClock
from hedgekeeper.keeper.config import KeeperConfig
from hedgekeeper.keeper.crash import CrashPoints
from hedgekeeper.keeper.feed import MarketUpdate, build_feed
from hedgekeeper.keeper.inputs import build_model
from hedgekeeper.keeper.logs import configure_logging, log_event, register_secret
from hedgekeeper.keeper.loop import Keeper, RunSummary
from hedgekeeper.keeper.metrics import KeeperMetrics
from hedgekeeper.keeper.paper import FollowFeed, open_paper_venue
from hedgekeeper.store import Journal
from hedgekeeper.venues.base import Venue


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Command-line overrides of ``hedgekeeper run``.

    Attributes
    ----------
    db : journal URL (overrides ``config.db``).
    venue_state : the in-process paper exchange's ledger file (overrides ``venue.state``).
    speed : market seconds per wall second of the replay (> 0).
    duration_s : stop cleanly after this many wall seconds (None: until the feed ends).
    config_path : the config file (relative paths in it are from its folder).
    """

    db: str | None = None
    venue_state: str | None = None
    speed: float = 1.0
    duration_s: float | None = None
    config_path: Path | None = None


def load_secrets(config: KeeperConfig, config_path: Path | None) -> dict[str, SecretStr | None]:
    """The secrets the keeper uses, each registered for scrubbing from every output."""
    base = config_path.parent if config_path is not None else Path.cwd()
    found: dict[str, SecretStr | None] = {
        "api_token": _env_secret(config.api.token_env),
        "venue_api_key": None if config.venue.api_key is None else config.venue.api_key.load(base),
    }
    for secret in found.values():
        if secret is not None:
            register_secret(secret.get_secret_value())
    return found


def _env_secret(name: str) -> SecretStr | None:
    value = os.environ.get(name, "")
    return SecretStr(value) if value else None


def _first_update(feed_updates: Any) -> MarketUpdate | None:
    return next(iter(feed_updates), None)


async def run_keeper(config: KeeperConfig, options: RunOptions,
                     metrics: KeeperMetrics | None = None) -> RunSummary:
    """Run the keeper described by ``config`` until it stops; returns what it did.

    Raises
    ------
    ValueError
        For an unusable config, journal URL or data file (the message names it).
    hedgekeeper.keeper.loop.KeeperHaltedError
        When reconciliation fails or the venue stays unreachable while orders are open.
    """
    # Outputs (journal, ledger, log) are relative to the working directory; inputs (feed files,
    # secret files) to the config file's folder.
    logger = configure_logging(config.log.level, config.log.file)
    secrets = load_secrets(config, options.config_path)
    crash = CrashPoints.from_environment()
    model = build_model(config)
    feed = build_feed(config.feed, options.config_path)
    journal = Journal.open(options.db or config.db)
    metrics = metrics if metrics is not None else KeeperMetrics()
    venue: Venue | None = None
    api = None
    try:
        checkpoint = journal.last_checkpoint()
        sequence = int(checkpoint.details.get("sequence", -1)) if checkpoint else -1
        resume_at = checkpoint.details.get("market_time") if checkpoint else None
        first = _first_update(feed.updates(after=sequence))
        if resume_at:
            anchor = datetime.fromisoformat(str(resume_at))
        elif first is not None:
            anchor = first.time
        else:
            anchor = datetime.now(UTC)
        clock: Clock = ReplayClock(anchor, options.speed)
        follow: FollowFeed | None = None
        if config.venue.url is None:
            reference = first if first is not None else _first_update(feed.updates())
            if reference is None:
                raise ValueError("the market feed has no updates")
            prices = {name: reference.perp_price for name in model.hedges}
            state = options.venue_state or config.venue.state
            venue, follow = open_paper_venue(config.venue, model.hedges, prices, state, clock)
        else:
            from hedgekeeper.venues.sim.client import HttpVenue

            key = secrets["venue_api_key"]
            venue = HttpVenue(config.venue.url, timeout_seconds=config.venue.timeout_s,
                              api_key=None if key is None else key.get_secret_value())
        keeper = Keeper(config=config, model=model, feed=feed, venue=venue, journal=journal,
                        clock=clock, metrics=metrics, crash=crash, follow=follow, logger=logger)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        if config.api.enabled:
            from hedgekeeper.api import ApiServer, create_app

            token = secrets["api_token"]
            api = ApiServer(create_app(keeper, metrics.registry, token), config.api.host,
                            config.api.port, token)
            await api.start()
            log_event(logger, "api_listening", host=config.api.host, port=api.port)
        timer = None
        if options.duration_s is not None:
            timer = loop.call_later(options.duration_s, stop.set)
        log_event(logger, "keeper_started", name=config.name, journal=journal.url,
                  venue="paper (in-process)" if config.venue.url is None else config.venue.url,
                  speed=options.speed, duration_s=options.duration_s)
        try:
            return await keeper.run(stop)
        finally:
            if timer is not None:
                timer.cancel()
    finally:
        if api is not None:
            await api.stop()
        if venue is not None:
            await venue.close()
        journal.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                asyncio.get_running_loop().remove_signal_handler(sig)
        log_event(logger, "keeper_closed")
