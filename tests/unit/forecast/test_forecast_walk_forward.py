"""Walk-forward evaluation never looks ahead: data after an origin cannot change its forecast."""

from __future__ import annotations

from typing import Self

import numpy as np
import pytest
from forecast_synthetic import ALPHA, BETA, OMEGA, gjr_returns

from hedgekeeper.forecast import (
    Ewma,
    Forecast,
    Forecaster,
    Garch,
    GradientBoostedRV,
    HarRV,
    ImpliedVol,
    MarketHistory,
    daily_origins,
    walk_forward,
)

START = np.datetime64("2021-01-01T00:00", "ns")


def _history(seed: int = 4, days: int = 150) -> MarketHistory:
    returns, sigma2 = gjr_returns(24 * days, OMEGA, ALPHA, BETA, seed=seed)
    n = returns.size + 1
    rng = np.random.default_rng(seed)
    return MarketHistory(
        time=START + np.arange(n).astype("timedelta64[h]"),
        close=40_000.0 * np.exp(np.concatenate([[0.0], np.cumsum(returns)])),
        volume=rng.uniform(50.0, 150.0, n),
        dvol=np.concatenate([[0.6], np.sqrt(1.2 * sigma2 * 8760.0)]),
        funding_rate=rng.normal(1e-4, 5e-5, n),
    )


def _perturbed_after(history: MarketHistory, cut: np.datetime64, seed: int) -> MarketHistory:
    """Every field of every candle opening at or after ``cut`` replaced by other values."""
    rng = np.random.default_rng(seed)
    after = history.time >= cut
    k = int(np.count_nonzero(after))

    def swap(values: np.ndarray | None, new: np.ndarray) -> np.ndarray | None:
        if values is None:
            return None
        out = np.array(values)
        out[after] = new
        return out

    return MarketHistory(
        time=history.time,
        close=swap(history.close, history.close[~after][-1] * np.exp(rng.normal(0, 0.05, k))),
        volume=swap(history.volume, rng.uniform(1e3, 1e4, k)),
        dvol=swap(history.dvol, rng.uniform(1.0, 3.0, k)),
        funding_rate=swap(history.funding_rate, rng.normal(0.0, 0.01, k)),
    )


MODELS: list[tuple[Forecaster, int | None]] = [
    (Ewma(), None),
    (Garch(), 24 * 7),
    (Garch(asymmetric=True), 24 * 7),
    (HarRV(24, min_samples=20), 24),
    (ImpliedVol(24, min_samples=10), 24),
    (GradientBoostedRV(24, max_iter=30, min_samples=100), 24 * 10),
]


@pytest.mark.parametrize(("model", "cadence"), MODELS, ids=[m.name for m, _ in MODELS])
def test_changing_data_after_an_origin_leaves_its_forecast_unchanged(
    model: Forecaster, cadence: int | None
) -> None:
    history = _history()
    origins = daily_origins(history, "2021-03-01", None, 24)
    cut = origins[len(origins) // 2]
    clean = walk_forward(history, model, origins, 24, cadence)
    dirty = walk_forward(_perturbed_after(history, cut, seed=9), model, origins, 24, cadence)
    before = origins <= cut
    assert np.isfinite(clean.forecast[before]).sum() >= 5
    # Bit-for-bit the same up to and including the origin where the data start to differ...
    np.testing.assert_array_equal(clean.forecast[before], dirty.forecast[before])
    # ...and different after it (so the comparison above could have failed).
    assert not np.allclose(clean.forecast[~before], dirty.forecast[~before], equal_nan=True)


class _Spy:
    """Records the last candle each call saw; forecasts a constant."""

    name = "spy"

    def __init__(self) -> None:
        self.seen: list[tuple[np.datetime64, np.datetime64]] = []

    def fit(self, history: MarketHistory) -> Self:
        return self.update(history)

    def update(self, history: MarketHistory) -> Self:
        self.seen.append((history.time[-1], history.end))
        self.origin_ = history.end
        return self

    def predict(self, horizon: int | str) -> Forecast:
        return Forecast(self.origin_, 24, 1e-3, self.name)


def test_forecaster_sees_only_candles_that_closed_by_the_origin() -> None:
    history = _history(days=40)
    origins = daily_origins(history, "2021-01-10T05:00", None, "24h", every="7h")
    spy = _Spy()
    path = walk_forward(history, spy, origins, 24, refit_every=None)
    # walk_forward fits a copy; the caller's object is untouched.
    assert spy.seen == []
    assert path.refits == origins.size
    np.testing.assert_array_equal(path.forecast, 1e-3)


def test_walk_forward_realised_target_matches_definition() -> None:
    history = _history(days=40)
    origins = daily_origins(history, "2021-01-31", None, 24)
    path = walk_forward(history, Ewma(), origins, 24)
    close = history.close
    i = int(np.searchsorted(history.time, origins[0]))
    expected = float(np.sum(np.diff(np.log(close[i - 1 : i + 24])) ** 2))
    assert path.realised[0] == pytest.approx(expected, rel=1e-12)
    assert origins[-1] + np.timedelta64(24, "h") <= history.end


def test_daily_origins_errors_name_the_argument() -> None:
    history = _history(days=40)
    with pytest.raises(ValueError, match="start"):
        daily_origins(history, "2020-01-01", None, 24)
    with pytest.raises(ValueError, match="start"):
        daily_origins(history, "2030-01-01", None, 24)
    with pytest.raises(ValueError, match="end"):
        daily_origins(history, "2021-01-20", "2021-01-10", 24)
    with pytest.raises(ValueError, match="start"):
        daily_origins(history, "not a date", None, 24)
    with pytest.raises(ValueError, match="horizon"):
        daily_origins(history, "2021-01-20", None, "0h")


def test_forecast_vol_asof_uses_only_earlier_origins() -> None:
    from hedgekeeper.forecast import ForecastPath, forecast_vol_asof

    origin = np.datetime64("2024-01-01", "ns") + np.arange(3).astype("timedelta64[D]")
    path = ForecastPath("x", 24, origin, np.array([24e-4, np.nan, 96e-4]), np.ones(3), 1)
    hour = np.timedelta64(1, "h")
    times = np.array(
        [origin[0] - hour, origin[0], origin[0] + 23 * hour, origin[1] + hour, origin[2] + hour,
         origin[2] + 30 * hour]
    )
    vol = forecast_vol_asof(path, times)
    # 24e-4 over 24 h = 1e-4 an hour -> sqrt(1e-4 * 8760) = 0.936 a year.
    expected = [np.nan, np.sqrt(0.876), np.sqrt(0.876), np.nan, np.sqrt(4 * 0.876), np.nan]
    np.testing.assert_allclose(vol, expected)
