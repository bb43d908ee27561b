"""The cost–risk frontier of a sweep: which policies no other policy beats on both counts.

Within one scenario a row is on the frontier (Pareto-efficient) when no other row of that
scenario has ``risk <= `` and ``cost <=`` with at least one strictly smaller. Rows with a NaN
coordinate are never on it. Scenarios are never mixed: their ``risk`` and ``cost`` measure
different things (see :mod:`hedgekeeper.sweep.tasks`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def pareto_mask(risk: npt.ArrayLike, cost: npt.ArrayLike) -> BoolArray:
    """True for the points no other point dominates (both minimised).

    Parameters
    ----------
    risk, cost : (n,) coordinates; NaN points are never efficient.

    Returns
    -------
    (n,) bool. Equal points are all efficient when nothing dominates them.
    """
    x = np.asarray(risk, dtype=np.float64)
    y = np.asarray(cost, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"risk and cost must have the same shape (n,), got {x.shape}, {y.shape}")
    valid = np.isfinite(x) & np.isfinite(y)
    efficient = np.zeros(x.shape, dtype=np.bool_)
    index = np.flatnonzero(valid)
    # sort by risk, then cost: a point is dominated iff an earlier point (risk <=) has a lower
    # cost, or has the same cost with a strictly lower risk
    order = index[np.lexsort((y[index], x[index]))]
    best_cost = np.inf
    best_risk = np.inf
    for i in order:
        if y[i] < best_cost:
            efficient[i] = True
            best_cost, best_risk = y[i], x[i]
        elif y[i] == best_cost and x[i] == best_risk:
            efficient[i] = True
    return efficient


def mark_frontier(results: pd.DataFrame) -> pd.DataFrame:
    """``results`` with a bool column ``pareto``, computed within each ``scenario``."""
    marked = results.copy()
    marked["pareto"] = False
    for _, rows in marked.groupby("scenario", sort=False):
        mask = pareto_mask(rows["risk"].to_numpy(), rows["cost"].to_numpy())
        marked.loc[rows.index, "pareto"] = mask
    marked["pareto"] = marked["pareto"].astype(bool)
    return marked


def frontier(results: pd.DataFrame) -> pd.DataFrame:
    """The Pareto rows of each scenario, sorted by scenario (in order of appearance) and risk."""
    marked = results if "pareto" in results.columns else mark_frontier(results)
    order = {name: i for i, name in enumerate(dict.fromkeys(marked["scenario"]))}
    chosen = marked[marked["pareto"]].copy()
    chosen["_order"] = chosen["scenario"].map(order)
    chosen = chosen.sort_values(["_order", "risk", "cost"]).drop(columns="_order")
    return chosen.reset_index(drop=True)


__all__ = ["frontier", "mark_frontier", "pareto_mask"]
