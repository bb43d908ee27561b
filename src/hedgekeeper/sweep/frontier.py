"""The cost–risk frontier of a sweep, marked within each scenario.

The Pareto test itself is :func:`hedgekeeper.backtest.frontier.pareto_mask` (both coordinates
minimised; equal points all kept; NaN points never on it), the one ``hedgekeeper backtest``
uses. Scenarios are never mixed: their ``risk`` and ``cost`` measure different things (see
:mod:`hedgekeeper.sweep.tasks`).
"""

from __future__ import annotations

import pandas as pd

from hedgekeeper.backtest.frontier import pareto_mask


def mark_frontier(results: pd.DataFrame) -> pd.DataFrame:
    """``results`` with a bool column ``pareto``, computed within each ``scenario``.

    Parameters
    ----------
    results : DataFrame with columns ``scenario``, ``cost`` and ``risk`` (one row per run).

    Returns
    -------
    A copy with ``pareto`` (bool): True when no row of the same scenario is no worse on
    both ``cost`` and ``risk`` and strictly better on one.
    """
    marked = results.copy()
    marked["pareto"] = False
    for _, rows in marked.groupby("scenario", sort=False):
        mask = pareto_mask(rows["cost"].to_numpy(), rows["risk"].to_numpy())
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


__all__ = ["frontier", "mark_frontier"]
