"""Synthetic hedge problems shared by the hedging tests (imported as a plain module)."""

from __future__ import annotations

import itertools

import numpy as np

from hedgekeeper.costs import CostModel, HalfSpread, ProportionalFee, TradeContext
from hedgekeeper.hedging import HedgeProblem, inside_band

SPOT = 87_000.0
GREEKS = ("delta", "gamma", "vega")
# Per contract: three 1-BTC options (delta coin, gamma coin/USD, vega USD per 1.00 vol) and an
# inverse perpetual of 10 USD face (delta 10/S coin).
NAMES = ("CALL_A", "PUT_B", "CALL_C", "PERP")
SENSITIVITY = np.array([
    [0.52, 4.1e-5, 3_000.0],
    [-0.45, 3.2e-5, 5_200.0],
    [0.56, 1.2e-5, 12_000.0],
    [10.0 / SPOT, 0.0, 0.0],
])
LOT = np.array([0.1, 0.1, 0.1, 1.0])
CONTEXT = TradeContext(
    bid_usd=[0.0195 * SPOT, 0.030 * SPOT, 0.050 * SPOT, 9.9994],
    ask_usd=[0.0205 * SPOT, 0.031 * SPOT, 0.052 * SPOT, 10.0006],
    notional_usd=[SPOT, SPOT, SPOT, 10.0],
    daily_volume=[400.0, 300.0, 200.0, 5e7],
    daily_volatility=[0.5, 0.4, 0.3, 0.03],
)
LINEAR_COST: CostModel = ProportionalFee(taker_bps=3.0, cap_fraction_of_price=0.125) + HalfSpread()


def dgv_problem(exposure: tuple[float, float, float] = (1.5, -1.0e-4, -40_000.0),
                halfwidth: tuple[float, float, float] = (0.05, 1.0e-5, 2_000.0),
                cost_model: CostModel = LINEAR_COST,
                max_order: tuple[float, ...] = (30.0, 30.0, 30.0, 1e6),
                **kwargs: object) -> HedgeProblem:
    x = np.array(exposure)
    h = np.array(halfwidth)
    return HedgeProblem(greeks=GREEKS, exposure=x, lower=-h, upper=h, instruments=NAMES,
                        sensitivity=SENSITIVITY, lot=LOT, max_order=np.array(max_order),
                        cost_model=cost_model, context=CONTEXT, **kwargs)  # type: ignore[arg-type]


def brute_force(problem: HedgeProblem, option_lots: range, perp_index: int) -> float:
    """Least cost over every combination of option lot counts, the perpetual in closed form.

    For each option combination the perpetual must bring delta into band: any whole lot count in
    the delta interval; its cost grows with |count|, so the one nearest zero is cheapest.
    Returns ``inf`` if no combination is feasible.
    """
    options = [i for i in range(len(problem.instruments)) if i != perp_index]
    tol = problem.tolerance
    best = np.inf
    d = 0  # delta row
    per_lot = problem.sensitivity[perp_index, d] * problem.lot[perp_index]
    for counts in itertools.product(option_lots, repeat=len(options)):
        trades = np.zeros(len(problem.instruments))
        trades[options] = np.array(counts) * problem.lot[options]
        after = problem.greeks_after(trades)
        if not np.all(inside_band(after[1:], problem.lower[1:], problem.upper[1:], tol[1:])):
            continue
        ends = sorted(((problem.lower[d] - after[d]) / per_lot,
                       (problem.upper[d] - after[d]) / per_lot))
        lo, hi = np.ceil(ends[0] - 1e-9), np.floor(ends[1] + 1e-9)
        if lo > hi:
            continue
        n = 0.0 if lo <= 0.0 <= hi else (lo if lo > 0 else hi)
        trades[perp_index] = n * problem.lot[perp_index]
        final = problem.greeks_after(trades)
        if not np.all(inside_band(final, problem.lower, problem.upper, tol)):
            continue
        best = min(best, problem.trade_cost(trades))
    return float(best)
