"""Closed-form sizing for one Greek hedged with one instrument (e.g. delta with a perpetual).

Vectorised over a batch (paths or books): every argument broadcasts.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hedgekeeper.hedging.problem import FloatArray, HedgeStatus, band_tolerance, inside_band

StatusArray = npt.NDArray[np.int8]

_EPS_LOTS = 1e-9  # slack when flooring/ceiling a ratio of lots; every result is re-checked


def size_single_instrument(
    exposure: npt.ArrayLike,
    lower: npt.ArrayLike,
    upper: npt.ArrayLike,
    sensitivity: npt.ArrayLike,
    lot: npt.ArrayLike,
    max_order: npt.ArrayLike,
    position: npt.ArrayLike = 0.0,
    position_min: npt.ArrayLike = -np.inf,
    position_max: npt.ArrayLike = np.inf,
) -> tuple[FloatArray, StatusArray]:
    """Least-cost whole-lot trade bringing one Greek into ``[lower, upper]`` with one instrument.

    The Greek after trading ``n`` lots is ``exposure + n * lot * sensitivity``; the band is
    reached for ``n`` in ``[(lower - exposure) / a, (upper - exposure) / a]`` (ordered),
    ``a = lot * sensitivity``. Any cost that grows with ``|n|`` (fees, spread, impact, a fixed
    fee per order) is least at the whole ``n`` of that interval nearest zero: the band edge
    nearest the current exposure, rounded inward to a lot. Hedging to a point ``target`` is the
    narrow band ``[target - tol, target + tol]``, giving ``n ≈ -(exposure - target) / a``.

    Parameters
    ----------
    exposure, lower, upper : Greek now and its band (same unit), broadcast to the batch shape.
    sensitivity : the Greek of one contract of the instrument (same unit per contract).
    lot : trade step, contracts (> 0).
    max_order : largest trade, contracts (> 0).
    position, position_min, position_max : contracts held now and the limits after trading.

    Returns
    -------
    trades : ndarray of float64, batch shape
        Signed contracts, whole multiples of ``lot``; 0 where in band or refused.
    status : ndarray of int8, batch shape
        :class:`HedgeStatus` codes: ``OK``, ``IN_BAND``, ``OUTSIDE_BAND_AFTER_ROUNDING`` (the
        trade is the whole-lot one nearest the band within the limits) or ``INFEASIBLE``
        (sensitivity zero, or the limits exclude the band; trade 0).
    """
    names = ("exposure", "lower", "upper", "sensitivity", "lot", "max_order", "position",
             "position_min", "position_max")
    raw = (exposure, lower, upper, sensitivity, lot, max_order, position, position_min,
           position_max)
    arrays = [np.asarray(value, dtype=np.float64) for value in raw]
    try:
        x, lo, hi, g, step, cap, pos, pmin, pmax = np.broadcast_arrays(*arrays)
    except ValueError:
        shapes = ", ".join(f"{n}{a.shape}" for n, a in zip(names, arrays, strict=True))
        raise ValueError(f"input shapes do not broadcast together: {shapes}") from None
    for name, array in zip(names[:7], (x, lo, hi, g, step, cap, pos), strict=True):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} must be finite")
    if np.any(step <= 0.0) or np.any(cap <= 0.0):
        raise ValueError("lot and max_order must be > 0 contracts")
    if np.any(lo > hi):
        raise ValueError("lower must be <= upper")
    per_lot = g * step
    tol = band_tolerance(x, lo, hi, per_lot)

    # Whole lots allowed by the order cap and the position limits.
    order_lots = np.floor(cap / step + _EPS_LOTS)
    with np.errstate(invalid="ignore"):
        limit_lo = np.ceil((pmin - pos) / step - _EPS_LOTS)
        limit_hi = np.floor((pmax - pos) / step + _EPS_LOTS)
    limit_lo = np.maximum(np.nan_to_num(limit_lo, nan=-np.inf), -order_lots)
    limit_hi = np.minimum(np.nan_to_num(limit_hi, nan=np.inf), order_lots)
    # The same limits on a continuous trade: does any fractional trade reach the band?
    real_lo = np.maximum((pmin - pos) / step, -cap / step)
    real_hi = np.minimum((pmax - pos) / step, cap / step)

    # Lots putting the Greek in band, as a real interval [band_lo, band_hi].
    with np.errstate(divide="ignore", invalid="ignore"):
        ends = np.stack([(lo - x) / per_lot, (hi - x) / per_lot])
    band_lo, band_hi = np.min(ends, axis=0), np.max(ends, axis=0)
    whole_lo = np.maximum(np.ceil(band_lo - _EPS_LOTS), limit_lo)
    whole_hi = np.minimum(np.floor(band_hi + _EPS_LOTS), limit_hi)
    nearest_zero = np.where(whole_lo > 0.0, whole_lo, whole_hi)

    in_band = inside_band(x, lo, hi, tol)
    carried = per_lot != 0.0
    reachable = carried & (limit_lo <= limit_hi) & (band_hi >= real_lo - _EPS_LOTS) \
        & (band_lo <= real_hi + _EPS_LOTS)
    whole = reachable & (whole_lo <= whole_hi)
    lots = np.where(whole, nearest_zero, 0.0)
    # Re-check exactly; a lot count the epsilon let through steps one lot inward if that helps.
    ok = whole & inside_band(x + lots * per_lot, lo, hi, tol)
    inward = lots - np.sign(lots)
    inward_ok = whole & ~ok & inside_band(x + inward * per_lot, lo, hi, tol) \
        & (inward >= whole_lo) & (inward <= whole_hi)
    lots = np.where(inward_ok, inward, lots)
    ok = ok | inward_ok

    # No whole lot inside the band: the whole lot nearest the band within the limits.
    below, above = np.floor(band_lo), np.ceil(band_hi)
    miss_below = np.abs(x + below * per_lot - np.clip(x + below * per_lot, lo, hi))
    miss_above = np.abs(x + above * per_lot - np.clip(x + above * per_lot, lo, hi))
    prefer_below = (miss_below < miss_above) | ((miss_below == miss_above)
                                                & (np.abs(below) <= np.abs(above)))
    closest = np.clip(np.where(prefer_below, below, above), limit_lo, limit_hi)
    rounded = reachable & ~ok

    status = np.full(x.shape, HedgeStatus.INFEASIBLE, dtype=np.int8)
    status[ok] = HedgeStatus.OK
    status[rounded] = HedgeStatus.OUTSIDE_BAND_AFTER_ROUNDING
    status[in_band] = HedgeStatus.IN_BAND
    lots = np.where(ok, lots, np.where(rounded, closest, 0.0))
    lots = np.where(in_band, 0.0, lots)
    trades = np.asarray(lots * step, dtype=np.float64)
    return trades + 0.0, status  # + 0.0 turns -0.0 into 0.0
