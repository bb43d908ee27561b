"""Property tests of hedgekeeper.pricing.black: parity, bounds, Greeks as finite differences."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hedgekeeper.pricing.black import OptionGreeks, black76, black_scholes


@dataclass(frozen=True)
class Option:
    underlying: float  # spot (model "bsm") or forward (model "black76")
    strike: float
    t: float
    rate: float
    div_yield: float
    vol: float
    kind: int
    model: str

    def greeks(self, **bump: float) -> OptionGreeks:
        values = {
            "underlying": self.underlying,
            "strike": self.strike,
            "t": self.t,
            "rate": self.rate,
            "div_yield": self.div_yield,
            "vol": self.vol,
        }
        values.update(bump)
        if self.model == "black76":
            return black76(
                values["underlying"],
                values["strike"],
                values["t"],
                values["rate"],
                values["vol"],
                self.kind,
            )
        return black_scholes(
            values["underlying"],
            values["strike"],
            values["t"],
            values["rate"],
            values["vol"],
            self.kind,
            values["div_yield"],
        )

    @property
    def forward(self) -> float:
        if self.model == "black76":
            return self.underlying
        return self.underlying * math.exp((self.rate - self.div_yield) * self.t)


@st.composite
def smooth_options(draw: st.DrawFn) -> Option:
    """Options away from expiry, zero vol and the far tails, where finite differences are exact."""
    vol = draw(st.floats(0.1, 1.5))
    t = draw(st.floats(0.05, 3.0))
    moneyness = draw(st.floats(-2.5, 2.5))  # ln(F/K) in units of s = vol sqrt(t)
    underlying = draw(st.floats(1.0, 1e5))
    model = draw(st.sampled_from(["bsm", "black76"]))
    rate = draw(st.floats(-0.05, 0.15))
    div_yield = draw(st.floats(-0.05, 0.1)) if model == "bsm" else 0.0
    carry = (rate - div_yield) * t if model == "bsm" else 0.0
    strike = underlying * math.exp(carry - moneyness * vol * math.sqrt(t))
    kind = draw(st.sampled_from([1, -1]))
    return Option(underlying, strike, t, rate, div_yield, vol, kind, model)


@st.composite
def any_options(draw: st.DrawFn) -> Option:
    """Every valid input, including expiry, zero vol and extreme moneyness."""
    return Option(
        underlying=draw(st.floats(0.0, 1e8)),
        strike=draw(st.floats(0.0, 1e8)),
        t=draw(st.one_of(st.just(0.0), st.floats(0.0, 10.0))),
        rate=draw(st.floats(-0.1, 0.3)),
        div_yield=draw(st.floats(-0.1, 0.3)),
        vol=draw(st.one_of(st.just(0.0), st.floats(0.0, 5.0))),
        kind=draw(st.sampled_from([1, -1])),
        model=draw(st.sampled_from(["bsm", "black76"])),
    )


def _close(analytic: float, numeric: float, scale: float, rtol: float = 2e-6) -> bool:
    return abs(analytic - numeric) <= rtol * max(abs(analytic), scale)


@settings(max_examples=150)
@given(any_options())
def test_put_call_parity_and_bounds(option: Option) -> None:
    call = Option(**{**option.__dict__, "kind": 1}).greeks()
    put = Option(**{**option.__dict__, "kind": -1}).greeks()
    disc = math.exp(-option.rate * option.t)
    forward = option.forward
    size = max(forward, option.strike, 1e-300)
    tolerance = 1e-13 * size * max(disc, 1.0)
    # C - P = D (F - K) (Hull, "Put-call parity" for futures options; Haug 2007, ch. 1).
    assert abs((call.price - put.price) - disc * (forward - option.strike)) <= tolerance
    assert disc * max(forward - option.strike, 0.0) - tolerance <= call.price
    assert call.price <= disc * forward + tolerance
    assert disc * max(option.strike - forward, 0.0) - tolerance <= put.price
    assert put.price <= disc * option.strike + tolerance
    # delta_call - delta_put = D F / S = exp(-q t) (BSM) or D (Black-76); same gamma, vega.
    delta_gap = math.exp(-option.div_yield * option.t) if option.model == "bsm" else disc
    assert abs((call.delta - put.delta) - delta_gap) <= 1e-13 * max(delta_gap, 1.0)
    for name in ("gamma", "vega", "vanna", "volga"):
        a, b = float(getattr(call, name)), float(getattr(put, name))
        assert a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b)), name
    assert call.gamma >= 0.0
    assert call.vega >= 0.0
    # No NaN anywhere; gamma may overflow to inf when F s is below ~1e-308 (its true value).
    for name in ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga"):
        assert not np.isnan(getattr(call, name)), name
        assert not np.isnan(getattr(put, name)), name
        if name != "gamma":
            assert np.isfinite(getattr(call, name)), name


@settings(max_examples=150)
@given(smooth_options())
def test_first_order_greeks_are_central_differences_of_price(option: Option) -> None:
    g = option.greeks()
    price = float(g.price)
    size = max(option.forward, option.strike)
    u, vol, t, rate = option.underlying, option.vol, option.t, option.rate
    du, dv, dt, dr = 1e-5 * u, 1e-5 * vol, 1e-6 * t, 1e-6

    def value(**bump: float) -> float:
        return float(option.greeks(**bump).price)

    delta = (value(underlying=u + du) - value(underlying=u - du)) / (2 * du)
    vega = (value(vol=vol + dv) - value(vol=vol - dv)) / (2 * dv)
    theta = -(value(t=t + dt) - value(t=t - dt)) / (2 * dt)
    rho = (value(rate=rate + dr) - value(rate=rate - dr)) / (2 * dr)
    sqrt_t = math.sqrt(t)
    assert _close(float(g.delta), delta, 1e-3), (float(g.delta), delta)
    assert _close(float(g.vega), vega, 1e-3 * size * sqrt_t), (float(g.vega), vega)
    theta_scale = 1e-3 * size * (vol / sqrt_t + abs(rate) + abs(option.div_yield))
    assert _close(float(g.theta), theta, theta_scale), (float(g.theta), theta)
    assert _close(float(g.rho), rho, 1e-3 * size * t), (float(g.rho), rho)
    assert price >= 0.0


@settings(max_examples=150)
@given(smooth_options())
def test_second_order_greeks_are_central_differences(option: Option) -> None:
    g = option.greeks()
    size = max(option.forward, option.strike)
    u, vol, t = option.underlying, option.vol, option.t
    du, dv = 1e-5 * u, 1e-5 * vol
    up, down = option.greeks(underlying=u + du), option.greeks(underlying=u - du)
    vol_up, vol_down = option.greeks(vol=vol + dv), option.greeks(vol=vol - dv)
    gamma = float(up.delta - down.delta) / (2 * du)
    vanna = float(vol_up.delta - vol_down.delta) / (2 * dv)
    vanna_from_vega = float(up.vega - down.vega) / (2 * du)  # d vega / dS = d delta / d vol
    volga = float(vol_up.vega - vol_down.vega) / (2 * dv)
    s = vol * math.sqrt(t)
    gamma_scale = 1e-3 / (u * s)
    assert _close(float(g.gamma), gamma, gamma_scale), (float(g.gamma), gamma)
    assert _close(float(g.vanna), vanna, 1e-3 / vol), (float(g.vanna), vanna)
    assert _close(float(g.vanna), vanna_from_vega, 1e-3 / vol), (float(g.vanna), vanna_from_vega)
    volga_scale = 1e-3 * size * math.sqrt(t) / vol
    assert _close(float(g.volga), volga, volga_scale), (float(g.volga), volga)


@settings(max_examples=100)
@given(smooth_options(), st.floats(0.01, 0.5))
def test_monotone_in_vol_and_strike(option: Option, step: float) -> None:
    g = option.greeks()
    more_vol = option.greeks(vol=option.vol * (1.0 + step))
    assert more_vol.price >= g.price
    higher_strike = option.greeks(strike=option.strike * (1.0 + step))
    if option.kind > 0:
        assert higher_strike.price <= g.price
    else:
        assert higher_strike.price >= g.price
    disc = math.exp(-option.rate * option.t)
    scale = disc * option.forward / option.underlying if option.model == "bsm" else disc
    assert -1e-15 <= option.kind * g.delta <= scale * (1.0 + 1e-15)
