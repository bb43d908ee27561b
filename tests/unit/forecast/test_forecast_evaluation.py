"""QLIKE, log-MSE and the Diebold-Mariano test against hand-worked examples; model comparison."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hedgekeeper.forecast import (
    ForecastPath,
    compare,
    diebold_mariano,
    newey_west_lags,
    qlike,
    squared_log_error,
)


def test_qlike_worked_example() -> None:
    # Patton (2011), J. Econometrics 160, eq. (24): L(RV, F) = RV/F - ln(RV/F) - 1.
    # RV = 2, F = 1: 2 - ln 2 - 1 = 0.306853 (under-prediction);
    # RV = 1, F = 2: 0.5 + ln 2 - 1 = 0.193147 (over-prediction costs less); RV = F: 0.
    np.testing.assert_allclose(
        qlike([2.0, 1.0, 3.0], [1.0, 2.0, 3.0]), [0.3068528194, 0.1931471806, 0.0], atol=1e-10
    )
    # Scale invariance (Patton's "homogeneous of degree 0"): only the ratio matters.
    assert qlike(2e-4, 1e-4) == pytest.approx(qlike(2.0, 1.0), rel=1e-12)


def test_squared_log_error_worked_example() -> None:
    # (ln e^2 - ln 1)^2 = 4; (ln 1 - ln e)^2 = 1.
    np.testing.assert_allclose(squared_log_error([math.e**2, 1.0], [1.0, math.e]), [4.0, 1.0])


def test_diebold_mariano_worked_example() -> None:
    # Hand computation (Diebold & Mariano 1995, eq. 8, with a Newey-West 1987 Bartlett
    # long-run variance, 1 lag):
    #   d = [1, -1, 2, 0, 3], mean 1, deviations x = [0, -2, 1, -1, 2]
    #   gamma0 = sum x^2 / 5 = 10/5 = 2;  gamma1 = sum x_t x_{t-1} / 5 = (0 - 2 - 1 - 2)/5 = -1
    #   f = gamma0 + 2 (1 - 1/2) gamma1 = 2 - 1 = 1;  DM = 1 / sqrt(1/5) = sqrt(5) = 2.2360680
    #   p = 2 (1 - Phi(2.2360680)) = 0.0253473
    model = np.array([2.0, 0.0, 3.0, 1.0, 4.0])
    bench = np.ones(5)
    test = diebold_mariano(model, bench, lags=1)
    assert test.mean_difference == pytest.approx(1.0)
    assert test.statistic == pytest.approx(math.sqrt(5.0), rel=1e-12)
    assert test.p_value == pytest.approx(0.0253473, abs=1e-6)
    assert test.count == 5
    # Zero lags: f = gamma0 = 2, DM = 1 / sqrt(2/5).
    assert diebold_mariano(model, bench, lags=0).statistic == pytest.approx(
        1.0 / math.sqrt(0.4), rel=1e-12
    )
    # Antisymmetric in the two models.
    assert diebold_mariano(bench, model, lags=1).statistic == pytest.approx(-math.sqrt(5.0))


def test_diebold_mariano_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="loss_model"):
        diebold_mariano([1.0, 2.0], [1.0], lags=1)
    with pytest.raises(ValueError, match="finite"):
        diebold_mariano([1.0, np.nan], [1.0, 2.0], lags=1)
    with pytest.raises(ValueError, match="lags"):
        diebold_mariano([1.0, 2.0], [1.0, 2.0], lags=-1)
    equal = diebold_mariano([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], lags=1)
    assert math.isnan(equal.statistic)


def test_newey_west_lags_rule() -> None:
    # floor(4 (T/100)^(2/9)): T = 1000 -> floor(6.65) = 6; 7-step forecasts need >= 6 lags.
    assert newey_west_lags(1, 1000) == 6
    assert newey_west_lags(7, 100) == 6
    assert newey_west_lags(30, 1000) == 29


def _path(model: str, forecast: np.ndarray, realised: np.ndarray) -> ForecastPath:
    origin = np.datetime64("2024-01-01", "ns") + np.arange(forecast.size).astype("timedelta64[D]")
    return ForecastPath(model, 24, origin, forecast, realised, 1)


def test_compare_uses_the_common_sample_and_picks_the_best() -> None:
    rng = np.random.default_rng(0)
    truth = np.exp(rng.normal(-8.0, 0.5, 400))
    realised = truth * rng.chisquare(24, 400) / 24
    good = truth * np.exp(rng.normal(0.0, 0.05, 400))
    bad = np.full(400, np.mean(realised))
    late = good.copy()
    late[:100] = np.nan  # a model without forecasts for the first 100 origins
    result = compare(
        [_path("ewma", bad, realised), _path("good", good, realised), _path("late", late, realised)]
    )
    assert result.best in ("good", "late")
    assert result.origin.size == 300
    for score in result.scores.values():
        assert score.n_forecasts == 300
    assert result.scores["ewma"].n_available == 400
    assert result.scores["late"].n_available == 300
    assert result.scores["good"].qlike < result.scores["ewma"].qlike
    dm = result.scores["good"].versus["ewma"]
    assert dm.statistic < -3
    assert dm.p_value < 0.01
    assert "ewma" not in result.scores["ewma"].versus
    expected = float(np.mean(qlike(realised[100:], good[100:])))
    assert result.scores["good"].qlike == pytest.approx(expected)


def test_compare_rejects_mismatched_paths() -> None:
    a = _path("a", np.ones(3), np.ones(3))
    b = ForecastPath("b", 168, a.origin, np.ones(3), np.ones(3), 1)
    with pytest.raises(ValueError, match="horizon"):
        compare([a, b])
    with pytest.raises(ValueError, match="no origin"):
        compare([_path("a", np.full(3, np.nan), np.ones(3))])
