"""``hedgekeeper paper-venue serve`` in its own process: a killed client leaves it running, its
export matches what clients were told, and its ledger survives a SIGKILL of the server itself."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from hedgekeeper.venues.base import VenueReports
from hedgekeeper.venues.sim.client import HttpVenue

_CLIENT = textwrap.dedent(
    """
    import asyncio, json, sys
    from decimal import Decimal
    from hedgekeeper.venues.base import OrderRequest, OrderType, Side, VenueError
    from hedgekeeper.venues.sim.client import HttpVenue

    async def main() -> None:
        venue = HttpVenue(sys.argv[1], timeout_seconds=5.0)
        n = 0
        while True:
            n += 1
            if n % 4 == 0:
                # A bid 5 % under the market rests for the whole test.
                quote = (await venue.snapshot(["BTC-PERPETUAL"])).quotes["BTC-PERPETUAL"]
                request = OrderRequest(
                    client_order_id=f"c{n}", intent_id=f"i{n}", instrument="BTC-PERPETUAL",
                    side=Side.BUY, quantity=Decimal("0.2"),
                    limit_price=(quote.bid * Decimal("0.95")).quantize(Decimal(1)),
                )
            else:
                request = OrderRequest(
                    client_order_id=f"c{n}", intent_id=f"i{n}", instrument="BTC-PERPETUAL",
                    side=Side.BUY if n % 2 else Side.SELL, quantity=Decimal("0.05"),
                    order_type=OrderType.MARKET,
                )
            try:
                ack = await venue.submit(request)
            except VenueError as error:
                print(json.dumps({"error": type(error).__name__, "client_order_id": f"c{n}"}),
                      flush=True)
                continue
            print(json.dumps({"client_order_id": ack.report.client_order_id,
                              "venue_order_id": ack.report.venue_order_id}), flush=True)

    asyncio.run(main())
    """
)


def _read_line(stream: IO[str], deadline: float) -> str:
    line = ""
    while time.monotonic() < deadline:
        line = stream.readline()
        if line:
            return line
        time.sleep(0.05)
    raise AssertionError("no line in time")


@contextmanager
def _server(state: Path, log: Path, *extra: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    command = [sys.executable, "-m", "hedgekeeper", "paper-venue", "serve", "--state", str(state)]
    with (
        log.open("a") as stderr,
        subprocess.Popen(
            [*command, "--port", "0", "--synthetic", "7", *extra],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        ) as process,
    ):
        try:
            assert process.stdout is not None
            listening = json.loads(_read_line(process.stdout, time.monotonic() + 60))
            assert listening["event"] == "listening"
            assert listening["host"] == "127.0.0.1"
            yield process, str(listening["url"])
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def _export(state: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "hedgekeeper", "paper-venue", "export", "--state", str(state)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [json.loads(line) for line in result.stdout.splitlines()]


async def _reports(url: str) -> VenueReports:
    venue = HttpVenue(url)
    try:
        return await venue.reports(0)
    finally:
        await venue.close()


def test_server_outlives_its_client_and_its_ledger_outlives_the_server(tmp_path: Path) -> None:
    state = tmp_path / "venue.sqlite"
    log = tmp_path / "server.log"
    script = tmp_path / "client.py"
    script.write_text(_CLIENT)
    with _server(state, log) as (server, url):
        told: list[dict[str, str]] = []
        with subprocess.Popen(
            [sys.executable, str(script), url], stdout=subprocess.PIPE, text=True
        ) as client:
            try:
                assert client.stdout is not None
                deadline = time.monotonic() + 90
                while len(told) < 25:
                    told.append(json.loads(_read_line(client.stdout, deadline)))
                os.kill(client.pid, signal.SIGKILL)
                client.wait(timeout=10)
            finally:
                if client.poll() is None:
                    client.kill()
                    client.wait()
        assert client.returncode == -signal.SIGKILL
        time.sleep(0.5)
        assert server.poll() is None, log.read_text()

        reports = asyncio.run(_reports(url))
        exported = _export(state)  # while the server writes
        orders = [r for r in exported if r["type"] == "order"]
        fills = [r for r in exported if r["type"] == "fill"]
        assert {
            (o["client_order_id"], o["venue_order_id"], o["status"], o["quantity"]) for o in orders
        } == {
            (o.client_order_id, o.venue_order_id, o.status.value, str(o.quantity))
            for o in reports.orders
        }
        assert [
            (f["trade_id"], f["client_order_id"], f["quantity"], f["price"]) for f in fills
        ] == [(f.trade_id, f.client_order_id, str(f.quantity), str(f.price)) for f in reports.fills]
        by_id = {o["client_order_id"]: o for o in orders}
        for answer in told:
            if "venue_order_id" in answer:
                assert (
                    by_id[answer["client_order_id"]]["venue_order_id"] == answer["venue_order_id"]
                )
        assert len({f["trade_id"] for f in fills}) == len(fills)
        position = sum(
            (
                Decimal(f["quantity"]) * (1 if by_id[f["client_order_id"]]["side"] == "buy" else -1)
                for f in fills
            ),
            Decimal(0),
        )
        assert reports.positions.get("BTC-PERPETUAL", Decimal(0)) == position

        # The exchange itself dies hard; its ledger has everything it told anyone.
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    assert _export(state) == exported

    with _server(state, log) as (restarted, url):
        again = asyncio.run(_reports(url))
        assert [f.trade_id for f in again.fills] == [f["trade_id"] for f in fills]
        assert {o.client_order_id for o in again.orders} == set(by_id)
        assert {o.client_order_id for o in again.open_orders} == {
            o["client_order_id"] for o in orders if o["status"] == "open"
        }
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(timeout=30) == 0, log.read_text()
