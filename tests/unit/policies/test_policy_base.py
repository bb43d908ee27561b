"""PolicyView, HedgeTarget and helpers: shapes, units, validation naming the field."""

from __future__ import annotations

import numpy as np
import pytest

from hedgekeeper.policies import (
    SECONDS_PER_YEAR,
    GreekTarget,
    HedgeTarget,
    OptionLegs,
    PolicyView,
    Reason,
    years_since_epoch,
)


def _view(**extra: object) -> PolicyView:
    base: dict[str, object] = {
        "time": [1.0, 2.0, 3.0],
        "spot": [100.0, 100.0, 100.0],
        "net_delta": [0.0, 0.1, 0.2],
        "data_time": [1.0, 2.0, 3.0],
    }
    base.update(extra)
    return PolicyView(**base)  # type: ignore[arg-type]


def test_years_since_epoch() -> None:
    assert years_since_epoch(np.datetime64("1970-01-01T00:00:00")) == 0.0
    one_year = years_since_epoch(np.datetime64("1971-01-01T00:00:00"))
    assert one_year == pytest.approx(1.0)  # 1970 has 365 days: exactly one ACT/365 year
    stamps = np.array(["2026-01-26T04:11:38", "NaT"], dtype="datetime64[s]")
    years = years_since_epoch(stamps)
    seconds = (np.datetime64("2026-01-26T04:11:38") - np.datetime64("1970-01-01")).astype(int)
    assert years[0] == pytest.approx(seconds / SECONDS_PER_YEAR, rel=1e-15)
    assert np.isnan(years[1])


def test_view_scalar_optional_fields_broadcast_to_batch() -> None:
    view = _view(rate=0.01, gamma=0.0)
    assert view.rate is not None
    np.testing.assert_array_equal(view.rate, [0.01, 0.01, 0.01])
    assert view.size == 3


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"spot": [1.0, 2.0]}, "view.spot"),
        ({"gamma": [[1.0], [2.0], [3.0]]}, "view.gamma"),
        ({"weights": np.ones((3, 2))}, "view.weights and view.target_weights"),
        ({"weights": np.ones((3, 2)), "target_weights": np.ones((3, 3))}, "view.target_weights"),
        ({"recent_rebalance_times": np.ones(3)}, "view.recent_rebalance_times"),
        ({"vega": "lots"}, "view.vega"),
    ],
)
def test_view_shape_errors_name_the_field(extra: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        _view(**extra)


def test_view_time_must_be_one_dimensional() -> None:
    with pytest.raises(ValueError, match=r"view\.time"):
        PolicyView(time=1.0, spot=1.0, net_delta=0.0, data_time=1.0)  # type: ignore[arg-type]


def test_options_validation_and_take() -> None:
    legs = OptionLegs(
        strike=[[100.0, 110.0]] * 3,
        expiry=[[0.1, 0.2]] * 3,
        vol=[[0.5, 0.6]] * 3,
        kind=[[1, -1]] * 3,
        quantity=[[1.0, -1.0], [2.0, 0.0], [0.0, 0.0]],
    )
    view = _view(options=legs)
    one = view.take([1])
    assert one.options is not None
    np.testing.assert_array_equal(one.options.quantity, [[2.0, 0.0]])
    with pytest.raises(ValueError, match=r"options\.kind"):
        OptionLegs(strike=[[1.0]], expiry=[[1.0]], vol=[[1.0]], kind=[[2]], quantity=[[1.0]])
    with pytest.raises(ValueError, match=r"options\.vol"):
        OptionLegs(strike=[[1.0]], expiry=[[1.0]], vol=[[1.0, 2.0]], kind=[[1]], quantity=[[1.0]])
    with pytest.raises(ValueError, match=r"view\.options"):
        _view(options=legs.take([0]))


def test_view_require_names_field_and_policy() -> None:
    with pytest.raises(ValueError, match=r"view\.gamma is required by Mine"):
        _view().require("gamma", "Mine")
    with pytest.raises(ValueError, match=r"view\.options is required by Mine"):
        _view().require_options("Mine")


def test_take_keeps_every_field() -> None:
    view = _view(gamma=[1.0, 2.0, 3.0], weights=np.eye(3), target_weights=np.eye(3))
    part = view.take(np.array([False, True, True]))
    assert part.size == 2
    assert part.gamma is not None
    assert part.weights is not None
    np.testing.assert_array_equal(part.gamma, [2.0, 3.0])
    np.testing.assert_array_equal(part.weights, np.eye(3)[1:])


def test_hedge_target_validation_and_explain() -> None:
    target = HedgeTarget(
        rebalance=[True, False],
        reason=[Reason.DELTA_BAND, Reason.REFUSED_STALE],
        policy="DeltaBand",
        delta=GreekTarget([0.0, np.nan], [-0.1, np.nan], [0.1, np.nan]),
    )
    assert target.explain(0) == "DeltaBand: DELTA_BAND"
    assert target.explain(1) == "DeltaBand: REFUSED_STALE"
    assert Reason.REFUSED_STALE.refused
    assert not Reason.COOLDOWN.refused
    assert Reason.COOLDOWN.suppressed
    single = target.take(1)
    assert single.size == 1
    assert single.reason[0] == Reason.REFUSED_STALE
    with pytest.raises(ValueError, match="unknown codes"):
        HedgeTarget(rebalance=[True], reason=[99], policy="x")
    with pytest.raises(ValueError, match=r"HedgeTarget\.reason"):
        HedgeTarget(rebalance=[True], reason=[0, 0], policy="x")
    with pytest.raises(ValueError, match=r"HedgeTarget\.delta"):
        HedgeTarget(
            rebalance=[True, True], reason=[2, 2], policy="x",
            delta=GreekTarget([0.0], [0.0], [0.0]),
        )
