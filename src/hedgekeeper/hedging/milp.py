"""The mixed-integer program behind the sizer, solved with HiGHS through ``scipy.optimize.milp``.

Formulation, per hedge instrument ``i`` and direction (buy, sell) — all quantities in lots:

* ``count`` (integer, ``0..U``) lots traded in that direction, ``U`` the order cap and the
  position limit expressed in whole lots;
* ``piece_m`` (continuous, ``0..width_m``) the lots traded between breakpoints ``n_{m-1}`` and
  ``n_m`` of a geometric grid ``0 = n_0 < 1 = n_1 < ... < n_M = U``; ``count = sum_m piece_m``.

The cost is ``sum_m slope_m * piece_m`` with ``slope_m`` the chord slopes of the cost model
evaluated at the breakpoints. This is exact at every breakpoint for any cost convex in ``|q|``
(fees, spread, square-root impact ``|q|^1.5``); between breakpoints the chord lies above a convex
cost, so the program prices impact conservatively, and the result reports the true cost of the
trades chosen. Convexity makes the LP fill the pieces in order, so no binaries are needed. Pure
fees and spread are linear: the slopes coincide and the grid collapses to one exact piece.

A fixed cost per order makes the cost jump at zero. Then the first lot is priced on its own
through a binary ``active``: ``count = active + sum_m piece_m`` (pieces from one lot on),
``count <= U * active``, cost ``C(1 lot) * active + sum_m slope_m * piece_m``. A cost that is not
convex beyond the first lot is rejected.

Greek rows ``lower <= exposure + sum_i sensitivity_i * lot_i * (buy_i - sell_i) <= upper`` are
scaled by the band width (at least the Greek of the finest lot). Every solution is re-checked
in exact arithmetic; should HiGHS's feasibility tolerance (1e-7 of a scaled row) have let one
just past a band edge, the caller solves again with the band tightened by 1e-6 of its width
(``shrink=True``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, linprog, milp

from hedgekeeper.hedging.problem import FloatArray, HedgeProblem

_EPS_LOTS = 1e-9
_SHRINK = 1e-6  # fraction of the band width the program keeps away from each band edge
_CONVEX_RTOL = 1e-8
_INFEASIBLE = 2  # scipy.optimize.milp status


@dataclass(frozen=True, slots=True)
class MilpOutcome:
    """Raw answer of one program: lots per instrument and HiGHS's status."""

    solved: bool
    proven_optimal: bool
    net_lots: FloatArray
    message: str


@dataclass(frozen=True, slots=True)
class _Curve:
    jump: bool  # a fixed cost: the first lot is priced through a binary
    first_lot_usd: float
    widths: FloatArray
    slopes: FloatArray


def lot_caps(problem: HedgeProblem, *, whole: bool = True) -> tuple[FloatArray, FloatArray]:
    """Lots each instrument may buy and sell: ``(buy_cap, sell_cap)``, each (n,) >= 0.

    Whole lots by default; ``whole=False`` gives the fractional caps of the relaxation.
    """
    lot = problem.lot

    def cap(value: FloatArray) -> FloatArray:
        return np.floor(value + _EPS_LOTS) if whole else value

    order = cap(problem.max_order / lot)
    room_up = cap((problem.position_max - problem.position) / lot)
    room_down = cap((problem.position - problem.position_min) / lot)
    buy = np.clip(np.minimum(order, room_up), 0.0, None)
    sell = np.clip(np.minimum(order, room_down), 0.0, None)
    return np.asarray(buy, dtype=np.float64), np.asarray(sell, dtype=np.float64)


def cost_curves(problem: HedgeProblem, caps: FloatArray, sign: float,
                segments: int) -> list[_Curve]:
    """Piecewise-linear cost of trading 1..cap lots in direction ``sign``, per instrument."""
    n = len(problem.instruments)
    whole = np.floor(caps)
    nodes = np.ones((segments + 1, n))
    for i in range(n):
        if whole[i] >= 1.0:
            nodes[:, i] = np.round(np.geomspace(1.0, whole[i], segments + 1))
    quantity = sign * nodes * problem.lot
    usd = np.asarray(problem.cost_model.cost(quantity, problem.context), dtype=np.float64)
    if usd.shape != quantity.shape or not np.all(np.isfinite(usd)) or np.any(usd < 0.0):
        raise ValueError("cost_model must return finite costs >= 0 with the quantity's shape")
    curves = []
    for i, name in enumerate(problem.instruments):
        grid, first = np.unique(nodes[:, i], return_index=True)
        cost = usd[first, i]
        widths = np.diff(grid)
        slopes = np.diff(cost) / widths if widths.size else np.zeros(0)
        scale = float(np.max(np.abs(slopes), initial=float(cost[0])))
        if np.any(np.diff(slopes) < -_CONVEX_RTOL * scale):
            raise ValueError(
                f"the cost of trading {name} is not convex in |quantity| beyond one lot; the "
                "sizer's piecewise-linear program needs a convex cost (fees, spread, impact)"
            )
        # From zero: a first piece of one lot at slope C(1 lot), unless the cost jumps at zero.
        jump = widths.size > 0 and float(cost[0]) > float(slopes[0]) + _CONVEX_RTOL * scale
        if not jump:
            widths = np.concatenate([[1.0], widths])
            slopes = np.concatenate([[float(cost[0])], slopes])
        if np.ptp(slopes) <= _CONVEX_RTOL * scale:
            total = float(np.sum(widths))
            slopes = np.array([float(np.sum(slopes * widths)) / total])
            widths = np.array([total])
        if caps[i] > whole[i] and widths.size:
            # Fractional caps (the relaxation): the last piece's slope carries the remainder.
            widths = np.concatenate([widths[:-1], [widths[-1] + caps[i] - whole[i]]])
        curves.append(_Curve(jump, float(cost[0]), widths, slopes))
    return curves


def solve(problem: HedgeProblem, *, segments: int, time_limit_s: float, integral: bool = True,
          closest: bool = False, shrink: bool = False) -> MilpOutcome:
    """Least-cost lots in band; with ``closest`` least violation first, then least cost.

    Parameters
    ----------
    problem : the sizing problem.
    segments : pieces of the piecewise-linear cost per instrument and direction (>= 1).
    time_limit_s : HiGHS time limit, seconds.
    integral : False solves the linear relaxation (fractional lots).
    closest : allow band violation, minimise it (scaled by band width), then the cost.
    shrink : keep 1e-6 of each band's width away from its edges.
    """
    buy_cap, sell_cap = lot_caps(problem, whole=integral)
    curves = {+1.0: cost_curves(problem, buy_cap, +1.0, segments),
              -1.0: cost_curves(problem, sell_cap, -1.0, segments)}
    n, k = problem.sensitivity.shape
    cost: list[float] = []
    lower: list[float] = []
    upper: list[float] = []
    integer: list[int] = []

    def column(c: float, lb: float, ub: float, is_integer: bool) -> int:
        cost.append(c)
        lower.append(lb)
        upper.append(ub)
        integer.append(1 if is_integer and integral else 0)
        return len(cost) - 1

    rows: list[tuple[dict[int, float], float, float]] = []
    count_col = np.zeros((n, 2), dtype=np.int64)
    for i in range(n):
        for d, (sign, caps) in enumerate(((+1.0, buy_cap), (-1.0, sell_cap))):
            cap = float(caps[i])
            curve = curves[sign][i]
            count = column(0.0, 0.0, cap, True)
            link = {count: 1.0}
            if curve.jump:
                active = column(curve.first_lot_usd, 0.0, 1.0 if cap >= 1.0 else 0.0, True)
                link[active] = -1.0
                rows.append(({count: 1.0, active: -cap}, -np.inf, 0.0))
            for width, slope in zip(curve.widths, curve.slopes, strict=True):
                link[column(float(slope), 0.0, float(width), False)] = -1.0
            rows.append((link, 0.0, 0.0))
            count_col[i, d] = count

    width = problem.upper - problem.lower
    per_lot = problem.sensitivity * problem.lot[:, None]
    scale = _row_scale(problem)
    margin = _SHRINK * width if shrink else np.zeros(k)
    slack: list[int] = []
    for j in range(k):
        coeffs: dict[int, float] = {}
        for i in range(n):
            if per_lot[i, j] != 0.0:
                coeffs[int(count_col[i, 0])] = per_lot[i, j] / scale[j]
                coeffs[int(count_col[i, 1])] = -per_lot[i, j] / scale[j]
        if closest:
            over, under = column(0.0, 0.0, np.inf, False), column(0.0, 0.0, np.inf, False)
            coeffs[over], coeffs[under] = 1.0, -1.0
            slack += [over, under]
        low = (problem.lower[j] + margin[j] - problem.exposure[j]) / scale[j]
        high = (problem.upper[j] - margin[j] - problem.exposure[j]) / scale[j]
        rows.append((coeffs, low, high))
    for i in range(n):
        low = (problem.position_min[i] - problem.position[i]) / problem.lot[i] - _EPS_LOTS
        high = (problem.position_max[i] - problem.position[i]) / problem.lot[i] + _EPS_LOTS
        if np.isfinite(low) or np.isfinite(high):
            rows.append(({int(count_col[i, 0]): 1.0, int(count_col[i, 1]): -1.0}, low, high))

    matrix = np.zeros((len(rows), len(cost)))
    for r, (coeffs, _, _) in enumerate(rows):
        for col, value in coeffs.items():
            matrix[r, col] = value
    row_lo = np.array([r[1] for r in rows])
    row_hi = np.array([r[2] for r in rows])
    bounds = Bounds(np.array(lower), np.array(upper))
    options = {"time_limit": time_limit_s, "mip_rel_gap": 1e-9}
    usd = np.array(cost)
    if closest:
        violation = np.zeros(len(cost))
        violation[slack] = 1.0
        first = _highs(violation, np.array(integer), bounds,
                       LinearConstraint(matrix, row_lo, row_hi), options)
        if first.x is None:
            return MilpOutcome(False, False, np.zeros(n), str(first.message))
        least = float(first.fun)
        matrix = np.vstack([matrix, violation])
        row_lo = np.append(row_lo, -np.inf)
        row_hi = np.append(row_hi, least * (1.0 + 1e-7) + 1e-9)
    result = _highs(usd, np.array(integer), bounds, LinearConstraint(matrix, row_lo, row_hi),
                    options)
    if result.x is None:
        return MilpOutcome(False, False, np.zeros(n), str(result.message))
    x = np.asarray(result.x, dtype=np.float64)
    net = x[count_col[:, 0]] - x[count_col[:, 1]]
    if integral:
        net = np.round(net)
    return MilpOutcome(True, int(result.status) == 0, np.asarray(net, dtype=np.float64),
                       str(result.message))


def _highs(cost: FloatArray, integrality: npt.NDArray[np.int64], bounds: Bounds,
           constraint: LinearConstraint, options: dict[str, float]) -> OptimizeResult:
    result = milp(cost, integrality=integrality, bounds=bounds, constraints=[constraint],
                  options={**options, "presolve": True})
    if int(result.status) == _INFEASIBLE:
        # HiGHS's MIP presolve has wrongly declared feasible programs infeasible (ERGO-Code/HiGHS
        # issues 2432, 3090, 3296; seen here on duplicate hedge instruments): confirm without it.
        result = milp(cost, integrality=integrality, bounds=bounds, constraints=[constraint],
                      options={**options, "presolve": False})
    return result


def unlimited_trades(problem: HedgeProblem) -> FloatArray | None:
    """Cheapest fractional trades (contracts) reaching the band with no position or order limit.

    Uses the cost of one lot per contract as a linear price. ``None`` when even that is
    infeasible (the instruments do not span the targeted Greeks).
    """
    n = len(problem.instruments)
    one_lot = problem.cost_model.cost(problem.lot, problem.context)
    price = np.asarray(one_lot, dtype=np.float64) / problem.lot + 1e-12
    scale = _row_scale(problem)
    sens = (problem.sensitivity / scale).T  # (k, n)
    a_ub = np.vstack([np.hstack([sens, -sens]), np.hstack([-sens, sens])])
    b_ub = np.concatenate([(problem.upper - problem.exposure) / scale,
                           (problem.exposure - problem.lower) / scale])
    result = linprog(np.concatenate([price, price]), A_ub=a_ub, b_ub=b_ub,
                     bounds=[(0.0, None)] * (2 * n), method="highs")
    if result.x is None or int(result.status) != 0:
        return None
    x = np.asarray(result.x, dtype=np.float64)
    return np.asarray(x[:n] - x[n:], dtype=np.float64)


def _row_scale(problem: HedgeProblem) -> FloatArray:
    """Per Greek: the band width, but at least the finest lot's Greek (1 if none carries it)."""
    per_lot = np.abs(problem.sensitivity * problem.lot[:, None])
    finest = np.min(np.where(per_lot > 0.0, per_lot, np.inf), axis=0)
    finest = np.where(np.isfinite(finest), finest, 0.0)
    scale = np.maximum(problem.upper - problem.lower, finest)
    return np.asarray(np.where(scale > 0.0, scale, 1.0), dtype=np.float64)
