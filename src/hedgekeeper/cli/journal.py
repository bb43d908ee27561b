"""``hedgekeeper journal``: read the keeper's journal (``journal export``)."""

from __future__ import annotations

import typer

journal_app = typer.Typer(
    name="journal",
    help="Read the keeper's journal (SQLite or PostgreSQL).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@journal_app.command("export")
def export(
    db: str = typer.Option(..., "--db", help="Journal URL: sqlite:///PATH or "
                                             "postgresql+psycopg://USER@HOST:PORT/DBNAME."),
) -> None:
    """Print the journal's orders, then its fills, as JSON lines.

    Orders: type, client_order_id, venue_order_id, intent_id, instrument, side, quantity,
    status. Fills: type, trade_id, client_order_id, quantity, price. Amounts are exact decimal
    strings ("0.1", "100").
    """
    import json
    import sys

    from hedgekeeper.cli._errors import fail
    from hedgekeeper.store import Journal, JournalOpenError

    try:
        journal = Journal.open(db, create=False)
    except JournalOpenError as exc:
        fail(str(exc))
    with journal:
        out = sys.stdout
        for record in journal.export():
            out.write(json.dumps(record) + "\n")
        out.flush()
