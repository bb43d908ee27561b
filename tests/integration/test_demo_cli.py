"""``hedgekeeper demo`` prices the bundled real chain and agrees with Deribit's marks."""

from __future__ import annotations

import re
import subprocess
import sys

from typer.testing import CliRunner

from hedgekeeper.cli import app


def test_demo_prints_the_chain_and_agrees_with_deribit() -> None:
    result = CliRunner().invoke(app, ["demo"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "BTC-27JAN26-88000-C" in result.output
    # The whole-snapshot summary: median |price - Deribit mark| in BTC must be below 2e-5
    # (issue 3's acceptance bound; Deribit rounds mark IVs to 4 decimals).
    match = re.search(r"\|price - Deribit mark\| \(BTC\)\s*│\s*([0-9.e+-]+)", result.output)
    assert match is not None, result.output
    assert float(match.group(1)) < 2e-5


def test_help_lists_the_commands() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "hedgekeeper", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={"COLUMNS": "120", "PATH": ""},
    )
    assert completed.returncode == 0, completed.stderr
    for command in ("demo", "exposure", "surface"):
        assert command in completed.stdout
