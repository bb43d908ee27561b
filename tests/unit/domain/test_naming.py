"""Deribit instrument names parse into instruments with Deribit's specifications and back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedgekeeper.domain import (
    Future,
    Margining,
    Option,
    OptionKind,
    Perpetual,
    Spot,
    format_instrument,
    parse_instrument,
)
from hedgekeeper.domain.naming import expiry_code, format_strike, parse_expiry_code


def test_inverse_option_with_deribit_specs() -> None:
    option = parse_instrument("BTC-27MAR26-80000-C")
    assert isinstance(option, Option)
    assert option.expiry == datetime(2026, 3, 27, 8, tzinfo=UTC)
    assert option.strike == 80000.0
    assert option.kind is OptionKind.CALL
    assert option.margining is Margining.INVERSE
    # Deribit get_instrument: contract_size 1, tick 0.0001 BTC (0.0005 above 0.005), min 0.1.
    assert (option.contract_size, option.tick_size, option.lot_size) == (1.0, 0.0001, 0.1)
    assert option.tick_steps == ((0.005, 0.0005),)
    assert (option.quote_currency, option.strike_currency, option.settlement_currency) == (
        "BTC",
        "USD",
        "BTC",
    )


def test_single_digit_day_and_put() -> None:
    option = parse_instrument("BTC-6FEB26-100000-P")
    assert isinstance(option, Option)
    assert option.expiry == datetime(2026, 2, 6, 8, tzinfo=UTC)
    assert option.kind is OptionKind.PUT


def test_inverse_perpetual_and_future() -> None:
    perp = parse_instrument("BTC-PERPETUAL")
    assert isinstance(perp, Perpetual)
    assert (perp.contract_size, perp.contract_currency, perp.tick_size) == (10.0, "USD", 0.5)
    future = parse_instrument("BTC-27MAR26")
    assert isinstance(future, Future)
    assert future.expiry == datetime(2026, 3, 27, 8, tzinfo=UTC)
    assert future.settlement_currency == "BTC"


def test_linear_names() -> None:
    perp = parse_instrument("BTC_USDC-PERPETUAL")
    assert isinstance(perp, Perpetual)
    assert perp.margining is Margining.LINEAR
    assert (perp.quote_currency, perp.settlement_currency, perp.contract_currency) == (
        "USDC",
        "USDC",
        "BTC",
    )
    option = parse_instrument("BTC_USDC-27MAR26-80000-C")
    assert isinstance(option, Option)
    assert option.margining is Margining.LINEAR
    assert option.quote_currency == "USDC"
    spot = parse_instrument("BTC_USDC")
    assert isinstance(spot, Spot)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "BTC",
        "btc-perpetual",
        "BTC-PERP",
        "BTC-27MAR26-80000",
        "BTC-27MAR26-80000-X",
        "BTC-027MAR26",
        "BTC-32MAR26",
        "BTC-30FEB26",
        "BTC-27XYZ26-80000-C",
        "BTC-27MAR26-0-C",
        "BTC-27MAR26--80000-C",
        "BTC-27MAR2026-80000-C",
        " BTC-PERPETUAL",
        "DOGE-PERPETUAL",
        "BTC_EUR-PERPETUAL",
    ],
)
def test_malformed_or_unknown_names_raise_naming_them(name: str) -> None:
    with pytest.raises(ValueError, match=f"instrument name {name!r}".replace("(", r"\(")):
        parse_instrument(name)


def test_non_string_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="instrument name"):
        parse_instrument(42)  # type: ignore[arg-type]


def test_expired_instrument_is_rejected_relative_to_as_of() -> None:
    expiry = datetime(2026, 1, 30, 8, tzinfo=UTC)
    assert isinstance(parse_instrument("BTC-30JAN26", as_of=expiry - timedelta(minutes=1)), Future)
    with pytest.raises(ValueError, match=r"BTC-30JAN26-90000-C.*expired"):
        parse_instrument("BTC-30JAN26-90000-C", as_of=expiry)
    # Perpetuals never expire.
    parse_instrument("BTC-PERPETUAL", as_of=datetime(2100, 1, 1, tzinfo=UTC))


def test_expiry_codes() -> None:
    assert expiry_code(datetime(2026, 3, 27, 8, tzinfo=UTC)) == "27MAR26"
    assert expiry_code(datetime(2026, 2, 6, 8, tzinfo=UTC)) == "6FEB26"
    assert parse_expiry_code("6FEB26") == datetime(2026, 2, 6, 8, tzinfo=UTC)
    with pytest.raises(ValueError, match="06FEB26"):
        parse_expiry_code("06FEB26")


def test_decimal_strikes_use_d() -> None:
    assert format_strike(80000.0) == "80000"
    assert format_strike(0.625) == "0d625"


def test_format_rejects_expiry_not_at_settlement_time() -> None:
    import dataclasses

    option = parse_instrument("BTC-27MAR26-80000-C")
    assert isinstance(option, Option)
    moved = dataclasses.replace(option, expiry=datetime(2026, 3, 27, 9, tzinfo=UTC))
    with pytest.raises(ValueError, match="08:00 UTC"):
        format_instrument(moved)


days = st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2099, 12, 31).date())


@settings(max_examples=150)
@given(
    coin=st.sampled_from(["BTC", "ETH"]),
    linear=st.booleans(),
    day=days,
    strike=st.integers(min_value=1, max_value=10_000_000),
    family=st.sampled_from(["option-C", "option-P", "future", "perpetual"]),
)
def test_format_parse_round_trip(
    coin: str, linear: bool, day: object, strike: int, family: str
) -> None:
    prefix = f"{coin}_USDC" if linear else coin
    code = expiry_code(datetime(day.year, day.month, day.day, 8, tzinfo=UTC))  # type: ignore[attr-defined]
    if family == "perpetual":
        name = f"{prefix}-PERPETUAL"
    elif family == "future":
        name = f"{prefix}-{code}"
    else:
        name = f"{prefix}-{code}-{strike}-{family[-1]}"
    instrument = parse_instrument(name)
    assert instrument.name == name
    assert format_instrument(instrument) == name
    assert parse_instrument(format_instrument(instrument)) == instrument
