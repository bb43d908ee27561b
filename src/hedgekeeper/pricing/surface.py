"""Implied volatility surface from per-expiry raw SVI smiles, with arbitrage checks and fit reports.

Interpolation across expiries is in total variance ``w(k, t) = vol^2 t`` at constant forward
log-moneyness ``k = ln(K / F_t)``, where ``F_t`` is the forward of the wanted expiry:

* between two fitted slices ``t_i <= t <= t_{i+1}``: linear in ``t``,
  ``w = w_i(k) + (t - t_i) / (t_{i+1} - t_i) (w_{i+1}(k) - w_i(k))``;
* before the first slice: flat vol, ``w = w_1(k) t / t_1`` (the same as linear interpolation
  from ``w = 0`` at ``t = 0``);
* after the last slice: flat vol, ``w = w_N(k) t / t_N``.

If the slices are free of calendar arbitrage (``w_{i+1}(k) >= w_i(k)`` for every ``k``), so is
the interpolated surface, since each ``w(k, .)`` is then piecewise linear and non-decreasing
(Gatheral & Jacquier 2014, Lemma 2.1 and section 4: calendar spreads are free of arbitrage iff
total variance is non-decreasing in ``t`` at fixed ``k``, zero rates and dividends).

Quote selection (:func:`fit_surface`): a quote is fitted when its out-of-the-money option's
undiscounted Black-76 price is at least ``min_price_fraction`` of the forward (default 1e-4: one
tick, 0.0001 BTC, of a Deribit inverse option, whose coin price is the USD price divided by the
forward). Further out, Deribit's mark IV is its own extrapolation rather than a price anyone can
trade (on the bundled sample it turns flat exactly there), so it is neither fitted nor scored.
Expiries with fewer than 5 such quotes are skipped and listed with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hedgekeeper.pricing._inputs import ArrayLike, FloatArray, as_float, broadcast, require
from hedgekeeper.pricing.black import black76
from hedgekeeper.pricing.svi import (
    SviFit,
    SviParams,
    arbitrage_grid,
    check_butterfly,
    default_check_grid,
    fit_svi,
    intervals_where,
    raw_svi_total_variance,
)

MIN_QUOTES_PER_EXPIRY = 5
"""An SVI slice has five parameters: fewer quotes cannot pin it."""

DEFAULT_MIN_PRICE_FRACTION = 1e-4
"""One Deribit option tick (0.0001 coin) as a fraction of the forward; see the module docstring."""


def _floats(named: dict[str, FloatArray]) -> list[FloatArray]:
    # Copies: np.broadcast_arrays returns views that numpy will make read-only.
    return [np.array(x, dtype=np.float64) for x in broadcast(dict(named))]


@dataclass(frozen=True)
class CalendarCheck:
    """Total variance of a later slice against an earlier one at fixed log-moneyness.

    Attributes
    ----------
    t_early, t_late : float
        The two expiries, years.
    ok : bool
        True when ``w_late(k) >= w_early(k)`` at every grid point.
    min_difference : float
        Smallest ``w_late - w_early`` on the grid (total variance, vol^2 * years).
    k_at_min : float
        Log-moneyness of ``min_difference``.
    violations : tuple of (float, float)
        Log-moneyness intervals (grid points) where ``w_late < w_early``.
    """

    t_early: float
    t_late: float
    ok: bool
    min_difference: float
    k_at_min: float
    violations: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class VolSurface:
    """Implied vol surface: raw SVI slices at increasing expiries, interpolated in total variance.

    Satisfies :class:`hedgekeeper.domain.market.VolSurface`.

    Attributes
    ----------
    expiry_t : tuple of float
        Slice expiries, years (ACT/365), strictly increasing and positive.
    slices : tuple of SviParams
        The smile of each expiry, in forward log-moneyness.
    """

    expiry_t: tuple[float, ...]
    slices: tuple[SviParams, ...]

    def __post_init__(self) -> None:
        times = np.asarray(self.expiry_t, dtype=np.float64)
        if times.ndim != 1 or times.size == 0:
            raise ValueError("expiry_t must be a non-empty sequence of years")
        if len(self.slices) != times.size:
            raise ValueError(
                f"slices must have one SviParams per expiry_t: {len(self.slices)} != {times.size}"
            )
        require("expiry_t", np.isfinite(times) & (times > 0.0), "positive years", times)
        if np.any(np.diff(times) <= 0.0):
            raise ValueError(f"expiry_t must be strictly increasing, got {tuple(times.tolist())}")
        for i, params in enumerate(self.slices):
            if not isinstance(params, SviParams):
                raise ValueError(f"slices[{i}] must be SviParams, got {params!r}")
        object.__setattr__(self, "expiry_t", tuple(float(t) for t in times))
        object.__setattr__(self, "slices", tuple(self.slices))

    def total_variance(self, log_moneyness: ArrayLike, expiry_t: ArrayLike) -> FloatArray:
        """Total implied variance ``w(k, t)`` (vol^2 * years), broadcast over the arguments.

        Parameters
        ----------
        log_moneyness : array_like
            ``ln(K / F_t)``, forward log-moneyness at the wanted expiry.
        expiry_t : array_like
            Years to expiry, positive.
        """
        k, t = _floats(
            {
                "log_moneyness": as_float("log_moneyness", log_moneyness),
                "expiry_t": as_float("expiry_t", expiry_t),
            }
        )
        require("log_moneyness", np.isfinite(k), "finite", k)
        require("expiry_t", np.isfinite(t) & (t > 0.0), "a positive number of years", t)
        times = np.asarray(self.expiry_t)
        a, b, rho, m, sigma = (
            np.array([getattr(p, name) for p in self.slices])
            for name in ("a", "b", "rho", "m", "sigma")
        )
        last = times.size - 1
        below = np.searchsorted(times, t, side="right") - 1  # -1 before the first slice
        lo = np.clip(below, 0, last)
        hi = np.clip(below + 1, 0, last)
        w_lo = raw_svi_total_variance(k, a[lo], b[lo], rho[lo], m[lo], sigma[lo])
        w_hi = raw_svi_total_variance(k, a[hi], b[hi], rho[hi], m[hi], sigma[hi])
        t_lo, t_hi = times[lo], times[hi]
        inside = (below >= 0) & (below < last)
        with np.errstate(divide="ignore", invalid="ignore"):
            weight = np.where(inside, (t - t_lo) / (t_hi - t_lo), 0.0)
        interpolated = w_lo + weight * (w_hi - w_lo)
        flat_vol = w_lo * t / t_lo  # before the first or after the last slice
        result: FloatArray = np.where(inside, interpolated, flat_vol)
        return result

    def implied_vol(self, strike: ArrayLike, expiry_t: ArrayLike, forward: ArrayLike) -> FloatArray:
        """Implied Black vol (fraction) at ``strike`` for expiry ``expiry_t`` (years).

        Parameters
        ----------
        strike : array_like
            Strike, positive (same currency as ``forward``).
        expiry_t : array_like
            Years to expiry (ACT/365), positive.
        forward : array_like
            Forward of each point's expiry, positive.

        Returns
        -------
        FloatArray
            Broadcast shape of the inputs.
        """
        K, t, F = _floats(
            {
                "strike": as_float("strike", strike),
                "expiry_t": as_float("expiry_t", expiry_t),
                "forward": as_float("forward", forward),
            }
        )
        require("strike", np.isfinite(K) & (K > 0.0), "positive and finite", K)
        require("forward", np.isfinite(F) & (F > 0.0), "positive and finite", F)
        require("expiry_t", np.isfinite(t) & (t > 0.0), "a positive number of years", t)
        w = self.total_variance(np.log(K / F), t)
        return np.asarray(np.sqrt(np.maximum(w, 0.0) / t), dtype=np.float64)

    def check_calendar(self, log_moneyness: ArrayLike | None = None) -> tuple[CalendarCheck, ...]:
        """Check ``w_{i+1}(k) >= w_i(k)`` for each pair of consecutive slices on a grid.

        Parameters
        ----------
        log_moneyness : array_like, optional
            The grid; default :func:`hedgekeeper.pricing.svi.arbitrage_grid` of the pair (the
            union of both slices' :func:`hedgekeeper.pricing.svi.default_check_grid` ranges).

        Returns
        -------
        tuple of CalendarCheck
            One per consecutive pair (empty for a single slice).
        """
        checks = []
        for i in range(len(self.slices) - 1):
            early, late = self.slices[i], self.slices[i + 1]
            if log_moneyness is None:
                grid = arbitrage_grid(late, (early,))
            else:
                grid = np.sort(as_float("log_moneyness", log_moneyness).ravel())
                require("log_moneyness", np.isfinite(grid), "finite", grid)
            difference = late.total_variance(grid) - early.total_variance(grid)
            bad: npt.NDArray[np.bool_] = difference < 0.0
            i_min = int(np.argmin(difference))
            checks.append(
                CalendarCheck(
                    t_early=self.expiry_t[i],
                    t_late=self.expiry_t[i + 1],
                    ok=not bool(bad.any()),
                    min_difference=float(difference[i_min]),
                    k_at_min=float(grid[i_min]),
                    violations=intervals_where(grid, bad),
                )
            )
        return tuple(checks)


@dataclass(frozen=True)
class ExpiryFitReport:
    """Fit quality and arbitrage checks of one expiry's slice.

    Attributes
    ----------
    expiry : str
        Expiry label (e.g. ``2026-01-30T08:00:00Z``).
    t : float
        Years to expiry (ACT/365).
    forward : float
        Forward used for log-moneyness (median over the expiry's quotes), quote currency.
    n_quotes : int
        Quotes fitted and scored.
    n_excluded : int
        Quotes of this expiry left out by the price floor.
    rmse_vol : float
        RMSE of SVI vol minus quoted (mark) vol over the fitted quotes, vol points (1 = 1 %).
    max_abs_vol : float
        Largest absolute error over the fitted quotes, vol points.
    rmse_vol_weighted : float
        Vega-weighted RMSE (the fit objective), vol points.
    butterfly_ok : bool
        ``g(k) >= 0`` on the check grid.
    min_g : float
        Smallest ``g(k)`` on the grid.
    butterfly_violations : tuple of (float, float)
        Log-moneyness intervals with ``g < 0``.
    calendar_ok : bool
        Total variance at or above the previous fitted slice's on the grid (True for the first).
    calendar_violations : tuple of (float, float)
        Log-moneyness intervals where it is below.
    params : SviParams
        The fitted slice.
    """

    expiry: str
    t: float
    forward: float
    n_quotes: int
    n_excluded: int
    rmse_vol: float
    max_abs_vol: float
    rmse_vol_weighted: float
    butterfly_ok: bool
    min_g: float
    butterfly_violations: tuple[tuple[float, float], ...]
    calendar_ok: bool
    calendar_violations: tuple[tuple[float, float], ...]
    params: SviParams


@dataclass(frozen=True)
class SkippedExpiry:
    """An expiry left out of the surface, and why."""

    expiry: str
    t: float
    n_quotes: int
    reason: str


@dataclass(frozen=True)
class SurfaceFit:
    """A fitted surface with a report per fitted expiry and the expiries skipped.

    Attributes
    ----------
    surface : VolSurface
    reports : tuple of ExpiryFitReport
        In expiry order, aligned with ``surface.slices``.
    fits : tuple of SviFit
        The per-slice fits (quotes, fitted vols, weights), aligned with ``reports``.
    skipped : tuple of SkippedExpiry
    """

    surface: VolSurface
    reports: tuple[ExpiryFitReport, ...]
    fits: tuple[SviFit, ...]
    skipped: tuple[SkippedExpiry, ...]


def otm_price_fraction(
    strike: ArrayLike, expiry_t: ArrayLike, forward: ArrayLike, implied_vol: ArrayLike
) -> FloatArray:
    """Undiscounted Black-76 price of the out-of-the-money option, as a fraction of the forward.

    The call for ``K >= F``, the put below. For a Deribit inverse option this is its coin price
    (Deribit discounts at r = 0).
    """
    K, t, F, vol = _floats(
        {
            "strike": as_float("strike", strike),
            "expiry_t": as_float("expiry_t", expiry_t),
            "forward": as_float("forward", forward),
            "implied_vol": as_float("implied_vol", implied_vol),
        }
    )
    kind = np.where(K >= F, 1, -1).astype(np.int8)
    price = black76(F, K, t, 0.0, vol, kind).price
    return np.asarray(price / F, dtype=np.float64)


def fit_surface(
    expiry_t: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    implied_vol: ArrayLike,
    *,
    expiry: Sequence[str] | npt.NDArray[np.str_] | None = None,
    min_price_fraction: float = DEFAULT_MIN_PRICE_FRACTION,
    repair_calendar: bool = True,
) -> SurfaceFit:
    """Fit a raw SVI slice per expiry (vega-weighted, see :func:`fit_svi`) and check arbitrage.

    Parameters
    ----------
    expiry_t : array_like, shape (n,)
        Years to expiry of each quote (ACT/365); quotes with equal ``expiry_t`` form one slice.
    forward : array_like, shape (n,)
        Forward of each quote's expiry, positive.
    strike : array_like, shape (n,)
        Strikes, positive. Pass one quote per strike (e.g. the out-of-the-money option).
    implied_vol : array_like, shape (n,)
        Quoted (mark) implied vols, fractions.
    expiry : sequence of str, shape (n,), optional
        Expiry label per quote, for the reports; default ``t=<years>``.
    min_price_fraction : float
        Quote filter, see the module docstring; 0 keeps every quote.
    repair_calendar : bool
        Fit the expiries in order and repair calendar arbitrage between consecutive slices
        (on the Deribit data it sits in wings beyond one slice's quotes): first re-fit the
        later slice with the earlier one as ``lower_slice`` of
        :func:`hedgekeeper.pricing.svi.fit_svi`; if that cannot remove the crossing within the
        fit's tolerance, re-fit the earlier slice with the later one as ``upper_slice``. A
        crossing neither repair removes is kept and reported. False fits each expiry alone.

    Returns
    -------
    SurfaceFit

    Raises
    ------
    ValueError
        Naming the argument, for bad inputs, or when no expiry has enough quotes.
    """
    t_all, F_all, K_all, vol_all = _floats(
        {
            "expiry_t": as_float("expiry_t", expiry_t).ravel(),
            "forward": as_float("forward", forward).ravel(),
            "strike": as_float("strike", strike).ravel(),
            "implied_vol": as_float("implied_vol", implied_vol).ravel(),
        }
    )
    require("expiry_t", np.isfinite(t_all) & (t_all > 0.0), "a positive number of years", t_all)
    require("forward", np.isfinite(F_all) & (F_all > 0.0), "positive and finite", F_all)
    require("strike", np.isfinite(K_all) & (K_all > 0.0), "positive and finite", K_all)
    require("implied_vol", np.isfinite(vol_all) & (vol_all > 0.0), "positive and finite", vol_all)
    if not (np.isfinite(min_price_fraction) and min_price_fraction >= 0.0):
        raise ValueError(f"min_price_fraction must be >= 0, got {min_price_fraction!r}")
    if expiry is None:
        labels = np.array([f"t={t:.6f}" for t in t_all])
    else:
        labels = np.asarray(expiry, dtype=np.str_).ravel()
        if labels.shape != t_all.shape:
            raise ValueError(
                f"expiry must have one label per quote ({t_all.size}), got {labels.size}"
            )
    priced = otm_price_fraction(K_all, t_all, F_all, vol_all) >= min_price_fraction

    fits: list[SviFit] = []
    firsts: list[tuple[str, float, float, int, int]] = []
    skipped: list[SkippedExpiry] = []
    for t in np.unique(t_all):
        rows = t_all == t
        use = rows & priced
        label = str(labels[np.flatnonzero(rows)[0]])
        n_use = int(np.unique(K_all[use]).size)
        if n_use < MIN_QUOTES_PER_EXPIRY:
            skipped.append(
                SkippedExpiry(
                    expiry=label,
                    t=float(t),
                    n_quotes=n_use,
                    reason=(
                        f"{n_use} quotes priced at or above {min_price_fraction:g} of the forward"
                        f" (need {MIN_QUOTES_PER_EXPIRY})"
                    ),
                )
            )
            continue
        k = np.log(K_all[use] / F_all[use])
        fits.append(_fit_after(fits, k, vol_all[use], float(t), repair_calendar))
        n_fitted = int(use.sum())
        firsts.append(
            (label, float(t), float(np.median(F_all[use])), n_fitted, int(rows.sum()) - n_fitted)
        )
    if not fits:
        raise ValueError(
            "no expiry has enough quotes to fit a smile: "
            + "; ".join(f"{s.expiry}: {s.reason}" for s in skipped)
        )
    surface = VolSurface(expiry_t=tuple(f.t for f in fits), slices=tuple(f.params for f in fits))
    calendar = (None, *surface.check_calendar())
    reports = []
    for fit, (label, t_value, fwd, n_quotes, n_excluded), cal in zip(
        fits, firsts, calendar, strict=True
    ):
        butterfly = check_butterfly(
            fit.params, default_check_grid(fit.params, log_moneyness=fit.log_moneyness)
        )
        reports.append(
            ExpiryFitReport(
                expiry=label,
                t=t_value,
                forward=fwd,
                n_quotes=n_quotes,
                n_excluded=n_excluded,
                rmse_vol=fit.rmse_vol,
                max_abs_vol=fit.max_abs_vol,
                rmse_vol_weighted=fit.rmse_vol_weighted,
                butterfly_ok=butterfly.ok,
                min_g=butterfly.min_g,
                butterfly_violations=butterfly.violations,
                calendar_ok=True if cal is None else cal.ok,
                calendar_violations=() if cal is None else cal.violations,
                params=fit.params,
            )
        )
    return SurfaceFit(
        surface=surface, reports=tuple(reports), fits=tuple(fits), skipped=tuple(skipped)
    )


def _calendar_ok(early: SviParams, late: SviParams) -> bool:
    grid = arbitrage_grid(late, (early,))
    return bool(np.all(late.total_variance(grid) >= early.total_variance(grid)))


def _fit_after(
    fits: list[SviFit], k: FloatArray, vol: FloatArray, t: float, repair_calendar: bool
) -> SviFit:
    """Fit the next expiry; may replace ``fits[-1]`` to repair a calendar crossing."""
    if not (repair_calendar and fits):
        return fit_svi(k, vol, t)
    earlier = fits[-1]
    raised = fit_svi(k, vol, t, lower_slice=earlier.params)
    if _calendar_ok(earlier.params, raised.params):
        return raised
    alone = fit_svi(k, vol, t)
    before = fits[-2].params if len(fits) > 1 else None
    lowered = fit_svi(
        earlier.log_moneyness,
        earlier.market_vol,
        earlier.t,
        lower_slice=before,
        upper_slice=alone.params,
    )
    if _calendar_ok(lowered.params, alone.params) and (
        before is None or _calendar_ok(before, lowered.params)
    ):
        fits[-1] = lowered
        return alone
    return raised
