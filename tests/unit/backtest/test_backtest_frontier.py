"""Pareto set of (cost, risk) points: exact on examples, and its defining property (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedgekeeper.backtest import frontier, pareto_mask


def _dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[0] and a[1] <= b[1] and (a[0] < b[0] or a[1] < b[1])


def test_examples() -> None:
    cost = [1.0, 2.0, 3.0, 2.0, 1.0, 5.0]
    risk = [5.0, 3.0, 4.0, 3.0, 6.0, 1.0]
    # (2,3) twice: both kept; (3,4) dominated by (2,3); (1,6) dominated by (1,5)
    assert pareto_mask(cost, risk).tolist() == [True, True, False, True, False, True]


def test_nan_is_never_on_the_set_and_never_dominates() -> None:
    assert pareto_mask([math.nan, 2.0], [0.0, 1.0]).tolist() == [False, True]
    assert pareto_mask([1.0, 1.0], [math.nan, math.inf]).tolist() == [False, False]
    assert pareto_mask([], []).tolist() == []


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="1-d arrays of one length"):
        pareto_mask([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="one entry per point"):
        frontier(["a"], ["f", "g"], [1.0], [1.0])


def test_frontier_points_are_sorted_and_flagged() -> None:
    points = frontier(["c", "a", "b"], ["x", "y", "x"], [3.0, 1.0, 2.0], [1.0, 3.0, 4.0])
    assert [p.name for p in points] == ["a", "b", "c"]
    assert [p.pareto for p in points] == [True, False, True]
    assert points[0].family == "y"


coords = st.one_of(st.floats(0.0, 100.0), st.sampled_from([0.0, 1.0, 2.0, math.nan]))


@settings(max_examples=150)
@given(st.lists(st.tuples(coords, coords), max_size=25))
def test_the_set_is_exactly_the_undominated_points(points: list[tuple[float, float]]) -> None:
    cost = np.array([p[0] for p in points], dtype=np.float64)
    risk = np.array([p[1] for p in points], dtype=np.float64)
    mask = pareto_mask(cost, risk)
    valid = [i for i, p in enumerate(points) if not any(math.isnan(v) for v in p)]
    for i in range(len(points)):
        if i not in valid:
            assert not mask[i]
            continue
        dominated = any(_dominates(points[j], points[i]) for j in valid)
        assert mask[i] == (not dominated)
    # every point off the set is dominated by a point on it
    for i in valid:
        if not mask[i]:
            assert any(mask[j] and _dominates(points[j], points[i]) for j in valid)
