"""MarketHistory, horizons, the CSV readers and the regime rule."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from forecast_synthetic import ALPHA, BETA, OMEGA, gjr_returns, history_from_returns

from hedgekeeper.forecast import MarketHistory, Regime, VolRegime, parse_horizon
from hedgekeeper.forecast._readers import funding_symbol, load_history

T0 = np.datetime64("2024-01-01T00:00", "ns")


def _times(n: int) -> np.ndarray:
    return T0 + np.arange(n).astype("timedelta64[h]")


@pytest.mark.parametrize(
    ("text", "hours"), [(24, 24), ("24h", 24), ("24", 24), ("7d", 168), ("1w", 168), (" 2D ", 48)]
)
def test_parse_horizon(text: int | str, hours: int) -> None:
    assert parse_horizon(text) == hours


@pytest.mark.parametrize("bad", ["0h", "1.5d", "-3h", "abc", True, 0, 2.0])
def test_parse_horizon_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="horizon"):
        parse_horizon(bad)  # type: ignore[arg-type]


def test_history_validation_names_the_field() -> None:
    with pytest.raises(ValueError, match="gap-free hourly"):
        MarketHistory(
            time=T0 + np.array([0, 1, 3]).astype("timedelta64[h]"), close=[1.0, 2.0, 3.0]
        )
    with pytest.raises(ValueError, match=r"history\.close"):
        MarketHistory(time=_times(3), close=[1.0, -2.0, 3.0])
    with pytest.raises(ValueError, match=r"history\.dvol"):
        MarketHistory(time=_times(3), close=[1.0, 2.0, 3.0], dvol=[0.5, 0.5])


def test_history_is_read_only_and_copies() -> None:
    close = np.array([1.0, 2.0, 4.0])
    history = MarketHistory(time=_times(3), close=close)
    close[0] = 99.0
    assert history.close[0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        history.close[0] = 5.0


def test_before_and_realised_variance() -> None:
    close = np.exp(np.array([0.0, 0.1, 0.3, 0.0, 0.2]))
    history = MarketHistory(time=_times(5), close=close)
    past = history.before(T0 + np.timedelta64(3, "h"))
    assert past.size == 3
    assert past.end == T0 + np.timedelta64(3, "h")
    # Candles opening at 03:00 and 04:00: returns ln(c3/c2) = -0.3 and ln(c4/c3) = 0.2.
    assert history.realised_variance(T0 + np.timedelta64(3, "h"), 2) == pytest.approx(0.13)
    assert np.isnan(history.realised_variance(T0 + np.timedelta64(4, "h"), 2))
    assert np.isnan(history.realised_variance(T0, 1))  # the return into 00:00 is unknown
    np.testing.assert_allclose(history.log_returns(), [0.0, 0.1, 0.2, -0.3, 0.2], atol=1e-15)


def _write(path: Path, text: str) -> Path:
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


def test_history_from_files_aligns_dvol_and_funding_without_look_ahead(tmp_path: Path) -> None:
    prices = _write(
        tmp_path / "binance_spot_BTCUSDT_1h.csv.gz",
        "timestamp,open,high,low,close,volume\n"
        "2024-01-01T06:00:00Z,1,1,1,100,5\n"
        "2024-01-01T07:00:00Z,1,1,1,101,6\n"
        # 08:00 missing: repeats the close, zero volume
        "2024-01-01T09:00:00Z,1,1,1,103,7\n",
    )
    dvol = _write(
        tmp_path / "dvol.csv",
        "timestamp,open,high,low,close\n2024-01-01T07:00:00Z,50,51,49,50.5\n",
    )
    funding = _write(
        tmp_path / "funding.csv",
        "timestamp,symbol,funding_rate\n"
        "2024-01-01T08:00:00Z,BTCUSDT,0.0001\n"
        "2024-01-01T08:00:00Z,ETHUSDT,0.0003\n",
    )
    assert funding_symbol(prices) == "BTCUSDT"
    history = load_history(prices, [dvol], funding)
    np.testing.assert_allclose(history.close, [100, 101, 101, 103])
    np.testing.assert_allclose(history.volume, [5, 6, 0, 7])
    # DVOL of the 07:00 candle is known at its close (08:00) -> row 1 on (carried <= 72 h).
    np.testing.assert_allclose(history.dvol, [np.nan, 0.505, 0.505, 0.505])
    # Funding settled at 08:00 is known at the close of the 07:00 candle -> rows 1 onwards.
    np.testing.assert_allclose(history.funding_rate, [np.nan, 1e-4, 1e-4, 1e-4])


def test_stale_dvol_and_funding_become_unknown(tmp_path: Path) -> None:
    rows = "".join(
        f"2024-01-{1 + h // 24:02d}T{h % 24:02d}:00:00Z,1,1,1,100,1\n" for h in range(120)
    )
    prices = _write(tmp_path / "p.csv", "timestamp,open,high,low,close,volume\n" + rows)
    dvol = _write(tmp_path / "d.csv", "timestamp,close\n2024-01-01T00:00:00Z,50\n")
    funding = _write(
        tmp_path / "f.csv", "timestamp,symbol,funding_rate\n2024-01-01T08:00:00Z,X,0.0001\n"
    )
    history = load_history(prices, [dvol], funding, symbol="X")
    # Known from 01:00 (row 0); still used 72 h later (row 72), unknown after that.
    assert history.dvol[72] == pytest.approx(0.5)
    assert np.isnan(history.dvol[73])
    # Settled 08:00 (row 7): fresh for 24 h (row 31), unknown after.
    assert history.funding_rate[31] == pytest.approx(1e-4)
    assert np.isnan(history.funding_rate[32])


def test_daily_dvol_fills_gaps_and_hourly_wins(tmp_path: Path) -> None:
    hourly = _write(
        tmp_path / "h.csv", "timestamp,open,high,low,close\n2024-01-01T22:00:00Z,1,1,1,60\n"
    )
    daily = _write(tmp_path / "d.csv", "date,dvol_close\n2024-01-01,61\n2024-01-02,62\n")
    rows = "".join(f"2024-01-0{1 + h // 24}T{h % 24:02d}:00:00Z,100\n" for h in range(22, 48))
    prices = _write(tmp_path / "p.csv", "timestamp,close\n" + rows)
    history = load_history(prices, [hourly, daily])
    # Row 0 = the 22:00 candle: the hourly close (known 23:00). Row 1 = 23:00 candle, closing
    # at midnight, when the daily close of 2024-01-01 becomes known and is newer.
    np.testing.assert_allclose(history.dvol[:3], [0.60, 0.61, 0.61])
    # The daily close of 2024-01-02 is known at 2024-01-03T00:00, the close of the last row.
    assert history.dvol[-1] == pytest.approx(0.62)
    assert history.dvol[-2] == pytest.approx(0.61)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("time,close\n2024-01-01T00:00:00Z,1\n", "timestamp"),
        ("timestamp,close\nyesterday,1\n2024-01-01T01:00:00Z,2\n", "timestamp"),
        ("timestamp,close\n2024-01-01T00:00:00Z,-1\n2024-01-01T01:00:00Z,2\n", "close"),
        ("timestamp,close\n2024-01-01T00:30:00Z,1\n2024-01-01T01:30:00Z,2\n", "whole hours"),
        ("timestamp,close\n2024-01-01T00:00:00Z,1\n", "at least 2"),
    ],
)
def test_price_errors_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_history(_write(tmp_path / "p.csv", content))


def test_file_errors_name_the_file_and_symbol(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_history(tmp_path / "missing.csv")
    prices = _write(
        tmp_path / "prices.csv",
        "timestamp,close\n2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,2\n",
    )
    funding = _write(
        tmp_path / "f.csv",
        "timestamp,symbol,funding_rate\n2024-01-01T08:00:00Z,BTCUSDT,0.0001\n",
    )
    with pytest.raises(ValueError, match="--symbol"):
        load_history(prices, funding=funding)
    with pytest.raises(ValueError, match="SOLUSDT"):
        load_history(prices, funding=funding, symbol="SOLUSDT")
    with pytest.raises(ValueError, match="close"):
        load_history(prices, dvol=[_write(tmp_path / "x.csv", "a,b\n1,2\n")])


def test_vol_regime_quantile_rule() -> None:
    calm, _ = gjr_returns(24 * 200, OMEGA, ALPHA, BETA, seed=2)
    stressed = calm.copy()
    stressed[-24 * 7 :] *= 4.0  # the last week four times as volatile
    regime = VolRegime(window_days=180).fit(history_from_returns(stressed))
    assert regime.current_ == Regime.STRESSED
    q_calm, q_stress = regime.thresholds_
    assert q_calm < q_stress
    codes = regime.classify([0.5 * q_calm, 0.5 * (q_calm + q_stress), 2 * q_stress])
    np.testing.assert_array_equal(codes, [Regime.CALM, Regime.NORMAL, Regime.STRESSED])
    assert regime.percentile([0.0, 1e9]).tolist() == [0.0, 1.0]
    assert VolRegime(window_days=180).fit(history_from_returns(calm)).current_ != Regime.STRESSED
    with pytest.raises(ValueError, match="stressed_quantile"):
        VolRegime(calm_quantile=0.8, stressed_quantile=0.5)
    with pytest.raises(ValueError, match="vol"):
        regime.classify([np.nan])
