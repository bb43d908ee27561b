"""Qualitative properties of the optimal hedging bands (hypothesis).

What "widens with cost, narrows with risk aversion and gamma" means precisely:

* Whalley-Wilmott, H = (3/2 e^{-rτ} λ S Γ²/γ)^{1/3} in units of the underlying: grows with the
  cost λ (as λ^{1/3}), shrinks with the risk aversion γ (as γ^{-1/3}), and GROWS with |Γ| in
  delta units (as |Γ|^{2/3}); measured in spot moves, H/|Γ| (how far spot may move before the
  delta drift leaves the band) shrinks with |Γ| (as |Γ|^{-1/3}). That last form is the sense in
  which the band "narrows with gamma".
* Zakamouline, width 2(H0 + H1) with H0 = λ/(γSσ²T), H1 ∝ λ^0.31 (|Γ|/γ)^0.5: grows with λ,
  shrinks with γ; H1 grows with |Γ| in delta units while the width in spot moves,
  (H0 + H1)/|Γ|, shrinks with |Γ|. With zero cost the band collapses onto the Black-Scholes
  delta.
* Leland: σ_L(short) >= σ >= σ_L(long), the gap widening with the cost and with more frequent
  rebalancing.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hedgekeeper.policies import leland_vol, whalley_wilmott_halfwidth, zakamouline_band
from hedgekeeper.pricing.black import black_scholes

spots = st.floats(10.0, 200_000.0)
gammas = st.floats(1e-7, 1.0)
costs = st.floats(1e-5, 0.05)
risks = st.floats(1e-6, 10.0)
rates = st.floats(-0.02, 0.1)
taus = st.floats(0.0, 3.0)
factors = st.floats(1.05, 10.0)

SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(spots, gammas, costs, risks, rates, taus, factors)
def test_ww_widens_with_cost(s: float, g: float, lam: float, gam: float, r: float, t: float,
                             c: float) -> None:
    low = whalley_wilmott_halfwidth(s, g, lam, gam, r, t)
    high = whalley_wilmott_halfwidth(s, g, lam * c, gam, r, t)
    assert high > low
    np.testing.assert_allclose(high / low, c ** (1 / 3), rtol=1e-10)


@SETTINGS
@given(spots, gammas, costs, risks, rates, taus, factors)
def test_ww_narrows_with_risk_aversion(s: float, g: float, lam: float, gam: float, r: float,
                                       t: float, c: float) -> None:
    loose = whalley_wilmott_halfwidth(s, g, lam, gam, r, t)
    tight = whalley_wilmott_halfwidth(s, g, lam, gam * c, r, t)
    assert tight < loose
    np.testing.assert_allclose(tight / loose, c ** (-1 / 3), rtol=1e-10)


@SETTINGS
@given(spots, gammas, costs, risks, rates, taus, factors)
def test_ww_gamma_widens_in_delta_narrows_in_spot_moves(s: float, g: float, lam: float,
                                                        gam: float, r: float, t: float,
                                                        c: float) -> None:
    h1 = whalley_wilmott_halfwidth(s, g, lam, gam, r, t)
    h2 = whalley_wilmott_halfwidth(s, g * c, lam, gam, r, t)
    assert h2 > h1  # delta units: ∝ |Γ|^(2/3)
    assert h2 / (g * c) < h1 / g  # spot-move units: ∝ |Γ|^(-1/3)
    np.testing.assert_allclose(h2 / h1, c ** (2 / 3), rtol=1e-10)
    # sign of gamma is irrelevant
    np.testing.assert_allclose(whalley_wilmott_halfwidth(s, -g, lam, gam, r, t), h1, rtol=1e-14)


@SETTINGS
@given(
    st.floats(50.0, 150.0), st.floats(0.05, 2.0), st.floats(0.0, 0.08), st.floats(0.1, 1.5),
    st.sampled_from(["call", "put"]), costs, st.floats(0.01, 10.0), factors,
)
def test_zakamouline_widens_with_cost_narrows_with_risk_aversion(
    strike: float, t: float, r: float, vol: float, kind: str, lam: float, gam: float, c: float
) -> None:
    lower, upper = zakamouline_band(100.0, strike, t, r, vol, kind, lam, gam)
    assert lower < upper
    lo_c, up_c = zakamouline_band(100.0, strike, t, r, vol, kind, lam * c, gam)
    assert up_c - lo_c > upper - lower
    lo_g, up_g = zakamouline_band(100.0, strike, t, r, vol, kind, lam, gam * c)
    assert up_g - lo_g < upper - lower


@SETTINGS
@given(
    st.floats(0.05, 2.0), st.floats(0.0, 0.08), st.floats(0.1, 1.5), costs,
    st.floats(0.01, 10.0), st.floats(0.0, 0.5),
)
def test_zakamouline_gamma_widens_in_delta_narrows_in_spot_moves(
    t: float, r: float, vol: float, lam: float, gam: float, moneyness: float
) -> None:
    # Same S, T, σ, λ, γ: only Γ differs between an at-the-money and an away strike, so H0 is
    # equal and the widths differ through H1 ∝ |Γ|^0.5.
    strikes = np.array([100.0, 100.0 * np.exp(moneyness + 0.05)])
    gamma = black_scholes(100.0, strikes, t, r, vol, "call").gamma
    lower, upper = zakamouline_band(100.0, strikes, t, r, vol, "call", lam, gam)
    width = upper - lower
    big, small = (0, 1) if gamma[0] > gamma[1] else (1, 0)
    if gamma[big] <= gamma[small] * (1 + 1e-9):
        return
    assert width[big] > width[small]
    assert width[big] / gamma[big] < width[small] / gamma[small]


@SETTINGS
@given(
    st.floats(50.0, 150.0), st.floats(0.05, 2.0), st.floats(0.0, 0.08), st.floats(0.1, 1.5),
    st.sampled_from(["call", "put"]), st.floats(0.01, 10.0),
)
def test_zakamouline_zero_cost_is_black_scholes_delta(
    strike: float, t: float, r: float, vol: float, kind: str, gam: float
) -> None:
    lower, upper = zakamouline_band(100.0, strike, t, r, vol, kind, 0.0, gam)
    delta = black_scholes(100.0, strike, t, r, vol, kind).delta
    np.testing.assert_allclose(lower, delta, rtol=0, atol=1e-14)
    np.testing.assert_allclose(upper, delta, rtol=0, atol=1e-14)


@SETTINGS
@given(st.floats(0.05, 2.0), st.floats(0.0, 0.02), st.floats(1.0 / 365 / 24, 0.25), factors)
def test_leland_orders_and_monotone(vol: float, k: float, dt: float, c: float) -> None:
    short = leland_vol(vol, k, dt, short=True)
    long = leland_vol(vol, k, dt, short=False)
    assert short >= vol
    assert np.isnan(long) or long <= vol
    assert leland_vol(vol, k * c, dt, short=True) >= short
    assert leland_vol(vol, k, dt / c, short=True) >= short
    np.testing.assert_allclose(leland_vol(vol, 0.0, dt, short=False), vol, rtol=1e-15)
