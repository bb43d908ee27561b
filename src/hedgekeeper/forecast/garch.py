"""GARCH(1,1) and GJR-GARCH(1,1,1) on hourly log returns, estimated with the ``arch`` package."""

from __future__ import annotations

import math
import warnings
from typing import Self

import numpy as np
from arch.univariate import GARCH, ZeroMean

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

    Zero mean, Gaussian quasi-maximum likelihood (robust to fat tails for the variance
    parameters). Estimation, filtering and the analytic multi-step forecast are those of
    K. Sheppard's ``arch`` package (``arch.univariate.ZeroMean`` + ``GARCH(p=1, o=0|1, q=1)``).
    The forecast of the realised variance over ``h`` hours is the sum of the 1..h-step-ahead
    conditional variance forecasts.

    Sources: T. Bollerslev (1986), "Generalized autoregressive conditional heteroskedasticity",
    *J. Econometrics* 31, 307-327; L. Glosten, R. Jagannathan & D. Runkle (1993), "On the
    relation between the expected value and the volatility of the nominal excess return on
    stocks", *J. Finance* 48(5), 1779-1801.

    Why hourly returns: the forecast target is a sum of squared hourly returns, and hourly data
    gives the model 24 times more observations of the variance dynamics than daily returns
    (Andersen & Bollerslev 1998 show daily-return GARCH forecasts look poor only because they
    are judged against noisy daily squared returns; here the target is the hourly RV itself).

    Parameters
    ----------
    asymmetric : False for GARCH(1,1), True for GJR-GARCH(1,1,1).
    window_days : rolling estimation window in days (default 730), or None for all history.
        The filter that conditions on the latest returns runs over the same window; its start
        value is ``arch``'s backcast (an exponential smoothing of the window's first squared
        returns), so nothing after the history's end is used.

    Attributes
    ----------
    params_ : (3,) or (4,) fitted ``omega, alpha[1], (gamma[1],) beta[1]`` for percent returns.
    converged_ : whether the optimiser reported convergence.
    persistence_ : α + γ/2 + β (hourly).
    origin_ : end of the history the state was computed from.
    """

    def __init__(self, asymmetric: bool = False, window_days: int | None = 730) -> None:
        if not isinstance(asymmetric, bool):
            raise ValueError(f"Garch: asymmetric must be True or False, got {asymmetric!r}")
        self.asymmetric = asymmetric
        self.window_days = optional_days("Garch", "window_days", window_days)

    @property
    def name(self) -> str:
        """``"gjr"`` or ``"garch"``."""
        return "gjr" if self.asymmetric else "garch"

    def _model(self, returns: FloatArray) -> ZeroMean:
        return ZeroMean(
            returns, volatility=GARCH(p=1, o=1 if self.asymmetric else 0, q=1), rescale=False
        )

    def _window(self, history: MarketHistory) -> FloatArray:
        start = max(1, window_start(history, self.window_days))
        returns = history.log_returns()[start:] * PERCENT
        if returns.size < 100:
            raise InsufficientHistoryError(
                f"Garch: history has {returns.size} hourly returns in the window; "
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
        alpha = self.params_[1]
        gamma = self.params_[2] if self.asymmetric else 0.0
        self.persistence_ = float(alpha + 0.5 * gamma + self.params_[-1])
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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = self._model(self._returns).forecast(self.params_, horizon=hours, reindex=False)
        variance = float(np.sum(path.variance.to_numpy()[-1])) / PERCENT**2
        ok = math.isfinite(variance) and variance > 0
        return Forecast(self.origin_, hours, variance if ok else math.nan, self.name)
