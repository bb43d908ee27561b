"""Walk-forward (out-of-sample) evaluation: losses, Diebold-Mariano tests, model comparison."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from arch.covariance.kernel import Bartlett
from scipy.stats import norm

from hedgekeeper.forecast._common import InsufficientHistoryError, positive_int
from hedgekeeper.forecast.history import (
    HOUR,
    FloatArray,
    Forecaster,
    MarketHistory,
    TimeArray,
    as_time,
    parse_horizon,
)


def qlike(realised: npt.ArrayLike, forecast: npt.ArrayLike) -> FloatArray:
    r"""QLIKE loss per observation: ``RV/F - ln(RV/F) - 1`` (0 for a perfect forecast).

    Patton (2011), "Volatility forecast comparison using imperfect volatility proxies",
    *J. Econometrics* 160(1), 246-256, eq. (24) with b = -2 (normalised so the minimum is 0).
    Robust to noise in the realised-variance proxy, and penalises under-prediction more than
    over-prediction. Both arguments are variances (> 0), broadcast together.
    """
    ratio = np.asarray(realised, dtype=np.float64) / np.asarray(forecast, dtype=np.float64)
    return np.asarray(ratio - np.log(ratio) - 1.0, dtype=np.float64)


def squared_log_error(realised: npt.ArrayLike, forecast: npt.ArrayLike) -> FloatArray:
    """``(ln RV - ln F)²`` per observation; its mean is the MSE of log variance."""
    error = np.log(np.asarray(realised, dtype=np.float64)) - np.log(
        np.asarray(forecast, dtype=np.float64)
    )
    return np.asarray(error * error, dtype=np.float64)


def newey_west_lags(horizon_steps: int, count: int) -> int:
    """HAC lags for a Diebold-Mariano test of ``horizon_steps``-step forecasts over ``count``.

    ``max(horizon_steps - 1, floor(4 (count/100)^(2/9)))``: at least the ``h - 1`` lags of
    autocorrelation that overlapping h-step forecast errors have by construction (Diebold &
    Mariano 1995, §1.1), and at least the Newey-West (1994) rule-of-thumb bandwidth, because
    loss differentials of volatility forecasts are also autocorrelated through volatility
    clustering even when windows do not overlap.
    """
    rule = math.floor(4.0 * (count / 100.0) ** (2.0 / 9.0)) if count > 0 else 0
    return max(horizon_steps - 1, rule)


@dataclass(frozen=True, slots=True)
class DieboldMariano:
    """Result of a Diebold-Mariano test of equal predictive accuracy.

    Attributes
    ----------
    statistic : mean loss difference (model minus benchmark) over its HAC standard error;
        negative means the model has the lower loss.
    p_value : two-sided, from the standard normal.
    mean_difference : mean of ``loss_model - loss_benchmark``.
    lags : Bartlett-kernel (Newey-West) lags used for the long-run variance.
    count : number of paired observations.
    """

    statistic: float
    p_value: float
    mean_difference: float
    lags: int
    count: int


def diebold_mariano(
    loss_model: npt.ArrayLike, loss_benchmark: npt.ArrayLike, lags: int
) -> DieboldMariano:
    r"""Diebold-Mariano test that two forecasts have equal expected loss.

    .. math::
        d_t = L^{model}_t - L^{bench}_t,\qquad
        DM = \bar d \big/ \sqrt{\hat f_{LR} / T}

    with the long-run variance ``f_LR`` of ``d`` estimated by the Bartlett kernel (Newey &
    West 1987) with ``lags`` lags (``arch.covariance.kernel.Bartlett``), and a two-sided
    p-value from N(0, 1). Source: F. X. Diebold & R. S. Mariano (1995), "Comparing predictive
    accuracy", *J. Business & Economic Statistics* 13(3), 253-263, eq. (8).
    """
    model = np.asarray(loss_model, dtype=np.float64)
    bench = np.asarray(loss_benchmark, dtype=np.float64)
    if model.shape != bench.shape or model.ndim != 1:
        raise ValueError(
            f"loss_model and loss_benchmark must be 1-d of equal length, got {model.shape} "
            f"and {bench.shape}"
        )
    if not (np.all(np.isfinite(model)) and np.all(np.isfinite(bench))):
        raise ValueError("loss_model and loss_benchmark must be finite")
    lags = positive_int("diebold_mariano", "lags", lags, minimum=0)
    count = int(model.size)
    difference = model - bench
    mean = float(np.mean(difference)) if count else math.nan
    if count < 2:
        return DieboldMariano(math.nan, math.nan, mean, lags, count)
    kernel = Bartlett(difference, bandwidth=lags, force_int=True)
    long_run = float(np.asarray(kernel.cov.long_run, dtype=np.float64)[0, 0])
    if not long_run > 0:
        return DieboldMariano(math.nan, math.nan, mean, lags, count)
    statistic = mean / math.sqrt(long_run / count)
    p_value = float(2.0 * norm.sf(abs(statistic)))
    return DieboldMariano(statistic, p_value, mean, lags, count)


@dataclass(frozen=True, slots=True)
class ForecastPath:
    """One model's walk-forward forecasts.

    Attributes
    ----------
    model : model name.
    horizon_hours : forecast horizon, hours.
    origin : (m,) datetime64[ns] forecast origins.
    forecast : (m,) forecast variance over ``[origin, origin + horizon)``, NaN where the model
        had no forecast (not enough history yet, input missing).
    realised : (m,) realised variance over the same window (sum of squared hourly log returns),
        NaN where the data does not cover it.
    refits : number of times the parameters were re-estimated.
    """

    model: str
    horizon_hours: int
    origin: TimeArray
    forecast: FloatArray
    realised: FloatArray
    refits: int


def daily_origins(
    history: MarketHistory,
    start: object,
    end: object | None,
    horizon: int | str,
    every: int | str = 24,
) -> TimeArray:
    """Forecast origins ``start, start + every, ...`` up to ``end`` (inclusive) or the last
    origin whose whole horizon is in the data; ``start``/``end`` are ISO dates or times (UTC).

    Raises ``ValueError`` naming ``start``/``end`` when they fall outside the data.
    """
    hours = parse_horizon(horizon)
    step = np.timedelta64(parse_horizon(every, "every"), "h")
    first = as_time(start, "start")
    last_possible = history.end - hours * HOUR
    last = last_possible if end is None else min(as_time(end, "end"), last_possible)
    if first <= history.time[0]:
        raise ValueError(
            f"start {start} must be after the first candle {history.time[0]} (models need "
            "history before the first origin)"
        )
    if end is not None and as_time(end, "end") < first:
        raise ValueError(f"end {end} is before start {start}")
    if first > last:
        raise ValueError(
            f"start {start} leaves no origin: the data end at {history.end}, and a "
            f"{hours} h horizon needs origins at or before {last_possible}"
        )
    count = int((last - first) // step) + 1
    return np.asarray(first + step * np.arange(count), dtype="datetime64[ns]")


def walk_forward(
    history: MarketHistory,
    forecaster: Forecaster,
    origins: TimeArray,
    horizon: int | str,
    refit_every: int | str | None = None,
) -> ForecastPath:
    """Out-of-sample forecasts at each origin, from data strictly before it.

    At every origin the forecaster sees ``history.before(origin)`` only: it is refitted when
    ``refit_every`` (hours or ``"7d"``; None = at every origin) has passed since its last fit,
    and otherwise only ``update``-d (new data, old parameters). An origin where the model cannot
    be fitted yet (:class:`InsufficientHistoryError`) gets no forecast (NaN). The caller's
    forecaster is not modified (a deep copy is fitted).
    """
    hours = parse_horizon(horizon)
    cadence = None if refit_every is None else parse_horizon(refit_every, "refit_every")
    model = copy.deepcopy(forecaster)
    stamps = np.asarray(origins, dtype="datetime64[ns]")
    forecast = np.full(stamps.size, np.nan)
    realised = np.full(stamps.size, np.nan)
    fitted_at: np.datetime64 | None = None
    refits = 0
    for i, origin in enumerate(stamps):
        realised[i] = history.realised_variance(origin, hours)
        past = history.before(origin)
        due = (
            fitted_at is None
            or cadence is None
            or origin - fitted_at >= np.timedelta64(cadence, "h")
        )
        try:
            if due:
                model.fit(past)
                fitted_at = origin
                refits += 1
            else:
                model.update(past)
        except InsufficientHistoryError:
            fitted_at = None
            continue
        forecast[i] = model.predict(hours).variance
    return ForecastPath(model.name, hours, stamps, forecast, realised, refits)


@dataclass(frozen=True, slots=True)
class ModelScore:
    """A model's losses on the common evaluation sample.

    Attributes
    ----------
    qlike : mean QLIKE.
    mse_log : mean squared error of log variance.
    n_forecasts : number of origins scored (the common sample).
    n_available : origins where this model had a forecast (before intersecting).
    versus : Diebold-Mariano tests of this model's QLIKE against each benchmark model name.
    versus_log : the same on squared log errors.
    """

    qlike: float
    mse_log: float
    n_forecasts: int
    n_available: int
    versus: dict[str, DieboldMariano]
    versus_log: dict[str, DieboldMariano]


@dataclass(frozen=True, slots=True)
class Comparison:
    """Scores of several models on their common sample of origins.

    Attributes
    ----------
    horizon_hours : forecast horizon.
    scores : model name -> :class:`ModelScore`.
    best : model with the lowest QLIKE.
    origin : (m,) the origins of the common sample.
    lags : HAC lags of the Diebold-Mariano tests.
    """

    horizon_hours: int
    scores: dict[str, ModelScore]
    best: str
    origin: TimeArray
    lags: int


def compare(
    paths: list[ForecastPath],
    benchmarks: tuple[str, ...] = ("ewma", "garch"),
    origin_step_hours: int = 24,
) -> Comparison:
    """Score every model on the origins where all of them (and the realised variance) exist.

    Comparing on one common sample keeps the losses comparable; Diebold-Mariano tests (QLIKE
    and log-MSE) against each benchmark present in ``paths``, with lags from
    :func:`newey_west_lags` for forecasts ``origin_step_hours`` apart.
    """
    if not paths:
        raise ValueError("paths must hold at least one model's forecasts")
    horizon = paths[0].horizon_hours
    for path in paths:
        if path.horizon_hours != horizon or not np.array_equal(path.origin, paths[0].origin):
            raise ValueError("paths must share one horizon and one set of origins")
    realised = paths[0].realised
    common = np.isfinite(realised) & (realised > 0)
    for path in paths:
        common &= np.isfinite(path.forecast)
    count = int(np.count_nonzero(common))
    if count == 0:
        raise ValueError(
            "no origin where every model has a forecast and the data cover the horizon"
        )
    steps = max(1, math.ceil(horizon / origin_step_hours))
    lags = newey_west_lags(steps, count)
    losses = {
        p.model: (qlike(realised[common], p.forecast[common]),
                  squared_log_error(realised[common], p.forecast[common]))
        for p in paths
    }
    scores: dict[str, ModelScore] = {}
    for path in paths:
        loss, log_loss = losses[path.model]
        versus = {}
        versus_log = {}
        for bench in benchmarks:
            if bench in losses and bench != path.model:
                versus[bench] = diebold_mariano(loss, losses[bench][0], lags)
                versus_log[bench] = diebold_mariano(log_loss, losses[bench][1], lags)
        scores[path.model] = ModelScore(
            qlike=float(np.mean(loss)),
            mse_log=float(np.mean(log_loss)),
            n_forecasts=count,
            n_available=int(np.count_nonzero(np.isfinite(path.forecast))),
            versus=versus,
            versus_log=versus_log,
        )
    best = min(scores, key=lambda name: scores[name].qlike)
    return Comparison(horizon, scores, best, paths[0].origin[common], lags)
