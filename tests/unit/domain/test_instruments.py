"""Instruments are frozen value types that reject inconsistent data, naming the field."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from hedgekeeper.domain import (
    Future,
    Margining,
    Option,
    OptionKind,
    Perpetual,
    Spot,
    expiry_of,
    require_live,
    year_fraction,
)

EXPIRY = datetime(2026, 3, 27, 8, tzinfo=UTC)


def inverse_option(**changes: object) -> Option:
    fields: dict[str, object] = {
        "name": "BTC-27MAR26-80000-C",
        "underlying": "BTC",
        "quote_currency": "BTC",
        "strike_currency": "USD",
        "margining": Margining.INVERSE,
        "settlement_currency": "BTC",
        "margin_currency": "BTC",
        "contract_size": 1.0,
        "contract_currency": "BTC",
        "tick_size": 0.0001,
        "tick_steps": ((0.005, 0.0005),),
        "lot_size": 0.1,
        "expiry": EXPIRY,
        "strike": 80000.0,
        "kind": OptionKind.CALL,
    }
    fields.update(changes)
    return Option(**fields)  # type: ignore[arg-type]


def inverse_perpetual(**changes: object) -> Perpetual:
    fields: dict[str, object] = {
        "name": "BTC-PERPETUAL",
        "underlying": "BTC",
        "quote_currency": "USD",
        "margining": Margining.INVERSE,
        "settlement_currency": "BTC",
        "margin_currency": "BTC",
        "contract_size": 10.0,
        "contract_currency": "USD",
        "tick_size": 0.5,
        "lot_size": 1.0,
    }
    fields.update(changes)
    return Perpetual(**fields)  # type: ignore[arg-type]


def test_a_valid_inverse_option_keeps_its_fields() -> None:
    option = inverse_option()
    assert option.strike == 80000.0
    assert option.is_call
    assert option.expiry == EXPIRY
    assert expiry_of(option) == EXPIRY


def test_instruments_are_frozen_and_slotted() -> None:
    option = inverse_option()
    with pytest.raises(dataclasses.FrozenInstanceError):
        option.strike = 1.0  # type: ignore[misc]
    assert not hasattr(option, "__dict__")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"strike": -1.0}, "strike"),
        ({"strike": 0.0}, "strike"),
        ({"strike": float("nan")}, "strike"),
        ({"strike": True}, "strike"),
        ({"contract_size": 0.0}, "contract_size"),
        ({"tick_size": -0.0001}, "tick_size"),
        ({"lot_size": float("inf")}, "lot_size"),
        ({"quote_currency": "USD"}, "quote_currency"),
        ({"settlement_currency": "USD"}, "settlement_currency"),
        ({"margin_currency": "USDC"}, "margin_currency"),
        ({"underlying": "btc"}, "underlying"),
        ({"name": " BTC"}, "name"),
        ({"kind": 1}, "kind"),
        ({"margining": "inverse"}, "margining"),
        ({"expiry": datetime(2026, 3, 27, 8)}, "expiry"),
        ({"tick_steps": ((0.01, 0.0005), (0.005, 0.001))}, "tick_steps"),
        ({"contract_currency": "USD"}, "contract_currency"),
    ],
)
def test_inconsistent_option_data_is_rejected_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        inverse_option(**changes)


def test_expiry_is_normalised_to_utc() -> None:
    cet = timezone(timedelta(hours=1))
    option = inverse_option(expiry=datetime(2026, 3, 27, 9, tzinfo=cet))
    assert option.expiry == EXPIRY
    assert option.expiry.tzinfo == UTC


def test_deribit_option_tick_steps() -> None:
    # Deribit BTC options: 0.0001 BTC up to 0.005 BTC, 0.0005 BTC above.
    option = inverse_option()
    assert option.tick_at(0.0049) == 0.0001
    assert option.tick_at(0.005) == 0.0001
    assert option.tick_at(0.0051) == 0.0005


def test_inverse_perpetual_has_a_usd_face_value_and_coin_settlement() -> None:
    perp = inverse_perpetual()
    assert (perp.contract_size, perp.contract_currency) == (10.0, "USD")
    assert perp.settlement_currency == "BTC"
    with pytest.raises(ValueError, match="settlement_currency"):
        inverse_perpetual(settlement_currency="USD", margin_currency="USD")
    with pytest.raises(ValueError, match="contract_currency"):
        inverse_perpetual(contract_currency="ETH")


def test_linear_perpetual_settles_in_the_quote_currency() -> None:
    perp = Perpetual(
        name="BTC_USDC-PERPETUAL",
        underlying="BTC",
        quote_currency="USDC",
        margining=Margining.LINEAR,
        settlement_currency="USDC",
        margin_currency="USDC",
        contract_size=1.0,
        contract_currency="BTC",
        tick_size=1.0,
        lot_size=0.001,
    )
    assert perp.margining is Margining.LINEAR
    with pytest.raises(ValueError, match="settlement_currency"):
        dataclasses.replace(perp, settlement_currency="BTC")
    with pytest.raises(ValueError, match="contract_currency"):
        dataclasses.replace(perp, contract_currency="USDC")


def test_future_requires_an_aware_expiry() -> None:
    with pytest.raises(ValueError, match="expiry"):
        Future(
            name="BTC-27MAR26",
            underlying="BTC",
            quote_currency="USD",
            margining=Margining.INVERSE,
            settlement_currency="BTC",
            margin_currency="BTC",
            contract_size=10.0,
            contract_currency="USD",
            tick_size=0.5,
            lot_size=1.0,
            expiry=datetime(2026, 3, 27, 8),
        )


def test_spot_rejects_equal_currencies_and_has_linear_conventions() -> None:
    spot = Spot(
        name="BTC_USDC", underlying="BTC", quote_currency="USDC", tick_size=1.0, lot_size=0.0001
    )
    assert spot.margining is Margining.LINEAR
    assert spot.settlement_currency == "USDC"
    assert expiry_of(spot) is None
    with pytest.raises(ValueError, match="quote_currency"):
        Spot(name="BTC_BTC", underlying="BTC", quote_currency="BTC", tick_size=1.0, lot_size=1.0)


def test_require_live_rejects_an_expired_instrument() -> None:
    option = inverse_option()
    require_live(option, EXPIRY - timedelta(seconds=1))
    with pytest.raises(ValueError, match=r"BTC-27MAR26-80000-C.*expired"):
        require_live(option, EXPIRY)
    with pytest.raises(ValueError, match="as_of"):
        require_live(option, datetime(2026, 1, 1))
    require_live(inverse_perpetual(), datetime(2100, 1, 1, tzinfo=UTC))


def test_option_kind_parse() -> None:
    assert OptionKind.parse("Call") is OptionKind.CALL
    assert OptionKind.parse("p") is OptionKind.PUT
    assert OptionKind.parse(-1) is OptionKind.PUT
    with pytest.raises(ValueError, match="option kind"):
        OptionKind.parse("straddle")


def test_year_fraction_is_act_365() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert year_fraction(start, start + timedelta(days=365)) == 1.0
    assert year_fraction(start, start - timedelta(days=73)) == pytest.approx(-0.2)


def test_domain_imports_numpy_only() -> None:
    import subprocess
    import sys

    code = (
        "import sys, hedgekeeper.domain; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'pandas', 'scipy', 'numba', 'matplotlib', 'QuantLib'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
