"""Path generators against their known moments, kernels against their numpy references.

Statistical checks compare a sample statistic with its theoretical value within ``Z``
standard errors (the seeds are fixed, so the tests are deterministic; ``Z = 4.5`` would make a
correct generator fail about once in 150,000 seeds).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hedgekeeper.sim import (
    HOUR,
    BlockBootstrap,
    Garch11,
    GeometricBrownianMotion,
    Heston,
    MertonJumpDiffusion,
    PathModel,
    Paths,
    as_generator,
    historical_replay,
)
from hedgekeeper.sim import paths as paths_module
from shared_data import shared_data

Z = 4.5


def kurtosis_excess(sample: np.ndarray) -> float:
    centred = sample - sample.mean()
    return float(np.mean(centred**4) / np.mean(centred**2) ** 2 - 3.0)


def assert_mean_close(sample: np.ndarray, expected: float) -> None:
    error = sample.std(ddof=1) / math.sqrt(sample.size)
    assert abs(sample.mean() - expected) <= Z * error, (sample.mean(), expected, error)


def assert_variance_close(sample: np.ndarray, expected: float) -> None:
    # SE of the sample variance: sqrt((m4 - s^4) / n) with the sample's own fourth moment.
    centred = sample - sample.mean()
    error = math.sqrt((np.mean(centred**4) - np.mean(centred**2) ** 2) / sample.size)
    assert abs(sample.var(ddof=1) - expected) <= Z * error, (sample.var(), expected, error)


MODELS: list[PathModel] = [
    GeometricBrownianMotion(drift=0.05, vol=0.6),
    MertonJumpDiffusion(drift=0.0, vol=0.5, jump_intensity=12.0, jump_mean=-0.03, jump_vol=0.08),
    Garch11(omega=2e-7, alpha=0.1, beta=0.85, student_t_dof=6.0),
    Heston(0.02, 0.36, 3.0, 0.49, 1.5, -0.4),
    BlockBootstrap(np.linspace(-0.01, 0.012, 50), dt=HOUR, block_length=5.0),
]


# ------------------------------------------------------------------ Paths and common contract


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_shapes_start_and_seeding(model: PathModel) -> None:
    dt = HOUR
    first = model.simulate(50_000.0, dt, 24, 7, 123)
    assert first.prices.shape == (7, 25)
    assert (first.n_paths, first.n_steps, first.dt) == (7, 24, dt)
    np.testing.assert_array_equal(first.prices[:, 0], 50_000.0)
    assert np.all(np.isfinite(first.prices))
    assert np.all(first.prices > 0.0)
    again = model.simulate(50_000.0, dt, 24, 7, np.random.default_rng(123))
    np.testing.assert_array_equal(first.prices, again.prices)
    other = model.simulate(50_000.0, dt, 24, 7, 124)
    assert not np.array_equal(first.prices, other.prices)
    assert not first.prices.flags.writeable
    np.testing.assert_allclose(first.times, dt * np.arange(25))
    np.testing.assert_allclose(first.log_returns, np.diff(np.log(first.prices), axis=1))


def test_one_generator_advances_between_calls() -> None:
    rng = np.random.default_rng(5)
    model = GeometricBrownianMotion(0.0, 0.3)
    first = model.simulate(1.0, 0.01, 3, 2, rng)
    second = model.simulate(1.0, 0.01, 3, 2, rng)
    assert not np.array_equal(first.prices, second.prices)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"s0": 0.0}, "s0"),
        ({"s0": math.nan}, "s0"),
        ({"dt": -1.0}, "dt"),
        ({"dt": "1h"}, "dt"),
        ({"n_steps": 0}, "n_steps"),
        ({"n_paths": 1.5}, "n_paths"),
        ({"n_paths": True}, "n_paths"),
        ({"rng": -3}, "rng"),
        ({"rng": "seed"}, "rng"),
    ],
)
def test_grid_arguments_are_validated_by_name(kwargs: dict[str, object], name: str) -> None:
    arguments: dict[str, object] = {"s0": 100.0, "dt": 0.01, "n_steps": 5, "n_paths": 3, "rng": 0}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=name):
        GeometricBrownianMotion(0.0, 0.2).simulate(**arguments)  # type: ignore[arg-type]


def test_as_generator_passes_generators_through() -> None:
    rng = np.random.default_rng(1)
    assert as_generator(rng) is rng
    assert as_generator(7).random() == np.random.default_rng(7).random()


def test_paths_validation_and_readonly_views() -> None:
    prices = np.ones((2, 4))
    paths = Paths(prices, 0.5)
    assert prices.flags.writeable  # the caller's array is untouched
    with pytest.raises(ValueError, match="read-only"):
        paths.prices[0, 0] = 2.0
    with pytest.raises(ValueError, match="prices"):
        Paths(np.ones(4), 0.5)
    with pytest.raises(ValueError, match="prices"):
        Paths(np.ones((2, 1)), 0.5)
    with pytest.raises(ValueError, match="dt"):
        Paths(prices, 0.0)
    with pytest.raises(ValueError, match="variance"):
        Paths(prices, 0.5, variance=np.ones((2, 3)))
    with pytest.raises(ValueError, match="jumps"):
        Paths(prices, 0.5, jumps=np.ones((2, 4), dtype=np.int64))


# ------------------------------------------------------------------ GBM


def test_gbm_log_return_moments_and_mean_price() -> None:
    drift, vol, horizon = 0.1, 0.8, 0.5
    paths = GeometricBrownianMotion(drift, vol).simulate(100.0, horizon / 10, 10, 100_000, 11)
    log_total = np.log(paths.prices[:, -1] / 100.0)
    assert_mean_close(log_total, (drift - 0.5 * vol**2) * horizon)
    assert_variance_close(log_total, vol**2 * horizon)
    assert_mean_close(paths.prices[:, -1], 100.0 * math.exp(drift * horizon))
    steps = paths.log_returns
    lag_one = np.corrcoef(steps[:, :-1].ravel(), steps[:, 1:].ravel())[0, 1]
    assert abs(lag_one) < Z / math.sqrt(steps[:, 1:].size)


def test_gbm_without_vol_is_deterministic_growth() -> None:
    paths = GeometricBrownianMotion(0.03, 0.0).simulate(10.0, 0.25, 8, 3, 0)
    np.testing.assert_allclose(
        paths.prices, 10.0 * np.exp(0.03 * paths.times)[None, :].repeat(3, 0)
    )


@pytest.mark.parametrize(("drift", "vol", "name"), [(math.inf, 0.2, "drift"), (0.0, -0.1, "vol")])
def test_gbm_parameters_are_validated(drift: float, vol: float, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        GeometricBrownianMotion(drift, vol)


# ------------------------------------------------------------------ Merton


def test_merton_jump_frequency_variance_kurtosis_and_compensated_mean() -> None:
    model = MertonJumpDiffusion(
        drift=0.05, vol=0.2, jump_intensity=5.0, jump_mean=-0.05, jump_vol=0.1
    )
    horizon, n_paths = 1.0, 200_000
    paths = model.simulate(100.0, horizon / 4, 4, n_paths, 3)
    assert paths.jumps is not None
    assert paths.jumps.shape == (n_paths, 4)
    per_path = paths.jumps.sum(axis=1).astype(np.float64)
    assert_mean_close(per_path, model.jump_intensity * horizon)
    assert_variance_close(per_path, model.jump_intensity * horizon)  # Poisson: variance = mean

    log_total = np.log(paths.prices[:, -1] / 100.0)
    expected_variance = 0.2**2 + 5.0 * (0.05**2 + 0.1**2)
    assert model.log_return_variance(horizon) == pytest.approx(expected_variance)
    assert_variance_close(log_total, expected_variance)
    expected_kurtosis = 5.0 * (0.05**4 + 6 * 0.05**2 * 0.1**2 + 3 * 0.1**4) / expected_variance**2
    assert model.log_return_excess_kurtosis(horizon) == pytest.approx(expected_kurtosis)
    assert expected_kurtosis == pytest.approx(0.2172, abs=1e-4)
    # SE of the sample excess kurtosis ~ sqrt(24 / n) = 0.011 for near-normal data.
    assert kurtosis_excess(log_total) == pytest.approx(expected_kurtosis, abs=0.06)
    assert_mean_close(paths.prices[:, -1], 100.0 * math.exp(0.05 * horizon))


def test_merton_without_jumps_is_gbm_with_the_same_seed() -> None:
    merton = MertonJumpDiffusion(0.02, 0.4, 0.0, -0.1, 0.2).simulate(5.0, 0.1, 6, 4, 9)
    gbm = GeometricBrownianMotion(0.02, 0.4).simulate(5.0, 0.1, 6, 4, 9)
    np.testing.assert_allclose(merton.prices, gbm.prices, rtol=1e-14)
    assert merton.jumps is not None
    assert not merton.jumps.any()


def test_merton_log_jumps_move_log_prices_by_the_jump_mean() -> None:
    # No diffusion, no jump-size noise: each step's log return is n * jump_mean minus the
    # compensator, so the counted jumps explain the path exactly.
    model = MertonJumpDiffusion(0.0, 0.0, 30.0, -0.02, 0.0)
    paths = model.simulate(1.0, 0.01, 50, 20, 4)
    assert paths.jumps is not None
    expected = -30.0 * model.jump_compensator * 0.01 - 0.02 * paths.jumps
    np.testing.assert_allclose(paths.log_returns, expected, atol=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"jump_intensity": -1.0}, "jump_intensity"), ({"jump_vol": -0.1}, "jump_vol")],
)
def test_merton_parameters_are_validated(kwargs: dict[str, float], name: str) -> None:
    arguments = {"drift": 0.0, "vol": 0.2, "jump_intensity": 1.0, "jump_mean": 0.0, "jump_vol": 0.1}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=name):
        MertonJumpDiffusion(**arguments)


# ------------------------------------------------------------------ GARCH(1,1)


def test_garch_unconditional_variance_and_kurtosis() -> None:
    model = Garch11(omega=1e-6, alpha=0.05, beta=0.9)
    assert model.unconditional_variance == pytest.approx(2e-5)
    # Bollerslev (1986): 3 (1 - p^2) / (1 - p^2 - 2 alpha^2) - 3 with p = 0.95.
    assert model.excess_kurtosis == pytest.approx(3 * 0.0975 / 0.0925 - 3.0)
    paths = model.simulate(100.0, HOUR, 250, 10_000, 8)
    shocks = paths.log_returns
    # The start at the unconditional variance makes E[e_t^2] = omega / (1 - alpha - beta) at
    # every step; the per-path means are independent, so their spread gives the SE.
    assert_mean_close(np.mean(shocks**2, axis=1), model.unconditional_variance)
    # After 150 steps E[h^2] has converged (rate p^2 + 2 alpha^2 = 0.9075 per step). Over ten
    # seeds the estimate spreads by about +-0.01 around the formula's 0.162.
    settled = shocks[:, 150:].ravel()
    assert kurtosis_excess(settled) > 0.05
    assert kurtosis_excess(settled) == pytest.approx(model.excess_kurtosis, abs=0.04)


def test_garch_student_t_innovations_fatten_the_tails() -> None:
    model = Garch11(omega=1e-6, alpha=0.05, beta=0.9, student_t_dof=10.0)
    assert model.innovation_kurtosis == pytest.approx(4.0)
    assert model.excess_kurtosis == pytest.approx(4 * 0.0975 / 0.09 - 3.0)
    paths = model.simulate(100.0, HOUR, 250, 10_000, 8)
    settled = paths.log_returns[:, 150:].ravel()  # spread over ten seeds: +-0.05 around 1.33
    assert np.mean(settled**2) == pytest.approx(model.unconditional_variance, rel=0.03)
    assert kurtosis_excess(settled) == pytest.approx(model.excess_kurtosis, rel=0.15)


def test_garch_variance_follows_the_recursion_and_is_per_year() -> None:
    model = Garch11(omega=3e-6, alpha=0.12, beta=0.8, mean_log_return=1e-4, initial_variance=4e-5)
    dt = 1.0 / 365.0
    paths = model.simulate(30_000.0, dt, 40, 5, 2)
    assert paths.variance is not None
    h = paths.variance * dt
    np.testing.assert_allclose(h[:, 0], 4e-5)
    shocks = paths.log_returns - 1e-4
    np.testing.assert_allclose(h[:, 1:], 3e-6 + 0.12 * shocks**2 + 0.8 * h[:, :-1], rtol=1e-9)


def test_garch_stationarity_error_names_alpha_and_beta() -> None:
    with pytest.raises(ValueError, match=r"alpha \+ beta must be < 1.*alpha=0\.3.*beta=0\.7"):
        Garch11(omega=1e-6, alpha=0.3, beta=0.7)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"omega": 0.0}, "omega"),
        ({"alpha": -0.1}, "alpha"),
        ({"beta": -0.1}, "beta"),
        ({"student_t_dof": 2.0}, "student_t_dof"),
        ({"initial_variance": -1.0}, "initial_variance"),
        ({"mean_log_return": math.nan}, "mean_log_return"),
    ],
)
def test_garch_parameters_are_validated(kwargs: dict[str, float], name: str) -> None:
    arguments: dict[str, float] = {"omega": 1e-6, "alpha": 0.1, "beta": 0.8}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=name):
        Garch11(**arguments)


def test_garch_kernel_agrees_with_numpy_reference() -> None:
    rng = np.random.default_rng(0)
    innovations = rng.standard_t(5.0, (64, 200))
    outputs = []
    for recursion in (paths_module._garch_kernel, paths_module._garch_numpy):
        log_returns = np.empty((64, 200))
        variance = np.empty((64, 201))
        recursion(2e-6, 0.15, 0.8, -1e-4, 5e-5, innovations, log_returns, variance)
        outputs.append((log_returns, variance))
    np.testing.assert_allclose(outputs[0][0], outputs[1][0], rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(outputs[0][1], outputs[1][1], rtol=1e-12)


# ------------------------------------------------------------------ Heston


def test_heston_mean_variance_and_martingale() -> None:
    model = Heston(
        drift=0.05,
        initial_variance=0.04,
        mean_reversion=2.0,
        long_run_variance=0.09,
        vol_of_vol=0.6,
        correlation=-0.7,
    )
    horizon, n_paths = 1.0, 100_000
    paths = model.simulate(100.0, horizon / 12, 12, n_paths, 21)
    assert paths.variance is not None
    v_end = paths.variance[:, -1]
    expected_v = 0.09 + (0.04 - 0.09) * math.exp(-2.0)
    assert model.expected_variance(horizon) == pytest.approx(expected_v)
    assert_mean_close(v_end, expected_v)
    # CIR: Var[v_T] = v0 xi^2 e^{-kT} (1 - e^{-kT}) / k + theta xi^2 (1 - e^{-kT})^2 / (2k);
    # QE matches the conditional mean and variance at each step, so this holds exactly too.
    decay = math.exp(-2.0)
    expected_var_v = 0.04 * 0.36 * decay * (1 - decay) / 2.0 + 0.09 * 0.36 * (1 - decay) ** 2 / 4.0
    assert_variance_close(v_end, expected_var_v)
    assert_mean_close(paths.prices[:, -1], 100.0 * math.exp(0.05 * horizon))
    assert np.all(paths.variance >= 0.0)


def test_heston_feller_is_reported_not_required() -> None:
    strong = Heston(0.0, 0.04, 3.0, 0.04, 0.3, -0.5)
    assert strong.feller_satisfied
    assert strong.feller_ratio == pytest.approx(2 * 3 * 0.04 / 0.09)
    # 2 kappa theta = 0.08 < xi^2 = 1: v hits 0, the QE exponential branch puts mass there.
    weak = Heston(0.0, 0.04, 1.0, 0.04, 1.0, -0.5)
    assert not weak.feller_satisfied
    paths = weak.simulate(1.0, 1 / 52, 52, 20_000, 1)
    assert paths.variance is not None
    assert np.all(paths.variance >= 0.0)
    assert np.mean(paths.variance[:, -1] == 0.0) > 0.05
    assert_mean_close(paths.variance[:, -1], weak.expected_variance(1.0))
    assert_mean_close(paths.prices[:, -1], 1.0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"initial_variance": -0.01}, "initial_variance"),
        ({"mean_reversion": 0.0}, "mean_reversion"),
        ({"long_run_variance": 0.0}, "long_run_variance"),
        ({"vol_of_vol": 0.0}, "vol_of_vol"),
        ({"correlation": 1.5}, "correlation"),
    ],
)
def test_heston_parameters_are_validated(kwargs: dict[str, float], name: str) -> None:
    arguments = {
        "drift": 0.0,
        "initial_variance": 0.04,
        "mean_reversion": 1.0,
        "long_run_variance": 0.04,
        "vol_of_vol": 0.5,
        "correlation": -0.5,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=name):
        Heston(**arguments)


@pytest.mark.parametrize(
    "params",
    [
        (0.05, 0.04, 2.0, 0.09, 0.6, -0.7, 1 / 52),  # mostly quadratic branch
        (0.0, 0.01, 0.5, 0.02, 2.0, 0.3, 1 / 4),  # Feller badly violated: exponential branch
        (0.0, 0.2, 1.0, 0.04, 0.05, 0.95, 1.0),  # large rho/xi: martingale-correction fallback
    ],
)
def test_heston_kernel_agrees_with_numpy_reference(params: tuple[float, ...]) -> None:
    drift, v0, kappa, theta, xi, rho, dt = params
    rng = np.random.default_rng(3)
    shape = (200, 30)
    draws = (rng.standard_normal(shape), rng.random(shape), rng.standard_normal(shape))
    outputs = []
    for recursion in (paths_module._heston_qe_kernel, paths_module._heston_qe_numpy):
        log_prices = np.empty((200, 31))
        variance = np.empty((200, 31))
        recursion(drift, dt, v0, kappa, theta, xi, rho, *draws, log_prices, variance)
        outputs.append((log_prices, variance))
    np.testing.assert_allclose(outputs[0][1], outputs[1][1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(outputs[0][0], outputs[1][0], rtol=1e-12, atol=1e-12)


def test_heston_simulate_matches_the_numpy_reference() -> None:
    model = Heston(0.01, 0.05, 1.5, 0.06, 0.8, -0.6)
    paths = model.simulate(200.0, 0.02, 25, 40, 17)
    rng = np.random.default_rng(17)
    shape = (40, 25)
    draws = (rng.standard_normal(shape), rng.random(shape), rng.standard_normal(shape))
    log_prices, variance = np.empty((40, 26)), np.empty((40, 26))
    paths_module._heston_qe_numpy(
        0.01, 0.02, 0.05, 1.5, 0.06, 0.8, -0.6, *draws, log_prices, variance
    )
    np.testing.assert_allclose(paths.prices, 200.0 * np.exp(log_prices), rtol=1e-12)
    assert paths.variance is not None
    np.testing.assert_allclose(paths.variance, variance, rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------ block bootstrap


def test_fixed_blocks_are_consecutive_circular_runs() -> None:
    bootstrap = BlockBootstrap(np.arange(40.0) * 1e-4, dt=HOUR, block_length=6, method="fixed")
    indices = bootstrap.sample_indices(n_steps=50, n_paths=30, rng=4)
    assert indices.shape == (30, 50)
    assert indices.min() >= 0
    assert indices.max() < 40
    for start in range(0, 50, 6):
        block = indices[:, start : start + 6]
        np.testing.assert_array_equal(block, (block[:, :1] + np.arange(block.shape[1])) % 40)
    # Consecutive blocks start independently: most block boundaries break the run.
    boundaries = indices[:, 6::6] != (indices[:, 5:-1:6] + 1) % 40
    assert boundaries.mean() > 0.8


def test_stationary_blocks_have_geometric_lengths_with_the_mean_block_length() -> None:
    n = 5_000
    bootstrap = BlockBootstrap(np.zeros(n), dt=HOUR, block_length=8.0)
    indices = bootstrap.sample_indices(n_steps=400, n_paths=500, rng=6)
    continues = indices[:, 1:] == (indices[:, :-1] + 1) % n
    # A new block starts with probability 1/8, and lands on the next index with prob 1/n.
    breaks = (~continues).ravel().astype(np.float64)
    assert_mean_close(breaks, (1.0 / 8.0) * (1.0 - 1.0 / n))


def test_bootstrap_preserves_sample_mean_and_variance() -> None:
    rng = np.random.default_rng(10)
    source = 0.01 * rng.standard_t(4.0, 500) + 2e-4
    bootstrap = BlockBootstrap(source, dt=1 / 365, block_length=10.0)
    paths = bootstrap.simulate(1.0, 1 / 365, 250, 400, 7)
    sampled = paths.log_returns
    assert np.all(np.isin(np.round(sampled, 12), np.round(source, 12)))
    # Every source return is equally likely at every step; path means are independent.
    assert_mean_close(sampled.mean(axis=1), source.mean())
    assert_mean_close(np.mean((sampled - source.mean()) ** 2, axis=1), source.var())


def test_bootstrap_validation() -> None:
    with pytest.raises(ValueError, match="log_returns"):
        BlockBootstrap(np.array([0.01]), dt=HOUR, block_length=1.0)
    with pytest.raises(ValueError, match="log_returns"):
        BlockBootstrap(np.array([0.01, math.nan]), dt=HOUR, block_length=1.0)
    with pytest.raises(ValueError, match="block_length"):
        BlockBootstrap(np.zeros(10), dt=HOUR, block_length=11.0)
    with pytest.raises(ValueError, match="block_length"):
        BlockBootstrap(np.zeros(10), dt=HOUR, block_length=2.5, method="fixed")
    with pytest.raises(ValueError, match="method"):
        BlockBootstrap(np.zeros(10), dt=HOUR, block_length=2.0, method="moving")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="prices"):
        BlockBootstrap.from_prices([100.0, -1.0, 101.0], dt=HOUR, block_length=1.0)
    with pytest.raises(ValueError, match="dt must equal"):
        BlockBootstrap(np.zeros(10), dt=HOUR, block_length=2.0).simulate(1.0, 1 / 365, 5, 2, 0)


@pytest.mark.shared_data
def test_bootstrap_of_real_btc_hourly_returns_keeps_moments_and_volatility_clustering() -> None:
    frame = pd.read_csv(
        shared_data("binance_spot_BTCUSDT_1h_to2024.csv.gz"), usecols=["timestamp", "close"]
    )
    closes = frame["close"].to_numpy(dtype=np.float64)
    assert closes.size > 60_000
    bootstrap = BlockBootstrap.from_prices(closes, dt=HOUR, block_length=48.0)
    source = bootstrap.log_returns
    paths = bootstrap.simulate(float(closes[-1]), HOUR, 24 * 30, 300, 2024)
    sampled = paths.log_returns
    assert_mean_close(sampled.mean(axis=1), source.mean())
    assert_mean_close(np.mean((sampled - source.mean()) ** 2, axis=1), source.var())

    def abs_autocorrelation(returns: np.ndarray) -> float:
        size = np.abs(returns)
        return float(np.corrcoef(size[..., :-1].ravel(), size[..., 1:].ravel())[0, 1])

    # Hourly BTC volatility clusters (|r| lag-1 autocorrelation ~0.3); blocks keep all but the
    # ~1/48 of pairs that straddle a block boundary, while an i.i.d. resample (blocks of 1)
    # loses it.
    observed = abs_autocorrelation(source)
    assert observed > 0.2
    assert abs_autocorrelation(sampled) == pytest.approx(observed, rel=0.25)
    iid = BlockBootstrap(source, dt=HOUR, block_length=1.0).simulate(1.0, HOUR, 720, 300, 1)
    assert abs(abs_autocorrelation(iid.log_returns)) < 0.03


# ------------------------------------------------------------------ historical replay


def test_historical_replay_is_one_path_copy() -> None:
    prices = np.array([100.0, 101.0, 99.5, 102.0])
    paths = historical_replay(prices, HOUR)
    assert paths.prices.shape == (1, 4)
    assert paths.dt == HOUR
    np.testing.assert_array_equal(paths.prices[0], prices)
    prices[0] = 1.0
    assert paths.prices[0, 0] == 100.0
    assert paths.variance is None
    assert paths.jumps is None


@pytest.mark.parametrize(
    ("prices", "match"),
    [
        ([100.0], "at least 2"),
        ([[1.0, 2.0], [3.0, 4.0]], "1-D"),
        ([100.0, 0.0, 101.0], "index 1"),
        ([100.0, math.nan], "index 1"),
        (["a", "b"], "prices"),
    ],
)
def test_historical_replay_validation(prices: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        historical_replay(prices, HOUR)  # type: ignore[arg-type]
