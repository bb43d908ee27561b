"""The paper exchange's own ledger: reload, one writer, readers, and survival of a SIGKILL."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from venue_harness import BTC, START, SteerableFeed, limit, market, sim_harness, small_config

from hedgekeeper.venues.base import Side, Venue, VenueOrderStatus
from hedgekeeper.venues.sim import Ledger, LedgerError, LedgerReader, ManualClock, SimVenue


def test_reload_restores_orders_fills_positions_and_keeps_counting(tmp_path: Path) -> None:
    with sim_harness(tmp_path) as harness:

        async def trade(venue: Venue) -> tuple[str, int]:
            await venue.submit(market("a", Side.BUY, "2.5"))
            await venue.submit(limit("rest", Side.SELL, "1", "100500"))
            reports = await venue.reports(0)
            return reports.fills[-1].trade_id, reports.cursor

        last_trade, cursor = harness.run(trade)
        meta = harness.sim.exchange.meta
        balance = harness.sim.exchange.balance
    config = small_config()
    feed = SteerableFeed({name: s.initial_price for name, s in config.instruments.items()})
    clock = ManualClock(START)
    clock.advance(60)

    async def after_restart() -> None:
        venue = SimVenue.open(tmp_path / "venue.sqlite", config, feed=feed, clock=clock)
        try:
            assert venue.exchange.meta == meta
            assert venue.exchange.balance == balance
            account = await venue.account()
            assert account.positions == {BTC: Decimal("2.5")}
            reports = await venue.reports(cursor)
            assert reports.cursor == cursor
            assert reports.fills == ()
            assert [o.client_order_id for o in reports.open_orders] == ["rest"]
            # The resting order still trades after the restart, with fresh trade ids.
            feed.prices[BTC] = 100_700.0
            clock.advance(1)
            report = await venue.order("rest")
            assert report is not None
            assert report.status is VenueOrderStatus.FILLED
            new = (await venue.reports(cursor)).fills
            assert len(new) == 1
            assert new[0].trade_id != last_trade
            assert new[0].sequence > cursor
        finally:
            await venue.close()

    asyncio.run(after_restart())


def test_one_writer_at_a_time_and_readers_alongside(tmp_path: Path) -> None:
    state = tmp_path / "venue.sqlite"
    with sim_harness(tmp_path) as harness:
        harness.run(lambda venue: venue.submit(market("a", Side.BUY, "1")))
        with pytest.raises(LedgerError, match="in use by another process"):
            SimVenue.open(state, small_config())
        with LedgerReader.open(state) as reader:
            assert [o.report.client_order_id for o in reader.orders()] == ["a"]
            assert len(reader.fills()) == 1
    # Released on close: a new writer may open it.
    asyncio.run(SimVenue.open(state, small_config()).close())


def test_not_a_ledger_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database at all, just text" * 10)
    with pytest.raises(LedgerError, match="is not a paper-venue ledger"):
        LedgerReader.open(junk)
    with pytest.raises(LedgerError, match="does not exist"):
        LedgerReader.open(tmp_path / "missing.sqlite")
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE meta (key TEXT, value TEXT)").connection.close()
    with pytest.raises(LedgerError, match="schema version None"):
        LedgerReader.open(other)


def test_ledger_is_wal_with_full_sync_and_unique_keys(tmp_path: Path) -> None:
    ledger = Ledger.open_or_create(
        tmp_path / "l.sqlite", epoch=START, currency="USD", initial_balance=Decimal(1)
    )
    try:
        db = ledger._db
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        with pytest.raises(LedgerError, match="inside a transaction"):
            ledger.next_sequence()
    finally:
        ledger.close()
    schema = sqlite3.connect(tmp_path / "l.sqlite").execute(
        "SELECT sql FROM sqlite_master WHERE name IN ('orders', 'fills')"
    )
    text = " ".join(row[0] for row in schema.fetchall())
    assert "client_order_id TEXT NOT NULL UNIQUE" in text
    assert "trade_id TEXT PRIMARY KEY" in text


_HOST = textwrap.dedent(
    """
    import asyncio, json, sys
    from decimal import Decimal
    from hedgekeeper.venues.base import OrderRequest, OrderType, Side, VenueError
    from hedgekeeper.venues.sim import FaultSpec, SimVenue

    async def main() -> None:
        venue = SimVenue.open(sys.argv[1], faults=FaultSpec.parse("ack_lost=0.2,seed=3"))
        n = 0
        while True:
            n += 1
            side = Side.BUY if n % 3 else Side.SELL
            request = OrderRequest(
                client_order_id=f"k{n}", intent_id=f"i{n}", instrument="BTC-PERPETUAL",
                side=side, quantity=Decimal("0.013"), order_type=OrderType.MARKET,
            )
            try:
                ack = await venue.submit(request)
            except VenueError:
                continue
            reports = await venue.reports(0)
            trades = [f.trade_id for f in reports.fills if f.client_order_id == f"k{n}"]
            line = {"client_order_id": f"k{n}", "status": ack.report.status.value,
                    "filled": str(ack.report.filled_quantity), "trade_ids": trades}
            sys.stdout.write(json.dumps(line) + "\\n")
            sys.stdout.flush()

    asyncio.run(main())
    """
)


def test_ledger_survives_sigkill_of_its_host_mid_stream(tmp_path: Path) -> None:
    script = tmp_path / "host.py"
    script.write_text(_HOST)
    state = tmp_path / "venue.sqlite"
    errors = tmp_path / "host.err"
    acked: list[dict[str, object]] = []
    with (
        errors.open("w") as stderr,
        subprocess.Popen(
            [sys.executable, str(script), str(state)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        ) as process,
    ):
        try:
            assert process.stdout is not None
            deadline = time.monotonic() + 60
            while len(acked) < 40 and time.monotonic() < deadline:
                line = process.stdout.readline()
                if not line:
                    break
                acked.append(json.loads(line))
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == -signal.SIGKILL
    assert len(acked) >= 40, errors.read_text()
    with LedgerReader.open(state) as reader:
        orders = {o.report.client_order_id: o.report for o in reader.orders()}
        fills = reader.fills()
    trade_ids = [fill.trade_id for fill in fills]
    assert len(trade_ids) == len(set(trade_ids))
    by_order = Counter(fill.client_order_id for fill in fills)
    for ack in acked:
        report = orders[str(ack["client_order_id"])]
        assert report.status.value == ack["status"]
        assert str(report.filled_quantity) == ack["filled"]
        assert set(ack["trade_ids"]) <= set(trade_ids)  # type: ignore[arg-type]
        assert by_order[report.client_order_id] == len(ack["trade_ids"])  # type: ignore[arg-type]
    # Orders whose answer was lost (or the one in flight) are there too, each once, and
    # positions reload as the sum of the fills.
    acked_ids = {str(ack["client_order_id"]) for ack in acked}
    assert len(orders) >= len(acked)
    assert set(orders) - acked_ids  # ack_lost=0.2 (seeded) lost some answers
    assert all(
        orders[o].filled_quantity
        == sum((f.quantity for f in fills if f.client_order_id == o), Decimal(0))
        for o in orders
    )

    async def reopen() -> None:
        venue = SimVenue.open(state)
        try:
            account = await venue.account()
            expected = sum((fill.signed_quantity for fill in fills), Decimal(0))
            assert account.positions.get(BTC, Decimal(0)) == expected
        finally:
            await venue.close()

    asyncio.run(reopen())
