"""``hedgekeeper exposure``: the command-line contract, on the bundled Deribit sample."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hedgekeeper.cli import app
from hedgekeeper.marketdata import sample_chain_path, sample_perp_path

CHAIN = str(sample_chain_path())
FIRST, SECOND = "2026-01-26T04:11:38Z", "2026-01-26T09:27:55Z"
runner = CliRunner()


def run_json(*args: str) -> dict:
    result = runner.invoke(app, ["exposure", "--chain", CHAIN, *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def deribit_rows(timestamp: str) -> pd.DataFrame:
    frame = pd.read_csv(CHAIN)
    return frame[frame["timestamp"] == timestamp].set_index("instrument_name")


def write_positions(tmp_path: Path, text: str) -> str:
    path = tmp_path / "positions.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("at", "timestamp"), [(None, FIRST), ("2026-01-26T09:00:00Z", SECOND)])
def test_default_book_reproduces_deribit_marks(at: str | None, timestamp: str) -> None:
    report = run_json(*(["--at", at] if at else []))
    assert report["timestamp"] == timestamp
    rows = pd.DataFrame(report["instruments"]).set_index("instrument_name")
    deribit = deribit_rows(timestamp)
    assert sorted(rows.index) == sorted(deribit.index)  # one of every option
    assert (rows["quantity"] == 1.0).all()
    deribit = deribit.loc[rows.index]
    assert np.median(np.abs(rows["price_coin"] - deribit["mark_price"])) <= 2e-5
    assert np.median(np.abs(rows["delta"] - deribit["delta"])) <= 2e-3
    np.testing.assert_allclose(rows["iv"], deribit["implied_volatility"])
    np.testing.assert_allclose(
        rows["delta_premium_adjusted"], rows["delta"] - rows["price_coin"], rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(rows["price_usd"], rows["price_coin"] * rows["forward"], rtol=1e-12)


def test_json_totals_units_and_scenario_grid() -> None:
    report = run_json()
    totals = report["totals"]
    rows = pd.DataFrame(report["instruments"])
    for key in (
        "delta_coin",
        "delta_usd",
        "gamma",
        "cash_gamma_usd_per_1pct",
        "cash_gamma_coin_per_1pct",
        "vega",
        "vega_by_expiry",
        "theta",
        "value",
    ):
        assert key in totals
        assert f"totals.{key}" in report["units"]
    for key in (
        "price_coin",
        "price_usd",
        "iv",
        "delta",
        "delta_premium_adjusted",
        "gamma",
        "vega",
        "theta",
    ):
        assert key in report["units"]
    # USD numeraire: book Greeks are the quantity-weighted per-contract Greeks.
    assert totals["delta_coin"] == pytest.approx(
        (rows["quantity"] * rows["contract_delta_coin"]).sum(), rel=1e-9
    )
    assert totals["vega"] == pytest.approx((rows["quantity"] * rows["vega"]).sum(), rel=1e-9)
    assert totals["theta"] == pytest.approx((rows["quantity"] * rows["theta"]).sum(), rel=1e-9)
    assert totals["vega"] == pytest.approx(sum(totals["vega_by_expiry"].values()), rel=1e-9)
    assert len(totals["vega_by_expiry"]) == 12
    assert totals["delta_usd"] == pytest.approx(totals["delta_coin"] * totals["spot"], rel=1e-12)
    scenario = totals["scenario"]
    assert scenario["axes"] == ["spot_shock", "vol_shock"]
    assert len(scenario["spot_shocks"]) == 21
    assert len(scenario["vol_shocks"]) == 11
    pnl = np.array(scenario["pnl"])
    assert pnl.shape == (21, 11)
    assert pnl[10, 5] == pytest.approx(0.0, abs=1e-6)
    # A long-options book gains from higher vol at every spot shock.
    assert np.all(np.diff(pnl, axis=1) > 0)


def test_positions_with_perpetual_and_future_in_both_numeraires(tmp_path: Path) -> None:
    positions = write_positions(
        tmp_path,
        (
            "instrument_name,quantity\n"
            "BTC-27MAR26-80000-C,10\n"
            "BTC-27MAR26-90000-P,-5\n"
            "BTC-PERPETUAL,-30000\n"
            "BTC-27MAR26,2000\n"
        ),
    )
    usd = run_json("--positions", positions, "--perp-prices", str(sample_perp_path()))
    coin = run_json("--positions", positions, "--numeraire", "coin")
    rows = {row["instrument_name"]: row for row in usd["instruments"]}
    assert list(rows) == [
        "BTC-27MAR26-80000-C",
        "BTC-27MAR26-90000-P",
        "BTC-PERPETUAL",
        "BTC-27MAR26",
    ]
    perp = rows["BTC-PERPETUAL"]
    assert perp["delta"] == 1.0
    assert perp["delta_premium_adjusted"] == pytest.approx(1.0)
    assert perp["price_usd"] == 87_395.5  # the sample's perpetual price
    assert perp["price_coin"] is None
    assert perp["iv"] is None
    assert perp["contract_delta_usd"] == pytest.approx(10.0)  # 10 USD face value
    assert rows["BTC-27MAR26"]["forward"] == rows["BTC-27MAR26-80000-C"]["forward"]
    # Coin numeraire: inverse options count their premium-adjusted delta, the perpetual N/F.
    coin_rows = {row["instrument_name"]: row for row in coin["instruments"]}
    expected = (
        10 * coin_rows["BTC-27MAR26-80000-C"]["delta_premium_adjusted"]
        - 5 * coin_rows["BTC-27MAR26-90000-P"]["delta_premium_adjusted"]
        - 30000 * 10 / coin_rows["BTC-PERPETUAL"]["forward"]
        + 2000 * 10 / coin_rows["BTC-27MAR26"]["forward"]
    )
    assert coin["totals"]["delta_coin"] == pytest.approx(expected, rel=1e-9)
    assert coin["numeraire"] == "coin"
    assert [b["bucket"] for b in usd["totals"]["buckets"]] == ["perpetual", "2026-03-27"]


def test_table_output(tmp_path: Path) -> None:
    positions = write_positions(tmp_path, "instrument_name,quantity\nBTC-27MAR26-80000-C,2\n")
    result = runner.invoke(app, ["exposure", "--chain", CHAIN, "--positions", positions])
    assert result.exit_code == 0, result.output
    for text in ("BTC-27MAR26-80000-C", "2026-03-27", "total", "Scenario P&L", "+30%", "-50%"):
        assert text in result.stdout


@pytest.mark.parametrize(
    ("positions", "extra", "message"),
    [
        (None, ["--chain", "/nonexistent/chain.csv.gz"], "does not exist"),
        (
            "instrument_name,quantity\nBTC-27MAR26-12345-C,1\n",
            [],
            "'BTC-27MAR26-12345-C' is not in the chain",
        ),
        ("instrument_name,quantity\nBTC-NOPE,1\n", [], "row 1: column instrument_name"),
        ("instrument_name,quantity\nBTC-PERPETUAL,lots\n", [], "column quantity must be"),
        ("instrument_name,qty\nBTC-PERPETUAL,1\n", [], "lacks column(s) quantity"),
        ("instrument_name,quantity\nETH-PERPETUAL,1\n", [], "is a BTC chain"),
        ("instrument_name,quantity\nBTC-26JAN26-80000-C,1\n", ["--at", SECOND], "expired"),
        (None, ["--numeraire", "eur"], "numeraire must be 'usd' or 'coin'"),
        (None, ["--at", "yesterday-ish"], "at must be an ISO-8601 time"),
    ],
)
def test_user_errors_give_one_line_and_exit_2(
    tmp_path: Path, positions: str | None, extra: list[str], message: str
) -> None:
    args = ["exposure", "--chain", CHAIN]
    if positions is not None:
        args += ["--positions", write_positions(tmp_path, positions)]
    result = runner.invoke(app, [*args, *extra, "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    assert message in lines[0]


def test_missing_positions_file_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["exposure", "--chain", CHAIN, "--positions", str(tmp_path / "absent.csv")]
    )
    assert result.exit_code == 2
    assert "positions file" in result.stderr


def test_real_subprocess_json() -> None:
    executable = shutil.which("hedgekeeper", path=str(Path(sys.executable).parent))
    assert executable is not None, "the hedgekeeper console script is not installed"
    done = subprocess.run(
        [executable, "exposure", "--chain", CHAIN, "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["timestamp"] == FIRST
    assert len(report["instruments"]) == len(deribit_rows(FIRST))
    assert set(report["totals"]) >= {"delta_coin", "delta_usd", "gamma", "vega", "theta"}
