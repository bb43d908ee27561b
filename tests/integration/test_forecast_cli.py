"""``hedgekeeper forecast``: the command-line contract, on slices of the real market data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hedgekeeper.cli import app
from shared_data import shared_data

runner = CliRunner()
MODELS = ["ewma", "garch", "gjr", "har", "iv", "ml"]


@pytest.fixture(scope="module")
def btc_slice(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """BTC prices, DVOL and funding for 2022-05-01 .. 2022-11-30 (LUNA to FTX), as files."""
    folder = tmp_path_factory.mktemp("forecast_slice")

    def cut(name: str, column: str, target: str) -> Path:
        frame = pd.read_csv(shared_data(name))
        stamps = pd.to_datetime(frame[column], utc=True)
        keep = (stamps >= "2022-05-01") & (stamps < "2022-12-01")
        path = folder / target
        frame[keep].to_csv(path, index=False)
        return path

    return {
        "prices": cut("binance_spot_BTCUSDT_1h_to2024.csv.gz", "timestamp",
                      "binance_spot_BTCUSDT_1h_slice.csv.gz"),
        "iv": cut("deribit_dvol_BTC_1h_to2024.csv.gz", "timestamp", "dvol_slice.csv"),
        "funding": cut("binance_usdm_funding_8h_2019-2024.csv", "timestamp", "funding_slice.csv"),
    }


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["forecast", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.shared_data
def test_json_has_every_model_and_best(btc_slice: dict[str, Path]) -> None:
    code, out, err = _run(
        "--prices", str(btc_slice["prices"]), "--iv", str(btc_slice["iv"]),
        "--funding", str(btc_slice["funding"]), "--start", "2022-10-01", "--horizon", "24h",
        "--models", ",".join(MODELS), "--json",
    )
    assert code == 0, out + err
    report = json.loads(out)
    assert set(report) == {*MODELS, "best"}
    assert report["best"] in MODELS
    counts = set()
    for name in MODELS:
        entry = report[name]
        assert entry["qlike"] > 0
        assert entry["mse_log"] > 0
        counts.add(entry["n_forecasts"])
        assert entry["horizon_hours"] == 24
        assert entry["first_origin"] == "2022-10-01T00:00:00Z"
    # One common sample: 2022-10-01 .. 2022-11-30 (the last origin whose 24 h are in the data).
    assert counts == {61}
    assert report["best"] == min(MODELS, key=lambda m: report[m]["qlike"])
    for name in MODELS[1:]:
        dm = report[name]["dm_qlike_vs_ewma"]
        assert 0.0 <= dm["p_value"] <= 1.0
        assert dm["lags"] >= 0
    assert "dm_qlike_vs_ewma" not in report["ewma"]


@pytest.mark.shared_data
def test_table_and_skipped_iv_note(btc_slice: dict[str, Path]) -> None:
    code, out, err = _run(
        "--prices", str(btc_slice["prices"]), "--start", "2022-11-01", "--end", "2022-11-20",
        "--horizon", "7d", "--models", "ewma,har,iv",
    )
    assert code == 0, out + err
    assert "DM vs ewma" in out
    assert "QLIKE" in out
    assert "har" in out
    assert "iv skipped" in out
    assert "20 origins" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prices", "nope.csv", "--start", "2022-10-01"], "does not exist"),
        (["--start", "2022-10-01", "--models", "ewma,arima"], "--models"),
        (["--start", "2022-10-01", "--horizon", "soon"], "--horizon"),
        (["--start", "2031-01-01"], "start"),
        (["--start", "not-a-date"], "start"),
        (["--start", "2022-10-01", "--end", "2022-09-01"], "end"),
        (["--start", "2022-10-01", "--models", "iv"], "iv needs --iv"),
    ],
)
@pytest.mark.shared_data
def test_clear_errors(btc_slice: dict[str, Path], args: list[str], message: str) -> None:
    if args[0] != "--prices":
        args = ["--prices", str(btc_slice["prices"]), *args]
    code, _out, err = _run(*args)
    assert code == 2
    assert "error:" in err
    assert message in err


@pytest.mark.shared_data
def test_shared_data_eth_run_with_funding() -> None:
    """A short run on the full shared ETH file (funding matched by the file name)."""
    code, out, err = _run(
        "--prices", str(shared_data("binance_spot_ETHUSDT_1h_to2024.csv.gz")),
        "--funding", str(shared_data("binance_usdm_funding_8h_2019-2024.csv")),
        "--start", "2024-12-01", "--horizon", "24h", "--models", "ewma,har,ml", "--json",
    )
    assert code == 0, out + err
    report = json.loads(out)
    assert report["ewma"]["n_forecasts"] == 31  # 2024-12-01 .. 2024-12-31 (data end 2025-01-01)
    assert report["ml"]["last_origin"] == "2024-12-31T00:00:00Z"
