"""Conformance suite: every policy exported by ``hedgekeeper.policies`` passes these checks.

* registered: each exported policy class has an example in ``policy_examples.EXAMPLES``;
* pure: the same view gives the same decision, and the caller's arrays are not mutated;
* batch equals singles: element ``i`` of a batch decision equals deciding on element ``i`` alone;
* NaN or stale input is refused (no trade, a refusal reason) without touching other elements;
* constructor parameters are validated with an error naming the parameter;
* decisions are well formed (None only when everyone holds; no targets where nobody trades).
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import numpy as np
import pytest
from policy_examples import EXAMPLES, rich_view

import hedgekeeper.policies as policies
from hedgekeeper.policies import HedgeTarget, Policy, PolicyView, Reason


def _exported_policy_classes() -> dict[str, type]:
    found = {}
    for name in policies.__all__:
        obj = getattr(policies, name)
        if inspect.isclass(obj) and obj is not Policy and callable(getattr(obj, "decide", None)):
            found[name] = obj
    return found


POLICY_CLASSES = _exported_policy_classes()
NAMES = sorted(EXAMPLES)


def test_every_exported_policy_has_an_example() -> None:
    assert set(POLICY_CLASSES) == set(EXAMPLES), (
        "register an Example in tests/unit/policies/policy_examples.py for every exported policy"
    )
    assert len(POLICY_CLASSES) >= 13


@pytest.mark.parametrize("name", NAMES)
def test_example_builds_the_class_and_satisfies_protocol(name: str) -> None:
    policy = EXAMPLES[name].build()
    assert type(policy) is POLICY_CLASSES[name]
    assert isinstance(policy, Policy)


def _element(target: HedgeTarget | None, i: int) -> dict[str, Any]:
    """Element ``i`` of a decision as plain values; None means every element holds."""
    if target is None:
        return {"rebalance": False, "reason": int(Reason.HOLD)}
    out: dict[str, Any] = {
        "rebalance": bool(target.rebalance[i]),
        "reason": int(target.reason[i]),
    }
    if out["reason"] != Reason.HOLD:
        out["policy"] = str(target.policy[i])
    if out["rebalance"]:
        # A field that is absent, or NaN for this element, is "not targeted" either way.
        for name in ("delta", "gamma", "vega"):
            greek = getattr(target, name)
            if greek is not None and np.isfinite(greek.target[i]):
                out[name] = (greek.target[i], greek.lower[i], greek.upper[i])
        if target.weights is not None and np.isfinite(target.weights[i]).all():
            out["weights"] = tuple(target.weights[i])
    return out


def _assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys(), (a, b)
    for key in a:
        if isinstance(a[key], tuple):
            np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=1e-15, err_msg=key)
        else:
            assert a[key] == b[key], (key, a, b)


@pytest.mark.parametrize("name", NAMES)
def test_example_fires_and_holds(name: str) -> None:
    """The example view exercises both branches, so the other checks mean something."""
    decision = EXAMPLES[name].build().decide(rich_view())
    assert decision is not None
    assert decision.rebalance.any()
    assert (~decision.rebalance).any()


@pytest.mark.parametrize("name", NAMES)
def test_pure_same_input_same_output_inputs_untouched(name: str) -> None:
    view = rich_view()
    snapshot = {
        f.name: np.copy(getattr(view, f.name))
        for f in dataclasses.fields(view)
        if isinstance(getattr(view, f.name), np.ndarray)
    }
    policy = EXAMPLES[name].build()
    first = policy.decide(view)
    second = policy.decide(view)
    for key, before in snapshot.items():
        np.testing.assert_array_equal(getattr(view, key), before, err_msg=key)
    for i in range(view.size):
        _assert_same(_element(first, i), _element(second, i))
    # A fresh policy object with the same parameters decides the same: no hidden state.
    third = EXAMPLES[name].build().decide(view)
    for i in range(view.size):
        _assert_same(_element(first, i), _element(third, i))


def test_view_arrays_are_copies_and_read_only() -> None:
    spot = np.array([100.0, 101.0])
    view = PolicyView(time=[0.0, 0.0], spot=spot, net_delta=[0.0, 0.0], data_time=[0.0, 0.0])
    spot[0] = -1.0
    assert view.spot[0] == 100.0
    with pytest.raises(ValueError, match="read-only"):
        view.spot[0] = 5.0


@pytest.mark.parametrize("name", NAMES)
def test_batch_equals_singles(name: str) -> None:
    view = rich_view()
    policy = EXAMPLES[name].build()
    batch = policy.decide(view)
    assert batch is None or batch.size == view.size
    for i in range(view.size):
        single = policy.decide(view.take([i]))
        assert single is None or single.size == 1
        _assert_same(_element(batch, i), _element(single, 0))


def _poison(view: PolicyView, field: str, row: int) -> PolicyView:
    if field.startswith("options."):
        legs = view.options
        assert legs is not None
        attr = field.split(".", 1)[1]
        values = np.array(getattr(legs, attr), dtype=np.float64)
        values[row, 0] = np.nan
        return dataclasses.replace(view, options=dataclasses.replace(legs, **{attr: values}))
    values = np.array(getattr(view, field), dtype=np.float64)
    values[row] = np.nan
    return dataclasses.replace(view, **{field: values})


def _assert_refused_only(
    policy: Policy, clean: PolicyView, dirty: PolicyView, row: int, reason: Reason
) -> None:
    before = policy.decide(clean)
    after = policy.decide(dirty)
    assert after is not None, "a refusal must be reported, not returned as None"
    assert not after.rebalance[row]
    assert after.reason[row] == reason, after.explain(row)
    assert Reason(int(after.reason[row])).refused
    for i in range(clean.size):
        if i != row:
            _assert_same(_element(before, i), _element(after, i))


def _all_nan_fields(name: str) -> list[str]:
    return ["spot", "net_delta", "time", *EXAMPLES[name].nan_fields]


@pytest.mark.parametrize(
    ("name", "field"), [(n, f) for n in NAMES for f in _all_nan_fields(n)]
)
def test_nan_input_is_refused(name: str, field: str) -> None:
    view = rich_view()
    policy = EXAMPLES[name].build()
    decision = policy.decide(view)
    assert decision is not None
    # Poison an element that would otherwise trade, so the refusal visibly blocks a trade.
    row = int(np.flatnonzero(decision.rebalance)[0])
    if field == "time":
        # A NaN clock also makes the data age unknown; either refusal is a refusal.
        dirty = _poison(view, "time", row)
        after = policy.decide(dirty)
        assert after is not None
        assert not after.rebalance[row]
        assert Reason(int(after.reason[row])).refused
        return
    _assert_refused_only(policy, view, _poison(view, field, row), row, Reason.REFUSED_NAN)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad_spot", [0.0, -50_000.0, np.inf])
def test_nonpositive_or_infinite_spot_is_refused(name: str, bad_spot: float) -> None:
    view = rich_view()
    policy = EXAMPLES[name].build()
    decision = policy.decide(view)
    assert decision is not None
    row = int(np.flatnonzero(decision.rebalance)[0])
    spot = np.array(view.spot)
    spot[row] = bad_spot
    dirty = dataclasses.replace(view, spot=spot)
    _assert_refused_only(policy, view, dirty, row, Reason.REFUSED_NAN)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("how", ["old", "missing"])
def test_stale_input_is_refused(name: str, how: str) -> None:
    view = rich_view()
    policy = EXAMPLES[name].build()
    decision = policy.decide(view)
    assert decision is not None
    row = int(np.flatnonzero(decision.rebalance)[0])
    data_time = np.array(view.data_time)
    data_time[row] = view.time[row] - 1.0 / 365.0 if how == "old" else np.nan
    dirty = dataclasses.replace(view, data_time=data_time)
    _assert_refused_only(policy, view, dirty, row, Reason.REFUSED_STALE)


@pytest.mark.parametrize(
    ("name", "case"), [(n, i) for n in NAMES for i in range(len(EXAMPLES[n].bad))]
)
def test_bad_parameters_name_the_parameter(name: str, case: int) -> None:
    build, parameter = EXAMPLES[name].bad[case]
    with pytest.raises(ValueError, match=rf"\b{parameter.replace('[', '.').replace(']', '.')}"):
        build()


@pytest.mark.parametrize("name", NAMES)
def test_every_policy_has_bad_parameter_cases(name: str) -> None:
    assert len(EXAMPLES[name].bad) >= 2


@pytest.mark.parametrize("name", NAMES)
def test_decision_is_well_formed(name: str) -> None:
    view = rich_view()
    decision = EXAMPLES[name].build().decide(view)
    assert decision is not None
    assert decision.size == view.size
    reasons = [Reason(int(code)) for code in decision.reason]
    for i, reason in enumerate(reasons):
        if decision.rebalance[i]:
            assert reason in (
                Reason.SCHEDULE,
                Reason.DELTA_BAND,
                Reason.WEIGHT_BAND,
                Reason.GAMMA_BAND,
                Reason.VEGA_BAND,
            )
        assert decision.explain(i).startswith(str(decision.policy[i]))
    assert decision.delta is not None or decision.weights is not None
    for greek in (decision.delta, decision.gamma, decision.vega):
        if greek is None:
            continue
        moving = decision.rebalance
        assert np.all(np.isnan(greek.target[~moving]))
        assert np.all(np.isfinite(greek.target[moving]))
        assert np.all(greek.lower[moving] <= greek.target[moving] + 1e-12)
        assert np.all(greek.target[moving] <= greek.upper[moving] + 1e-12)
    if decision.weights is not None:
        assert np.all(np.isnan(decision.weights[~decision.rebalance]))


@pytest.mark.parametrize("name", NAMES)
def test_after_trading_to_target_everyone_holds(name: str) -> None:
    """Move every trading book to its target and mark it just rebalanced: the next decision holds
    everywhere (None, or only suppressions of unmoved books are reported). Targets on a band edge
    count as inside the band."""
    view = rich_view()
    policy = EXAMPLES[name].build()
    decision = policy.decide(view)
    assert decision is not None
    moved = decision.rebalance

    def after(current: Any, greek: Any) -> Any:
        if greek is None or current is None:
            return current
        return np.where(moved & np.isfinite(greek.target), greek.target, current)

    weights = view.weights
    if decision.weights is not None:
        targeted = moved & np.isfinite(decision.weights).all(axis=1)
        weights = np.where(targeted[:, None], decision.weights, view.weights)
    traded = dataclasses.replace(
        view,
        net_delta=after(view.net_delta, decision.delta),
        gamma=after(view.gamma, decision.gamma),
        vega=after(view.vega, decision.vega),
        weights=weights,
        last_rebalance_time=np.where(moved, view.time, view.last_rebalance_time),
        recent_rebalance_times=np.where(
            moved[:, None],
            np.column_stack([view.time, view.recent_rebalance_times[:, :2]]),
            view.recent_rebalance_times,
        ),
    )
    again = policy.decide(traded)
    if again is not None:
        # Only elements a combinator suppressed (and so did not move) may still say why.
        assert not again.rebalance.any()
        for i in range(view.size):
            reason = Reason(int(again.reason[i]))
            assert reason == Reason.HOLD or (not moved[i] and reason.suppressed), again.explain(i)
