"""Reference values for hedgekeeper.pricing.black: Haug, Hull, QuantLib and mpmath.

Every expected number names its source. Haug's tables are quoted from QuantLib's own test
suite (test-suite/europeanoption.cpp, testValues and testGreekValues: "Option pricing
formulas", E.G. Haug, McGraw-Hill 1998), checked there to 1e-4 as here.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import QuantLib as ql  # noqa: N813

from hedgekeeper.pricing.black import black76, black_scholes

# Haug (1998) pp. 2-8, 24, 27, via QuantLib europeanoption.cpp testValues:
# kind, strike, spot, q, r, t, vol, value
HAUG_VALUES = [
    (1, 65.00, 60.00, 0.00, 0.08, 0.25, 0.30, 2.1334),
    (-1, 95.00, 100.00, 0.05, 0.10, 0.50, 0.20, 2.4648),
    (-1, 19.00, 19.00, 0.10, 0.10, 0.75, 0.28, 1.7011),
    (1, 19.00, 19.00, 0.10, 0.10, 0.75, 0.28, 1.7011),
    (1, 1.60, 1.56, 0.08, 0.06, 0.50, 0.12, 0.0291),
    (-1, 70.00, 75.00, 0.05, 0.10, 0.50, 0.35, 4.0870),
    (1, 100.00, 90.00, 0.10, 0.10, 0.10, 0.15, 0.0205),
    (1, 100.00, 100.00, 0.10, 0.10, 0.10, 0.15, 1.8734),
    (1, 100.00, 110.00, 0.10, 0.10, 0.10, 0.15, 9.9413),
    (1, 100.00, 90.00, 0.10, 0.10, 0.10, 0.25, 0.3150),
    (1, 100.00, 100.00, 0.10, 0.10, 0.10, 0.25, 3.1217),
    (1, 100.00, 110.00, 0.10, 0.10, 0.10, 0.25, 10.3556),
    (1, 100.00, 90.00, 0.10, 0.10, 0.10, 0.35, 0.9474),
    (1, 100.00, 100.00, 0.10, 0.10, 0.10, 0.35, 4.3693),
    (1, 100.00, 110.00, 0.10, 0.10, 0.10, 0.35, 11.1381),
    (1, 100.00, 90.00, 0.10, 0.10, 0.50, 0.15, 0.8069),
    (1, 100.00, 100.00, 0.10, 0.10, 0.50, 0.15, 4.0232),
    (1, 100.00, 110.00, 0.10, 0.10, 0.50, 0.15, 10.5769),
    (1, 100.00, 90.00, 0.10, 0.10, 0.50, 0.25, 2.7026),
    (1, 100.00, 100.00, 0.10, 0.10, 0.50, 0.25, 6.6997),
    (1, 100.00, 110.00, 0.10, 0.10, 0.50, 0.25, 12.7857),
    (1, 100.00, 90.00, 0.10, 0.10, 0.50, 0.35, 4.9329),
    (1, 100.00, 100.00, 0.10, 0.10, 0.50, 0.35, 9.3679),
    (1, 100.00, 110.00, 0.10, 0.10, 0.50, 0.35, 15.3086),
    (-1, 100.00, 90.00, 0.10, 0.10, 0.10, 0.15, 9.9210),
    (-1, 100.00, 100.00, 0.10, 0.10, 0.10, 0.15, 1.8734),
    (-1, 100.00, 110.00, 0.10, 0.10, 0.10, 0.15, 0.0408),
    (-1, 100.00, 90.00, 0.10, 0.10, 0.10, 0.25, 10.2155),
    (-1, 100.00, 100.00, 0.10, 0.10, 0.10, 0.25, 3.1217),
    (-1, 100.00, 110.00, 0.10, 0.10, 0.10, 0.25, 0.4551),
    (-1, 100.00, 90.00, 0.10, 0.10, 0.10, 0.35, 10.8479),
    (-1, 100.00, 100.00, 0.10, 0.10, 0.10, 0.35, 4.3693),
    (-1, 100.00, 110.00, 0.10, 0.10, 0.10, 0.35, 1.2376),
    (-1, 100.00, 90.00, 0.10, 0.10, 0.50, 0.15, 10.3192),
    (-1, 100.00, 100.00, 0.10, 0.10, 0.50, 0.15, 4.0232),
    (-1, 100.00, 110.00, 0.10, 0.10, 0.50, 0.15, 1.0646),
    (-1, 100.00, 90.00, 0.10, 0.10, 0.50, 0.25, 12.2149),
    (-1, 100.00, 100.00, 0.10, 0.10, 0.50, 0.25, 6.6997),
    (-1, 100.00, 110.00, 0.10, 0.10, 0.50, 0.25, 3.2734),
    (-1, 100.00, 90.00, 0.10, 0.10, 0.50, 0.35, 14.4452),
    (-1, 100.00, 100.00, 0.10, 0.10, 0.50, 0.35, 9.3679),
    (-1, 100.00, 110.00, 0.10, 0.10, 0.50, 0.35, 5.7963),
    (1, 40.00, 42.00, 0.08, 0.04, 0.75, 0.35, 5.0975),
]


@pytest.mark.parametrize(("kind", "strike", "spot", "q", "r", "t", "vol", "value"), HAUG_VALUES)
def test_haug_values(
    kind: int, strike: float, spot: float, q: float, r: float, t: float, vol: float, value: float
) -> None:
    g = black_scholes(spot, strike, t, r, vol, kind, div_yield=q)
    assert abs(g.price - value) <= 1e-4


def test_haug_black76_example_as_black76() -> None:
    # Haug (1998) p. 2-8 via QuantLib testValues: Black-76 with F = K = 19, t = 0.75, r = 0.10,
    # vol = 0.28 gives 1.7011 for the call and the put (the row with q = r above).
    g = black76(19.0, 19.0, 0.75, 0.10, 0.28, ["call", "put"])
    np.testing.assert_allclose(g.price, [1.7011, 1.7011], atol=1e-4)


def test_haug_greek_values() -> None:
    # Haug (1998) pp. 11-16 via QuantLib europeanoption.cpp testGreekValues, checked to 1e-4.
    g = black_scholes(105.0, 100.0, 0.5, 0.10, 0.36, ["call", "put"], div_yield=0.10)
    assert abs(g.delta[0] - 0.5946) <= 1e-4
    assert abs(g.delta[1] - (-0.3566)) <= 1e-4
    elasticity = g.delta[1] * 105.0 / g.price[1]
    assert abs(elasticity - (-4.8775)) <= 1e-4
    g = black_scholes(55.0, 60.0, 0.75, 0.10, 0.30, ["call", "put"])
    np.testing.assert_allclose(g.gamma, 0.0278, atol=1e-4)
    np.testing.assert_allclose(g.vega, 18.9358, atol=1e-4)
    g = black_scholes(430.0, 405.0, 1.0 / 12.0, 0.07, 0.20, "put", div_yield=0.05)
    assert abs(g.theta - (-31.1924)) <= 1e-4  # per year
    assert abs(g.theta / 365.0 - (-0.0855)) <= 1e-4  # QuantLib thetaPerDay: per 365 days
    g = black_scholes(72.0, 75.0, 1.0, 0.09, 0.19, "call")
    assert abs(g.rho - 38.7325) <= 1e-4


def test_hull_example_15_6() -> None:
    # Hull, Options, Futures, and Other Derivatives (9th ed.), Example 15.6: S0 = 42, K = 40,
    # r = 10 %, vol = 20 %, T = 0.5: c = 4.76, p = 0.81.
    g = black_scholes(42.0, 40.0, 0.5, 0.10, 0.20, ["call", "put"])
    np.testing.assert_allclose(g.price, [4.76, 0.81], atol=0.005)


def test_hull_greek_letters_running_example() -> None:
    # Hull, chapter "The Greek Letters", the running example: a call on a non-dividend-paying
    # stock, S0 = 49, K = 50, r = 5 %, vol = 20 %, T = 20 weeks = 0.3846 years: value 2.40,
    # delta 0.522, gamma 0.066, theta -4.31 per year, vega 12.1 per 1.00 vol, rho 8.91.
    g = black_scholes(49.0, 50.0, 0.3846, 0.05, 0.20, "call")
    assert abs(g.price - 2.40) <= 0.005
    assert abs(g.delta - 0.522) <= 0.0005
    assert abs(g.gamma - 0.066) <= 0.0005
    assert abs(g.theta - (-4.31)) <= 0.005
    assert abs(g.vega - 12.1) <= 0.05
    assert abs(g.rho - 8.91) <= 0.005


def test_hull_black_model_futures_put() -> None:
    # Hull, chapter "Futures Options" (Black's model), worked example: a European put futures
    # option on crude oil, F0 = K = 20, r = 9 %, T = 4 months, vol = 25 %: p = 1.12.
    g = black76(20.0, 20.0, 4.0 / 12.0, 0.09, 0.25, "put")
    assert abs(g.price - 1.12) <= 0.005


# ---------------------------------------------------------------------------------------------
# QuantLib on random inputs.


def _quantlib_bsm(
    spot: float, strike: float, days: int, r: float, q: float, vol: float, kind: int
) -> dict[str, float]:
    today = ql.Settings.instance().evaluationDate  # read, not set: QuantLib's state is global
    dc = ql.Actual365Fixed()
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(spot)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, q, dc, ql.Continuous)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, r, dc, ql.Continuous)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(), vol, dc)),
    )
    option_type = ql.Option.Call if kind > 0 else ql.Option.Put
    option = ql.EuropeanOption(
        ql.PlainVanillaPayoff(option_type, strike), ql.EuropeanExercise(today + days)
    )
    option.setPricingEngine(ql.AnalyticEuropeanEngine(process))
    return {
        "price": option.NPV(),
        "delta": option.delta(),
        "gamma": option.gamma(),
        "vega": option.vega(),
        "theta": option.theta(),  # per year, value change as calendar time passes
        "rho": option.rho(),
    }


def test_black_scholes_against_quantlib_analytic_engine() -> None:
    rng = np.random.default_rng(2026)
    for _ in range(300):
        spot = float(rng.uniform(20.0, 200.0))
        strike = float(rng.uniform(20.0, 200.0))
        days = int(rng.integers(1, 1500))
        r, q = float(rng.uniform(-0.02, 0.12)), float(rng.uniform(-0.02, 0.08))
        vol = float(rng.uniform(0.05, 1.5))
        kind = int(rng.choice([1, -1]))
        expected = _quantlib_bsm(spot, strike, days, r, q, vol, kind)
        g = black_scholes(spot, strike, days / 365.0, r, vol, kind, div_yield=q)
        size = max(spot, strike)
        # Scale for Greeks that pass through zero: their natural size for this option.
        scales = {
            "price": size,
            "delta": 1.0,
            "gamma": 1.0 / size,
            "vega": size,
            "theta": size,
            "rho": size * days / 365.0,
        }
        for name, value in expected.items():
            ours = float(getattr(g, name))
            assert abs(ours - value) <= 1e-9 * max(abs(value), scales[name]), (name, ours, value)


def test_black76_against_quantlib_black_calculator() -> None:
    rng = np.random.default_rng(76)
    for _ in range(300):
        forward = float(rng.uniform(20.0, 200.0))
        strike = float(rng.uniform(20.0, 200.0))
        t = float(rng.uniform(0.01, 4.0))
        r = float(rng.uniform(-0.02, 0.12))
        vol = float(rng.uniform(0.05, 1.5))
        kind = int(rng.choice([1, -1]))

        def calculator(
            sigma: float,
            forward: float = forward,
            strike: float = strike,
            t: float = t,
            r: float = r,
            kind: int = kind,
        ) -> ql.BlackCalculator:
            option_type = ql.Option.Call if kind > 0 else ql.Option.Put
            payoff = ql.PlainVanillaPayoff(option_type, strike)
            return ql.BlackCalculator(payoff, forward, sigma * math.sqrt(t), math.exp(-r * t))

        bc = calculator(vol)
        g = black76(forward, strike, t, r, vol, kind)
        size = max(forward, strike)
        # With spot = forward QuantLib's theta holds the forward fixed, as Black-76's does.
        expected = {
            "price": (bc.value(), size),
            "delta": (bc.deltaForward(), 1.0),
            "gamma": (bc.gammaForward(), 1.0 / size),
            "vega": (bc.vega(t), size),
            "theta": (bc.theta(forward, t), size),
            "vanna": (bc.vanna(forward, t), 1.0),
        }
        for name, (value, scale) in expected.items():
            ours = float(getattr(g, name))
            assert abs(ours - value) <= 1e-9 * max(abs(value), scale), (name, ours, value)
        # QuantLib 1.44's BlackCalculator.volga(t) equals vega d1 d2 / (vol sqrt(t)), our volga
        # over sqrt(t); d vega / d vol is checked instead as a central difference of QuantLib's
        # own vega.
        h = 1e-5 * vol
        volga = (calculator(vol + h).vega(t) - calculator(vol - h).vega(t)) / (2 * h)
        assert abs(float(g.volga) - volga) <= 1e-6 * max(abs(volga), size)
        assert float(g.volga) / math.sqrt(t) == pytest.approx(bc.volga(t), rel=1e-9, abs=1e-9)


# ---------------------------------------------------------------------------------------------
# mpmath at 50 digits: vanna and volga as exact derivatives, and prices in the far tails.


def _mp_black(forward: float, strike: float, t: float, vol: object, kind: int) -> object:
    f, k, tt = mpmath.mpf(forward), mpmath.mpf(strike), mpmath.mpf(t)
    s = vol * mpmath.sqrt(tt)
    d1 = mpmath.log(f / k) / s + s / 2
    return kind * (f * mpmath.ncdf(kind * d1) - k * mpmath.ncdf(kind * (d1 - s)))


def test_vanna_and_volga_against_mpmath_derivatives() -> None:
    mpmath.mp.dps = 50
    rng = np.random.default_rng(50)
    for _ in range(40):
        forward, strike = float(rng.uniform(50, 150)), float(rng.uniform(50, 150))
        t, vol, kind = float(rng.uniform(0.05, 2.0)), float(rng.uniform(0.1, 1.2)), 1
        g = black76(forward, strike, t, 0.0, vol, kind)

        def price(f: object, v: object, t: float = t, strike: float = strike) -> object:
            s = v * mpmath.sqrt(mpmath.mpf(t))
            d1 = mpmath.log(f / mpmath.mpf(strike)) / s + s / 2
            return f * mpmath.ncdf(d1) - mpmath.mpf(strike) * mpmath.ncdf(d1 - s)

        point = (mpmath.mpf(forward), mpmath.mpf(vol))
        vanna = mpmath.diff(price, point, (1, 1))
        volga = mpmath.diff(price, point, (0, 2))
        assert abs(float(g.vanna) - float(vanna)) <= 1e-12 * max(abs(float(vanna)), 1.0)
        assert abs(float(g.volga) - float(volga)) <= 1e-12 * max(abs(float(volga)), forward)


@pytest.mark.parametrize(
    ("s_min", "bound", "bound_d2_le_8"),
    # Measured maxima over this set (s = vol sqrt(t) from s_min to 3, d2 from -2 to -37, prices
    # down to 1e-300): 2.4e-13, 2.3e-13 and 3.1e-13 overall, limited by the last bit of ln(F/K)
    # (about d2^2 * 2e-16); 8e-15, 2.8e-14 and 7.9e-14 where |d2| <= 8.
    [(0.2, 4e-13, 2e-14), (0.05, 4e-13, 5e-14), (0.002, 5e-13, 1.5e-13)],
)
def test_tail_prices_down_to_1e_300_against_mpmath(
    s_min: float, bound: float, bound_d2_le_8: float
) -> None:
    mpmath.mp.dps = 50
    rng = np.random.default_rng(300)
    n = 400
    s = np.exp(rng.uniform(math.log(s_min), math.log(3.0), n))
    d2 = -rng.uniform(2.0, 37.0, n)  # d2 of the out-of-the-money option
    x = (d2 + s / 2) * s  # ln(F/K) <= 0: the call is out of the money
    kind = rng.choice([1, -1], n)
    forward = 100.0
    strike = np.where(kind > 0, forward * np.exp(-x), forward * np.exp(x))
    g = black76(forward, strike, 1.0, 0.0, s, kind)
    worst, worst_d2_le_8 = 0.0, 0.0
    for i in range(n):
        exact = _mp_black(forward, float(strike[i]), 1.0, mpmath.mpf(float(s[i])), int(kind[i]))
        if exact < mpmath.mpf("1e-300"):
            continue
        error = abs(float((g.price[i] - exact) / exact))
        worst = max(worst, error)
        if abs(d2[i]) <= 8.0:
            worst_d2_le_8 = max(worst_d2_le_8, error)
    assert worst < bound
    assert worst_d2_le_8 < bound_d2_le_8


@pytest.mark.parametrize("s", [1e-2, 1e-3, 1e-6, 1e-10, 1e-14])
def test_prices_with_tiny_std_dev_against_mpmath(s: float) -> None:
    # Small s: a Hermite series for N(d1) - N(d2), so the price does not lose digits as s -> 0.
    # Measured: below 1e-14 for |ln(F/K)| / s <= 2, at most 7.9e-14 out to 5.5.
    mpmath.mp.dps = 50
    for moneyness in (-5.5, -2.0, -0.4, 0.0, 0.3, 1.5, 2.0, 5.0):  # ln(F/K) / s
        forward, strike = 100.0, 100.0 * math.exp(-moneyness * s)
        for kind in (1, -1):
            exact = _mp_black(forward, strike, 1.0, mpmath.mpf(s), kind)
            price = float(black76(forward, strike, 1.0, 0.0, s, kind).price)
            bound = 1.5e-14 if abs(moneyness) <= 2.0 else 1.5e-13
            assert abs(price - float(exact)) <= bound * float(exact), (moneyness, kind)
