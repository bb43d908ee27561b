"""``hedgekeeper paper-venue``: run the paper exchange as its own server, and read its ledger."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from hedgekeeper.venues.sim import PriceFeed, SimConfig

paper_venue_app = typer.Typer(
    name="paper-venue",
    help="The paper exchange: serve it on 127.0.0.1, export its own ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@paper_venue_app.command("serve")
def serve(
    state: Annotated[Path, typer.Option("--state", help="The venue's ledger file (SQLite).")],
    host: Annotated[str, typer.Option("--host", help="Address to bind (loopback).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="TCP port; 0 picks a free one.")] = 8765,
    prices: Annotated[
        Path | None,
        typer.Option("--prices", help="Replay this price file (CSV, ISO-8601 UTC timestamps)."),
    ] = None,
    synthetic: Annotated[
        int | None,
        typer.Option("--synthetic", help="Seed of a synthetic random-walk feed (default 0)."),
    ] = None,
    instrument: Annotated[
        str | None,
        typer.Option("--instrument", help="Instrument of a price file without that column."),
    ] = None,
    speed: Annotated[
        float, typer.Option("--speed", help="Replay speed: data seconds per second.")
    ] = 1.0,
    faults: Annotated[
        str,
        typer.Option(
            "--faults", help='Injected faults, e.g. "ack_lost=0.05,submit#3=timeout,seed=7".'
        ),
    ] = "",
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", help="Latency of each request, milliseconds.")
    ] = 0.0,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="TOML file whose [venue] table (or root) is a SimConfig."),
    ] = None,
    api_key_env: Annotated[
        str | None,
        typer.Option(
            "--api-key-env",
            help="Require 'Authorization: Bearer KEY', KEY from this environment variable.",
        ),
    ] = None,
    allow_non_loopback: Annotated[
        bool,
        typer.Option(
            "--allow-non-loopback", help="Allow a non-loopback --host (needs --api-key-env)."
        ),
    ] = False,
) -> None:
    """Serve the paper exchange over HTTP JSON until SIGINT/SIGTERM.

    Prints one JSON line when it listens: {"event": "listening", "url", "host", "port",
    "state", "venue_id"}. Its ledger survives a SIGKILL; a restart on the same --state resumes
    it (the feed continues from the ledger's epoch).
    """
    import asyncio
    import json
    import os
    import sys

    from hedgekeeper.cli._errors import fail
    from hedgekeeper.venues.sim import FaultSpec, LedgerError, SimVenue
    from hedgekeeper.venues.sim.server import bind_socket, create_app
    from hedgekeeper.venues.sim.server import serve as run_server

    if prices is not None and synthetic is not None:
        fail("give at most one of --prices FILE and --synthetic SEED")
    api_key: str | None = None
    if api_key_env is not None:
        api_key = os.environ.get(api_key_env) or None
        if api_key is None:
            fail(f"--api-key-env: environment variable {api_key_env} is unset or empty")
    if allow_non_loopback and api_key is None and host not in ("127.0.0.1", "::1", "localhost"):
        fail("a non-loopback --host needs --api-key-env (requests must be authenticated)")
    try:
        sim_config = _config(config, latency_ms)
        fault_spec = FaultSpec.parse(faults)
        feed, sim_config = _feed(sim_config, prices, synthetic, instrument, speed)
        sock = bind_socket(host, port, allow_non_loopback=allow_non_loopback)
    except ValueError as error:
        fail(str(error))
    try:
        venue = SimVenue.open(state, sim_config, feed=feed, faults=fault_spec)
    except (LedgerError, ValueError) as error:
        sock.close()
        fail(str(error))

    def listening(bound_host: str, bound_port: int) -> None:
        url_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        line = {
            "event": "listening",
            "url": f"http://{url_host}:{bound_port}",
            "host": bound_host,
            "port": bound_port,
            "state": str(state),
            "venue_id": venue.exchange.meta.venue_id,
        }
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()

    app = create_app(
        venue,
        hang_seconds=fault_spec.hang,
        tick=venue.tick,
        tick_seconds=sim_config.match_interval_seconds,
        api_key=api_key,
    )

    async def main() -> None:
        try:
            await run_server(app, sock, on_listening=listening)
        finally:
            await venue.close()

    asyncio.run(main())


@paper_venue_app.command("export")
def export(
    state: Annotated[Path, typer.Option("--state", help="The venue's ledger file (SQLite).")],
) -> None:
    """Print the venue's own orders, then its fills, as JSON lines.

    Orders: type, client_order_id, venue_order_id, intent_id, instrument, side, quantity,
    status (open, partially_filled, filled, cancelled, rejected). Fills: type, trade_id,
    client_order_id, quantity, price. Amounts are exact decimal strings ("0.1", "100"). Safe
    while a server is writing the ledger.
    """
    import json
    import sys

    from hedgekeeper.cli._errors import fail
    from hedgekeeper.venues.base import decimal_text
    from hedgekeeper.venues.sim import LedgerError, LedgerReader

    try:
        reader = LedgerReader.open(state)
    except LedgerError as error:
        fail(str(error))
    out = sys.stdout
    with reader:
        for stored in reader.orders(0):
            report = stored.report
            record = {
                "type": "order",
                "client_order_id": report.client_order_id,
                "venue_order_id": report.venue_order_id,
                "intent_id": report.intent_id,
                "instrument": report.instrument,
                "side": report.side.value,
                "quantity": decimal_text(report.quantity),
                "status": report.status.value,
            }
            out.write(json.dumps(record) + "\n")
        for fill in reader.fills(0):
            record = {
                "type": "fill",
                "trade_id": fill.trade_id,
                "client_order_id": fill.client_order_id,
                "quantity": decimal_text(fill.quantity),
                "price": decimal_text(fill.price),
            }
            out.write(json.dumps(record) + "\n")
    out.flush()


def _config(path: Path | None, latency_ms: float) -> SimConfig:
    import tomllib
    from dataclasses import replace

    from hedgekeeper.venues.sim import LatencySpec, SimConfig

    if latency_ms < 0:
        raise ValueError(f"--latency-ms must be >= 0, got {latency_ms!r}")
    if path is None:
        config = SimConfig()
    else:
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ValueError(f"--config {str(path)!r}: cannot read it ({error.strerror})") from None
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"--config {str(path)!r} is not valid TOML ({error})") from None
        table = document.get("venue", document)
        if not isinstance(table, dict):
            raise ValueError(f"--config {str(path)!r}: [venue] must be a table")
        config = SimConfig.from_mapping(table)
    # A served venue runs on the wall clock: its latency is really waited for.
    seconds = latency_ms / 1000.0 if latency_ms > 0 else config.latency.seconds
    latency = LatencySpec(seconds=seconds, jitter_seconds=config.latency.jitter_seconds, sleep=True)
    return replace(config, latency=latency)


def _feed(
    config: SimConfig,
    prices: Path | None,
    synthetic: int | None,
    instrument: str | None,
    speed: float,
) -> tuple[PriceFeed, SimConfig]:
    from dataclasses import replace

    from hedgekeeper.venues.sim import InstrumentSpec, ReplayFeed, synthetic_feed

    if prices is None:
        if synthetic is not None and synthetic < 0:
            raise ValueError(f"--synthetic must be a non-negative seed, got {synthetic}")
        seed = config.seed if synthetic is None else synthetic
        return synthetic_feed(config, seed), config
    feed = ReplayFeed.from_csv(prices, instrument=instrument, speed=speed)
    instruments = {
        name: config.instruments.get(name) or InstrumentSpec.for_price(name, feed.first_price(name))
        for name in feed.instruments
    }
    return feed, replace(config, instruments=instruments)
