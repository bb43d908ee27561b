"""``hedgekeeper backtest``: the bundled demo end to end, the report, errors, the screenshot."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from hedgekeeper.cli import app
from hedgekeeper.cli.backtest import run_demo

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo.toml"
FAMILIES = {"calendar", "delta_band", "whalley_wilmott", "zakamouline", "leland",
            "greek_bands", "vol_regime"}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """``run_demo``: the bundled configuration (the text of examples/demo.toml), as
    ``make demo`` runs it; its table goes to a captured console."""
    out = tmp_path_factory.mktemp("demo")
    printed = io.StringIO()
    report = run_demo(out, console=Console(file=printed, width=120))
    assert report == out / "report.html"
    text = printed.getvalue()
    assert "report:" in text
    assert "WW(γ=0.0001)" in text
    return json.loads((out / "summary.json").read_text()), out


def test_demo_json(demo_run: tuple[dict[str, Any], Path]) -> None:
    summary, out = demo_run
    assert summary["window"] == {"start": "2022-11-01T08:00:00+00:00",
                                 "end": "2022-12-09T08:00:00+00:00", "steps": 913}
    runs = summary["runs"]
    assert {r["family"] for r in runs} == FAMILIES
    assert len(runs) == 13
    for run in runs:
        # every policy hedges: the daily P&L varies less than the book's own
        assert 0.0 < run["hedge_error_ratio"] < 1.0, run["name"]
        assert run["total_cost_usd"] > 0.0
        assert run["total_cost_usd"] == pytest.approx(
            run["fees_usd"] + run["spread_usd"] + run["impact_usd"])
        assert run["rebalances"] > 0
        assert run["premium_usd"] > 0.0  # a short straddle collects premium
    assert summary["pareto_tracking"]
    assert set(summary["pareto_tracking"]) <= {r["name"] for r in runs}
    assert Path(summary["report"]) == out / "report.html"
    assert summary["seconds"] < 120.0


def test_report_is_self_contained(demo_run: tuple[dict[str, Any], Path]) -> None:
    _, out = demo_run
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    # nothing fetched from outside: no http(s) or protocol-relative src/href, no @import/url()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert not re.search(r"""url\(\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "@import" not in page
    assert "<script" not in page
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,', page)
    assert len(images) == 5
    for heading in ("Frontier", "Daily P&amp;L distributions", "Exposure against the band",
                    "Cost breakdown", "Configuration (backtest_demo.toml)", "Pareto set"):
        assert heading in page
    assert "family = &quot;whalley_wilmott&quot;" in page  # the configuration itself
    for family in FAMILIES:
        assert family in page


def _small_config(tmp_path: Path) -> Path:
    config = tmp_path / "small.toml"
    text = DEMO.read_text().replace("end = 2022-12-09T08:00:00Z", "end = 2022-11-04T08:00:00Z")
    text = text.split("[[policies]]")[0] + textwrap.dedent("""
        [[policies]]
        family = "delta_band"
        halfwidth = [0.5, 2.0]
        """)
    config.write_text(text)
    return config


def test_cli_table_and_json(tmp_path: Path) -> None:
    config = _small_config(tmp_path)
    result = runner.invoke(app, ["backtest", str(config), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "band(h=0.5)" in result.stdout
    assert "report:" in result.stdout
    assert (tmp_path / "r" / "report.html").is_file()
    result = runner.invoke(app, ["backtest", str(config), "--out", str(tmp_path / "j"),
                                 "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["window"]["steps"] == 73
    assert [r["name"] for r in summary["runs"]] == ["delta_band(halfwidth=0.5)",
                                                    "delta_band(halfwidth=2)"]
    assert json.loads((tmp_path / "j" / "summary.json").read_text()) == summary
    narrow, wide = summary["runs"]
    assert narrow["rebalances"] > wide["rebalances"]
    assert narrow["tracking_error_usd"] < wide["tracking_error_usd"]


def test_errors_are_one_line_naming_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(DEMO.read_text().replace("halfwidth = [0.5, 1.0, 2.0]",
                                               "halfwidht = [0.5, 1.0, 2.0]"))
    result = runner.invoke(app, ["backtest", str(config)])
    assert result.exit_code == 2
    line = next(i for i, text in enumerate(DEMO.read_text().splitlines(), start=1)
                if text.startswith("halfwidth = [0.5, 1.0, 2.0]"))
    assert f"bad.toml line {line}: unknown key 'policies[1].halfwidht'" in result.output
    assert "Traceback" not in result.output
    missing = tmp_path / "files.toml"
    missing.write_text(DEMO.read_text().replace(
        'source = "bundled"', f'source = "files"\ndir = "{tmp_path}"\nperp = "none.csv.gz"\n'
        'funding = "f.csv"'))
    result = runner.invoke(app, ["backtest", str(missing)])
    assert result.exit_code == 2
    assert "none.csv.gz' does not exist" in result.output
    result = runner.invoke(app, ["backtest", str(tmp_path / "absent.toml")])
    assert result.exit_code == 2
    assert "cannot be read" in result.output


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") \
    or shutil.which("google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
def test_report_screenshot_shows_the_charts(demo_run: tuple[dict[str, Any], Path],
                                            tmp_path: Path) -> None:
    from PIL import Image

    _, out = demo_run
    shot = tmp_path / "report.png"
    assert CHROMIUM is not None
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--hide-scrollbars", "--window-size=1300,3000",
         f"--screenshot={shot}", (out / "report.html").as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape == (3000, 1300, 3)
    # The page is not blank: the frontier and P&L charts put many colours on the screen.
    colours = np.unique(pixels[::4, ::4].reshape(-1, 3), axis=0)
    assert len(colours) > 500
    # The top of the page is the report's title in dark text on white.
    top = pixels[:80].mean(axis=2)
    assert top.min() < 80
    assert np.median(top) > 240
