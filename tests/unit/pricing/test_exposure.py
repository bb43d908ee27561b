"""Exposure: per-contract Greeks, numeraire conventions, and agreement with full revaluation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pricing_books import SPOT, mixed_book
from scipy.special import ndtr

from hedgekeeper.pricing.exposure import (
    PRODUCT_FUTURE,
    PRODUCT_OPTION,
    PositionArrays,
    contract_greeks,
    exposure,
    position_values,
)
from hedgekeeper.pricing.scenario import scenario_grid


def reference_black76(forward, strike, t, vol, kind):
    """Textbook Black-76 at r = 0 (Black 1976): price, delta, gamma, vega (per 1.00), theta/yr."""
    forward, strike, t, vol, kind = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (forward, strike, t, vol, kind))
    )
    sd = vol * np.sqrt(t)
    d1 = (np.log(forward / strike) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    pdf = np.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi)
    price = kind * (forward * ndtr(kind * d1) - strike * ndtr(kind * d2))
    delta = kind * ndtr(kind * d1)
    gamma = pdf / (forward * sd)
    vega = forward * pdf * np.sqrt(t)
    theta = -forward * pdf * vol / (2 * np.sqrt(t))
    return price, delta, gamma, vega, theta


def reference_value(
    book: PositionArrays,
    spot_factor: float,
    vol_factor: float,
    numeraire: str,
    vol_shift: float = 0.0,
    dt: float = 0.0,
) -> float:
    """Book value written out instrument by instrument, independently of the package.

    Futures are valued relative to the base price (their value at the base market is 0).
    """
    total = 0.0
    index = book.spot[0] * spot_factor
    for i in range(len(book)):
        q, size = book.quantity[i], book.contract_size[i]
        base = book.forward[i]
        f = base * spot_factor
        if book.product[i] == PRODUCT_OPTION:
            price = reference_black76(
                f,
                book.strike[i],
                book.expiry_years[i] - dt,
                book.vol[i] * vol_factor + vol_shift,
                book.option_kind[i],
            )[0]
            usd = q * size * float(price)
            coin = usd / (f if book.inverse[i] else index)
        elif book.product[i] == PRODUCT_FUTURE and book.inverse[i]:
            coin = q * size * (1.0 / base - 1.0 / f)  # N (1/F0 - 1/F)
            usd = coin * f
        elif book.product[i] == PRODUCT_FUTURE:
            usd = q * size * (f - base)
            coin = usd / index
        else:
            usd = q * size * index
            coin = q * size
        total += usd if numeraire == "usd" else coin
    return total


def test_contract_greeks_match_reference_black76_and_deribit_units() -> None:
    book = mixed_book()
    greeks = contract_greeks(book)
    option = slice(0, 4)
    price, delta, gamma, vega, theta = reference_black76(
        book.forward[option],
        book.strike[option],
        book.expiry_years[option],
        book.vol[option],
        book.option_kind[option],
    )
    np.testing.assert_allclose(greeks.price_usd[option], price, rtol=1e-12)
    # Inverse options: coin price = USD price / forward; linear: / index.
    np.testing.assert_allclose(greeks.price_coin[:3], price[:3] / book.forward[:3], rtol=1e-12)
    np.testing.assert_allclose(greeks.price_coin[3], price[3] / SPOT, rtol=1e-12)
    np.testing.assert_allclose(greeks.delta[option], delta, rtol=1e-12)
    np.testing.assert_allclose(greeks.gamma[option], gamma, rtol=1e-12)
    np.testing.assert_allclose(greeks.vega[option], vega * 0.01, rtol=1e-12)
    np.testing.assert_allclose(greeks.theta[option], theta / 365.0, rtol=1e-12)
    np.testing.assert_allclose(
        greeks.delta_premium_adjusted[:3], delta[:3] - price[:3] / book.forward[:3], rtol=1e-12
    )
    np.testing.assert_allclose(greeks.iv[option], book.vol[option])
    assert np.all(np.isnan(greeks.iv[4:]))
    # Delta-one: Deribit's delta is 1 per coin; gamma, vega, theta vanish.
    np.testing.assert_array_equal(greeks.delta[4:], 1.0)
    np.testing.assert_array_equal(greeks.gamma[4:], 0.0)
    np.testing.assert_array_equal(greeks.vega[4:], 0.0)
    np.testing.assert_array_equal(greeks.theta[4:], 0.0)
    # Inverse perpetual, 10 USD face value: USD delta 10, coin delta 10 / S per contract,
    # coin-margined (premium-adjusted) delta 1 per coin of notional.
    assert greeks.delta_usd[4] == pytest.approx(10.0, rel=1e-12)
    assert greeks.delta_coin[4] == pytest.approx(10.0 / SPOT, rel=1e-12)
    assert greeks.delta_premium_adjusted[4] == pytest.approx(1.0, rel=1e-12)
    assert greeks.price_usd[4] == 87_395.5
    assert math.isnan(greeks.price_coin[4])
    # Spot: one coin has a USD delta of one coin, and no coin-numeraire delta.
    assert greeks.delta_coin[7] == pytest.approx(1.0)
    assert greeks.delta_premium_adjusted[7] == 0.0
    assert greeks.price_coin[7] == 1.0


@pytest.mark.parametrize("numeraire", ["usd", "coin"])
def test_totals_agree_with_finite_differences_of_revaluation(numeraire: str) -> None:
    book = mixed_book()
    totals = exposure(book, numeraire).by_underlying.row("BTC")
    h = 1e-4

    def value(spot_factor: float = 1.0, vol_shift: float = 0.0, dt: float = 0.0) -> float:
        return reference_value(book, spot_factor, 1.0, numeraire, vol_shift, dt)

    up, mid, down = value(1 + h), value(), value(1 - h)
    first = (up - down) / (2 * h * SPOT)  # dV/dS
    second = (up - 2 * mid + down) / (h * SPOT) ** 2
    if numeraire == "usd":
        delta_coin, gamma = first, second
    else:
        delta_coin, gamma = SPOT * first, first + SPOT * second  # S W', d(S W')/dS
    assert totals["value"] == pytest.approx(mid, rel=1e-12)
    assert totals["delta_coin"] == pytest.approx(delta_coin, rel=1e-6)
    assert totals["delta_usd"] == pytest.approx(SPOT * delta_coin, rel=1e-6)
    assert totals["gamma_coin_per_usd"] == pytest.approx(gamma, rel=1e-4)
    assert totals["cash_gamma_usd_per_1pct"] == pytest.approx(0.01 * SPOT**2 * gamma, rel=1e-4)
    assert totals["cash_gamma_coin_per_1pct"] == pytest.approx(0.01 * SPOT * gamma, rel=1e-4)
    bump = 1e-5
    vega = (value(vol_shift=bump) - value(vol_shift=-bump)) / (2 * bump) * 0.01
    assert totals["vega_per_vol_point"] == pytest.approx(vega, rel=1e-6)
    day = 1.0 / 365.0
    theta = (value(dt=1e-3 * day) - value(dt=-1e-3 * day)) / 2e-3
    assert totals["theta_per_day"] == pytest.approx(theta, rel=1e-5)


def test_inverse_perpetual_coin_and_usd_delta() -> None:
    """A long inverse perp of N USD: coin P&L N(1/F0 - 1/F), coin delta N/F, USD delta N."""
    book = mixed_book()
    perp = PositionArrays(
        **{
            name: (getattr(book, name)[4:5])
            for name in (
                "instrument_name",
                "underlying",
                "bucket",
                "product",
                "inverse",
                "option_kind",
                "strike",
                "expiry_years",
                "forward",
                "vol",
                "rate",
                "quantity",
                "contract_size",
                "spot",
            )
        }
    )
    usd = exposure(perp, "usd").by_underlying.row("BTC")
    coin = exposure(perp, "coin").by_underlying.row("BTC")
    quantity, face, price = -4_000.0, 10.0, 87_395.5
    assert usd["delta_usd"] == pytest.approx(quantity * face, rel=1e-12)
    assert usd["gamma_coin_per_usd"] == 0.0
    assert coin["delta_coin"] == pytest.approx(quantity * face / price, rel=1e-12)
    # Coin P&L is convex in 1/F: d(N/F)/dS = -N/(F S).
    assert coin["gamma_coin_per_usd"] == pytest.approx(-quantity * face / (price * SPOT), rel=1e-12)
    assert usd["value"] == 0.0
    assert coin["value"] == 0.0


def test_coin_numeraire_delta_of_inverse_options_is_premium_adjusted() -> None:
    book = mixed_book()
    contract = contract_greeks(book)
    per_position = exposure(book, "coin").per_position
    np.testing.assert_allclose(
        per_position.delta_coin[:3],
        book.quantity[:3] * contract.delta_premium_adjusted[:3],
        rtol=1e-12,
    )
    usd = exposure(book, "usd").per_position
    np.testing.assert_allclose(
        usd.delta_coin[:3],
        book.quantity[:3] * contract.delta[:3] * book.forward[:3] / SPOT,
        rtol=1e-12,
    )


def test_buckets_and_underlyings_sum_to_positions_and_are_ordered() -> None:
    result = exposure(mixed_book(), "usd")
    assert result.by_bucket.label == (
        "BTC spot",
        "BTC perpetual",
        "BTC 2026-02-06",
        "BTC 2026-03-27",
    )
    for name in (
        "value",
        "delta_coin",
        "gamma_coin_per_usd",
        "vega_per_vol_point",
        "theta_per_day",
    ):
        total = getattr(result.by_underlying, name)[0]
        assert getattr(result.by_bucket, name).sum() == pytest.approx(total, rel=1e-12, abs=1e-12)
        assert getattr(result.per_position, name).sum() == pytest.approx(
            total, rel=1e-12, abs=1e-12
        )
    # Vega of the March bucket is the vega of its three options only.
    march = result.by_bucket.row("BTC 2026-03-27")
    assert march["vega_per_vol_point"] == pytest.approx(
        result.per_position.vega_per_vol_point[[0, 1, 3]].sum(), rel=1e-12
    )
    assert result.by_bucket.row("BTC perpetual")["vega_per_vol_point"] == 0.0


def test_two_underlyings_are_kept_apart() -> None:
    book = mixed_book()
    eth = PositionArrays(
        instrument_name=("ETH-27MAR26-3000-C", "ETH-PERPETUAL"),
        underlying=("ETH", "ETH"),
        bucket=("2026-03-27", "perpetual"),
        product=[PRODUCT_OPTION, PRODUCT_FUTURE],
        inverse=[True, True],
        option_kind=[1, 0],
        strike=[3000.0, np.nan],
        expiry_years=[0.1643, np.nan],
        forward=[2870.0, 2856.0],
        vol=[0.6, np.nan],
        rate=[0.0, 0.0],
        quantity=[5.0, -3.0],
        contract_size=[1.0, 1.0],
        spot=[2855.05, 2855.05],
    )
    both = PositionArrays(
        **{
            name: np.concatenate([np.asarray(getattr(book, name)), np.asarray(getattr(eth, name))])
            if not isinstance(getattr(book, name), tuple)
            else getattr(book, name) + getattr(eth, name)
            for name in (
                "instrument_name",
                "underlying",
                "bucket",
                "product",
                "inverse",
                "option_kind",
                "strike",
                "expiry_years",
                "forward",
                "vol",
                "rate",
                "quantity",
                "contract_size",
                "spot",
            )
        }
    )
    totals = exposure(both, "usd").by_underlying
    assert totals.label == ("BTC", "ETH")
    assert totals.row("BTC")["delta_coin"] == pytest.approx(
        exposure(book, "usd").by_underlying.row("BTC")["delta_coin"], rel=1e-12
    )
    assert totals.row("ETH")["delta_coin"] == pytest.approx(
        exposure(eth, "usd").by_underlying.row("ETH")["delta_coin"], rel=1e-12
    )
    grid = scenario_grid(both)
    assert grid.underlying == ("BTC", "ETH")


def test_position_values_scale_with_quantity() -> None:
    np.testing.assert_allclose(
        position_values(mixed_book(-1.0), "coin"),
        -position_values(mixed_book(), "coin"),
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"vol": [0.47, -0.1, 0.41, 0.45] + [np.nan] * 4}, "vol of 'BTC-27MAR26-90000-P'"),
        (
            {"strike": [0.0, 90_000, 95_000, 85_000] + [np.nan] * 4},
            "strike of 'BTC-27MAR26-80000-C'",
        ),
        (
            {"expiry_years": [0.1643, 0.0, 0.03, 0.16, np.nan, np.nan, 0.16, np.nan]},
            "expiry_years of 'BTC-27MAR26-90000-P'",
        ),
        ({"option_kind": [1, 2, 1, -1, 0, 0, 0, 0]}, "option_kind"),
        ({"product": [2, 2, 2, 2, 1, 1, 1, 7]}, "product of 'BTC_USDC'"),
        ({"inverse": [True] * 8}, "inverse of 'BTC_USDC'"),
        ({"quantity": [1.0] * 7 + [np.inf]}, "quantity"),
        ({"forward": [88_050.0] * 7 + [-1.0]}, "forward of 'BTC_USDC'"),
        ({"spot": [SPOT] * 7}, "spot must have shape"),
        ({"bucket": ("spot",)}, "bucket must have one entry per position"),
    ],
)
def test_bad_inputs_name_the_field(change: dict[str, object], message: str) -> None:
    book = mixed_book()
    fields = {
        name: getattr(book, name)
        for name in (
            "instrument_name",
            "underlying",
            "bucket",
            "product",
            "inverse",
            "option_kind",
            "strike",
            "expiry_years",
            "forward",
            "vol",
            "rate",
            "quantity",
            "contract_size",
            "spot",
        )
    }
    fields.update(change)
    with pytest.raises(ValueError, match=message):
        PositionArrays(**fields)  # type: ignore[arg-type]


def test_unknown_numeraire_and_inconsistent_spot_are_rejected() -> None:
    book = mixed_book()
    with pytest.raises(ValueError, match="numeraire must be 'usd' or 'coin'"):
        exposure(book, "eur")
    other = book.replace_market(spot=np.r_[np.full(7, SPOT), SPOT + 1.0])
    with pytest.raises(ValueError, match="spot of underlying 'BTC' must be the same"):
        exposure(other)


def test_arrays_are_read_only() -> None:
    book = mixed_book()
    with pytest.raises(ValueError, match="read-only"):
        book.forward[0] = 1.0
