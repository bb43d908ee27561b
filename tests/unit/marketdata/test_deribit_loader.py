"""Loading Deribit chain snapshots, perpetual prices and positions, with errors naming the row."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

from hedgekeeper.domain import Option, OptionKind, Perpetual
from hedgekeeper.marketdata import (
    MarketDataError,
    load_chain,
    load_chains,
    load_perp_prices,
    load_positions,
    sample_chain_path,
    sample_perp_path,
    snapshots,
)
from hedgekeeper.marketdata.deribit import CHAIN_COLUMNS
from shared_data import shared_data

FIRST = datetime(2026, 1, 26, 4, 11, 38, tzinfo=UTC)
SECOND = datetime(2026, 1, 26, 9, 27, 55, tzinfo=UTC)
FULL_CHAIN = "deribit_options_BTC_4x_daily_2026-01-26_2026-02-15.csv.gz"


def sample_lines() -> list[str]:
    with gzip.open(sample_chain_path(), "rt", encoding="utf-8") as handle:
        return handle.read().splitlines()


def write(tmp_path: Path, lines: list[str], name: str = "chain.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def with_cell(lines: list[str], row: int, column: str, value: str) -> list[str]:
    """Copy of ``lines`` with data row ``row`` (1-based) holding ``value`` in ``column``."""
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    return [*lines[:row], ",".join(cells), *lines[row + 1 :]]


def test_snapshots_of_the_bundled_sample() -> None:
    assert snapshots(sample_chain_path()) == (FIRST, SECOND)


def test_load_first_snapshot_by_default() -> None:
    chain = load_chain(sample_chain_path())
    assert chain.timestamp == FIRST
    assert len(chain) == 672
    assert chain.underlying == "BTC"
    assert len(chain.expiries()) == 12
    assert chain.expiries()[0] == datetime(2026, 1, 26, 8, tzinfo=UTC)
    assert 87_300 < chain.index_price < 87_400
    for column in ("strike", "t", "forward", "bid", "ask", "mark", "mark_iv", "delta", "vega"):
        array = getattr(chain, column)
        assert array.dtype == np.float64
        assert array.shape == (672,)
        assert not array.flags.writeable
    assert chain.kind.dtype == np.int8
    assert chain.expiry.dtype == np.dtype("datetime64[us]")


def test_rows_agree_with_their_instruments() -> None:
    chain = load_chain(sample_chain_path())
    assert all(isinstance(o, Option) for o in chain.options)
    assert [o.name for o in chain.options] == chain.names.tolist()
    np.testing.assert_array_equal([o.strike for o in chain.options], chain.strike)
    np.testing.assert_array_equal([int(o.kind) for o in chain.options], chain.kind)
    first = chain.options[0]
    assert first.name == "BTC-6FEB26-100000-C"
    assert first.kind is OptionKind.CALL
    assert chain.mark[0] == 0.00111198
    assert chain.mark_iv[0] == 0.4224
    # About 8 % of rows have no bid and 3 % no ask: NaN, and then no mid.
    assert np.isnan(chain.bid).any()
    assert np.all(np.isnan(chain.mid[np.isnan(chain.bid)]))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (None, FIRST),
        (datetime(2026, 1, 26, 8, tzinfo=UTC), SECOND),
        ("2026-01-26T06:00:00Z", FIRST),
        ("2026-01-26T06:50", SECOND),  # no offset: read as UTC
        (datetime(2030, 1, 1, tzinfo=UTC), SECOND),
        (FIRST + (SECOND - FIRST) / 2, FIRST),  # a tie picks the earlier snapshot
    ],
)
def test_at_picks_the_nearest_snapshot(at: datetime | str | None, expected: datetime) -> None:
    assert load_chain(sample_chain_path(), at=at).timestamp == expected


def test_bad_at_is_rejected() -> None:
    with pytest.raises(ValueError, match="at must be an ISO-8601 time"):
        load_chain(sample_chain_path(), at="yesterday")
    with pytest.raises(ValueError, match="at"):
        load_chain(sample_chain_path(), at=datetime(2026, 1, 26))


def test_t_is_act_365_and_the_file_column_act_365_25() -> None:
    chain = load_chain(sample_chain_path())
    seconds = (chain.expiry - np.datetime64("2026-01-26T04:11:38", "us")) / np.timedelta64(1, "s")
    np.testing.assert_allclose(chain.t, seconds / (365 * 86400), rtol=1e-12)
    # Measured on the data: the file's time_to_maturity is ACT/365.25 (to within seconds).
    np.testing.assert_allclose(chain.t_listed, seconds / (365.25 * 86400), atol=1e-7)


def test_black76_on_act_365_reproduces_mark_prices_better_than_the_file_column() -> None:
    chain = load_chain(sample_chain_path())

    def coin_price(t: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
        sd = chain.mark_iv * np.sqrt(t)
        d1 = np.log(chain.forward / chain.strike) / sd + sd / 2
        w = chain.kind.astype(float)
        usd = w * (chain.forward * norm.cdf(w * d1) - chain.strike * norm.cdf(w * (d1 - sd)))
        return usd / chain.forward  # Deribit: coin price = USD price / underlying

    error_365 = np.median(np.abs(coin_price(chain.t) - chain.mark))
    error_listed = np.median(np.abs(coin_price(chain.t_listed) - chain.mark))
    assert error_365 < 1e-5
    assert error_365 < error_listed


def test_take_and_locate() -> None:
    chain = load_chain(sample_chain_path())
    puts = chain.take(chain.kind == -1)
    assert len(puts) == int(np.sum(chain.kind == -1))
    assert np.all(puts.kind == -1)
    rows = chain.locate(["BTC-6FEB26-108000-C", "BTC-6FEB26-100000-C"])
    np.testing.assert_array_equal(rows, [3, 0])
    with pytest.raises(ValueError, match="BTC-6FEB26-1-C"):
        chain.locate(["BTC-6FEB26-1-C"])


def test_missing_file() -> None:
    with pytest.raises(MarketDataError, match=r"nowhere\.csv"):
        load_chain("nowhere.csv")
    with pytest.raises(MarketDataError, match="does not exist"):
        snapshots("nowhere.csv.gz")


def test_missing_column_is_named(tmp_path: Path) -> None:
    lines = sample_lines()
    header = lines[0].split(",")
    drop = header.index("mark_price")
    cut = [",".join(c for i, c in enumerate(line.split(",")) if i != drop) for line in lines]
    with pytest.raises(MarketDataError, match=r"lacks column.*mark_price"):
        load_chain(write(tmp_path, cut))


def test_not_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "chain.csv.gz"
    path.write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(MarketDataError, match="cannot be read"):
        load_chain(path)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("strike", "abc", "column strike must be a finite number, got 'abc'"),
        ("mark_price", "", "column mark_price must be a finite number"),
        ("implied_volatility", "0", "column implied_volatility must be positive"),
        ("underlying", "-5", "column underlying must be positive"),
        ("option_type", "straddle", "column option_type must be call or put"),
        ("instrument_name", "BTC-6FEB26", "is not an option"),
        ("instrument_name", "BTC-6XYZ26-100000-C", "column instrument_name"),
        ("strike", "100001", "disagrees with column strike"),
        ("option_type", "put", "disagrees with column option_type"),
        ("expiry_datetime", "2026-02-07T08:00:00Z", "disagrees with column expiry_datetime"),
        ("expiry_datetime", "soon", "column expiry_datetime must be an ISO-8601"),
        ("timestamp", "then", "column timestamp must be an ISO-8601"),
    ],
)
def test_malformed_row_names_column_and_row(
    tmp_path: Path, column: str, value: str, message: str
) -> None:
    path = write(tmp_path, with_cell(sample_lines(), 1, column, value))
    with pytest.raises(MarketDataError, match=f"row 1: .*{message}"):
        load_chain(path)


def test_row_number_counts_data_rows_in_the_whole_file(tmp_path: Path) -> None:
    lines = sample_lines()
    # Data row 700 belongs to the second snapshot: the error appears when loading it.
    assert lines[700].startswith("2026-01-26T09:27:55Z")
    path = write(tmp_path, with_cell(lines, 700, "vega", "x"))
    load_chain(path)  # the first snapshot is fine
    with pytest.raises(MarketDataError, match="row 700: column vega"):
        load_chain(path, at=SECOND)


def test_empty_bid_is_allowed_but_a_bad_one_is_not(tmp_path: Path) -> None:
    lines = sample_lines()
    chain = load_chain(write(tmp_path, with_cell(lines, 1, "bid_price", "")))
    assert np.isnan(chain.bid[0])
    with pytest.raises(MarketDataError, match="row 1: column bid_price"):
        load_chain(write(tmp_path, with_cell(lines, 1, "bid_price", "-0.1")))


def test_duplicate_instrument_in_a_snapshot(tmp_path: Path) -> None:
    lines = sample_lines()
    with pytest.raises(
        MarketDataError, match="row 3: instrument 'BTC-6FEB26-100000-C' appears twice"
    ):
        load_chain(write(tmp_path, [*lines[:3], lines[1], *lines[3:]]))


def test_header_only_file(tmp_path: Path) -> None:
    with pytest.raises(MarketDataError, match="no rows"):
        load_chain(write(tmp_path, [",".join(CHAIN_COLUMNS)]))


def test_perp_prices_of_the_bundled_sample() -> None:
    perp = load_perp_prices(sample_perp_path())
    assert perp.instrument_name == "BTC-PERPETUAL"
    assert perp.at(FIRST) == 87395.5
    assert perp.at(SECOND + timedelta(minutes=2)) == 87727.0
    with pytest.raises(ValueError, match="no BTC-PERPETUAL price within"):
        perp.at(SECOND + timedelta(hours=1))
    eth = load_perp_prices(sample_perp_path(), coin="ETH")
    assert eth.at(FIRST) == 2855.05
    with pytest.raises(MarketDataError, match="no rows for coin 'SOL'"):
        load_perp_prices(sample_perp_path(), coin="SOL")


def test_malformed_perp_row(tmp_path: Path) -> None:
    lines = sample_perp_path().read_text(encoding="utf-8").splitlines()
    with pytest.raises(MarketDataError, match="row 3: column perp_price"):
        load_perp_prices(write(tmp_path, with_cell(lines, 3, "perp_price", "n/a")))
    with pytest.raises(MarketDataError, match=r"lacks column.*perp_price"):
        load_perp_prices(write(tmp_path, [line.rsplit(",", 2)[0] for line in lines]))


def test_positions_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            "instrument_name,quantity,account",
            "BTC-27MAR26-80000-C,2",
            "BTC-PERPETUAL,-150,hedge",
            "BTC-27MAR26-80000-C,-0.5,other",
        ],
        "positions.csv",
    )
    book = load_positions(path)
    assert len(book) == 3
    assert book.net_quantity("BTC-27MAR26-80000-C") == 1.5
    assert isinstance(book.positions[1].instrument, Perpetual)
    assert [p.account for p in book.positions] == ["main", "hedge", "other"]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            ["instrument_name,quantity", "BTC-27MAR26-80000-C,two"],
            "row 1: column quantity must be a finite number, got 'two'",
        ),
        (
            ["instrument_name,quantity", "BTC-PERPETUAL,1", "BTC-FOO,1"],
            "row 2: column instrument_name: instrument name 'BTC-FOO'",
        ),
        (["instrument_name,quantity", "BTC-PERPETUAL,nan"], "row 1: column quantity"),
        (["instrument_name,quantity", ",1"], "row 1: column instrument_name is empty"),
        (["instrument_name,quantity", "BTC-PERPETUAL,1,extra"], "row 1: more fields"),
        (["instrument,quantity", "BTC-PERPETUAL,1"], "lacks column.*instrument_name"),
        (["instrument_name,quantity"], "has no positions"),
        ([""], "lacks column"),
    ],
)
def test_malformed_positions(tmp_path: Path, lines: list[str], message: str) -> None:
    with pytest.raises(MarketDataError, match=message):
        load_positions(write(tmp_path, lines, "positions.csv"))


def test_positions_missing_file_and_expired_instrument(tmp_path: Path) -> None:
    with pytest.raises(MarketDataError, match=r"positions file 'none\.csv' does not exist"):
        load_positions("none.csv")
    path = write(tmp_path, ["instrument_name,quantity", "BTC-26JAN26-80000-C,1"], "p.csv")
    load_positions(path)
    with pytest.raises(MarketDataError, match=r"row 1: .*expired"):
        load_positions(path, as_of=FIRST + timedelta(hours=4))


@pytest.mark.shared_data
def test_full_shared_chain_file() -> None:
    path = shared_data(FULL_CHAIN)
    stamps = snapshots(path)
    assert len(stamps) == 83
    assert stamps[0] == FIRST
    chains = list(load_chains(path))
    assert [c.timestamp for c in chains] == list(stamps)
    assert sum(len(c) for c in chains) == 62_776
    chosen = load_chain(path, at="2026-02-10T12:00:00Z")
    assert abs(chosen.timestamp - datetime(2026, 2, 10, 12, tzinfo=UTC)) < timedelta(hours=4)
    assert chosen.index_price < 75_000  # BTC fell from 89k to 64k over the period
    # The sample is the first two snapshots of the shared file, row for row.
    first = chains[0]
    sample = load_chain(sample_chain_path())
    assert first.names.tolist() == sample.names.tolist()
    np.testing.assert_array_equal(first.mark, sample.mark)


@pytest.mark.shared_data
def test_shared_perp_file_covers_every_chain_snapshot() -> None:
    perp = load_perp_prices(shared_data("deribit_perp_at_option_snapshots_2025-12_2026-04.csv"))
    for stamp in snapshots(shared_data(FULL_CHAIN)):
        assert perp.at(stamp, tolerance=timedelta(0)) > 0.0
