"""``hedgekeeper run | kill | resume | status``: the keeper and its controls.

``run`` starts (or, after any crash, resumes) the keeper of a TOML config; ``kill`` and
``resume`` flip the kill switch in the journal (a running keeper acts on it within a quarter of
a second: no new orders, open orders cancelled); ``status`` reads the journal.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from hedgekeeper.store import Journal

_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(ms|s|m|h|d)?\s*$")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0}
_DB_HELP = "Journal URL: sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DBNAME."


def parse_wall_duration(option: str, text: str) -> float:
    """Seconds from ``"90"``, ``"90s"``, ``"5m"``, ``"2h"``, ``"1d"``, ``"500ms"``.

    Raises ``ValueError`` naming ``option`` when malformed or not > 0.
    """
    match = _DURATION.match(text)
    value = float(match.group(1)) * _SECONDS[match.group(2) or "s"] if match else math.nan
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"{option} must be a wall-clock duration > 0: seconds, or a number "
                         f"with a unit ms, s, m, h, d (e.g. 30s, 5m, 2h); got {text!r}")
    return value


def run_command(
    config: str = typer.Argument(..., help="Keeper config (TOML), e.g. examples/paper.toml."),
    db: str | None = typer.Option(None, "--db", help=_DB_HELP + " Default: the config's db."),
    venue_state: str | None = typer.Option(
        None, "--venue-state", help="Ledger file of the in-process paper exchange (default: the "
                                    "config's venue.state)."),
    speed: float = typer.Option(1.0, "--speed", help="Replay speed: market seconds per wall "
                                                     "second."),
    duration: str | None = typer.Option(None, "--duration", help="Stop cleanly after this much "
                                                                 "wall time (30s, 5m, 2h)."),
) -> None:
    """Run the keeper: recover and reconcile, then keep the book on target.

    Paper mode by default (the in-process paper exchange with its own ledger). Run the same
    command after any crash: it resumes where it was.
    """
    import asyncio
    from pathlib import Path

    from hedgekeeper.cli._errors import fail
    from hedgekeeper.keeper.config import ConfigError, load_config
    from hedgekeeper.keeper.logs import redact
    from hedgekeeper.keeper.loop import KeeperHaltedError
    from hedgekeeper.keeper.runner import RunOptions, run_keeper

    try:
        if not (math.isfinite(speed) and speed > 0.0):
            raise ValueError(f"--speed must be a number > 0, got {speed!r}")
        seconds = None if duration is None else parse_wall_duration("--duration", duration)
        parsed = load_config(config)
        options = RunOptions(db=db, venue_state=venue_state, speed=speed, duration_s=seconds,
                             config_path=Path(config))
        summary = asyncio.run(run_keeper(parsed, options))
    except (ConfigError, ValueError, KeeperHaltedError) as exc:
        fail(redact(str(exc)))
    typer.echo(f"keeper stopped ({summary.stopped_by}): {summary.updates} updates, "
               f"{summary.decisions} decisions, {summary.orders} orders, {summary.fills} fills")


def _open(db: str) -> Journal:
    from hedgekeeper.cli._errors import fail
    from hedgekeeper.store import Journal, JournalOpenError

    try:
        return Journal.open(db, create=False)
    except JournalOpenError as exc:
        fail(str(exc))


def kill_command(
    db: str = typer.Option(..., "--db", help=_DB_HELP),
    reason: str = typer.Option("kill switch engaged from the command line", "--reason",
                               help="Why (journalled)."),
) -> None:
    """Trip the kill switch: no new orders; a running keeper cancels its open orders."""
    journal = _open(db)
    with journal:
        switch = journal.set_kill_switch(True, reason or "kill switch engaged")
    when = switch.changed_at.isoformat() if switch.changed_at else ""
    typer.echo(f"kill switch engaged at {when}: {switch.reason}")


def resume_command(db: str = typer.Option(..., "--db", help=_DB_HELP)) -> None:
    """Clear the kill switch and every latched rail (price jump, venue errors, same side...)."""
    journal = _open(db)
    with journal:
        switch = journal.set_kill_switch(False, "resumed from the command line")
    typer.echo(f"kill switch released at "
               f"{switch.changed_at.isoformat() if switch.changed_at else ''}; a running keeper "
               "clears its latched rails")


def status_command(
    db: str = typer.Option(..., "--db", help=_DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a summary."),
) -> None:
    """Show the keeper's state from its journal: kill switch, rails, positions, orders."""
    import json

    from hedgekeeper.keeper.status import journal_status
    journal = _open(db)
    with journal:
        status = journal_status(journal)
    if as_json:
        typer.echo(json.dumps(status, indent=2, sort_keys=True))
        return
    from rich.console import Console

    console = Console(highlight=False)
    switch = status["kill_switch"]
    console.print(f"[bold]journal[/] {status['journal']}")
    console.print(f"kill switch: {'[red]ENGAGED[/]' if switch['engaged'] else 'off'}"
                  + (f" ({switch['reason']})" if switch["reason"] else ""))
    rails = status["rails_tripped"]
    console.print("rails: " + ("none tripped" if not rails else
                               "; ".join(f"[red]{k}[/]: {v}" for k, v in rails.items())))
    console.print(f"trading: {'blocked' if status['trading_blocked'] else 'allowed'}; feed "
                  f"sequence {status['feed_sequence']} at {status['market_time']}")
    console.print("positions: " + (", ".join(f"{k} {v}" for k, v in status["positions"].items())
                                   or "flat"))
    console.print(f"open orders: {len(status['open_orders'])}")
    for trip in status["recent_rail_trips"][:5]:
        console.print(f"  {trip['at']} {trip['rail']}: {trip['reason']}")
