"""Property tests of implied_vol: round trip price(vol) -> vol across the acceptance domain.

Domain (the acceptance ranges): total volatility ``s = vol sqrt(t)`` from 0.001 to 3, expiries
from one hour to five years, log-moneyness up to 40 standard deviations either side
(``|ln(F/K)| <= 40 s``), calls and puts, both models, prices down to 1e-300.

Prices come from the accurate normalised Black function ``b(x, s, theta)`` of
``hedgekeeper.pricing.lets_be_rational`` (and, where it is installed, from the public
``black76``/``black_scholes``), so the round trip measures the inversion, not a pricer's error.

Well-conditioned filter. A price known to ``u`` relative (here ``u = 16 eps``: the price's own
rounding plus the normalisation and, in the money, the parity subtraction) fixes the vol only
to ``u * price / (vol * vega) = u * b / (s * db/ds)``. The round trip must hold to a relative
1e-12 wherever that bound is below 1e-12, i.e. wherever the price pins the vol down to 1e-12.
Out of the money this is every point of the domain; in the money it drops short-dated deep
ITM options whose time value is lost in the price's last digits.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.pricing import lets_be_rational as lbr
from hedgekeeper.pricing.implied import IVStatus, implied_vol
from hedgekeeper.pricing.lets_be_rational import normalised_black

FloatArray = npt.NDArray[np.float64]

EPS = float(np.finfo(np.float64).eps)
PRICE_UNCERTAINTY = 16.0 * EPS
TOLERANCE = 1e-12
HOUR = 1.0 / (365.0 * 24.0)


def log_moneyness(
    underlying: FloatArray,
    strike: FloatArray,
    t: FloatArray,
    rate: FloatArray,
    div_yield: FloatArray,
    black_scholes: bool,
) -> FloatArray:
    """ln(F/K) exactly as implied_vol computes it from its inputs (the round trip then measures
    the inversion; how well a float64 x represents the real ln(F/K) is the input's business)."""
    model = lbr.MODEL_BLACK_SCHOLES if black_scholes else lbr.MODEL_BLACK76
    columns = (underlying, strike, t, rate, div_yield)
    return np.array(
        [
            lbr.forward_log_moneyness(float(a), float(b), float(c), float(d), float(e), model)
            for a, b, c, d, e in zip(*columns, strict=True)
        ]
    )


def price_and_conditioning(
    underlying: FloatArray,
    strike: FloatArray,
    t: FloatArray,
    rate: FloatArray,
    div_yield: FloatArray,
    vol: FloatArray,
    theta: FloatArray,
    black_scholes: bool,
) -> tuple[FloatArray, FloatArray]:
    """Discounted price and the vol's relative sensitivity ``b / (s db/ds)`` to the price."""
    x = log_moneyness(underlying, strike, t, rate, div_yield, black_scholes)
    if black_scholes:
        scale = np.exp(-0.5 * (rate + div_yield) * t) * np.sqrt(underlying) * np.sqrt(strike)
    else:
        scale = np.exp(-rate * t) * np.sqrt(underlying) * np.sqrt(strike)
    s = vol * np.sqrt(t)
    b = normalised_black(x, s, theta)
    log_b = normalised_black(x, s, theta, log=True)
    with np.errstate(over="ignore", under="ignore"):
        # Where b is subnormal (or 0) but the price is not, price it from ln b.
        price = np.where(b >= 1e-300, scale * b, np.exp(log_b + np.log(scale)))
        # b / (s db/ds), from ln b and ln(db/ds) = -(x^2/s^2 + s^2/4)/2 - ln sqrt(2 pi);
        # infinite where the vega underflows (deep in the money).
        log_vega = -0.5 * ((x / s) ** 2 + (0.5 * s) ** 2) - 0.5 * math.log(2.0 * math.pi)
        sensitivity = np.exp(log_b - log_vega) / s
    return price, sensitivity


def draw_domain(rng: np.random.Generator, n: int, side: str) -> dict[str, FloatArray]:
    """Random points of the acceptance domain; ``side`` is 'otm', 'itm' or 'any'."""
    t = np.exp(rng.uniform(math.log(HOUR), math.log(5.0), n))
    s = np.exp(rng.uniform(math.log(1e-3), math.log(3.0), n))
    # In the money beyond ~8 standard deviations the time value is below the price's rounding
    # (never well conditioned), so the ITM draws stop there; OTM ones go to 40.
    sd = rng.uniform(0.0, 8.0 if side == "itm" else 40.0, n)
    theta = rng.choice(np.array([1, -1], dtype=np.int8), n)
    sign = {"otm": -1.0, "itm": 1.0, "any": 0.0}[side]
    direction = np.full(n, sign) if sign != 0.0 else rng.choice(np.array([-1.0, 1.0]), n)
    forward = np.exp(rng.uniform(math.log(1e-2), math.log(1e6), n))
    # x = ln(F/K) = direction * theta * sd * s: OTM when theta * x < 0.
    strike = forward * np.exp(-direction * theta * sd * s)
    return {
        "forward": forward,
        "strike": strike,
        "t": t,
        "vol": s / np.sqrt(t),
        "rate": rng.uniform(-0.02, 0.2, n),
        "div_yield": rng.uniform(0.0, 0.1, n),
        "theta": theta,
    }


def round_trip(
    domain: dict[str, FloatArray], black_scholes: bool
) -> tuple[FloatArray, npt.NDArray[np.int8], FloatArray, FloatArray]:
    rate, div_yield, t = domain["rate"], domain["div_yield"], domain["t"]
    q = div_yield if black_scholes else np.zeros_like(div_yield)
    # Black-Scholes: the spot whose forward is the drawn forward.
    underlying = domain["forward"] * np.exp(-(rate - q) * t) if black_scholes else domain["forward"]
    price, sensitivity = price_and_conditioning(
        underlying,
        domain["strike"],
        t,
        rate,
        q,
        domain["vol"],
        domain["theta"],
        black_scholes,
    )
    vol, status = implied_vol(
        price,
        underlying,
        domain["strike"],
        t,
        rate,
        domain["theta"],
        model="black_scholes" if black_scholes else "black76",
        div_yield=q,
        return_status=True,
    )
    return vol, status, price, sensitivity


def test_round_trip_out_of_the_money_whole_domain() -> None:
    rng = np.random.default_rng(20260126)
    for black_scholes in (False, True):
        domain = draw_domain(rng, 60_000, "otm")
        vol, status, price, sensitivity = round_trip(domain, black_scholes)
        representable = price >= 1e-300
        assert representable.sum() > 40_000
        # Out of the money every representable point is well conditioned.
        assert np.all(PRICE_UNCERTAINTY * sensitivity[representable] < TOLERANCE)
        assert np.all(status[representable] == IVStatus.OK)
        rel = np.abs(vol[representable] / domain["vol"][representable] - 1.0)
        assert rel.max() <= TOLERANCE, float(rel.max())


def test_round_trip_in_the_money_where_well_conditioned() -> None:
    rng = np.random.default_rng(7)
    for black_scholes in (False, True):
        domain = draw_domain(rng, 60_000, "itm")
        vol, status, _, sensitivity = round_trip(domain, black_scholes)
        conditioned = PRICE_UNCERTAINTY * sensitivity < TOLERANCE
        assert conditioned.sum() > 15_000
        assert np.all(status[conditioned] == IVStatus.OK)
        rel = np.abs(vol[conditioned] / domain["vol"][conditioned] - 1.0)
        assert rel.max() <= TOLERANCE, float(rel.max())
        # Elsewhere: either a vol that is right to the conditioning, or no time value left.
        rest = ~conditioned
        solved = rest & (status == IVStatus.OK)
        assert np.all(status[rest & ~solved] == IVStatus.NO_TIME_VALUE)
        bound = 64.0 * EPS * sensitivity[solved]
        assert np.all(np.abs(vol[solved] / domain["vol"][solved] - 1.0) <= np.maximum(bound, 1e-12))


moneyness_sd = st.floats(min_value=-40.0, max_value=40.0)
total_vol = st.floats(min_value=1e-3, max_value=3.0)
expiry = st.floats(min_value=HOUR, max_value=5.0)
forward_level = st.floats(min_value=1e-2, max_value=1e6)
rate_level = st.floats(min_value=-0.02, max_value=0.2)
kinds = st.sampled_from([1, -1])


@given(moneyness_sd, total_vol, expiry, forward_level, rate_level, kinds)
def test_round_trip_hypothesis(
    sd: float, s: float, t: float, forward: float, rate: float, theta: int
) -> None:
    domain = {
        "forward": np.array([forward]),
        "strike": np.array([forward * math.exp(-sd * s)]),
        "t": np.array([t]),
        "vol": np.array([s / math.sqrt(t)]),
        "rate": np.array([rate]),
        "div_yield": np.array([0.0]),
        "theta": np.array([theta], dtype=np.int8),
    }
    vol, status, price, sensitivity = round_trip(domain, False)
    if price[0] < 1e-300 or not PRICE_UNCERTAINTY * sensitivity[0] < TOLERANCE:
        # Ill conditioned: solved to its conditioning, or the price is within rounding of the
        # intrinsic value or of the upper bound (deep ITM with a huge strike).
        assert status[0] in (IVStatus.OK, IVStatus.NO_TIME_VALUE, IVStatus.ABOVE_MAXIMUM)
        return
    assert status[0] == IVStatus.OK
    assert abs(vol[0] / domain["vol"][0] - 1.0) <= TOLERANCE


@given(
    st.floats(min_value=-3.0, max_value=8.0),
    total_vol,
    st.floats(min_value=1.0001, max_value=2.0),
    kinds,
)
def test_vol_increases_with_price(sd: float, s: float, bump: float, theta: int) -> None:
    forward, t = 100.0, 0.5
    strike = forward * math.exp(-sd * s)
    low = float(
        normalised_black(math.log(forward / strike), s, theta) * math.sqrt(forward * strike)
    )
    high = float(
        normalised_black(math.log(forward / strike), s * bump, theta) * math.sqrt(forward * strike)
    )
    vols, status = implied_vol([low, high], forward, strike, t, 0.0, theta, return_status=True)
    if np.all(status == IVStatus.OK) and high > low:
        assert vols[1] > vols[0]


@given(
    st.floats(min_value=-30.0, max_value=30.0),
    total_vol,
    expiry,
    st.integers(min_value=-60, max_value=60),
    kinds,
)
def test_invariant_under_scaling_of_the_currency(
    sd: float, s: float, t: float, power: int, theta: int
) -> None:
    # Scaling price, forward and strike by 4^k changes no bit of the normalised problem.
    forward = 100.0
    strike = forward * math.exp(-sd * s)
    price = float(
        normalised_black(math.log(forward / strike), s, theta) * math.sqrt(forward * strike)
    )
    factor = 4.0**power
    vols = implied_vol(
        np.array([price, price * factor]),
        np.array([forward, forward * factor]),
        np.array([strike, strike * factor]),
        t,
        0.01,
        theta,
    )
    np.testing.assert_array_equal(vols[0], vols[1])


def test_round_trip_through_public_black76_and_black_scholes() -> None:
    # Prices from the package's own pricer (hedgekeeper.pricing.black), calls and puts, in and
    # out of the money. Its prices are documented accurate to ~1e-13 relative (1.5e-14 near the
    # money), so the vol comes back to 1e-12 where that accuracy allows, i.e. where
    # 1e-13 * sensitivity <= 5e-13, and to twice the price-accuracy bound elsewhere.
    from hedgekeeper.pricing import black76, black_scholes

    pricer_accuracy = 1e-13
    rng = np.random.default_rng(99)
    for use_black_scholes in (False, True):
        domain = draw_domain(rng, 40_000, "any")
        rate, t, vol = domain["rate"], domain["t"], domain["vol"]
        q = domain["div_yield"] if use_black_scholes else np.zeros_like(rate)
        forward, strike, theta = domain["forward"], domain["strike"], domain["theta"]
        if use_black_scholes:
            spot = forward * np.exp(-(rate - q) * t)
            price = black_scholes(spot, strike, t, rate, vol, theta, div_yield=q).price
            underlying = spot
        else:
            price = black76(forward, strike, t, rate, vol, theta).price
            underlying = forward
        _, sensitivity = price_and_conditioning(
            underlying, strike, t, rate, q, vol, theta, use_black_scholes
        )
        got, status = implied_vol(
            price,
            underlying,
            strike,
            t,
            rate,
            theta,
            model="black_scholes" if use_black_scholes else "black76",
            div_yield=q,
            return_status=True,
        )
        usable = (price >= 1e-300) & (PRICE_UNCERTAINTY * sensitivity < TOLERANCE)
        assert usable.sum() > 15_000
        assert np.all(status[usable] == IVStatus.OK)
        rel = np.abs(got[usable] / vol[usable] - 1.0)
        bound = np.maximum(TOLERANCE, 2.0 * pricer_accuracy * sensitivity[usable])
        assert np.all(rel <= bound)
        strict = pricer_accuracy * sensitivity[usable] <= 0.5 * TOLERANCE
        assert strict.sum() > 15_000
        assert rel[strict].max() <= TOLERANCE, float(rel[strict].max())
