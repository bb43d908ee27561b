"""Aligning bars, DVOL and funding: the timing of every input, the fallback, the window."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from hedgekeeper.backtest import DvolSmile, MarketFiles, VolSettings, build_market, load_market
from hedgekeeper.backtest.book import LegSpec, RollingBook, expiry_after, linear_option
from hedgekeeper.backtest.samples import bundled_market_files, demo_config_path
from hedgekeeper.domain.instruments import Margining, OptionKind
from hedgekeeper.domain.market import VolSurface
from hedgekeeper.marketdata.binance import FundingHistory, HourlyBars
from hedgekeeper.marketdata.deribit import MarketDataError

T0 = np.datetime64("2022-11-01T00:00", "us")


def _bars(close: list[float], mark: list[float] | None = None, start: np.datetime64 = T0,
          skip: int | None = None) -> HourlyBars:
    n = len(close)
    stamps = start + np.arange(n) * np.timedelta64(1, "h")
    keep = np.ones(n, dtype=bool)
    if skip is not None:
        keep[skip] = False
    values = np.array(close, dtype=np.float64)
    marks = np.full(n, np.nan) if mark is None else np.array(mark, dtype=np.float64)
    return HourlyBars(timestamp=stamps[keep], open=values[keep] - 1.0, high=values[keep] + 5,
                      low=values[keep] - 5, close=values[keep], volume=np.full(keep.sum(), 2.0),
                      mark_close=marks[keep], row=np.arange(1, keep.sum() + 1),
                      source="test")


def _funding() -> FundingHistory:
    stamps = np.array(["2022-11-01T08:00", "2022-11-01T16:00"], dtype="datetime64[us]")
    return FundingHistory("BTCUSDT", stamps, np.array([1e-4, -2e-4]), "test")


def test_steps_are_bar_closes_and_the_index_prefers_spot() -> None:
    perp = _bars([100.0, 101.0, 102.0, 103.0], mark=[99.0, np.nan, 98.0, 97.0])
    spot = _bars([50.0, 51.0, 52.0, 53.0], skip=2)
    market = build_market(perp, _funding(), coin="BTC", spot=spot)
    assert market.time[0] == T0 + np.timedelta64(1, "h")
    np.testing.assert_array_equal(market.perp_close, [100.0, 101.0, 102.0, 103.0])
    np.testing.assert_array_equal(market.perp_open, [99.0, 100.0, 101.0, 102.0])
    np.testing.assert_array_equal(market.perp_mark, [99.0, 101.0, 98.0, 97.0])  # close if none
    np.testing.assert_array_equal(market.index, [50.0, 51.0, 98.0, 53.0])  # mark where no spot
    np.testing.assert_array_equal(market.index_from_spot, [True, True, False, True])
    assert market.perp_symbol == "BTCUSDT"


def test_realised_vol_and_dvol_timing() -> None:
    rng = np.random.default_rng(7)
    close = list(100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, 40))))
    dvol_bars = _bars([60.0] * 10 + [80.0] * 10, start=T0 + np.timedelta64(5, "h"))
    settings = VolSettings(realised_window_hours=10, fallback_window_hours=12,
                           dvol_max_age_hours=3.0)
    market = build_market(_bars(close), _funding(), coin="BTC", dvol_hourly=dvol_bars,
                          vol=settings)
    returns = np.diff(np.log(close))
    expected = np.std(returns[-10:], ddof=1) * np.sqrt(8760.0)
    assert market.realised_vol[-1] == pytest.approx(expected, rel=1e-12)
    assert np.isnan(market.realised_vol[9])  # 9 returns only
    # the first DVOL bar opens 05:00 and is known at 06:00 = the close of perp bar 5
    assert np.isnan(market.dvol[4])
    assert market.dvol[5] == pytest.approx(0.60)
    assert market.dvol[15] == pytest.approx(0.80)  # bar opening 15:00 known at 16:00
    # the last DVOL bar is known at 01:00 next day (step 24), usable 3 h; then the fallback:
    # the 12 hourly returns ending at the step
    assert market.implied_from_dvol[24 + 3]
    assert not market.implied_from_dvol[24 + 4]
    assert market.implied_vol[30] == pytest.approx(
        np.std(np.diff(np.log(close))[18:30], ddof=1) * np.sqrt(8760.0), rel=1e-9)


def test_window_and_perturbation() -> None:
    market = build_market(_bars([100.0 + i for i in range(30)]), _funding(), coin="BTC")
    window = market.window(datetime(2022, 11, 1, 5, tzinfo=UTC),
                           datetime(2022, 11, 1, 10, tzinfo=UTC))
    assert len(window) == 6
    assert window.start == datetime(2022, 11, 1, 5, tzinfo=UTC)
    assert len(window.funding_time) == 1
    with pytest.raises(ValueError, match="fewer than two"):
        market.window(datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 2, 1, tzinfo=UTC))
    later = window.perturbed_after(datetime(2022, 11, 1, 7, tzinfo=UTC), 2.0)
    np.testing.assert_array_equal(later.perp_close[:3], window.perp_close[:3])
    np.testing.assert_array_equal(later.perp_close[3:], 2.0 * window.perp_close[3:])
    assert later.funding_rate[0] == -2.0 * window.funding_rate[0]  # 08:00 is after 07:00


def test_load_market_from_the_bundled_sample() -> None:
    start = datetime(2022, 11, 1, 8, tzinfo=UTC)
    market = load_market(bundled_market_files(), coin="BTC", symbol="BTCUSDT", start=start,
                         end=datetime(2022, 12, 9, 8, tzinfo=UTC))
    assert len(market) == 913
    assert market.implied_from_dvol.all()
    assert 0.5 < market.implied_vol.min() < market.implied_vol.max() < 1.3
    assert np.isfinite(market.realised_vol).all()
    assert np.isfinite(market.perp_volume_24h).all()
    assert demo_config_path().read_text() == (
        Path(__file__).resolve().parents[3] / "examples" / "demo.toml").read_text()


def test_load_market_names_the_missing_history() -> None:
    files = bundled_market_files()
    no_dvol = MarketFiles(perp=files.perp, funding=files.funding)
    with pytest.raises(MarketDataError, match="fallback needs 720 hours"):
        load_market(no_dvol, coin="BTC", symbol="BTCUSDT",
                    start=datetime(2022, 10, 1, 8, tzinfo=UTC),
                    end=datetime(2022, 10, 5, tzinfo=UTC))
    fallback = load_market(no_dvol, coin="BTC", symbol="BTCUSDT",
                           start=datetime(2022, 11, 1, 8, tzinfo=UTC),
                           end=datetime(2022, 11, 5, tzinfo=UTC))
    assert not fallback.implied_from_dvol.any()
    assert np.isfinite(fallback.implied_vol).all()
    with pytest.raises(MarketDataError, match="fallback is off"):
        load_market(no_dvol, coin="BTC", symbol="BTCUSDT",
                    start=datetime(2022, 11, 1, 8, tzinfo=UTC),
                    end=datetime(2022, 11, 5, tzinfo=UTC), vol=VolSettings(fallback="none"))


def test_settings_validation() -> None:
    with pytest.raises(ValueError, match="fallback"):
        VolSettings(fallback="guess")
    with pytest.raises(ValueError, match="realised_window_hours"):
        VolSettings(realised_window_hours=1)


def test_smile() -> None:
    flat = DvolSmile(0.6)
    assert isinstance(flat, VolSurface)
    np.testing.assert_array_equal(flat.implied_vol(np.array([80.0, 120.0]), np.array(0.1),
                                                   np.array(100.0)), [0.6, 0.6])
    skewed = DvolSmile(0.6, skew=-0.1)
    t = 30.0 / 365.0
    vol = skewed.implied_vol(np.array([90.0]), np.array([t]), np.array([100.0]))
    assert vol[0] == pytest.approx(0.6 * (1.0 - 0.1 * np.log(0.9)))
    quarter = skewed.implied_vol(np.array([90.0]), np.array([4 * t]), np.array([100.0]))
    assert quarter[0] == pytest.approx(0.6 * (1.0 - 0.05 * np.log(0.9)))
    with pytest.raises(ValueError, match="atm_vol"):
        DvolSmile(0.0)


def test_rolling_book() -> None:
    book = RollingBook((LegSpec(OptionKind.CALL, 1.1, -2.0), LegSpec(OptionKind.PUT, 1.0, 1.0),
                        LegSpec(OptionKind.PUT, 1.0, 1.0)), tenor_days=7, strike_step=500.0)
    now = datetime(2022, 11, 9, 13, tzinfo=UTC)
    positions = book.open_legs("BTC", now, 17_260.0)
    assert [p.name for p in positions] == ["BTC_USDC-16NOV22-19000-C", "BTC_USDC-16NOV22-17500-P"]
    assert [p.quantity for p in positions] == [-2.0, 2.0]  # the two puts merge
    assert positions[0].instrument.margining is Margining.LINEAR
    assert expiry_after(now, 7) == datetime(2022, 11, 16, 8, tzinfo=UTC)
    assert linear_option("BTC", "USDC", expiry_after(now, 1), 500.0, OptionKind.PUT).lot_size > 0
    with pytest.raises(ValueError, match="tenor_days"):
        RollingBook.straddle(tenor_days=0)
    with pytest.raises(ValueError, match="quantity"):
        LegSpec(OptionKind.CALL, 1.0, 0.0)
