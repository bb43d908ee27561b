"""``hedgekeeper journal export --db URL``: JSON lines; one clear error line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from hedgekeeper.cli import app
from hedgekeeper.domain.orders import Fill, Intent, SubmitSent, VenueAccepted
from hedgekeeper.store import Journal

runner = CliRunner()


def _populate(url: str) -> list[dict[str, str | None]]:
    with Journal.open(url) as journal:
        journal.record_intent(Intent("d1-0", "BTC-PERPETUAL", "sell", Decimal("0.30")))  # type: ignore[arg-type]
        order = journal.new_order("d1-0")
        journal.apply_event(order.client_order_id, SubmitSent())
        journal.apply_event(order.client_order_id, VenueAccepted("v-1"))
        journal.apply_fill(Fill("t-1", order.client_order_id, Decimal("0.1"), Decimal("88000"),
                                Decimal("0.00001"), datetime(2026, 1, 26, tzinfo=UTC)))
        return list(journal.export())


def test_export_prints_json_lines(journal_url: str) -> None:
    expected = _populate(journal_url)
    result = runner.invoke(app, ["journal", "export", "--db", journal_url])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [json.loads(line) for line in lines] == expected
    assert json.loads(lines[0]) == {
        "type": "order", "client_order_id": expected[0]["client_order_id"],
        "venue_order_id": "v-1", "intent_id": "d1-0", "instrument": "BTC-PERPETUAL",
        "side": "sell", "quantity": "0.3", "status": "partially_filled"}
    assert json.loads(lines[1]) == {"type": "fill", "trade_id": "t-1",
                                    "client_order_id": expected[0]["client_order_id"],
                                    "quantity": "0.1", "price": "88000"}


def test_export_of_an_empty_journal_prints_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    Journal.open(url).close()
    result = runner.invoke(app, ["journal", "export", "--db", url])
    assert result.exit_code == 0
    assert result.stdout == ""


def _one_error_line(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_missing_sqlite_journal(tmp_path: Path) -> None:
    line = _one_error_line(["journal", "export", "--db", f"sqlite:///{tmp_path / 'none.db'}"])
    assert "does not exist" in line
    assert not (tmp_path / "none.db").exists()


def test_bad_url_and_hidden_password() -> None:
    line = _one_error_line(["journal", "export", "--db", "mysql://root:canary-pw@db/j"])
    assert "not supported" in line
    assert "canary-pw" not in line
    line = _one_error_line(["journal", "export", "--db",
                            "postgresql+psycopg://keeper:canary-pw@127.0.0.1:1/j"])
    assert "cannot use the journal at postgresql+psycopg://keeper:***@127.0.0.1:1/j" in line
    assert "canary-pw" not in line


def test_database_without_journal(journal_url: str) -> None:
    line = _one_error_line(["journal", "export", "--db", journal_url])
    assert "no journal at" in line


def test_console_script(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    expected = _populate(url)
    done = subprocess.run([sys.executable, "-m", "hedgekeeper", "journal", "export", "--db", url],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == expected
