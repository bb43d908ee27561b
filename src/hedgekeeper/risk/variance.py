"""Variance of hedging P&L over a horizon, and the mean-variance value of reducing it.

Model (second order in the spot move, first order in the vol move) over a horizon ``h`` years::

    dPnL = delta * dS + gamma / 2 * dS**2 + vega * dsigma
    dS = S * sigma * sqrt(h) * Z1,   dsigma = sigma_sigma * sqrt(h) * Z2,   corr(Z1, Z2) = rho

with ``Z1, Z2`` standard normal. For jointly normal zero-mean ``(dS, dsigma)``: ``Var(dS**2) =
2 (S sigma)**4 h**2`` and ``Cov(dS**2, dS) = Cov(dS**2, dsigma) = 0`` (odd moments), so::

    Var = delta**2 S**2 sigma**2 h + 1/2 gamma**2 S**4 sigma**4 h**2
          + vega**2 sigma_sigma**2 h + 2 rho delta vega S sigma sigma_sigma h

Assumptions: normal spot returns over a short horizon (no jumps or fat tails: the variance, and so
the benefit, is understated in stress), Greeks constant over the horizon (no vanna/volga/charm),
``sigma_sigma`` the volatility of absolute changes of implied vol, and no carry (theta, funding)
in the variance since it is deterministic at this order.

The certainty equivalent of a P&L with variance ``V`` to a mean-variance investor with absolute
risk aversion ``gamma_ra`` (1/USD) is ``E - gamma_ra / 2 * V`` (Markowitz 1952; exact for CARA
utility and normal P&L), so cutting variance from ``V0`` to ``V1`` is worth
``gamma_ra / 2 * (V0 - V1)`` USD.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hedgekeeper.pricing._inputs import as_float, require

FloatArray = npt.NDArray[np.float64]


def pnl_variance(
    delta: npt.ArrayLike,
    gamma: npt.ArrayLike,
    vega: npt.ArrayLike,
    spot: npt.ArrayLike,
    vol: npt.ArrayLike,
    horizon: npt.ArrayLike,
    vol_of_vol: npt.ArrayLike = 0.0,
    spot_vol_correlation: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Variance of a book's P&L over ``horizon`` from its delta, gamma and vega (module formula).

    Parameters
    ----------
    delta : net delta, coin (dV/dS).
    gamma : net gamma, coin per USD (d2V/dS2).
    vega : net vega, USD per 1.00 of vol.
    spot : USD per coin, > 0.
    vol : annualised spot volatility, fraction, >= 0.
    horizon : years until the next decision, >= 0.
    vol_of_vol : annualised volatility of absolute implied-vol changes, vol per sqrt(year), >= 0.
    spot_vol_correlation : correlation of spot returns and vol changes, in [-1, 1].

    Returns
    -------
    ndarray of float64, the broadcast shape: variance in USD².
    """
    d, g, v = (as_float(name, x) for name, x in (("delta", delta), ("gamma", gamma),
                                                 ("vega", vega)))
    s, sigma, h = as_float("spot", spot), as_float("vol", vol), as_float("horizon", horizon)
    nu, rho = as_float("vol_of_vol", vol_of_vol), as_float("spot_vol_correlation",
                                                          spot_vol_correlation)
    for name, value in (("delta", d), ("gamma", g), ("vega", v)):
        require(name, np.isfinite(value), "finite", value)
    require("spot", np.isfinite(s) & (s > 0.0), "finite and > 0 (USD per coin)", s)
    require("vol", np.isfinite(sigma) & (sigma >= 0.0), "finite and >= 0 (fraction)", sigma)
    require("horizon", np.isfinite(h) & (h >= 0.0), "finite and >= 0 (years)", h)
    require("vol_of_vol", np.isfinite(nu) & (nu >= 0.0), "finite and >= 0", nu)
    require("spot_vol_correlation", np.abs(rho) <= 1.0, "in [-1, 1]", rho)
    move = s * sigma  # USD per coin per sqrt(year)
    variance = (d**2 * move**2 * h + 0.5 * g**2 * move**4 * h**2 + v**2 * nu**2 * h
                + 2.0 * rho * d * v * move * nu * h)
    return np.asarray(variance, dtype=np.float64)


def variance_benefit(variance_before: npt.ArrayLike, variance_after: npt.ArrayLike,
                     risk_aversion: npt.ArrayLike) -> FloatArray:
    """Certainty-equivalent value of a variance reduction: ``risk_aversion / 2 * (V0 - V1)``.

    Parameters
    ----------
    variance_before, variance_after : P&L variance before and after the trade, USD².
    risk_aversion : absolute risk aversion, 1/USD, >= 0.

    Returns
    -------
    ndarray of float64: benefit in USD (negative if the trade adds variance).
    """
    v0 = as_float("variance_before", variance_before)
    v1 = as_float("variance_after", variance_after)
    ra = as_float("risk_aversion", risk_aversion)
    require("risk_aversion", np.isfinite(ra) & (ra >= 0.0), "finite and >= 0 (1/USD)", ra)
    for name, value in (("variance_before", v0), ("variance_after", v1)):
        require(name, np.isfinite(value) & (value >= 0.0), "finite and >= 0 (USD²)", value)
    return np.asarray(0.5 * ra * (v0 - v1), dtype=np.float64)
