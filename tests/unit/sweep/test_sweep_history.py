"""A weights scenario on real Binance hourly closes (FTX, November 2022), run in-process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hedgekeeper.backtest.weights import WeightCosts, backtest_weights
from hedgekeeper.policies import WeightBand
from hedgekeeper.sweep import expand_grid, load_sweep_config, prepare_weights_market, run_task
from hedgekeeper.sweep.config import WeightsScenario
from shared_data import shared_data

pytestmark = pytest.mark.shared_data


def test_history_scenario_reads_aligns_and_backtests(tmp_path: Path) -> None:
    btc = shared_data("binance_spot_BTCUSDT_1h_to2024.csv.gz")
    eth = shared_data("binance_spot_ETHUSDT_1h_to2024.csv.gz")
    config_file = tmp_path / "ftx.toml"
    config_file.write_text(
        f"""
[[scenarios]]
name = "ftx"
kind = "weights"
targets = {{ BTC = 0.5, ETH = 0.3, USDT = 0.2 }}
fee_bps = 10.0
[scenarios.history]
start = 2022-11-01T00:00:00Z
end = 2022-12-01
[scenarios.history.files]
BTC = "{btc}"
ETH = "{eth}"

[[policies]]
policy = "WeightBand"
relative = 0.1
""",
        encoding="utf-8",
    )
    config, base = load_sweep_config(config_file)
    scenario = config.scenarios[0]
    assert isinstance(scenario, WeightsScenario)
    market = prepare_weights_market(scenario, base)
    assert market.assets == ("BTC", "ETH", "USDT")
    assert market.prices.shape == (30 * 24, 3)  # every hour of November 2022, both coins

    frame = pd.read_csv(btc, usecols=["timestamp", "close"])
    opened = pd.to_datetime(frame["timestamp"], utc=True)
    november = (opened >= pd.Timestamp("2022-11-01", tz="UTC")) & (
        opened < pd.Timestamp("2022-12-01", tz="UTC")
    )
    np.testing.assert_array_equal(market.prices[:, 0], frame["close"][november].to_numpy())
    # a bar's time is its close: the first is 2022-11-01T01:00Z
    assert market.times[0] == pytest.approx(
        (pd.Timestamp("2022-11-01T01:00Z").value / 1e9) / (365 * 86400), rel=1e-15
    )

    row = run_task(expand_grid(config)[0], scenario, market)
    direct = backtest_weights(
        market.prices,
        market.times,
        [0.5, 0.3, 0.2],
        WeightBand(relative=0.1),
        costs=WeightCosts(fee_bps=10.0),
        initial_value=scenario.initial_value,
    ).statistics()
    assert row["risk"] == direct.tracking_error
    assert row["weights_rebalances"] >= 3  # FTX week moved the weights out of the band
