"""Raw SVI smiles: evaluation, the butterfly (density) check, and a robust weighted fit.

Raw SVI (Gatheral 2004; Gatheral & Jacquier 2014, "Arbitrage-free SVI volatility surfaces",
eq. 3.1) gives the total implied variance of one expiry as a function of log-moneyness::

    w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2)),    k = ln(K / F)

with ``w = vol^2 * t`` (vol as a fraction, ``t`` in years ACT/365) and ``F`` the forward of that
expiry. Parameter domain: ``b >= 0``, ``|rho| < 1``, ``sigma > 0`` and a non-negative minimum
``a + b sigma sqrt(1 - rho^2) >= 0``. The wing slopes of ``w`` are ``b (1 - rho)`` (left) and
``b (1 + rho)`` (right); Roger Lee's moment formula bounds both by 2, and the fit enforces it.

Fitting (:func:`fit_svi`) minimises the weighted squared error in implied vol,
``sum_i weight_i (vol_svi(k_i) - vol_i)^2``. The default weights are the Black-76 vega of each
quote at its own mark IV (normalised to a maximum of 1): a vol error weighted by vega is
a price error to first order, so deep wing quotes, whose mark IV pins hardly any premium (on
Deribit often the venue's own flat extrapolation), barely pull the fit. The fit runs in three
deterministic steps:

1. quasi-explicit reduction (Zeliade Systems 2009, "Quasi-explicit calibration of Gatheral's SVI
   model"): for fixed ``(m, sigma)``, ``w`` is linear in ``(a, u, v)`` with
   ``u = b sigma (1 + rho)``, ``v = b sigma (1 - rho)``; the Lee bounds are the box
   ``0 <= u, v <= 2 sigma``, so the inner problem is a box-constrained linear least squares in
   total variance, solved exactly by enumerating its 9 active sets, vectorised over a grid of
   ``(m, sigma)``;
2. outer 2-D search: the best grid point, refined by :func:`scipy.optimize.minimize`
   (Nelder-Mead on ``(m, ln sigma)``);
3. polish in vol space with :func:`scipy.optimize.least_squares` over all five parameters, in a
   reparametrisation (``m, sigma``, the two wing slopes, the minimum total variance) in which
   every constraint is a simple bound;
4. arbitrage repair, only when the polished slice fails the butterfly check (``g(k) < 0``
   somewhere on :func:`arbitrage_grid`) or, given a shorter and/or a longer expiry's slice,
   the calendar check (``w_shorter(k) <= w(k) <= w_longer(k)``): the polish is re-run with
   smooth penalties on the violations (Gatheral & Jacquier 2014, section 5), from two starts.
   The repaired slice is kept only if it passes the checks and its weighted vol RMSE is at
   most 0.5 vol points above the unrepaired one's; otherwise the unrepaired slice is
   returned and the checks report the arbitrage.

Step 1 uses total-variance weights ``weight_i / vol_i^2``, because
``dw = 2 vol t dvol``, so both steps minimise (to first order) the same objective.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import least_squares, minimize

from hedgekeeper.pricing._inputs import ArrayLike, FloatArray, as_float, broadcast, require

LEE_MAX_WING_SLOPE = 2.0
"""Roger Lee's moment formula: ``lim sup w(k) / |k| <= 2`` as ``|k| -> infinity``."""

_MIN_POINTS = 5
_MIN_SLOPE = 1e-8  # keeps |rho| strictly below 1 in the polish
_GRID_M = 25
_GRID_SIGMA = 25
_CONSTRAINT_STRIDE = 5  # the arbitrage repair penalises every 5th check-grid point
_G_MARGIN = 1e-3  # aim a little inside the constraint so the full check grid finds no sliver
_ARBITRAGE_PENALTY = 10.0  # residual per point ~ 10 * shortfall, against vol errors of ~1e-3
_REPAIR_TOLERANCE = 0.005  # vol (0.5 vol points) of weighted RMSE an arbitrage repair may cost


@dataclass(frozen=True)
class SviParams:
    """Raw SVI parameters of one expiry (total variance in log-moneyness).

    Attributes
    ----------
    a : float
        Level of total variance (may be negative as long as the minimum is not).
    b : float
        Wing steepness, ``>= 0``.
    rho : float
        Skew (rotation), ``-1 < rho < 1``.
    m : float
        Horizontal shift, in log-moneyness.
    sigma : float
        ATM smoothness, ``> 0``, in log-moneyness.
    """

    a: float
    b: float
    rho: float
    m: float
    sigma: float

    def __post_init__(self) -> None:
        for name in ("a", "b", "rho", "m", "sigma"):
            value = getattr(self, name)
            if not np.isfinite(value):
                raise ValueError(f"SVI parameter {name} must be finite, got {value!r}")
        if self.b < 0.0:
            raise ValueError(f"SVI parameter b must be >= 0, got {self.b!r}")
        if not -1.0 < self.rho < 1.0:
            raise ValueError(f"SVI parameter rho must lie strictly in (-1, 1), got {self.rho!r}")
        if self.sigma <= 0.0:
            raise ValueError(f"SVI parameter sigma must be > 0, got {self.sigma!r}")
        floor = self.min_total_variance
        if floor < -1e-12 * max(1.0, abs(self.a)):
            raise ValueError(
                "SVI parameters must give a non-negative minimum total variance "
                f"a + b*sigma*sqrt(1 - rho^2), got {floor!r}"
            )

    @property
    def min_total_variance(self) -> float:
        """Minimum of ``w`` over all ``k``: ``a + b sigma sqrt(1 - rho^2)``."""
        return float(self.a + self.b * self.sigma * np.sqrt(1.0 - self.rho * self.rho))

    @property
    def left_wing_slope(self) -> float:
        """``-dw/dk`` as ``k -> -infinity``: ``b (1 - rho)``."""
        return float(self.b * (1.0 - self.rho))

    @property
    def right_wing_slope(self) -> float:
        """``dw/dk`` as ``k -> +infinity``: ``b (1 + rho)``."""
        return float(self.b * (1.0 + self.rho))

    def total_variance(self, log_moneyness: ArrayLike) -> FloatArray:
        """Total implied variance ``w(k)`` (vol^2 * years), same shape as ``log_moneyness``."""
        return raw_svi_total_variance(log_moneyness, self.a, self.b, self.rho, self.m, self.sigma)

    def implied_vol(self, log_moneyness: ArrayLike, t: float) -> FloatArray:
        """Implied vol (fraction) ``sqrt(w(k) / t)`` for expiry ``t`` years."""
        t_arr = as_float("t", t)
        require("t", np.isfinite(t_arr) & (t_arr > 0.0), "a positive number of years", t_arr)
        return np.sqrt(np.maximum(self.total_variance(log_moneyness), 0.0) / t_arr)

    def density_factor(self, log_moneyness: ArrayLike) -> FloatArray:
        """Gatheral's ``g(k)``; the slice is free of butterfly arbitrage iff ``g >= 0`` everywhere.

        Gatheral & Jacquier (2014), Lemma 2.2::

            g(k) = (1 - k w'/(2w))^2 - (w'^2 / 4) (1/w + 1/4) + w''/2

        The risk-neutral density of ``ln(S_T / F)`` is
        ``g(k) / sqrt(2 pi w) * exp(-d_minus(k)^2 / 2)``, so its sign is the sign of ``g``.
        """
        k = as_float("log_moneyness", log_moneyness)
        return _density_factor(k, self.a, self.b, self.rho, self.m, self.sigma)


def _density_factor(
    k: FloatArray, a: float, b: float, rho: float, m: float, sigma: float
) -> FloatArray:
    x = k - m
    root = np.sqrt(x * x + sigma * sigma)
    w = a + b * (rho * x + root)
    w1 = b * (rho + x / root)
    w2 = b * sigma * sigma / root**3
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (1.0 - k * w1 / (2.0 * w)) ** 2 - 0.25 * w1 * w1 * (1.0 / w + 0.25) + 0.5 * w2
    # Zero total variance is a degenerate (point-mass) smile: report it as a violation.
    result: FloatArray = np.where(w > 0.0, g, -np.inf)
    return result


def raw_svi_total_variance(
    log_moneyness: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    rho: ArrayLike,
    m: ArrayLike,
    sigma: ArrayLike,
) -> FloatArray:
    """Vectorised raw SVI: ``a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2))``.

    All arguments broadcast together (one parameter set per element lets a surface evaluate
    many slices in one call). No parameter validation; see :class:`SviParams`.

    Returns
    -------
    FloatArray
        Total implied variance (vol^2 * years), the broadcast shape of the inputs.
    """
    k, a_, b_, rho_, m_, sigma_ = (
        as_float(name, value)
        for name, value in (
            ("log_moneyness", log_moneyness),
            ("a", a),
            ("b", b),
            ("rho", rho),
            ("m", m),
            ("sigma", sigma),
        )
    )
    x = k - m_
    result: FloatArray = a_ + b_ * (rho_ * x + np.sqrt(x * x + sigma_ * sigma_))
    return result


@dataclass(frozen=True)
class ButterflyCheck:
    """Result of the ``g(k) >= 0`` check of one slice on a grid of log-moneyness.

    Attributes
    ----------
    ok : bool
        True when ``g >= 0`` at every grid point.
    min_g : float
        Smallest ``g`` on the grid (``-inf`` where total variance reaches zero).
    k_at_min_g : float
        Log-moneyness of ``min_g``.
    violations : tuple of (float, float)
        Closed log-moneyness intervals (grid points) on which ``g < 0``.
    k_range : (float, float)
        The grid's first and last log-moneyness.
    """

    ok: bool
    min_g: float
    k_at_min_g: float
    violations: tuple[tuple[float, float], ...]
    k_range: tuple[float, float]


def default_check_grid(
    params: SviParams, t: float | None = None, log_moneyness: ArrayLike | None = None
) -> FloatArray:
    """Log-moneyness grid (2001 points) for the arbitrage checks of one slice.

    It spans ``[-1.5, 1.5]`` (strikes from 0.22 to 4.5 times the forward), widened to six ATM
    standard deviations ``6 sqrt(w(0))`` and to the quotes' own range when those are wider.
    ``t`` is accepted for symmetry with callers and does not change the grid (total variance
    already carries the expiry).
    """
    del t
    half_width = max(1.5, 6.0 * float(np.sqrt(max(params.total_variance(0.0).item(), 0.0))))
    low, high = -half_width, half_width
    if log_moneyness is not None:
        k = as_float("log_moneyness", log_moneyness)
        if k.size:
            low, high = min(low, float(np.min(k))), max(high, float(np.max(k)))
    return np.linspace(low, high, 2001)


def check_butterfly(params: SviParams, log_moneyness: ArrayLike | None = None) -> ButterflyCheck:
    """Check Gatheral's density condition ``g(k) >= 0`` on a log-moneyness grid.

    Parameters
    ----------
    params : SviParams
        The slice.
    log_moneyness : array_like, shape (n,), optional
        The grid; default :func:`default_check_grid`.

    Returns
    -------
    ButterflyCheck
    """
    grid = (
        default_check_grid(params)
        if log_moneyness is None
        else np.sort(as_float("log_moneyness", log_moneyness).ravel())
    )
    require("log_moneyness", np.isfinite(grid), "finite", grid)
    if grid.size == 0:
        raise ValueError("log_moneyness grid must not be empty")
    g = params.density_factor(grid)
    i_min = int(np.argmin(g))
    bad = g < 0.0
    return ButterflyCheck(
        ok=not bool(bad.any()),
        min_g=float(g[i_min]),
        k_at_min_g=float(grid[i_min]),
        violations=intervals_where(grid, bad),
        k_range=(float(grid[0]), float(grid[-1])),
    )


def intervals_where(
    grid: FloatArray, mask: npt.NDArray[np.bool_]
) -> tuple[tuple[float, float], ...]:
    """Maximal runs of ``mask`` on a sorted ``grid``, as ``(first, last)`` grid values."""
    if not mask.any():
        return ()
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.diff(padded)
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1) - 1
    return tuple((float(grid[s]), float(grid[e])) for s, e in zip(starts, stops, strict=True))


def vega_weights(log_moneyness: ArrayLike, implied_vol: ArrayLike, t: float) -> FloatArray:
    """Black-76 vega of each quote at its own IV, normalised to a maximum of 1.

    Within one expiry Black-76 vega is ``F sqrt(t) phi(d1)`` with
    ``d1 = -k / (vol sqrt(t)) + vol sqrt(t) / 2``; ``F sqrt(t)`` is common to all quotes, so the
    weight is ``phi(d1) / max phi(d1)``.

    Returns
    -------
    FloatArray, shape (n,)
    """
    k, vol = (
        np.asarray(x, dtype=np.float64)
        for x in broadcast(
            {
                "log_moneyness": as_float("log_moneyness", log_moneyness),
                "implied_vol": as_float("implied_vol", implied_vol),
            }
        )
    )
    std = vol * np.sqrt(float(t))
    d1 = -k / std + 0.5 * std
    phi = np.exp(-0.5 * d1 * d1)
    peak = float(np.max(phi)) if phi.size else 1.0
    return np.asarray(phi / peak if peak > 0.0 else np.ones_like(phi), dtype=np.float64)


@dataclass(frozen=True)
class SviFit:
    """One fitted slice and its error against the quotes it was fitted to.

    Attributes
    ----------
    params : SviParams
    t : float
        Expiry in years (ACT/365).
    log_moneyness : FloatArray, shape (n,)
        The quotes' ``ln(K / F)``.
    market_vol : FloatArray, shape (n,)
        Quoted implied vols (fraction).
    fitted_vol : FloatArray, shape (n,)
        SVI vols at the quotes (fraction).
    weights : FloatArray, shape (n,)
        Fit weights used.
    rmse_vol : float
        Root-mean-square of ``fitted_vol - market_vol`` over the quotes, in vol points (1 = 1 %).
    max_abs_vol : float
        Largest ``|fitted_vol - market_vol|``, in vol points.
    rmse_vol_weighted : float
        ``sqrt(sum w e^2 / sum w)``, the fit objective, in vol points.
    """

    params: SviParams
    t: float
    log_moneyness: FloatArray
    market_vol: FloatArray
    fitted_vol: FloatArray
    weights: FloatArray
    rmse_vol: float
    max_abs_vol: float
    rmse_vol_weighted: float


def fit_svi(
    log_moneyness: ArrayLike,
    implied_vol: ArrayLike,
    t: float,
    weights: ArrayLike | None = None,
    lower_slice: SviParams | None = None,
    upper_slice: SviParams | None = None,
) -> SviFit:
    """Fit raw SVI to one expiry's implied vols (see the module docstring for the method).

    Parameters
    ----------
    log_moneyness : array_like, shape (n,)
        ``ln(K / F)`` of each quote; at least 5 distinct values.
    implied_vol : array_like, shape (n,)
        Implied vols as fractions (0.45 = 45 %), positive.
    t : float
        Expiry in years (ACT/365), positive.
    weights : array_like, shape (n,), optional
        Non-negative weights on the squared vol errors; default :func:`vega_weights`.
    lower_slice, upper_slice : SviParams, optional
        Fitted slices of a shorter and of a longer expiry. If given, calendar arbitrage
        against them (``w(k) < lower_slice.w(k)`` or ``w(k) > upper_slice.w(k)`` on
        :func:`arbitrage_grid`) is repaired like butterfly arbitrage, by a penalised re-fit
        (see the module docstring).

    Returns
    -------
    SviFit

    Raises
    ------
    ValueError
        Naming the argument, for non-finite or out-of-range inputs or too few quotes.
    """
    t_arr = as_float("t", t)
    if t_arr.ndim != 0:
        raise ValueError(f"t must be a scalar number of years, got shape {t_arr.shape}")
    require("t", np.isfinite(t_arr) & (t_arr > 0.0), "a positive number of years", t_arr)
    expiry = float(t_arr)
    k = as_float("log_moneyness", log_moneyness).ravel()
    vol = as_float("implied_vol", implied_vol).ravel()
    if k.shape != vol.shape:
        raise ValueError(
            f"log_moneyness and implied_vol must have the same length, got {k.size} and {vol.size}"
        )
    require("log_moneyness", np.isfinite(k), "finite", k)
    require("implied_vol", np.isfinite(vol) & (vol > 0.0), "positive and finite", vol)
    if np.unique(k).size < _MIN_POINTS:
        raise ValueError(
            f"log_moneyness needs at least {_MIN_POINTS} distinct strikes to fit SVI, "
            f"got {np.unique(k).size}"
        )
    if weights is None:
        weight = vega_weights(k, vol, expiry)
    else:
        weight = as_float("weights", weights).ravel()
        if weight.shape != k.shape:
            raise ValueError(f"weights must have length {k.size}, got {weight.size}")
        require("weights", np.isfinite(weight) & (weight >= 0.0), "finite and >= 0", weight)
        if not weight.sum() > 0.0:
            raise ValueError("weights must not all be zero")
    weight = weight / weight.sum()

    total_var = vol * vol * expiry
    tv_weight = weight / (vol * vol)
    tv_weight = tv_weight / tv_weight.sum()
    k_low, k_high = float(k.min()), float(k.max())
    span = k_high - k_low
    sigma_bounds = (1e-4 * span, 4.0 * span)
    m_bounds = (k_low - span, k_high + span)

    m0, sigma0, linear = _quasi_explicit_start(k, total_var, tv_weight, sigma_bounds, m_bounds)
    params = _polish(
        k,
        vol,
        weight,
        expiry,
        (m0, sigma0, linear),
        (sigma_bounds, m_bounds),
        (lower_slice, upper_slice),
    )

    fitted = params.implied_vol(k, expiry)
    error = fitted - vol
    return SviFit(
        params=params,
        t=expiry,
        log_moneyness=k,
        market_vol=vol,
        fitted_vol=fitted,
        weights=weight,
        rmse_vol=100.0 * float(np.sqrt(np.mean(error * error))),
        max_abs_vol=100.0 * float(np.max(np.abs(error))),
        rmse_vol_weighted=100.0 * float(np.sqrt(np.sum(weight * error * error))),
    )


# Active sets of the inner box problem: each of u, v free (NaN), at 0, or at its upper bound
# 2 sigma (the Lee slope bound), as a fraction of that bound; a is always free.
_FACES = np.array([(fu, fv) for fu in (np.nan, 0.0, 1.0) for fv in (np.nan, 0.0, 1.0)])


def _inner_solve(
    k: FloatArray,
    total_var: FloatArray,
    tv_weight: FloatArray,
    m: FloatArray,
    sigma: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Best ``(a, u, v)`` for each ``(m, sigma)`` pair, shape (G,); returns (objective, (G, 3)).

    Convex quadratic on a box: the optimum is the unconstrained optimum on one face of the box
    (the free variables solve the normal equations with the others at their bounds), so solving
    every face and keeping the best feasible solution is exact. All 9 faces and all G pairs go
    through one batched solve; a fixed variable's row of the normal equations is replaced by
    ``x_j = bound``.
    """
    y = (k[None, :] - m[:, None]) / sigma[:, None]
    root = np.sqrt(y * y + 1.0)
    basis = np.stack((np.ones_like(y), 0.5 * (root + y), 0.5 * (root - y)), axis=-1)  # (G, n, 3)
    weighted = basis * tv_weight[None, :, None]
    gram = np.einsum("gni,gnj->gij", weighted, basis)
    rhs = np.einsum("gni,n->gi", weighted, total_var)
    const = float(np.sum(tv_weight * total_var * total_var))
    upper = LEE_MAX_WING_SLOPE * sigma

    fixed = np.zeros((_FACES.shape[0], 3), dtype=bool)
    fixed[:, 1:] = ~np.isnan(_FACES)
    bound = np.zeros((_FACES.shape[0], m.size, 3))
    bound[:, :, 1:] = np.nan_to_num(_FACES)[:, None, :] * upper[None, :, None]
    system = np.broadcast_to(gram, (_FACES.shape[0], *gram.shape)).copy()  # (9, G, 3, 3)
    target = np.broadcast_to(rhs, bound.shape).copy()
    # A tiny ridge keeps the solve defined where the basis degenerates (sigma >> |k - m| makes
    # the u and v columns collinear with the constant); it moves nothing else.
    ridge = 1e-12 * np.trace(gram, axis1=1, axis2=2)
    diagonal = np.arange(3)
    system[:, :, diagonal, diagonal] += ridge[None, :, None]
    face_rows, col = np.nonzero(fixed)
    system[face_rows, :, col, :] = 0.0
    system[face_rows, :, col, col] = 1.0
    target[face_rows, :, col] = bound[face_rows, :, col]
    x = np.linalg.solve(system, target[..., None])[..., 0]  # (9, G, 3)

    a, u, v = x[..., 0], x[..., 1], x[..., 2]
    tol = 1e-12 * np.maximum(upper, 1.0)
    feasible = (
        (u >= -tol)
        & (u <= upper + tol)
        & (v >= -tol)
        & (v <= upper + tol)
        & (a + np.sqrt(np.clip(u, 0.0, None) * np.clip(v, 0.0, None)) >= 0.0)
    )
    obj = np.einsum("fgi,gij,fgj->fg", x, gram, x) - 2.0 * np.einsum("gi,fgi->fg", rhs, x) + const
    obj = np.where(feasible, obj, np.inf)
    best = np.argmin(obj, axis=0)
    columns = np.arange(m.size)
    best_obj = obj[best, columns]
    best_x = x[best, columns]
    # The flat smile (u = v = 0, a = weighted mean) is always feasible: face (0, 0) holds it.
    best_x[:, 1:] = np.clip(best_x[:, 1:], 0.0, upper[:, None])
    return best_obj, best_x


def _quasi_explicit_start(
    k: FloatArray,
    total_var: FloatArray,
    tv_weight: FloatArray,
    sigma_bounds: tuple[float, float],
    m_bounds: tuple[float, float],
) -> tuple[float, float, FloatArray]:
    """Steps 1-2: grid over ``(m, sigma)`` then Nelder-Mead; returns ``m, sigma, (a, u, v)``."""
    m_grid = np.linspace(float(k.min()), float(k.max()), _GRID_M)
    sigma_grid = np.geomspace(sigma_bounds[0], sigma_bounds[1], _GRID_SIGMA)
    mm, ss = np.meshgrid(m_grid, sigma_grid, indexing="ij")
    objective, _ = _inner_solve(k, total_var, tv_weight, mm.ravel(), ss.ravel())
    best = int(np.argmin(objective))
    start = np.array([mm.ravel()[best], np.log(ss.ravel()[best])])

    scale = float(np.sum(tv_weight * total_var * total_var))  # objective relative to sum w w^2

    def outer(z: FloatArray) -> float:
        value, _ = _inner_solve(k, total_var, tv_weight, z[:1], np.exp(z[1:]))
        return float(value[0]) / scale

    result = minimize(
        outer,
        start,
        method="Nelder-Mead",
        bounds=[m_bounds, (np.log(sigma_bounds[0]), np.log(sigma_bounds[1]))],
        options={"xatol": 1e-3, "fatol": 1e-9, "maxiter": 300},
    )
    z = result.x if result.fun <= objective[best] / scale else start
    m0, sigma0 = float(z[0]), float(np.exp(z[1]))
    _, linear = _inner_solve(k, total_var, tv_weight, np.array([m0]), np.array([sigma0]))
    return m0, sigma0, linear[0]


def _params_from_slopes(
    m: float, sigma: float, left: float, right: float, floor: float
) -> tuple[float, float, float]:
    """``(a, b, rho)`` from wing slopes and minimum total variance."""
    b = 0.5 * (left + right)
    rho = (right - left) / (right + left) if b > 0.0 else 0.0
    a = floor - sigma * np.sqrt(left * right)
    return float(a), float(b), float(rho)


def _polish(
    k: FloatArray,
    vol: FloatArray,
    weight: FloatArray,
    t: float,
    start_values: tuple[float, float, FloatArray],
    bounds: tuple[tuple[float, float], tuple[float, float]],
    neighbours: tuple[SviParams | None, SviParams | None],
) -> SviParams:
    """Steps 3-4: bounded nonlinear least squares in vol space, then the arbitrage repair."""
    m0, sigma0, linear = start_values
    sigma_bounds, m_bounds = bounds
    a0, u0, v0 = (float(x) for x in linear)
    right0 = float(np.clip(u0 / sigma0, _MIN_SLOPE, LEE_MAX_WING_SLOPE))
    left0 = float(np.clip(v0 / sigma0, _MIN_SLOPE, LEE_MAX_WING_SLOPE))
    # A strictly positive floor keeps g(k) finite; 1e-3 of the smallest quoted total variance
    # is a vol floor of about 3 % of the lowest quoted vol.
    floor_low = 1e-3 * float(np.min(vol) ** 2 * t)
    floor_high = float(np.max(vol) ** 2 * t)
    floor0 = float(np.clip(a0 + sigma0 * np.sqrt(right0 * left0), floor_low, floor_high))
    sqrt_weight = np.sqrt(weight)

    def unpack(theta: FloatArray) -> tuple[float, float, float, float, float]:
        m, sigma, left, right, floor = (float(x) for x in theta)
        a, b, rho = _params_from_slopes(m, sigma, left, right, floor)
        return a, b, rho, m, sigma

    def residuals(theta: FloatArray) -> FloatArray:
        w = raw_svi_total_variance(k, *unpack(theta))
        return np.asarray(sqrt_weight * (np.sqrt(np.maximum(w, 0.0) / t) - vol), dtype=np.float64)

    lower = np.array([m_bounds[0], sigma_bounds[0], _MIN_SLOPE, _MIN_SLOPE, floor_low])
    upper = np.array(
        [m_bounds[1], sigma_bounds[1], LEE_MAX_WING_SLOPE, LEE_MAX_WING_SLOPE, floor_high]
    )
    start = np.clip(np.array([m0, sigma0, left0, right0, floor0]), lower, upper)
    fitted = least_squares(
        residuals, start, bounds=(lower, upper), method="trf", x_scale="jac", max_nfev=1000
    )
    theta = fitted.x if fitted.cost <= 0.5 * float(np.sum(residuals(start) ** 2)) else start
    params = SviParams(*unpack(theta))
    grid = arbitrage_grid(params, neighbours, k)
    if _arbitrage_free(params, neighbours, grid):
        return params
    # Arbitrage in the unconstrained optimum: polish again from there with smooth penalties
    # (Gatheral & Jacquier 2014, section 5: fit with a large penalty for arbitrage) on every
    # 5th grid point, for g(k) < margin (butterfly) and, given other expiries' slices, for
    # w(k) < (1 + margin) w_lower(k) or w(k) > (1 - margin) w_upper(k) (calendar). Each penalty
    # is a softplus of width margin: smooth, so trf converges in tens of steps, and e^-100
    # small where there is slack.
    coarse = grid[::_CONSTRAINT_STRIDE]
    w_floor, w_cap = (
        None if other is None else other.total_variance(coarse) for other in neighbours
    )

    def penalised(theta: FloatArray) -> FloatArray:
        values = unpack(theta)
        shortfall = (_G_MARGIN - _density_factor(coarse, *values)) / _G_MARGIN
        parts = [residuals(theta), _ARBITRAGE_PENALTY * _G_MARGIN * np.logaddexp(0.0, shortfall)]
        w = raw_svi_total_variance(coarse, *values)
        if w_floor is not None:
            below = ((1.0 + _G_MARGIN) * w_floor - w) / (_G_MARGIN * w_floor)
            parts.append(_ARBITRAGE_PENALTY * _G_MARGIN * np.logaddexp(0.0, below))
        if w_cap is not None:
            above = (w - (1.0 - _G_MARGIN) * w_cap) / (_G_MARGIN * w_cap)
            parts.append(_ARBITRAGE_PENALTY * _G_MARGIN * np.logaddexp(0.0, above))
        return np.concatenate(parts)

    best: SviParams | None = None
    # A repair may cost at most _REPAIR_TOLERANCE of weighted vol RMSE; beyond that the slice
    # is returned unrepaired and the checks report the arbitrage (the quotes themselves, or a
    # previous slice's extrapolated wings, may make an arbitrage-free fit a bad one).
    best_cost = (np.sqrt(float(np.sum(residuals(theta) ** 2))) + _REPAIR_TOLERANCE) ** 2
    # Two starts: the unrepaired optimum, and the quasi-explicit start. The first can sit in a
    # basin (e.g. an ATM vertex far outside the quotes) whose arbitrage-free part fits badly.
    for origin in (theta, start):
        repaired = least_squares(
            penalised, origin, bounds=(lower, upper), method="trf", x_scale="jac", max_nfev=1000
        )
        candidate = SviParams(*unpack(repaired.x))
        cost = float(np.sum(residuals(repaired.x) ** 2))
        grid_c = arbitrage_grid(candidate, neighbours, k)
        if cost < best_cost and _arbitrage_free(candidate, neighbours, grid_c):
            best, best_cost = candidate, cost
    return params if best is None else best


def arbitrage_grid(
    params: SviParams,
    neighbours: Sequence[SviParams | None] = (),
    log_moneyness: ArrayLike | None = None,
) -> FloatArray:
    """The check grid of a slice: :func:`default_check_grid`, widened to cover its neighbours'.

    2001 points; the fit's arbitrage repair and the surface's calendar check both use it, so
    they look at the same strikes.

    Parameters
    ----------
    params : SviParams
    neighbours : sequence of SviParams or None
        Slices of other expiries whose default grids the result must cover (None entries are
        ignored).
    log_moneyness : array_like, optional
        Quotes to cover as well.
    """
    grid = default_check_grid(params, log_moneyness=log_moneyness)
    low, high = float(grid[0]), float(grid[-1])
    for other in neighbours:
        if other is not None:
            other_grid = default_check_grid(other)
            low, high = min(low, float(other_grid[0])), max(high, float(other_grid[-1]))
    return np.linspace(low, high, grid.size)


def _arbitrage_free(
    params: SviParams,
    neighbours: tuple[SviParams | None, SviParams | None],
    grid: FloatArray,
) -> bool:
    if np.min(params.density_factor(grid)) < 0.0:
        return False
    lower_slice, upper_slice = neighbours
    w = params.total_variance(grid)
    if lower_slice is not None and np.any(w < lower_slice.total_variance(grid)):
        return False
    return upper_slice is None or bool(np.all(w <= upper_slice.total_variance(grid)))
