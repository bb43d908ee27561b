"""Invariants of the path generators over random parameters (hypothesis).

* every model: shape (n_paths, n_steps + 1), column 0 = s0, finite positive prices, the same
  seed gives the same paths;
* GBM, Merton and Heston: ``E[S_T] = s0 exp(drift T)`` within 5 standard errors;
* Heston QE: ``v >= 0`` and ``E[v_T] = theta + (v0 - theta) exp(-kappa T)`` within 5 SE,
  Feller condition or not; numba kernel = numpy reference;
* GARCH: the returned variance obeys the recursion; numba kernel = numpy reference;
* block bootstrap: every step is an observed return, fixed blocks are consecutive runs;
* historical replay returns the prices it was given.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hedgekeeper.sim import (
    BlockBootstrap,
    Garch11,
    GeometricBrownianMotion,
    Heston,
    MertonJumpDiffusion,
    historical_replay,
)
from hedgekeeper.sim import paths as paths_module

SETTINGS = settings(max_examples=40, deadline=None)
Z = 5.0

seeds = st.integers(0, 2**32 - 1)
drifts = st.floats(-0.5, 0.5)
# vol**2 * T <= 1: the log-normal's tail then lets 4,000 paths estimate E[S_T] with a
# trustworthy standard error (at vol**2 T = 4.5 the sample SE badly understates the true one).
vols = st.floats(0.0, 0.7)
horizons = st.floats(0.01, 2.0)
spots = st.floats(1e-3, 1e6)
heston_params = st.tuples(
    st.floats(0.0, 1.0),  # initial variance
    st.floats(0.1, 5.0),  # kappa
    st.floats(0.01, 1.0),  # theta
    st.floats(0.05, 2.0),  # xi
    st.floats(-1.0, 1.0),  # rho
)
gentle_heston_params = st.tuples(
    st.floats(0.0, 0.5),  # initial variance
    st.floats(0.1, 5.0),  # kappa
    st.floats(0.01, 0.5),  # theta
    st.floats(0.05, 1.5),  # xi
    st.floats(-1.0, 1.0),  # rho
)
garch_params = st.tuples(
    st.floats(1e-8, 1e-4), st.floats(0.0, 0.3), st.floats(0.0, 0.69), st.floats(-1e-3, 1e-3)
)


def within(sample: np.ndarray, expected: float) -> bool:
    error = sample.std(ddof=1) / math.sqrt(sample.size)
    return bool(abs(sample.mean() - expected) <= Z * error + 1e-12 * abs(expected))


@SETTINGS
@given(spots, drifts, vols, horizons, st.integers(1, 20), seeds)
def test_gbm_shape_seed_and_mean(
    s0: float, drift: float, vol: float, horizon: float, n_steps: int, seed: int
) -> None:
    model = GeometricBrownianMotion(drift, vol)
    paths = model.simulate(s0, horizon / n_steps, n_steps, 4_000, seed)
    assert paths.prices.shape == (4_000, n_steps + 1)
    assert np.all(paths.prices[:, 0] == s0)
    assert np.all(np.isfinite(paths.prices))
    assert np.all(paths.prices > 0.0)
    np.testing.assert_array_equal(
        paths.prices, model.simulate(s0, horizon / n_steps, n_steps, 4_000, seed).prices
    )
    assert within(paths.prices[:, -1], s0 * math.exp(drift * horizon))


@SETTINGS
@given(
    drifts,
    st.floats(0.05, 0.6),
    st.floats(0.0, 5.0),
    st.floats(-0.2, 0.2),
    st.floats(0.0, 0.2),
    st.floats(0.01, 1.0),
    seeds,
)
def test_merton_mean_is_compensated_and_jumps_are_counts(
    drift: float,
    vol: float,
    intensity: float,
    jump_mean: float,
    jump_vol: float,
    horizon: float,
    seed: int,
) -> None:
    model = MertonJumpDiffusion(drift, vol, intensity, jump_mean, jump_vol)
    paths = model.simulate(100.0, horizon / 5, 5, 4_000, seed)
    assert paths.jumps is not None
    assert paths.jumps.min() >= 0
    assert within(paths.prices[:, -1], 100.0 * math.exp(drift * horizon))
    # The total count over all paths is Poisson(intensity * T * n_paths): SE = sqrt(mean).
    expected_total = intensity * horizon * 4_000
    assert abs(paths.jumps.sum() - expected_total) <= Z * math.sqrt(expected_total) + 1.0


@SETTINGS
@given(drifts, heston_params, horizons, seeds)
def test_heston_variance_is_non_negative_with_the_cir_mean(
    drift: float, params: tuple[float, float, float, float, float], horizon: float, seed: int
) -> None:
    model = Heston(drift, *params)
    paths = model.simulate(50.0, horizon / 8, 8, 4_000, seed)
    assert paths.variance is not None
    assert np.all(paths.variance >= 0.0)
    assert np.all(np.isfinite(paths.prices))
    assert np.all(paths.prices > 0.0)
    assert within(paths.variance[:, -1], model.expected_variance(horizon))


@SETTINGS
@given(drifts, gentle_heston_params, st.floats(0.01, 1.0), seeds)
def test_heston_prices_grow_at_the_drift(
    drift: float, params: tuple[float, float, float, float, float], horizon: float, seed: int
) -> None:
    # Only where E[S_T^2] stays finite (no moment explosion: kappa > 2 rho xi, Andersen and
    # Piterbarg 2007) can a sample SE judge the mean.
    _, kappa, _, xi, rho = params
    assume(kappa - 2.0 * rho * xi > 0.5)
    model = Heston(drift, *params)
    paths = model.simulate(50.0, horizon / 8, 8, 4_000, seed)
    assert within(paths.prices[:, -1], 50.0 * math.exp(drift * horizon))


@settings(max_examples=25, deadline=None)
@given(drifts, heston_params, st.floats(1e-4, 1.0), seeds)
def test_heston_kernel_equals_numpy_reference(
    drift: float, params: tuple[float, float, float, float, float], dt: float, seed: int
) -> None:
    v0, kappa, theta, xi, rho = params
    rng = np.random.default_rng(seed)
    shape = (16, 12)
    draws = (rng.standard_normal(shape), rng.random(shape), rng.standard_normal(shape))
    results = []
    for recursion in (paths_module._heston_qe_kernel, paths_module._heston_qe_numpy):
        log_prices, variance = np.empty((16, 13)), np.empty((16, 13))
        recursion(drift, dt, v0, kappa, theta, xi, rho, *draws, log_prices, variance)
        results.append((log_prices, variance))
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-11, atol=1e-11)


@settings(max_examples=25, deadline=None)
@given(garch_params, st.sampled_from([None, 3.0, 8.0]), seeds)
def test_garch_variance_recursion_and_kernel(
    params: tuple[float, float, float, float], dof: float | None, seed: int
) -> None:
    omega, alpha, beta, mean = params
    model = Garch11(omega, alpha, beta, mean_log_return=mean, student_t_dof=dof)
    dt = 1.0 / 8760.0
    paths = model.simulate(100.0, dt, 30, 8, seed)
    assert paths.variance is not None
    h = paths.variance * dt
    np.testing.assert_allclose(h[:, 0], model.unconditional_variance, rtol=1e-12)
    shocks = paths.log_returns - mean
    np.testing.assert_allclose(
        h[:, 1:], omega + alpha * shocks**2 + beta * h[:, :-1], rtol=1e-8, atol=1e-15
    )
    innovations = np.random.default_rng(seed).standard_normal((8, 30))
    results = []
    for recursion in (paths_module._garch_kernel, paths_module._garch_numpy):
        log_returns, variance = np.empty((8, 30)), np.empty((8, 31))
        recursion(omega, alpha, beta, mean, 2.0 * omega, innovations, log_returns, variance)
        results.append((log_returns, variance))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


@SETTINGS
@given(
    st.integers(2, 60),
    st.sampled_from(["stationary", "fixed"]),
    st.floats(1.0, 60.0),
    st.integers(1, 80),
    seeds,
)
def test_bootstrap_steps_are_observed_returns_in_runs(
    n_returns: int, method: str, length: float, n_steps: int, seed: int
) -> None:
    length = min(float(round(length)) if method == "fixed" else length, float(n_returns))
    source = np.random.default_rng(seed).normal(0.0, 0.01, n_returns)
    bootstrap = BlockBootstrap(source, dt=0.001, block_length=length, method=method)  # type: ignore[arg-type]
    indices = bootstrap.sample_indices(n_steps, 5, seed)
    assert indices.shape == (5, n_steps)
    assert indices.min() >= 0
    assert indices.max() < n_returns
    paths = bootstrap.simulate(10.0, 0.001, n_steps, 5, seed)
    np.testing.assert_allclose(paths.log_returns, source[indices], rtol=1e-9, atol=1e-15)
    if method == "fixed":
        block = int(length)
        offsets = np.arange(n_steps) % block
        starts = indices[:, np.arange(n_steps) - offsets]
        np.testing.assert_array_equal(indices, (starts + offsets) % n_returns)


@SETTINGS
@given(st.lists(st.floats(1e-6, 1e9), min_size=2, max_size=50), st.floats(1e-6, 1.0))
def test_historical_replay_round_trips(prices: list[float], dt: float) -> None:
    paths = historical_replay(prices, dt)
    assert paths.prices.shape == (1, len(prices))
    assert paths.dt == dt
    np.testing.assert_array_equal(paths.prices[0], prices)
