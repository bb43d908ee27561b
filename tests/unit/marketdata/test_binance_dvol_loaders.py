"""Binance hourly bars, funding and Deribit DVOL: reading, errors naming file/column/row, and
causal sampling of DVOL."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from hedgekeeper.backtest.samples import (
    SAMPLE_DVOL_DAILY,
    SAMPLE_DVOL_HOURLY,
    SAMPLE_FUNDING,
    SAMPLE_PERP,
    sample_path,
)
from hedgekeeper.marketdata.binance import load_funding, load_hourly_bars
from hedgekeeper.marketdata.deribit import MarketDataError
from hedgekeeper.marketdata.dvol import dvol_at, load_dvol_daily, load_dvol_hourly


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_bundled_perpetual_bars() -> None:
    bars = load_hourly_bars(sample_path(SAMPLE_PERP))
    assert len(bars) == 1776
    assert bars.timestamp[0] == np.datetime64("2022-09-27T00:00", "us")
    assert bars.close[0] == 19_336.0
    assert bars.open[0] == 19_216.3
    assert bars.mark_close[0] == 19_337.2
    np.testing.assert_array_equal(bars.high, bars.close)  # no high column: falls back to close
    assert np.all(np.diff(bars.timestamp) == np.timedelta64(1, "h"))
    assert bars.close_time[0] == np.datetime64("2022-09-27T01:00", "us")
    window = load_hourly_bars(sample_path(SAMPLE_PERP), start=datetime(2022, 11, 8, tzinfo=UTC),
                              end=datetime(2022, 11, 9, tzinfo=UTC))
    assert len(window) == 24
    assert window.row[0] == 1 + 42 * 24  # 1-based file row, for messages
    assert not window.close.flags.writeable


def test_optional_columns_and_empty_mark(tmp_path: Path) -> None:
    path = _write(tmp_path / "bars.csv", "timestamp,close,mark_close\n"
                  "2022-01-01T00:00:00Z,10,\n2022-01-01T01:00:00Z,11,10.5\n")
    bars = load_hourly_bars(path)
    assert np.isnan(bars.mark_close[0])
    assert bars.mark_close[1] == 10.5
    assert np.isnan(bars.volume).all()


@pytest.mark.parametrize(("text", "match"), [
    ("timestamp,open\n2022-01-01T00:00:00Z,1\n", r"lacks column\(s\) close"),
    ("timestamp,close\n2022-01-01T00:00:00Z,1\n2022-01-01T01:00:00Z,abc\n",
     "row 2: column close must be a finite number, got 'abc'"),
    ("timestamp,close\n2022-01-01T00:00:00Z,1\nyesterday,2\n",
     "row 2: column timestamp must be an ISO-8601"),
    ("timestamp,close\n2022-01-01T01:00:00Z,1\n2022-01-01T00:00:00Z,2\n",
     "row 2: column timestamp .* is earlier than the previous row"),
    ("timestamp,close\n2022-01-01T01:00:00Z,1\n2022-01-01T01:00:00Z,2\n",
     "row 2: column timestamp .* duplicates the previous row"),
    ("timestamp,close,volume\n2022-01-01T00:00:00Z,0,1\n", "row 1: column close must be a "
                                                           "positive price"),
    ("timestamp,close,volume\n2022-01-01T00:00:00Z,5,-1\n", "row 1: column volume must be >= 0"),
])
def test_bad_bar_files_name_file_column_and_row(tmp_path: Path, text: str, match: str) -> None:
    path = _write(tmp_path / "bad.csv", text)
    with pytest.raises(MarketDataError, match=match) as info:
        load_hourly_bars(path)
    assert "bad.csv" in str(info.value)


def test_missing_file_and_empty_window(tmp_path: Path) -> None:
    with pytest.raises(MarketDataError, match="does not exist"):
        load_hourly_bars(tmp_path / "nope.csv.gz")
    with pytest.raises(MarketDataError, match="no rows between"):
        load_hourly_bars(sample_path(SAMPLE_PERP), start=datetime(2030, 1, 1, tzinfo=UTC))
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(MarketDataError, match="cannot be read as CSV"):
        load_hourly_bars(broken)


def test_funding(tmp_path: Path) -> None:
    funding = load_funding(sample_path(SAMPLE_FUNDING), "BTCUSDT")
    assert len(funding) == 222
    assert funding.timestamp[0] == np.datetime64("2022-09-27T00:00", "us")
    assert np.all(np.diff(funding.timestamp) == np.timedelta64(8, "h"))
    assert np.all(np.abs(funding.rate) < 0.01)
    several = _write(tmp_path / "f.csv", "timestamp,symbol,funding_rate\n"
                     "2022-01-01T00:00:00Z,ETHUSDT,0.0001\n2022-01-01T00:00:00Z,BTCUSDT,0.0002\n"
                     "2022-01-01T08:00:00Z,BTCUSDT,x\n")
    with pytest.raises(MarketDataError, match="no rows for symbol 'SOLUSDT' "
                                              r"\(has: BTCUSDT, ETHUSDT\)"):
        load_funding(several, "SOLUSDT")
    with pytest.raises(MarketDataError, match="row 3: column funding_rate"):
        load_funding(several, "BTCUSDT")
    eth = load_funding(several, "ETHUSDT")
    assert eth.rate.tolist() == [0.0001]


def test_dvol_files(tmp_path: Path) -> None:
    hourly = load_dvol_hourly(sample_path(SAMPLE_DVOL_HOURLY))
    assert 40.0 < float(hourly.close.min()) < float(hourly.close.max()) < 130.0
    daily = load_dvol_daily(sample_path(SAMPLE_DVOL_DAILY))
    assert daily.date[0] == np.datetime64("2022-11-06", "us")
    assert daily.known_at[0] == np.datetime64("2022-11-07", "us")
    path = tmp_path / "dvol.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("timestamp,close\n2022-01-01T00:00:00Z,5000\n")
    with pytest.raises(MarketDataError, match="row 1: column close must be a volatility in vol "
                                              "points"):
        load_dvol_hourly(path)
    bad_day = _write(tmp_path / "d.csv", "date,dvol_close\n2022-11-06,50\n2022-11-7,51\n")
    with pytest.raises(MarketDataError, match="row 2: column date must be a day YYYY-MM-DD"):
        load_dvol_daily(bad_day)


def test_dvol_at_uses_only_what_was_known(tmp_path: Path) -> None:
    hourly = load_dvol_hourly(_write(tmp_path / "h.csv", "timestamp,close\n"
                                     "2022-11-06T22:00:00Z,50\n2022-11-06T23:00:00Z,51\n"
                                     "2022-11-07T05:00:00Z,60\n"))
    daily = load_dvol_daily(_write(tmp_path / "d.csv", "date,dvol_close\n2022-11-06,55\n"))
    times = np.array(["2022-11-06T22:30", "2022-11-06T23:00", "2022-11-07T00:00",
                      "2022-11-07T03:00", "2022-11-07T06:00"], dtype="datetime64[us]")
    value, known = dvol_at(times, hourly, daily)
    assert np.isnan(value[0])  # the 22:00 bar closes at 23:00
    assert value[1] == 50.0
    assert value[2] == 51.0  # the 23:00 bar (known 00:00) ties the daily close: hourly wins
    assert value[3] == 51.0
    assert value[4] == 60.0
    assert known[4] == np.datetime64("2022-11-07T06:00", "us")
    only_daily, when = dvol_at(times, None, daily)
    assert only_daily[2] == 55.0
    assert np.isnan(only_daily[1])
    assert np.isnat(when[1])
