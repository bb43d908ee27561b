"""The cost-risk frontier: which policies are not beaten on both cost and risk at once.

A point (cost, risk) *dominates* another when it is no worse on both and strictly better on
one. The Pareto set is the points no other point dominates; among equal points all are kept.
Points with a NaN coordinate are never on the set and never dominate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def pareto_mask(cost: npt.ArrayLike, risk: npt.ArrayLike) -> BoolArray:
    """Which points are on the Pareto set when both coordinates are to be minimised.

    Parameters
    ----------
    cost, risk : array_like, shape (n,)
        Coordinates of each point (any units; e.g. USD of trading cost and USD of tracking
        error).

    Returns
    -------
    ndarray of bool, shape (n,)
        True for points no other point dominates.

    Raises
    ------
    ValueError
        When the arrays are not one-dimensional of the same length.
    """
    x = np.asarray(cost, dtype=np.float64)
    y = np.asarray(risk, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"cost and risk must be 1-d arrays of one length, got shapes "
                         f"{x.shape} and {y.shape}")
    valid = np.isfinite(x) & np.isfinite(y)
    on = np.zeros(x.shape, dtype=bool)
    # Sweep by cost (then risk): a valid point is on the set when its risk is below the best
    # risk of every point strictly cheaper, or equal to an identical point already on it.
    order = np.lexsort((y, x))
    best = np.inf
    last: tuple[float, float] | None = None
    for i in order:
        if not valid[i]:
            continue
        point = (float(x[i]), float(y[i]))
        if point[1] < best:
            on[i] = True
            best = point[1]
            last = point
        elif last is not None and point == last:
            on[i] = True
    return on


@dataclass(frozen=True, slots=True)
class FrontierPoint:
    """One policy (with its parameters) on the cost-risk plane.

    Attributes
    ----------
    name : label of the run.
    family : policy family (for colours and grouping).
    cost : x coordinate (e.g. trading cost, USD).
    risk : y coordinate (e.g. tracking error, USD).
    pareto : True when on the Pareto set.
    """

    name: str
    family: str
    cost: float
    risk: float
    pareto: bool


def frontier(names: Sequence[str], families: Sequence[str], cost: npt.ArrayLike,
             risk: npt.ArrayLike) -> tuple[FrontierPoint, ...]:
    """Every point with its Pareto flag, sorted by cost (then risk).

    Parameters
    ----------
    names, families : labels, one per point.
    cost, risk : coordinates, shape (n,).

    Returns
    -------
    tuple of FrontierPoint, ascending cost.
    """
    x = np.asarray(cost, dtype=np.float64)
    y = np.asarray(risk, dtype=np.float64)
    if not len(names) == len(families) == x.size:
        raise ValueError(f"names ({len(names)}), families ({len(families)}) and cost "
                         f"({x.size}) must have one entry per point")
    mask = pareto_mask(x, y)
    order = np.lexsort((y, x))
    return tuple(FrontierPoint(str(names[i]), str(families[i]), float(x[i]), float(y[i]),
                               bool(mask[i])) for i in order)
