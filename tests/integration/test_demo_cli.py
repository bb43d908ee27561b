"""``hedgekeeper demo`` runs the bundled backtest; ``hedgekeeper reprice`` checks Deribit marks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from hedgekeeper.cli import app


def test_reprice_prints_the_chain_and_agrees_with_deribit() -> None:
    result = CliRunner().invoke(app, ["reprice"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "BTC-27JAN26-88000-C" in result.output
    # The whole-snapshot summary: median |price - Deribit mark| in BTC must be below 2e-5
    # (issue 3's acceptance bound; Deribit rounds mark IVs to 4 decimals).
    match = re.search(r"\|price - Deribit mark\| \(BTC\)\s*│\s*([0-9.e+-]+)", result.output)
    assert match is not None, result.output
    assert float(match.group(1)) < 2e-5


def test_reprice_picks_a_snapshot_and_names_a_missing_file(tmp_path: Path) -> None:
    runner = CliRunner()
    later = runner.invoke(app, ["reprice", "--at", "2026-01-26T09:30"], env={"COLUMNS": "120"})
    assert later.exit_code == 0, later.output
    assert "2026-01-26 09:27:55 UTC" in later.output
    missing = runner.invoke(app, ["reprice", "--chain", str(tmp_path / "nope.csv.gz")])
    assert missing.exit_code == 2
    assert "nope.csv.gz" in missing.output
    assert "Traceback" not in missing.output


def test_demo_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    report = out / "report.html"
    assert report.is_file()
    assert str(report.resolve()) in result.output.replace("\n", "")
    for policy in ("cal(", "band(", "WW(", "Zak(", "Leland(", "Δ-Γ(", "regime("):
        assert policy in result.output, policy


def test_help_lists_the_commands() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "hedgekeeper", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={"COLUMNS": "120", "PATH": ""},
    )
    assert completed.returncode == 0, completed.stderr
    for command in ("demo", "reprice", "exposure", "surface", "backtest", "run", "journal"):
        assert command in completed.stdout
