"""A Book aggregates positions across venues and accounts without mutating anything."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pytest

from hedgekeeper.domain import Book, Option, Position, parse_instrument

CALL = parse_instrument("BTC-27MAR26-80000-C")
PUT = parse_instrument("BTC-27MAR26-80000-P")
PERP = parse_instrument("BTC-PERPETUAL")
ETH_PERP = parse_instrument("ETH-PERPETUAL")


def sample_book() -> Book:
    return Book.of(
        [
            Position(instrument=CALL, quantity=2.0, venue="deribit", account="main"),
            Position(instrument=PERP, quantity=-100.0, venue="deribit", account="main"),
            Position(instrument=CALL, quantity=-0.5, venue="deribit", account="hedge"),
            Position(instrument=ETH_PERP, quantity=30.0, venue="deribit", account="hedge"),
            Position(instrument=PUT, quantity=1.0, venue="okx", account="main"),
        ]
    )


def test_netted_sums_quantities_by_instrument_in_first_seen_order() -> None:
    instruments, quantities = sample_book().netted()
    assert [i.name for i in instruments] == [
        "BTC-27MAR26-80000-C",
        "BTC-PERPETUAL",
        "ETH-PERPETUAL",
        "BTC-27MAR26-80000-P",
    ]
    np.testing.assert_array_equal(quantities, [1.5, -100.0, 30.0, 1.0])
    assert quantities.dtype == np.float64


def test_net_book_and_net_quantity() -> None:
    book = sample_book()
    net = book.net()
    assert len(net) == 4
    assert {p.venue for p in net.positions} == {"all"}
    assert net.net_quantity("BTC-27MAR26-80000-C") == 1.5
    assert book.net_quantity("BTC-27MAR26-80000-C") == 1.5
    assert book.net_quantity("BTC-27MAR26-1000-C") == 0.0


def test_group_by_underlying_and_account() -> None:
    book = sample_book()
    by_coin = book.by_underlying()
    assert list(by_coin) == ["BTC", "ETH"]
    assert len(by_coin["BTC"]) == 4
    assert by_coin["ETH"].net_quantity("ETH-PERPETUAL") == 30.0
    by_account = book.by_account()
    assert list(by_account) == [("deribit", "main"), ("deribit", "hedge"), ("okx", "main")]
    assert by_account[("deribit", "hedge")].net_quantity("BTC-27MAR26-80000-C") == -0.5
    assert sum(len(b) for b in by_account.values()) == len(book)


def test_options_filter_and_added_leave_the_original_alone() -> None:
    book = sample_book()
    assert all(isinstance(p.instrument, Option) for p in book.options().positions)
    bigger = book.added(Position(instrument=PERP, quantity=10.0))
    assert len(bigger) == len(book) + 1
    assert book.net_quantity("BTC-PERPETUAL") == -100.0
    assert bigger.net_quantity("BTC-PERPETUAL") == -90.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        book.positions = ()  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": float("nan")}, "quantity"),
        ({"quantity": "1"}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"venue": ""}, "venue"),
        ({"account": "  "}, "account"),
        ({"instrument": "BTC-PERPETUAL"}, "instrument"),
    ],
)
def test_bad_positions_are_rejected_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    fields: dict[str, object] = {"instrument": PERP, "quantity": 1.0}
    fields.update(changes)
    with pytest.raises(ValueError, match=field):
        Position(**fields)  # type: ignore[arg-type]


def test_one_name_with_two_specifications_is_rejected() -> None:
    assert isinstance(CALL, Option)
    other = dataclasses.replace(CALL, lot_size=1.0)
    with pytest.raises(ValueError, match="two different specifications"):
        Book.of([Position(instrument=CALL, quantity=1.0), Position(instrument=other, quantity=1.0)])


def test_non_position_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"positions\[0\]"):
        Book(("BTC-PERPETUAL",))  # type: ignore[arg-type]


def test_require_live_names_the_expired_instrument() -> None:
    book = sample_book()
    book.require_live(datetime(2026, 3, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="BTC-27MAR26-80000-C"):
        book.require_live(datetime(2026, 3, 28, tzinfo=UTC))


def test_empty_book() -> None:
    instruments, quantities = Book().netted()
    assert instruments == ()
    assert quantities.shape == (0,)
