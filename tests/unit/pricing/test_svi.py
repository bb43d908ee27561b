"""Raw SVI: evaluation, constraints, Gatheral's density check and the weighted fit."""

from __future__ import annotations

import numpy as np
import pytest

from hedgekeeper.pricing.black import black76
from hedgekeeper.pricing.svi import (
    LEE_MAX_WING_SLOPE,
    SviParams,
    arbitrage_grid,
    check_butterfly,
    default_check_grid,
    fit_svi,
    raw_svi_total_variance,
    vega_weights,
)

# Axel Vogt's butterfly-arbitrageable raw SVI slice, t = 1 (total variance = variance):
# Gatheral & Jacquier (2014), "Arbitrage-free SVI volatility surfaces", Example 3.1,
# (a, b, m, rho, sigma) = (-0.0410, 0.1331, 0.3586, 0.3060, 0.4153). It satisfies the simple
# wing and positivity conditions yet has a negative density (g < 0) in the right wing.
VOGT = SviParams(a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153)

# Clean slices: an equity-like put skew, a short-dated crypto-like smile, and one with a < 0.
CLEAN = [
    (SviParams(a=0.01, b=0.1, rho=-0.4, m=0.05, sigma=0.15), 0.5),
    (SviParams(a=0.0004, b=0.022, rho=-0.15, m=0.01, sigma=0.05), 0.0086),
    (SviParams(a=-0.05, b=0.18, rho=0.01, m=0.2, sigma=0.7), 0.41),
]


def test_total_variance_formula_and_broadcasting() -> None:
    p = CLEAN[0][0]
    k = np.array([-0.3, 0.0, 0.2])
    expected = p.a + p.b * (p.rho * (k - p.m) + np.sqrt((k - p.m) ** 2 + p.sigma**2))
    np.testing.assert_allclose(p.total_variance(k), expected, rtol=1e-15)
    # One parameter set per row, broadcast against a row of strikes.
    two = raw_svi_total_variance(k[None, :], np.array([[0.01], [0.02]]), 0.1, -0.4, 0.05, 0.15)
    assert two.shape == (2, 3)
    np.testing.assert_allclose(two[1] - two[0], 0.01)
    on_grid = float(p.total_variance(np.linspace(-3, 3, 200001)).min())
    assert on_grid - 1e-10 <= p.min_total_variance <= on_grid
    assert p.left_wing_slope == pytest.approx(p.b * (1 - p.rho))
    assert p.right_wing_slope == pytest.approx(p.b * (1 + p.rho))
    np.testing.assert_allclose(p.implied_vol(k, 0.5), np.sqrt(expected / 0.5))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("b", -0.01, "b must be >= 0"),
        ("rho", 1.0, "rho must lie strictly in (-1, 1)"),
        ("rho", -1.2, "rho must lie strictly in (-1, 1)"),
        ("sigma", 0.0, "sigma must be > 0"),
        ("a", -0.5, "non-negative minimum total variance"),
        ("m", float("nan"), "m must be finite"),
    ],
)
def test_parameter_constraints_are_enforced(field: str, value: float, message: str) -> None:
    values = {"a": 0.01, "b": 0.1, "rho": -0.4, "m": 0.05, "sigma": 0.15, field: value}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SviParams(**values)


def test_density_factor_matches_black_prices_second_derivative() -> None:
    # Gatheral & Jacquier (2014), eq. (2.1)-(2.2): with F = 1 and K = e^k,
    # K d2C/dK2 = g(k) / sqrt(2 pi w) exp(-d_minus^2 / 2), d_minus = -k/sqrt(w) - sqrt(w)/2.
    for params, t in [*CLEAN, (VOGT, 1.0)]:
        k = np.linspace(-0.6, 1.2, 13)
        strike = np.exp(k)
        step = 1e-4 * strike

        def call(K: np.ndarray, p: SviParams = params, t: float = t) -> np.ndarray:
            vol = p.implied_vol(np.log(K), t)
            return black76(1.0, K, t, 0.0, vol, "call").price

        fd = (call(strike + step) - 2 * call(strike) + call(strike - step)) / step**2 * strike
        w = params.total_variance(k)
        d_minus = -k / np.sqrt(w) - np.sqrt(w) / 2
        density = params.density_factor(k) / np.sqrt(2 * np.pi * w) * np.exp(-(d_minus**2) / 2)
        np.testing.assert_allclose(fd, density, rtol=2e-4, atol=1e-6)


def test_butterfly_check_flags_vogt_example() -> None:
    check = check_butterfly(VOGT, np.linspace(-1.5, 2.0, 3501))
    assert not check.ok
    assert check.min_g < -0.03
    # g < 0 on one interval of the right wing, about k in [0.64, 1.26] (computed on the grid).
    assert len(check.violations) == 1
    low, high = check.violations[0]
    assert 0.6 < low < 0.7
    assert 1.2 < high < 1.3
    assert low <= check.k_at_min_g <= high
    # The default grid ([-1.5, 1.5] at least) also catches it.
    assert not check_butterfly(VOGT).ok


@pytest.mark.parametrize(("params", "t"), CLEAN)
def test_butterfly_check_accepts_clean_slices(params: SviParams, t: float) -> None:
    check = check_butterfly(params)
    assert check.ok
    assert check.violations == ()
    assert check.min_g > 0
    assert check.k_range[0] <= -1.5
    assert check.k_range[1] >= 1.5


def test_zero_total_variance_counts_as_a_violation() -> None:
    flat_bottom = SviParams(a=-0.1 * 0.2, b=0.1, rho=0.0, m=0.0, sigma=0.2)  # min w == 0 at k=0
    assert flat_bottom.min_total_variance == pytest.approx(0.0, abs=1e-15)
    check = check_butterfly(flat_bottom, np.array([-0.1, 0.0, 0.1]))
    assert not check.ok
    assert check.min_g == -np.inf


def test_vega_weights_are_normalised_black76_vega() -> None:
    k = np.linspace(-0.4, 0.4, 9)
    vol = 0.5 + 0.3 * k**2
    t = 0.1
    forward = 90_000.0
    vega = black76(forward, forward * np.exp(k), t, 0.0, vol, "call").vega
    np.testing.assert_allclose(vega_weights(k, vol, t), vega / vega.max(), rtol=1e-12)


@pytest.mark.parametrize(("params", "t"), CLEAN)
def test_fit_recovers_known_parameters(params: SviParams, t: float) -> None:
    atm_std = np.sqrt(params.total_variance(0.0))
    k = np.linspace(-4.0 * atm_std, 4.0 * atm_std, 41)
    fit = fit_svi(k, params.implied_vol(k, t), t)
    got = fit.params
    for name in ("a", "b", "rho", "m", "sigma"):
        assert getattr(got, name) == pytest.approx(getattr(params, name), rel=1e-4, abs=1e-6), name
    assert fit.rmse_vol < 1e-5  # vol points
    assert fit.max_abs_vol < 1e-5
    np.testing.assert_allclose(fit.fitted_vol, fit.market_vol, atol=1e-7)


def test_fit_is_deterministic_and_weights_are_used() -> None:
    params, t = CLEAN[0]
    k = np.linspace(-0.6, 0.5, 30)
    rng = np.random.default_rng(7)
    vol = params.implied_vol(k, t) + rng.normal(0.0, 0.003, k.size)
    first, second = fit_svi(k, vol, t), fit_svi(k, vol, t)
    assert first.params == second.params
    uniform = fit_svi(k, vol, t, weights=np.ones_like(k))
    assert uniform.params != first.params
    np.testing.assert_allclose(uniform.weights, 1.0 / k.size)
    # Noise of 0.3 vol points: the fit error is of that size, not more.
    assert 0.1 < first.rmse_vol < 0.5
    assert uniform.rmse_vol <= first.rmse_vol + 1e-9  # uniform weights minimise the plain RMSE


def test_fit_respects_lee_wing_bound_and_constraints() -> None:
    # Quotes whose total variance rises with slope 3 > 2 on the right: infeasible for Lee.
    t = 0.5
    k = np.linspace(-0.5, 1.0, 25)
    w = 0.02 + np.where(k > 0, 3.0 * k, 0.5 * -k)
    fit = fit_svi(k, np.sqrt(w / t), t, weights=np.ones_like(k))
    p = fit.params
    assert p.right_wing_slope <= LEE_MAX_WING_SLOPE + 1e-9
    assert p.left_wing_slope <= LEE_MAX_WING_SLOPE + 1e-9
    assert p.b >= 0
    assert -1 < p.rho < 1
    assert p.sigma > 0
    assert p.min_total_variance >= 0


def test_fit_repairs_butterfly_arbitrage() -> None:
    # Vogt's slice itself is the best fit to its own vols, but it is arbitrageable: the fit
    # must return an arbitrage-free slice close to it, or Vogt's slice with the flag.
    k = np.linspace(-0.4, 0.8, 25)
    fit = fit_svi(k, VOGT.implied_vol(k, 1.0), 1.0, weights=np.ones_like(k))
    check = check_butterfly(fit.params, default_check_grid(fit.params, log_moneyness=k))
    assert check.ok
    assert fit.rmse_vol_weighted < 0.5  # vol points: the repair's tolerance


def test_fit_repairs_calendar_arbitrage_against_a_lower_slice() -> None:
    early = CLEAN[0][0]  # t = 0.5
    t_late = 0.6
    # A later smile that, fitted alone, falls below the earlier one in the wings.
    late_true = SviParams(a=0.035, b=0.04, rho=-0.4, m=0.05, sigma=0.15)
    k = np.linspace(-0.3, 0.3, 21)
    alone = fit_svi(k, late_true.implied_vol(k, t_late), t_late)
    grid = arbitrage_grid(alone.params, (early,))
    assert np.any(alone.params.total_variance(grid) < early.total_variance(grid))
    repaired = fit_svi(k, late_true.implied_vol(k, t_late), t_late, lower_slice=early)
    assert np.all(repaired.params.total_variance(grid) >= early.total_variance(grid))
    assert repaired.rmse_vol_weighted < 0.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"t": 0.0}, "t must be a positive number of years"),
        ({"t": float("nan")}, "t must be a positive number of years"),
        ({"implied_vol": [0.5] * 6 + [-0.1]}, "implied_vol must be positive and finite"),
        ({"implied_vol": [0.5] * 6}, "same length"),
        ({"log_moneyness": [0.0, 0.1, 0.1, 0.2, 0.2, 0.3, 0.3]}, "at least 5 distinct strikes"),
        (
            {"log_moneyness": [0.0, 0.1, np.inf, 0.2, 0.25, 0.3, 0.35]},
            "log_moneyness must be finite",
        ),
        ({"weights": [1.0] * 6 + [-1.0]}, "weights must be finite and >= 0"),
        ({"weights": [0.0] * 7}, "weights must not all be zero"),
        ({"weights": [1.0] * 3}, "weights must have length 7"),
    ],
)
def test_fit_rejects_bad_input(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "log_moneyness": np.linspace(-0.3, 0.3, 7),
        "implied_vol": np.full(7, 0.5),
        "t": 0.1,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        fit_svi(**args)  # type: ignore[arg-type]
