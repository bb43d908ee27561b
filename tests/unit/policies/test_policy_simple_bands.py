"""Calendar, DeltaBand and WeightBand on hand-built views."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from hedgekeeper.policies import (
    Calendar,
    DeltaBand,
    PolicyView,
    Reason,
    WeightBand,
    years_since_epoch,
)

DAY = 1.0 / 365.0
HOUR = DAY / 24.0


def _view(net_delta: list[float], **extra: object) -> PolicyView:
    n = len(net_delta)
    fields: dict[str, object] = {
        "time": np.full(n, 50.0),
        "spot": np.full(n, 80_000.0),
        "net_delta": net_delta,
        "data_time": np.full(n, 50.0),
    }
    fields.update(extra)
    return PolicyView(**fields)  # type: ignore[arg-type]


def test_calendar_fires_after_interval_and_when_never_rebalanced() -> None:
    now = 50.0
    last = [np.nan, now - 0.5 * DAY, now - DAY, now - 24 * HOUR, now - 3 * DAY]
    view = _view([0.3] * 5, last_rebalance_time=last, target_delta=[0.0, 0, 0, 0, 0.1])
    decision = Calendar(DAY).decide(view)
    assert decision is not None
    np.testing.assert_array_equal(decision.rebalance, [True, False, True, True, True])
    assert decision.delta is not None
    np.testing.assert_array_equal(decision.delta.target[[0, 4]], [0.0, 0.1])
    assert decision.reason[0] == Reason.SCHEDULE


def test_calendar_hourly_steps_add_up_to_a_day() -> None:
    # 24 one-hour steps in floating point fall short of one day by a rounding error.
    start = 56.1
    t = start
    for _ in range(24):
        t += HOUR
    assert t - start < DAY
    view = PolicyView(
        time=[t], spot=[1.0], net_delta=[0.0], data_time=[t], last_rebalance_time=[start]
    )
    assert Calendar(DAY).decide(view) is not None


def test_calendar_aligned_to_clock_time() -> None:
    stamps = np.array(
        [
            "2026-01-26T07:59",  # last at 25th 08:30: the 26th 08:00 point not reached yet
            "2026-01-26T08:01",  # passed 26th 08:00
            "2026-01-26T08:01",  # last at 26th 08:00:30: already served
        ],
        dtype="datetime64[s]",
    )
    lasts = np.array(
        ["2026-01-25T08:30", "2026-01-25T08:30", "2026-01-26T08:00:30"], dtype="datetime64[s]"
    )
    time = years_since_epoch(stamps)
    view = PolicyView(
        time=time, spot=np.ones(3), net_delta=np.zeros(3), data_time=time,
        last_rebalance_time=years_since_epoch(lasts),
    )
    decision = Calendar(DAY, align_to=dt.time(8, 0)).decide(view)
    assert decision is not None
    np.testing.assert_array_equal(decision.rebalance, [False, True, False])
    # Unaligned, 23.5 h after the last rebalance is not yet due.
    assert Calendar(DAY).decide(view) is None


def test_calendar_targets_weights_when_given() -> None:
    view = _view(
        [0.0], last_rebalance_time=[np.nan], weights=[[0.7, 0.3]], target_weights=[[0.6, 0.4]]
    )
    decision = Calendar(DAY).decide(view)
    assert decision is not None
    assert decision.weights is not None
    np.testing.assert_array_equal(decision.weights, [[0.6, 0.4]])


def test_calendar_requires_last_rebalance_time() -> None:
    with pytest.raises(ValueError, match="last_rebalance_time"):
        Calendar(DAY).decide(_view([0.0]))


def test_delta_band_coin_centre_and_edge() -> None:
    view = _view([0.05, 0.25, -0.3, 0.2], target_delta=[0.0, 0.0, 0.0, 0.1])
    centre = DeltaBand(0.2).decide(view)
    assert centre is not None
    np.testing.assert_array_equal(centre.rebalance, [False, True, True, False])
    assert centre.delta is not None
    np.testing.assert_array_equal(centre.delta.target[1:3], [0.0, 0.0])
    np.testing.assert_allclose(centre.delta.lower[1:3], [-0.2, -0.2])
    edge = DeltaBand(0.2, hedge_to="edge").decide(view)
    assert edge is not None
    assert edge.delta is not None
    np.testing.assert_allclose(edge.delta.target[1:3], [0.2, -0.2])


def test_delta_band_in_usd() -> None:
    # 0.1 coin at 80 000 USD = 8 000 USD: outside a 5 000 USD band, inside a 10 000 USD band.
    view = _view([0.1])
    assert DeltaBand(5_000.0, unit="usd").decide(view) is not None
    assert DeltaBand(10_000.0, unit="usd").decide(view) is None
    edge = DeltaBand(5_000.0, unit="usd", hedge_to="edge").decide(view)
    assert edge is not None
    assert edge.delta is not None
    assert edge.delta.target[0] == pytest.approx(5_000.0 / 80_000.0)


def test_delta_band_boundary_is_inside() -> None:
    assert DeltaBand(0.25).decide(_view([0.25, -0.25])) is None


def test_weight_band_five_twenty_five_rule() -> None:
    # target (0.8, 0.1, 0.1): half-widths min(5 pts, 25 % of target) = (0.05, 0.025, 0.025)
    target = [[0.8, 0.1, 0.1]] * 3
    weights = [
        [0.76, 0.13, 0.11],  # second asset off by 0.03 > 0.025: fire
        [0.77, 0.12, 0.11],  # all inside
        [0.86, 0.07, 0.07],  # first asset off by 0.06 > 0.05: fire
    ]
    view = _view([0.0] * 3, weights=weights, target_weights=target)
    full = WeightBand(absolute=0.05, relative=0.25).decide(view)
    assert full is not None
    np.testing.assert_array_equal(full.rebalance, [True, False, True])
    assert full.weights is not None
    np.testing.assert_allclose(full.weights[0], [0.8, 0.1, 0.1])
    assert np.all(np.isnan(full.weights[1]))
    assert full.reason[0] == Reason.WEIGHT_BAND
    assert full.delta is None


def test_weight_band_to_edge_moves_along_the_line_to_target() -> None:
    view = _view([0.0], weights=[[0.76, 0.13, 0.11]], target_weights=[[0.8, 0.1, 0.1]])
    edge = WeightBand(absolute=0.05, relative=0.25, hedge_to="edge").decide(view)
    assert edge is not None
    assert edge.weights is not None
    # θ = min(0.05/0.04, 0.025/0.03, 0.025/0.01) = 5/6; w' = w* + θ (w - w*)
    np.testing.assert_allclose(edge.weights[0], [0.8 - 0.04 * 5 / 6, 0.125, 0.1 + 0.01 * 5 / 6])
    assert edge.weights[0].sum() == pytest.approx(1.0)


def test_weight_band_absolute_only_and_relative_only() -> None:
    view = _view([0.0], weights=[[0.55, 0.45]], target_weights=[[0.5, 0.5]])
    assert WeightBand(absolute=0.06).decide(view) is None
    assert WeightBand(absolute=0.04).decide(view) is not None
    assert WeightBand(relative=0.2).decide(view) is None  # 10 % relative deviation
    assert WeightBand(relative=0.05).decide(view) is not None


def test_weight_band_requires_weights() -> None:
    with pytest.raises(ValueError, match=r"view\.weights"):
        WeightBand(absolute=0.05).decide(_view([0.0]))
