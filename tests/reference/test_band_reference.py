"""Hand-computed values of the published hedging-band formulas.

Each expected number was worked out from the formula as printed in its source, step by step
(intermediate values in the comments), with the standard normal CDF N(x) = (1 + erf(x/√2)) / 2
and pdf φ(x) = exp(-x²/2)/√(2π) in double precision — not with hedgekeeper's pricing code.

Sources
-------
* Whalley & Wilmott (1997), "An asymptotic analysis of an optimal hedging model for option
  pricing with transaction costs", Mathematical Finance 7(3) 307-324:
  H = (3/2 · e^{-r(T-t)} · λ S Γ² / γ)^{1/3}.
* Zakamouline (2006), "Efficient analytic approximation of the optimal hedging strategy for a
  European call option with transaction costs", Quantitative Finance 6(5) 435-445, as
  reproduced in Sinclair, Volatility Trading (2nd ed., 2013) ch. 7 and in public
  implementations (e.g. github.com/liamfayle/zakamouline): band Δ(σ_m) ± (H0 + H1) with
  σ_m² = σ²(1 - K) for the writer, K = -4.76 λ^0.78 / T^0.02 (e^{-rT}/σ)^0.25 (γ S² |Γ|)^0.15,
  H0 = λ / (γ S σ² T), H1 = 1.12 λ^0.31 T^0.05 (e^{-rT}/σ)^0.25 (|Γ|/γ)^0.5.
* Leland (1985), "Option pricing and replication with transactions costs", Journal of
  Finance 40(5) 1283-1301: σ_L² = σ² (1 ± √(2/π) k / (σ √Δt)).
"""

from __future__ import annotations

import numpy as np
import pytest

from hedgekeeper.policies import leland_vol, whalley_wilmott_halfwidth, zakamouline_band


def test_whalley_wilmott_halfwidth_hand_value() -> None:
    # S=100, Γ=0.02, λ=1 %, γ=1, r=5 %, τ=0.5:
    # e^{-0.025} = 0.975309912; 1.5 * 0.975309912 * 0.01 * 100 * 0.0004 = 5.85185947e-4
    # cube root -> 0.0836433264
    value = whalley_wilmott_halfwidth(100.0, 0.02, 0.01, 1.0, 0.05, 0.5)
    assert value == pytest.approx(0.08364332644335973, rel=1e-12)


def test_whalley_wilmott_halfwidth_zero_cost_and_zero_gamma() -> None:
    assert whalley_wilmott_halfwidth(100.0, 0.02, 0.0, 1.0, 0.0, 1.0) == 0.0
    assert whalley_wilmott_halfwidth(100.0, 0.0, 0.01, 1.0, 0.0, 1.0) == 0.0


def test_zakamouline_band_atm_call_sinclair_parameters() -> None:
    # The parameters of Sinclair's worked figure: one-year option, σ=0.3, λ=2 %, r=0, γ=1,
    # here at S=K=100, a written call.
    # d1 = 0.15, φ(d1) = 0.394479, Γ = φ/(S σ √T) = 0.0131493110
    # K  = -4.76 * 0.02^0.78 (0.0472937) * (1/0.3)^0.25 (1.351200) * (131.49311)^0.15
    #      (2.078909) = -0.632361594
    # σ_m = 0.3 * sqrt(1.632361594) = 0.383291721
    # H0 = 0.02 / (1 * 100 * 0.09 * 1) = 0.00222222
    # H1 = 1.12 * 0.02^0.31 (0.297385) * 1 * 1.351200 * sqrt(0.0131493) = 0.0516069873
    # Δ(σ_m) = N(0.5 σ_m) = N(0.191646) = 0.575990192
    lower, upper = zakamouline_band(100.0, 100.0, 1.0, 0.0, 0.3, "call", 0.02, 1.0)
    assert lower == pytest.approx(0.522160982082562, rel=1e-10)
    assert upper == pytest.approx(0.629819401141844, rel=1e-10)


def test_zakamouline_band_otm_put_with_rate() -> None:
    # S=100, K=110, T=0.25, r=5 %, σ=0.4, written put, λ=1 %, γ=2:
    # d1 = (ln(100/110) + (0.05 + 0.08) * 0.25) / 0.2 = -0.314051, Γ = 0.0189873029
    # K  = -0.411812927, σ_m = 0.4 * sqrt(1.411812927) = 0.475278937
    # H0 = 0.01 / (2 * 100 * 0.16 * 0.25) = 0.00125, H1 = 0.0306167788
    # Δ_put(σ_m) = N(d1(σ_m)) - 1 = -0.590818153
    lower, upper = zakamouline_band(100.0, 110.0, 0.25, 0.05, 0.4, "put", 0.01, 2.0)
    assert lower == pytest.approx(-0.622684931708525, rel=1e-10)
    assert upper == pytest.approx(-0.5589513740710204, rel=1e-10)


def test_zakamouline_band_broadcasts_over_strikes() -> None:
    lower, upper = zakamouline_band(
        100.0, np.array([100.0, 110.0]), np.array([1.0, 0.25]), np.array([0.0, 0.05]),
        np.array([0.3, 0.4]), ["call", "put"], np.array([0.02, 0.01]), np.array([1.0, 2.0]),
    )
    np.testing.assert_allclose(lower, [0.522160982082562, -0.622684931708525], rtol=1e-10)
    np.testing.assert_allclose(upper, [0.629819401141844, -0.5589513740710204], rtol=1e-10)


def test_leland_vol_hand_values() -> None:
    # σ=0.2, k=1 % round trip, weekly rebalancing Δt=1/52:
    # Le = 0.7978846 * 0.01 / (0.2 * 0.1386750) = 0.287681370
    # short: 0.2 * sqrt(1.287681370) = 0.226952098; long: 0.2 * sqrt(0.712318630) = 0.168797942
    short = leland_vol(0.2, 0.01, 1.0 / 52.0, short=True)
    long = leland_vol(0.2, 0.01, 1.0 / 52.0, short=False)
    assert short == pytest.approx(0.22695209799317384, rel=1e-12)
    assert long == pytest.approx(0.1687979419794472, rel=1e-12)


def test_leland_vol_long_side_undefined_is_nan() -> None:
    # σ=0.2, k=5 %, daily: Le = 0.7978846 * 0.05 / (0.2 * 0.0523424) = 3.8109 > 1 -> NaN for a
    # long position; the short side is still defined: 0.2 * sqrt(4.811) = 0.43868.
    long = leland_vol(0.2, 0.05, 1.0 / 365.0, short=False)
    short = leland_vol(0.2, 0.05, 1.0 / 365.0, short=True)
    assert np.isnan(long)
    le = np.sqrt(2.0 / np.pi) * 0.05 / (0.2 * np.sqrt(1.0 / 365.0))
    assert short == pytest.approx(0.2 * np.sqrt(1.0 + le), rel=1e-12)
