"""``size_hedge``: least-cost whole-lot trades that bring every targeted Greek into its band."""

from __future__ import annotations

from typing import Literal

import numpy as np

from hedgekeeper.hedging import milp
from hedgekeeper.hedging.closed_form import size_single_instrument
from hedgekeeper.hedging.problem import (
    FloatArray,
    HedgeProblem,
    HedgeResult,
    HedgeStatus,
    inside_band,
)

Method = Literal["auto", "closed_form", "milp"]

_DECIMALS = 12


def size_hedge(problem: HedgeProblem, *, method: Method = "auto", segments: int = 12,
               time_limit_s: float = 10.0) -> HedgeResult:
    """Least-cost trades, in whole lots and within limits, putting every Greek in its band.

    Steps: (1) no trade if every Greek is already in band; (2) refuse if a Greek off band is
    carried by no allowed instrument; (3) solve — in closed form for one Greek and one instrument
    (:func:`~hedgekeeper.hedging.closed_form.size_single_instrument`), otherwise the HiGHS
    mixed-integer program of :mod:`hedgekeeper.hedging.milp`; (4) if no whole-lot solution exists,
    solve the relaxation: if fractional lots reach the band, return the whole-lot trades closest
    to it (status ``OUTSIDE_BAND_AFTER_ROUNDING``), else refuse naming the binding limit or the
    Greeks the instruments cannot reach together.

    Parameters
    ----------
    problem : :class:`HedgeProblem`.
    method : ``"auto"`` (closed form when the problem is one Greek by one instrument),
        ``"closed_form"`` (that case only) or ``"milp"``.
    segments : pieces of the piecewise-linear cost per instrument and direction (>= 1); only
        matters for costs that are not linear in quantity (impact).
    time_limit_s : HiGHS time limit in seconds (> 0). On reaching it with in-band trades the
        status is ``SOLVER_LIMIT``.

    Returns
    -------
    :class:`HedgeResult`; refusals are data (status ``INFEASIBLE``, zero trades, a reason).
    """
    if method not in ("auto", "closed_form", "milp"):
        raise ValueError(f"method must be 'auto', 'closed_form' or 'milp', got {method!r}")
    if isinstance(segments, bool) or not isinstance(segments, int) or segments < 1:
        raise ValueError(f"segments must be an integer >= 1, got {segments!r}")
    if not time_limit_s > 0.0:
        raise ValueError(f"time_limit_s must be > 0 seconds, got {time_limit_s!r}")
    square = problem.sensitivity.shape == (1, 1)
    if method == "closed_form" and not square:
        raise ValueError(
            "method='closed_form' needs one Greek and one instrument, got "
            f"{len(problem.greeks)} Greeks and {len(problem.instruments)} instruments"
        )
    tol = problem.tolerance
    zero = np.zeros(len(problem.instruments))
    if np.all(inside_band(problem.exposure, problem.lower, problem.upper, tol)):
        return _result(problem, HedgeStatus.IN_BAND, "none", zero,
                       f"already in band: {_describe(problem, problem.exposure)}; no trade")
    carried = np.any(problem.sensitivity != 0.0, axis=0)
    off_band = ~inside_band(problem.exposure, problem.lower, problem.upper, tol)
    orphans = [problem.greeks[j] for j in np.flatnonzero(off_band & ~carried)]
    if orphans:
        return _result(problem, HedgeStatus.INFEASIBLE, "none", zero,
                       f"no allowed hedge instrument carries {', '.join(orphans)}, which is "
                       f"off band: {_describe(problem, problem.exposure)}")
    if square and method != "milp":
        return _closed_form(problem)
    for shrink in (False, True):
        outcome = milp.solve(problem, segments=segments, time_limit_s=time_limit_s,
                             shrink=shrink)
        if not outcome.solved:
            break
        trades = outcome.net_lots * problem.lot
        after = problem.greeks_after(trades)
        if np.all(inside_band(after, problem.lower, problem.upper, tol)):
            status = HedgeStatus.OK if outcome.proven_optimal else HedgeStatus.SOLVER_LIMIT
            note = "least-cost whole-lot hedge" if outcome.proven_optimal else (
                f"in-band whole-lot hedge not proven cheapest ({outcome.message})")
            return _result(problem, status, "milp", trades,
                           f"{note}: {_describe(problem, after)}")
    return _no_whole_lot_solution(problem, segments, time_limit_s)


def _closed_form(problem: HedgeProblem) -> HedgeResult:
    trades, status = size_single_instrument(
        problem.exposure[0], problem.lower[0], problem.upper[0], problem.sensitivity[0, 0],
        problem.lot[0], problem.max_order[0], problem.position[0], problem.position_min,
        problem.position_max,
    )
    code = HedgeStatus(int(status.reshape(-1)[0]))
    trade = np.asarray(trades, dtype=np.float64).reshape(1)
    after = problem.greeks_after(trade)
    if code is HedgeStatus.OK:
        reason = f"least-cost whole-lot hedge (closed form): {_describe(problem, after)}"
    elif code is HedgeStatus.OUTSIDE_BAND_AFTER_ROUNDING:
        reason = (f"no whole number of {problem.lot[0]:g}-contract lots of "
                  f"{problem.instruments[0]} within the limits lands inside the band; the closest "
                  f"leaves {_describe(problem, after)}")
    else:
        return _refusal(problem)
    return _result(problem, code, "closed_form", trade, reason)


def _no_whole_lot_solution(problem: HedgeProblem, segments: int,
                           time_limit_s: float) -> HedgeResult:
    relaxed = milp.solve(problem, segments=segments, time_limit_s=time_limit_s, integral=False)
    if not relaxed.solved:
        return _refusal(problem)
    closest = milp.solve(problem, segments=segments, time_limit_s=time_limit_s, closest=True)
    if not closest.solved:
        return _result(problem, HedgeStatus.INFEASIBLE, "milp", np.zeros(len(problem.instruments)),
                       f"the solver found no whole-lot trades ({closest.message})")
    trades = closest.net_lots * problem.lot
    after = problem.greeks_after(trades)
    if np.all(inside_band(after, problem.lower, problem.upper, problem.tolerance)):
        # Only reachable when the first program stopped at a limit without an incumbent.
        return _result(problem, HedgeStatus.SOLVER_LIMIT, "milp", trades,
                       f"in-band whole-lot hedge not proven cheapest: {_describe(problem, after)}")
    return _result(problem, HedgeStatus.OUTSIDE_BAND_AFTER_ROUNDING, "milp", trades,
                   "the band is reachable with fractional lots but no whole-lot trade within "
                   f"the limits lands inside it; the closest leaves {_describe(problem, after)}")


def _refusal(problem: HedgeProblem) -> HedgeResult:
    zero = np.zeros(len(problem.instruments))
    free = milp.unlimited_trades(problem)
    if free is None:
        off = [problem.greeks[j] for j in np.flatnonzero(
            ~inside_band(problem.exposure, problem.lower, problem.upper, problem.tolerance))]
        return _result(problem, HedgeStatus.INFEASIBLE, "none", zero,
                       "the allowed instruments cannot bring "
                       f"{', '.join(problem.greeks)} into their bands together (their Greeks "
                       f"do not span the gap in {', '.join(off)}): "
                       f"{_describe(problem, problem.exposure)}")
    buy_cap, sell_cap = milp.lot_caps(problem)
    binding = []
    for i, name in enumerate(problem.instruments):
        lots = free[i] / problem.lot[i]
        if lots > buy_cap[i] + 1e-9 or -lots > sell_cap[i] + 1e-9:
            allowed = (buy_cap[i] if lots > 0 else -sell_cap[i]) * problem.lot[i]
            binding.append(f"{name} needs about {free[i]:+.6g} contracts but its order size and "
                           f"position limits allow at most {allowed:+.6g}")
    detail = "; ".join(binding) if binding else "the limits together exclude every in-band trade"
    return _result(problem, HedgeStatus.INFEASIBLE, "none", zero,
                   f"a position or order limit binds: {detail}")


def _result(problem: HedgeProblem, status: HedgeStatus, method: str, trades: FloatArray,
            reason: str) -> HedgeResult:
    # lots * lot is inexact in binary (12 * 0.1 = 1.2000000000000002); the nearest double of
    # the decimal amount is what a venue expects. + 0.0 turns -0.0 into 0.0.
    trades = np.asarray(np.round(trades, _DECIMALS) + 0.0, dtype=np.float64)
    return HedgeResult(
        status=status,
        reason=reason,
        method=method,
        instruments=problem.instruments,
        trades=trades,
        cost_usd=problem.trade_cost(trades),
        greeks=problem.greeks,
        exposure_before=problem.exposure,
        exposure_after=problem.greeks_after(trades),
        lower=problem.lower,
        upper=problem.upper,
    )


def _describe(problem: HedgeProblem, values: FloatArray) -> str:
    return ", ".join(
        f"{name} {value:.6g} (band [{lo:.6g}, {hi:.6g}])"
        for name, value, lo, hi in zip(problem.greeks, values, problem.lower, problem.upper,
                                       strict=True)
    )
