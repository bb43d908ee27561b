"""Unit tests of hedgekeeper.pricing.inverse: coin price, premium-adjusted delta, coin Greeks."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from hedgekeeper.pricing.black import black76
from hedgekeeper.pricing.inverse import InverseOptionGreeks, inverse_option

COIN_FIELDS = ("price", "delta_pa", "gamma_pa", "vega", "theta", "rho", "vanna", "volga")


def test_coin_price_is_usd_price_over_forward() -> None:
    forward = np.array([60_000.0, 90_000.0, 120_000.0])
    g = inverse_option(forward, 90_000.0, 0.25, 0.6, "call")
    usd = black76(forward, 90_000.0, 0.25, 0.0, 0.6, "call")
    np.testing.assert_array_equal(g.price, usd.price / forward)
    np.testing.assert_array_equal(g.usd.delta, usd.delta)


def test_premium_adjusted_delta_is_black_delta_minus_coin_price() -> None:
    g = inverse_option(90_000.0, [80_000.0, 100_000.0], 0.1, 0.5, ["call", "put"])
    np.testing.assert_allclose(g.delta_pa, g.usd.delta - g.price, rtol=1e-15)
    # A put's premium-adjusted delta is below its Black delta, a call's too (price > 0).
    assert np.all(g.delta_pa < g.usd.delta)


def test_deep_itm_call_delta_pa_tends_to_strike_over_forward() -> None:
    # Coin value of a deep ITM call is 1 - K/F, whose F-derivative times F is K/F.
    g = inverse_option(100_000.0, 20_000.0, 0.05, 0.3, "call")
    assert g.delta_pa == pytest.approx(0.2, rel=1e-12)
    assert g.price == pytest.approx(0.8, rel=1e-12)


@pytest.mark.parametrize("kind", ["call", "put"])
def test_coin_greeks_are_derivatives_of_the_coin_price(kind: str) -> None:
    forward, strike, t, vol = 87_000.0, 95_000.0, 0.3, 0.55

    def coin(f: float = forward, tt: float = t, v: float = vol, r: float = 0.0) -> float:
        return float(inverse_option(f, strike, tt, v, kind, rate=r).price)

    g = inverse_option(forward, strike, t, vol, kind)
    h_f, h_v, h_t, h_r = 1.0, 1e-5, 1e-6, 1e-6
    delta_pa = forward * (coin(f=forward + h_f) - coin(f=forward - h_f)) / (2 * h_f)
    vega = (coin(v=vol + h_v) - coin(v=vol - h_v)) / (2 * h_v)
    theta = -(coin(tt=t + h_t) - coin(tt=t - h_t)) / (2 * h_t)
    rho = (coin(r=h_r) - coin(r=-h_r)) / (2 * h_r)
    assert g.delta_pa == pytest.approx(delta_pa, rel=1e-7)
    assert g.vega == pytest.approx(vega, rel=1e-7)
    assert g.theta == pytest.approx(theta, rel=1e-6)
    assert g.rho == pytest.approx(rho, rel=1e-6, abs=1e-12)

    def delta_pa_at(f: float = forward, v: float = vol) -> float:
        return float(inverse_option(f, strike, t, v, kind).delta_pa)

    gamma_pa = (delta_pa_at(f=forward + h_f) - delta_pa_at(f=forward - h_f)) / (2 * h_f)
    vanna = (delta_pa_at(v=vol + h_v) - delta_pa_at(v=vol - h_v)) / (2 * h_v)
    assert g.gamma_pa == pytest.approx(gamma_pa, rel=1e-6)
    assert g.vanna == pytest.approx(vanna, rel=1e-6)

    def vega_at(v: float) -> float:
        return float(inverse_option(forward, strike, t, v, kind).vega)

    volga = (vega_at(vol + h_v) - vega_at(vol - h_v)) / (2 * h_v)
    assert g.volga == pytest.approx(volga, rel=1e-6)


def test_put_call_parity_in_coin() -> None:
    # C - P = (F - K) / F in coin with r = 0.
    strike = np.array([50_000.0, 90_000.0, 150_000.0])
    call = inverse_option(90_000.0, strike, 0.5, 0.7, "c")
    put = inverse_option(90_000.0, strike, 0.5, 0.7, "p")
    np.testing.assert_allclose(call.price - put.price, (90_000.0 - strike) / 90_000.0, atol=1e-15)
    np.testing.assert_allclose(call.delta_pa - put.delta_pa, strike / 90_000.0, rtol=1e-12)


def test_result_shapes_and_read_only() -> None:
    g = inverse_option(90_000.0, np.array([[80_000.0], [100_000.0]]), [0.1, 0.2, 0.3], 0.5, 1)
    assert isinstance(g, InverseOptionGreeks)
    for name in COIN_FIELDS:
        value = getattr(g, name)
        assert value.shape == (2, 3)
        assert not value.flags.writeable
    assert g.usd.price.shape == (2, 3)
    scalar = inverse_option(90_000.0, 80_000.0, 0.1, 0.5, "put")
    assert scalar.price.shape == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        scalar.price = np.asarray(0.0)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"forward": 0.0}, "forward must be a finite number > 0"),
        ({"forward": [1.0, 0.0]}, "forward must be a finite number > 0"),
        ({"forward": -1.0}, "forward must be a finite number >= 0"),
        ({"forward": math.nan}, "forward must be a finite number >= 0"),
        ({"strike": -1.0}, "strike must be a finite number >= 0"),
        ({"vol": math.nan}, "vol must be a finite number >= 0"),
        ({"t": -1.0}, "t must be a finite number >= 0"),
        ({"rate": math.inf}, "rate must be a finite number"),
        ({"kind": "x"}, "kind must be"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "forward": 90_000.0,
        "strike": 90_000.0,
        "t": 0.1,
        "vol": 0.5,
        "kind": "call",
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        inverse_option(**args)  # type: ignore[arg-type]


def test_expired_option_pays_intrinsic_in_coin() -> None:
    g = inverse_option(100_000.0, [90_000.0, 110_000.0], 0.0, 0.5, ["call", "put"])
    np.testing.assert_allclose(g.price, [0.1, 0.1], rtol=1e-15)
    np.testing.assert_array_equal(g.vega, 0.0)
