"""Input validation shared by the pricing functions: kinds, broadcasting, named errors."""

from __future__ import annotations

import numpy as np
import pytest

from hedgekeeper.pricing._inputs import as_float, as_kind, broadcast, require


def test_as_kind_maps_every_spelling() -> None:
    assert as_kind("call") == 1
    assert as_kind("P") == -1
    np.testing.assert_array_equal(as_kind(["Call", " put", "c", "p"]), [1, -1, 1, -1])
    np.testing.assert_array_equal(as_kind(np.array([1, -1, 1])), [1, -1, 1])
    np.testing.assert_array_equal(as_kind(np.array([1.0, -1.0])), [1, -1])
    assert as_kind(np.array([["call", "put"]])).shape == (1, 2)


def test_as_kind_vectorised_path_matches_lookup_path() -> None:
    rng = np.random.default_rng(7)
    words = rng.choice(["call", "put", "c", "p"], size=10_000)
    mixed = words.astype(object)
    mixed[0] = "CALL"  # forces the per-distinct-word path
    fast = as_kind(words)
    slow = as_kind(mixed)
    np.testing.assert_array_equal(fast[1:], slow[1:])
    assert slow[0] == 1
    assert fast.dtype == np.int8


@pytest.mark.parametrize("bad", ["straddle", ["call", "straddle"], [1, 0], [2], 0.5])
def test_as_kind_rejects_unknown_kinds_naming_the_argument(bad: object) -> None:
    with pytest.raises(ValueError, match=r"^option_kind"):
        as_kind(bad, "option_kind")


def test_as_float_names_the_argument() -> None:
    with pytest.raises(ValueError, match=r"^strike must be a number"):
        as_float("strike", "abc")


def test_broadcast_names_the_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match=r"strike\(3,\), t\(2,\)"):
        broadcast({"strike": np.ones(3), "t": np.ones(2)})


def test_require_reports_the_first_bad_value() -> None:
    values = np.array([1.0, -2.0, -3.0])
    with pytest.raises(ValueError, match=r"^vol must be >= 0, got -2\.0$"):
        require("vol", values >= 0, ">= 0", values)
