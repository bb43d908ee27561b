"""Each forecaster on synthetic GARCH data: sensible parameters, better than a naive forecast."""

from __future__ import annotations

import math

import numpy as np
import pytest
from forecast_synthetic import ALPHA, BETA, OMEGA, gjr_returns, history_from_returns

from hedgekeeper.forecast import (
    FEATURES,
    Ewma,
    Forecast,
    Forecaster,
    Garch,
    GradientBoostedRV,
    HarRV,
    ImpliedVol,
    InsufficientHistoryError,
    daily_origins,
    qlike,
    walk_forward,
)

N_HOURS = 24 * 400


@pytest.fixture(scope="module")
def garch_path() -> tuple[np.ndarray, np.ndarray]:
    return gjr_returns(N_HOURS, OMEGA, ALPHA, BETA, seed=11)


def _naive_qlike(history, origins, horizon: int) -> float:  # type: ignore[no-untyped-def]
    """QLIKE of the expanding-window mean of squared returns times the horizon."""
    returns = history.log_returns()
    losses = []
    for origin in origins:
        past = history.before(origin)
        mean = float(np.mean(returns[1 : past.size] ** 2))
        losses.append(qlike(history.realised_variance(origin, horizon), horizon * mean))
    return float(np.mean(losses))


def test_every_model_satisfies_the_forecaster_protocol() -> None:
    models: list[Forecaster] = [
        Ewma(), Garch(), Garch(True), HarRV(), ImpliedVol(), GradientBoostedRV()
    ]
    for model in models:
        assert isinstance(model, Forecaster)
    assert [m.name for m in models] == ["ewma", "garch", "gjr", "har", "iv", "ml"]


def test_ewma_decay_conversion_and_recursion() -> None:
    # RiskMetrics (1996) lambda = 0.94 a day -> 0.94 ** (1/24) an hour.
    model = Ewma()
    returns = np.array([0.01, -0.02, 0.005, 0.0, 0.03])
    history = history_from_returns(returns)
    model.fit(history)
    assert model.decay_hourly_ == pytest.approx(0.99742518, abs=1e-8)
    lam = model.decay_hourly_
    variance = float(np.mean(returns**2))  # warm-up start: mean of the (only) 5 squares
    for r in returns:
        variance = lam * variance + (1 - lam) * r * r
    forecast = model.predict("24h")
    assert forecast.variance == pytest.approx(24 * variance, rel=1e-12)
    assert forecast.horizon_hours == 24
    assert forecast.origin == history.end
    assert forecast.vol == pytest.approx(math.sqrt(variance * 8760), rel=1e-12)


@pytest.mark.parametrize("asymmetric", [False, True])
def test_garch_recovers_parameters(asymmetric: bool) -> None:
    gamma = 0.05 if asymmetric else 0.0
    alpha = ALPHA - 0.5 * gamma
    returns, _ = gjr_returns(24 * 1000, OMEGA, alpha, BETA, gamma, seed=5)
    model = Garch(asymmetric=asymmetric, window_days=None).fit(history_from_returns(returns))
    assert model.converged_
    omega_pct = OMEGA * 1e4  # the model is fitted on percent returns
    assert model.omega_ == pytest.approx(omega_pct, rel=0.5)
    assert model.alpha_ == pytest.approx(alpha, abs=0.015)
    assert model.beta_ == pytest.approx(BETA, abs=0.02)
    assert model.gamma_ == pytest.approx(gamma, abs=0.02)
    assert model.persistence_ == pytest.approx(ALPHA + BETA, abs=0.01)
    assert model.nu_ > 15  # Gaussian shocks: a thin-tailed Student-t


def test_garch_forecast_is_the_sum_of_step_forecasts() -> None:
    returns, sigma2 = gjr_returns(24 * 200, OMEGA, ALPHA, BETA, seed=3)
    model = Garch(window_days=None).fit(history_from_returns(returns))
    omega, alpha, beta = model.omega_ / 1e4, model.alpha_, model.beta_
    # One-step variance by the GARCH recursion from arch's filter, then E[s2_{t+k}] recursion.
    one = model.predict(1).variance
    expected = 0.0
    step = one
    for _ in range(24):
        expected += step
        step = omega + (alpha + beta) * step
    assert model.predict(24).variance == pytest.approx(expected, rel=1e-9)
    # And the one-step forecast tracks the true conditional variance of the next return.
    true_next = OMEGA + ALPHA * returns[-1] ** 2 + BETA * sigma2[-1]
    assert one == pytest.approx(true_next, rel=0.35)


def test_models_beat_naive_out_of_sample(garch_path: tuple[np.ndarray, np.ndarray]) -> None:
    returns, _ = garch_path
    history = history_from_returns(returns)
    origins = daily_origins(history, "2020-07-01", None, 24)
    naive = _naive_qlike(history, origins, 24)
    for model, cadence in ((Ewma(), None), (Garch(), 24 * 30), (HarRV(24), 24 * 7)):
        path = walk_forward(history, model, origins, 24, cadence)
        score = float(np.mean(qlike(path.realised, path.forecast)))
        assert score < 0.9 * naive, (model.name, score, naive)


def test_har_coefficients_are_sensible(garch_path: tuple[np.ndarray, np.ndarray]) -> None:
    returns, _ = garch_path
    model = HarRV(24).fit(history_from_returns(returns))
    assert model.n_samples_ > 300
    # Persistent variance: the three slopes add up to a high, sub-unit persistence, and the
    # intercept is a small positive share of the mean daily variance.
    assert 0.6 < float(np.sum(model.coef_[1:])) < 1.05
    daily = 24 * OMEGA / (1 - ALPHA - BETA)
    assert 0.0 < model.coef_[0] < 0.5 * daily
    with pytest.raises(ValueError, match="horizon"):
        model.predict(168)


def test_implied_vol_recovers_the_premium(garch_path: tuple[np.ndarray, np.ndarray]) -> None:
    returns, sigma2 = garch_path
    # A "DVOL" whose implied variance over the next 24 h is the true expected variance
    # inflated by 25 %: the estimated premium must be about 1 - 1/1.25 = 0.2.
    expected_next = np.empty_like(sigma2)
    expected_next[:-1] = sigma2[1:]
    expected_next[-1] = sigma2[-1]
    dvol = np.sqrt(1.25 * expected_next * 8760.0)
    history = history_from_returns(returns, dvol=dvol)
    model = ImpliedVol(24, window_days=None).fit(history)
    assert model.premium_ == pytest.approx(0.2, abs=0.06)
    forecast = model.predict(24)
    assert forecast.variance == pytest.approx(
        model.scale_ * dvol[-1] ** 2 * 24 / 8760, rel=1e-12
    )


def test_implied_vol_without_dvol() -> None:
    returns, _ = gjr_returns(24 * 60, OMEGA, ALPHA, BETA)
    with pytest.raises(ValueError, match="dvol"):
        ImpliedVol().fit(history_from_returns(returns))
    no_data = history_from_returns(returns, dvol=np.full(returns.size, np.nan))
    with pytest.raises(InsufficientHistoryError, match="min_samples"):
        ImpliedVol().fit(no_data)


def test_gradient_boosting_beats_naive(garch_path: tuple[np.ndarray, np.ndarray]) -> None:
    returns, _ = garch_path
    rng = np.random.default_rng(2)
    volume = rng.uniform(100.0, 200.0, returns.size)
    history = history_from_returns(returns, volume=volume)
    origins = daily_origins(history, "2020-09-01", None, 24)
    path = walk_forward(history, GradientBoostedRV(24, max_iter=100), origins, 24, 24 * 60)
    score = float(np.mean(qlike(path.realised, path.forecast)))
    assert score < 0.9 * _naive_qlike(history, origins, 24)
    model = GradientBoostedRV(24, max_iter=50).fit(history)
    assert model.features_.shape == (len(FEATURES),)
    # No DVOL or funding series: those features were never observed and are left out.
    assert not model.used_features_[FEATURES.index("log_implied_var")]
    assert model.used_features_[FEATURES.index("log_rv_24h")]


def test_daily_garch_forecast_covers_the_horizon(
    garch_path: tuple[np.ndarray, np.ndarray],
) -> None:
    returns, _ = garch_path
    model = Garch(frequency="daily", dist="normal").fit(history_from_returns(returns))
    assert model.nu_ == math.inf
    day = model.predict(24).variance
    two_days = model.predict(48).variance
    # 36 h = the first day plus half the second day's forecast.
    assert model.predict(36).variance == pytest.approx(day + 0.5 * (two_days - day), rel=1e-12)
    assert day == pytest.approx(24 * OMEGA / (1 - ALPHA - BETA), rel=0.6)


@pytest.mark.parametrize(
    ("build", "parameter"),
    [
        (lambda: Garch(frequency="weekly"), "frequency"),
        (lambda: Garch(dist="cauchy"), "dist"),
        (lambda: Ewma(decay_daily=1.0), "decay_daily"),
        (lambda: Ewma(warmup_hours=0), "warmup_hours"),
        (lambda: Garch(asymmetric="yes"), "asymmetric"),
        (lambda: Garch(window_days=0), "window_days"),
        (lambda: HarRV(horizon="2x"), "horizon"),
        (lambda: HarRV(min_samples=2), "min_samples"),
        (lambda: ImpliedVol(window_days=-3), "window_days"),
        (lambda: GradientBoostedRV(learning_rate=0.0), "learning_rate"),
        (lambda: GradientBoostedRV(sample_every_hours=0), "sample_every_hours"),
    ],
)
def test_bad_parameters_name_the_parameter(build, parameter: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=parameter):
        build()


@pytest.mark.parametrize(
    "model", [Ewma(), Garch(), HarRV(), ImpliedVol(), GradientBoostedRV()], ids=lambda m: m.name
)
def test_predict_before_fit_is_an_error(model: Forecaster) -> None:
    with pytest.raises(ValueError, match="not fitted"):
        model.predict(24)


def test_forecast_value_type() -> None:
    origin = np.datetime64("2024-01-01T00:00", "ns")
    forecast = Forecast(origin, 168, 0.0049, "x")
    assert forecast.horizon_vol == pytest.approx(0.07)
    assert forecast.vol == pytest.approx(0.07 * math.sqrt(8760 / 168))
    assert math.isnan(Forecast(origin, 24, math.nan, "x").variance)
    with pytest.raises(ValueError, match="variance"):
        Forecast(origin, 24, -1.0, "x")
