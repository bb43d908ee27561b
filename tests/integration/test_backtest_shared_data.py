"""Backtests on real windows of ../shared/data: the 2021-05 crash (DVOL) and 2020-03 (before
DVOL: the realised-vol fallback), and the four-year example configuration."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from hedgekeeper.backtest import (
    BacktestSetup,
    CostTerms,
    MarketFiles,
    RollingBook,
    load_market,
    run_backtest,
    summarise,
)
from hedgekeeper.config import BacktestConfig, load_toml
from hedgekeeper.costs import HalfSpread, ProportionalFee, SquareRootImpact
from hedgekeeper.policies import DeltaBand, WhalleyWilmottBand
from shared_data import shared_data

pytestmark = pytest.mark.shared_data
ROOT = Path(__file__).resolve().parents[2]


def _files() -> MarketFiles:
    return MarketFiles(
        perp=shared_data("binance_usdm_perp_BTCUSDT_1h_to2024.csv.gz"),
        funding=shared_data("binance_usdm_funding_8h_2019-2024.csv"),
        dvol_hourly=shared_data("deribit_dvol_BTC_1h_to2024.csv.gz"),
        dvol_daily=shared_data("deribit_dvol_BTC_1d_2022-11_2024-12.csv"),
        spot=shared_data("binance_spot_BTCUSDT_1h_to2024.csv.gz"),
    )


SETUP = BacktestSetup(book=RollingBook.straddle(-1.0, tenor_days=14, strike_step=1000.0),
                      costs=CostTerms(ProportionalFee(taker_bps=5.0), HalfSpread(),
                                      SquareRootImpact(eta=0.5)))


def test_may_2021_crash_priced_at_dvol() -> None:
    market = load_market(_files(), coin="BTC", symbol="BTCUSDT",
                         start=datetime(2021, 5, 5, 8, tzinfo=UTC),
                         end=datetime(2021, 6, 2, 8, tzinfo=UTC))
    assert len(market) == 28 * 24 + 1
    assert market.implied_from_dvol.mean() > 0.9  # DVOL, with its whole-day gaps filled
    assert market.index_from_spot.all()
    assert market.index.max() > 57_000.0 > 33_000.0 > market.index.min()  # hourly closes
    for policy in (DeltaBand(0.1), WhalleyWilmottBand(cost=0.00055, risk_aversion=1e-3)):
        result = run_backtest(market, SETUP, policy)
        summary = summarise(result)
        rebuilt = (result.option_pnl + result.hedge_pnl - result.costs + result.funding)
        np.testing.assert_allclose(result.equity, rebuilt, atol=1e-6)
        assert summary.hedge_error_ratio < 0.6
        assert summary.rebalances > 20
        assert summary.funding_usd != 0.0
        assert np.flatnonzero(result.rolled).tolist() == [0, 336, 672]  # every 14 days


def test_march_2020_before_dvol_uses_realised_vol() -> None:
    market = load_market(_files(), coin="BTC", symbol="BTCUSDT",
                         start=datetime(2020, 3, 5, 8, tzinfo=UTC),
                         end=datetime(2020, 3, 26, 8, tzinfo=UTC))
    assert not market.implied_from_dvol.any()
    assert np.isnan(market.dvol).all()
    assert market.implied_vol.max() > 1.0  # trailing 30-day realised vol after 03-12
    result = run_backtest(market, SETUP, DeltaBand(0.1))
    summary = summarise(result)
    assert summary.hedge_error_ratio < 0.7
    assert summary.max_abs_delta_coin < 1.0


def test_the_four_year_example_config_loads() -> None:
    shared_data("binance_usdm_perp_BTCUSDT_1h_to2024.csv.gz")
    config, _ = load_toml(ROOT / "examples" / "backtest_2021_2024.toml", BacktestConfig)
    files = config.data.files(ROOT / "examples")
    for path in (files.perp, files.funding, files.dvol_hourly, files.dvol_daily, files.spot):
        assert path is not None
        assert path.is_file(), path
    assert len(config.runs()) == 7
    market = load_market(files, coin="BTC", symbol="BTCUSDT", start=config.window.start,
                         end=config.window.end, vol=config.vol.settings())
    assert len(market) > 32_000
    assert np.isfinite(market.implied_vol).all()
