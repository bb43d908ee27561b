"""Property tests: on random books, exposure Greeks are the derivatives of the scenario grid."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hedgekeeper.pricing.exposure import (
    PRODUCT_FUTURE,
    PRODUCT_OPTION,
    PositionArrays,
    exposure,
)
from hedgekeeper.pricing.scenario import scenario_grid

SPOT = 87_000.0


@st.composite
def books(draw: st.DrawFn) -> PositionArrays:
    n = draw(st.integers(1, 12))
    floats = st.floats
    moneyness = draw(st.lists(floats(-0.5, 0.5), min_size=n, max_size=n))
    years = draw(st.lists(floats(0.02, 1.5), min_size=n, max_size=n))
    basis = draw(st.lists(floats(-0.01, 0.03), min_size=n, max_size=n))
    vols = draw(st.lists(floats(0.2, 1.2), min_size=n, max_size=n))
    kinds = draw(st.lists(st.sampled_from([1, -1]), min_size=n, max_size=n))
    inverse = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    quantity = draw(
        st.lists(floats(-50, 50).filter(lambda q: abs(q) > 0.1), min_size=n, max_size=n)
    )
    perp = draw(floats(-5_000.0, 5_000.0))
    forward = SPOT * np.exp(np.array(basis) * np.array(years))
    strike = forward * np.exp(np.array(moneyness) * np.sqrt(years))
    return PositionArrays(
        instrument_name=(*(f"OPT{i}" for i in range(n)), "BTC-PERPETUAL"),
        underlying=("BTC",) * (n + 1),
        bucket=(*(f"{y:.3f}" for y in years), "perpetual"),
        product=[PRODUCT_OPTION] * n + [PRODUCT_FUTURE],
        inverse=[*inverse, True],
        option_kind=[*kinds, 0],
        strike=[*strike, np.nan],
        expiry_years=[*years, np.nan],
        forward=[*forward, SPOT * 1.0002],
        vol=[*vols, np.nan],
        rate=np.zeros(n + 1),
        quantity=[*quantity, perp],
        contract_size=[1.0] * n + [10.0],
        spot=np.full(n + 1, SPOT),
    )


@settings(max_examples=60)
@given(book=books(), numeraire=st.sampled_from(["usd", "coin"]))
def test_delta_and_gamma_are_derivatives_of_the_grid(book: PositionArrays, numeraire: str) -> None:
    h = 1e-4
    pnl = scenario_grid(book, spot_shocks=[-h, 0.0, h], vol_shocks=[0.0], numeraire=numeraire).pnl[
        :, 0
    ]
    result = exposure(book, numeraire)
    totals = result.by_underlying
    first = (pnl[2] - pnl[0]) / (2 * h)  # dV / d ln S
    second = (pnl[2] - 2 * pnl[1] + pnl[0]) / h**2
    # Rounding floor of the differences: a 1000 ulp of the gross book value (no offsetting).
    noise = 1e3 * np.finfo(float).eps * (np.abs(result.per_position.value).sum() + 1.0)
    if numeraire == "usd":
        delta, gamma = first / SPOT, second / SPOT**2
        delta_floor, gamma_floor = noise / (h * SPOT), noise / (h * SPOT) ** 2
    else:
        delta, gamma = first, (first + second) / SPOT
        delta_floor, gamma_floor = noise / h, noise / (h**2 * SPOT)
    # Truncation error of the differences is O(h^2 / (vol^2 t)) relative: ~1e-5 for a
    # one-week 20 % vol option with h = 1e-4.
    assert abs(totals.delta_coin[0] - delta) <= 1e-4 * abs(delta) + delta_floor
    assert abs(totals.gamma_coin_per_usd[0] - gamma) <= 1e-3 * abs(gamma) + gamma_floor


@settings(max_examples=60)
@given(book=books(), numeraire=st.sampled_from(["usd", "coin"]))
def test_book_totals_are_the_sum_of_buckets(book: PositionArrays, numeraire: str) -> None:
    result = exposure(book, numeraire)
    for name in (
        "value",
        "delta_coin",
        "gamma_coin_per_usd",
        "vega_per_vol_point",
        "theta_per_day",
    ):
        total = getattr(result.by_underlying, name)[0]
        np.testing.assert_allclose(
            getattr(result.by_bucket, name).sum(), total, rtol=1e-10, atol=1e-12
        )
    assert result.by_bucket.label[0] == "BTC perpetual"
