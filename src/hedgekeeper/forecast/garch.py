"""GARCH(1,1) and GJR-GARCH(1,1,1) on hourly log returns, estimated with the ``arch`` package."""

from __future__ import annotations

import math
import warnings
from typing import Literal, Self

import numpy as np
from arch.univariate import GARCH, Normal, StudentsT, ZeroMean

from hedgekeeper.forecast._common import (
    InsufficientHistoryError,
    not_fitted,
    optional_days,
    window_start,
)
from hedgekeeper.forecast.history import FloatArray, Forecast, MarketHistory, parse_horizon

PERCENT = 100.0
"""Returns are fitted in percent (the scale ``arch``'s optimiser expects); variances /1e4."""


class Garch:
    r"""GARCH(1,1) — or GJR-GARCH(1,1,1) with ``asymmetric=True`` — on hourly log returns.

    .. math::
        r_t = \sigma_t z_t,\qquad
        \sigma_t^2 = \omega + (\alpha + \gamma\, 1[r_{t-1} < 0])\, r_{t-1}^2
                     + \beta \sigma_{t-1}^2

    Zero mean; by default Student-t innovations (unit variance, ν estimated; Bollerslev 1987),
    or Gaussian quasi-maximum likelihood with ``dist="normal"``. Estimation, filtering and
    the analytic multi-step forecast are those of K. Sheppard's ``arch`` package
    (``arch.univariate.ZeroMean`` + ``GARCH(p=1, o=0|1, q=1)``). The forecast of the realised
    variance over ``h`` hours is the sum of the 1..h-step-ahead conditional variance forecasts
    (with ``frequency="daily"``: of the 1..⌈h/24⌉-day forecasts, the last one pro rata).

    Sources: T. Bollerslev (1986), "Generalized autoregressive conditional heteroskedasticity",
    *J. Econometrics* 31, 307-327; L. Glosten, R. Jagannathan & D. Runkle (1993), "On the
    relation between the expected value and the volatility of the nominal excess return on
    stocks", *J. Finance* 48(5), 1779-1801.

    Why hourly returns and Student-t by default: the forecast target is a sum of squared hourly
    returns, and hourly data gives the model 24 times more observations of the variance
    dynamics. Hourly crypto returns have jumps; under Gaussian QMLE a single jump hour drives
    α up and α + β to 1 (an IGARCH with an unbounded long-run level), which wrecks multi-day
    forecasts; the Student-t likelihood down-weights jumps. In a walk-forward on BTC and ETH
    2021-2024 (origins every 3 days, ``docs/forecasting.md``) hourly Student-t had the lowest
    QLIKE of {hourly, daily} x {normal, t} at 24 h, and daily-return GARCH the lowest at 7 d.

    Parameters
    ----------
    asymmetric : False for GARCH(1,1), True for GJR-GARCH(1,1,1).
    window_days : rolling estimation window in days (default 730), or None for all history.
    frequency : ``"hourly"`` (default) returns, or ``"daily"``: 24-hour returns in blocks
        ending at the history's end (the forecast origin).
    dist : ``"t"`` (default, Student-t likelihood) or ``"normal"`` (Gaussian QMLE).
        The filter that conditions on the latest returns runs over the same window; its start
        value is ``arch``'s backcast (an exponential smoothing of the window's first squared
        returns), so nothing after the history's end is used.

    Attributes
    ----------
    params_ : fitted ``omega, alpha[1], (gamma[1],) beta[1], (nu)`` as ``arch`` orders them,
        for returns in percent.
    omega_, alpha_, gamma_, beta_ : the variance parameters (ω for percent returns, per step;
        γ = 0 without asymmetry).
    nu_ : Student-t degrees of freedom (inf for ``dist="normal"``).
    converged_ : whether the optimiser reported convergence.
    persistence_ : α + γ/2 + β (per step: an hour, or a day).
    origin_ : end of the history the state was computed from.
    """

    def __init__(
        self,
        asymmetric: bool = False,
        window_days: int | None = 730,
        frequency: Literal["hourly", "daily"] = "hourly",
        dist: Literal["normal", "t"] = "t",
    ) -> None:
        if not isinstance(asymmetric, bool):
            raise ValueError(f"Garch: asymmetric must be True or False, got {asymmetric!r}")
        self.asymmetric = asymmetric
        self.window_days = optional_days("Garch", "window_days", window_days)
        if frequency not in ("hourly", "daily"):
            raise ValueError(f"Garch: frequency must be 'hourly' or 'daily', got {frequency!r}")
        self.frequency = frequency
        if dist not in ("normal", "t"):
            raise ValueError(f"Garch: dist must be 'normal' or 't', got {dist!r}")
        self.dist = dist

    @property
    def name(self) -> str:
        """``"gjr"`` or ``"garch"``."""
        return "gjr" if self.asymmetric else "garch"

    def _model(self, returns: FloatArray) -> ZeroMean:
        return ZeroMean(
            returns,
            volatility=GARCH(p=1, o=1 if self.asymmetric else 0, q=1),
            distribution=StudentsT() if self.dist == "t" else Normal(),
            rescale=False,
        )

    def _window(self, history: MarketHistory) -> FloatArray:
        start = max(1, window_start(history, self.window_days))
        returns = history.log_returns()[start:] * PERCENT
        if self.frequency == "daily":
            # 24-hour returns in blocks that end at the history's end (the forecast origin).
            days = returns.size // 24
            returns = returns[returns.size - 24 * days :].reshape(days, 24).sum(axis=1)
        if returns.size < 100:
            raise InsufficientHistoryError(
                f"Garch: history has {returns.size} {self.frequency} returns in the window; "
                "at least 100 are needed"
            )
        return returns

    def fit(self, history: MarketHistory) -> Self:
        """Estimate the parameters by QMLE on the window ending at the history's end."""
        returns = self._window(history)
        with warnings.catch_warnings():
            # arch warns (ConvergenceWarning) on a non-zero optimiser flag; it is kept in
            # converged_ instead, and the estimate is still used.
            warnings.simplefilter("ignore")
            result = self._model(returns).fit(disp="off", show_warning=False)
        self.params_ = np.asarray(result.params, dtype=np.float64)
        self.converged_ = bool(result.convergence_flag == 0)
        values = list(self.params_)
        self.omega_, self.alpha_ = float(values[0]), float(values[1])
        self.gamma_ = float(values[2]) if self.asymmetric else 0.0
        self.beta_ = float(values[3 if self.asymmetric else 2])
        self.nu_ = float(values[-1]) if self.dist == "t" else math.inf
        self.persistence_ = self.alpha_ + 0.5 * self.gamma_ + self.beta_
        self._returns = returns
        self.origin_ = history.end
        return self

    def update(self, history: MarketHistory) -> Self:
        """Keep ``params_``; condition on the returns of the window ending at ``history.end``."""
        if not hasattr(self, "params_"):
            raise not_fitted("Garch")
        self._returns = self._window(history)
        self.origin_ = history.end
        return self

    def predict(self, horizon: int | str) -> Forecast:
        """Sum of the 1..h-hour-ahead conditional variance forecasts."""
        if not hasattr(self, "params_"):
            raise not_fitted("Garch")
        hours = parse_horizon(horizon)
        step = 24 if self.frequency == "daily" else 1
        steps = math.ceil(hours / step)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = self._model(self._returns).forecast(self.params_, horizon=steps, reindex=False)
        per_step = path.variance.to_numpy()[-1]
        # A horizon that is not a whole number of days takes a pro-rata share of the last day.
        weights = np.ones(steps)
        weights[-1] = (hours - step * (steps - 1)) / step
        variance = float(per_step @ weights) / PERCENT**2
        ok = math.isfinite(variance) and variance > 0
        return Forecast(self.origin_, hours, variance if ok else math.nan, self.name)
