"""GreekBands and VolRegimeBand on hand-built views."""

from __future__ import annotations

import numpy as np
import pytest

from hedgekeeper.policies import GreekBands, PolicyView, Reason, VolRegimeBand

DAY = 1.0 / 365.0


def _view(**extra: object) -> PolicyView:
    n = len(extra["net_delta"])  # type: ignore[arg-type]
    fields: dict[str, object] = {
        "time": np.zeros(n),
        "spot": np.full(n, 90_000.0),
        "data_time": np.zeros(n),
    }
    fields.update(extra)
    return PolicyView(**fields)  # type: ignore[arg-type]


def test_greek_bands_reason_priority_and_targets() -> None:
    view = _view(
        net_delta=[0.0, 0.0, 0.5, 0.0, 0.5],
        gamma=[2e-5, 0.0, 0.0, 0.0, 2e-5],
        vega=[0.0, 80.0, 0.0, 10.0, 80.0],
        target_gamma=[0.0, 0.0, 0.0, 0.0, 0.5e-5],
    )
    policy = GreekBands(gamma_halfwidth=1e-5, vega_halfwidth=50.0, delta_halfwidth=0.3)
    decision = policy.decide(view)
    assert decision is not None
    np.testing.assert_array_equal(decision.rebalance, [True, True, True, False, True])
    np.testing.assert_array_equal(
        decision.reason,
        [Reason.GAMMA_BAND, Reason.VEGA_BAND, Reason.DELTA_BAND, Reason.HOLD, Reason.GAMMA_BAND],
    )
    assert decision.gamma is not None
    assert decision.vega is not None
    assert decision.delta is not None
    np.testing.assert_allclose(decision.gamma.target[[0, 4]], [0.0, 0.5e-5])
    np.testing.assert_allclose(decision.gamma.upper[4], 1.5e-5)
    np.testing.assert_allclose(decision.vega.lower[1], -50.0)
    np.testing.assert_allclose(decision.delta.target[[0, 1, 2]], 0.0)
    np.testing.assert_allclose(decision.delta.upper[0], 0.3)


def test_greek_bands_edge_targets_and_delta_not_a_trigger_by_default() -> None:
    view = _view(net_delta=[2.0, 0.0], gamma=[3e-5, 0.0])
    decision = GreekBands(gamma_halfwidth=1e-5, hedge_to="edge").decide(view)
    assert decision is not None
    np.testing.assert_array_equal(decision.rebalance, [True, False])
    assert decision.gamma is not None
    assert decision.delta is not None
    np.testing.assert_allclose(decision.gamma.target[0], 1e-5)
    # delta goes exactly to target (no tolerance given), but alone never fires
    np.testing.assert_allclose(
        [decision.delta.lower[0], decision.delta.target[0], decision.delta.upper[0]], 0.0
    )
    assert decision.vega is None


def test_greek_bands_need_the_greek_they_band() -> None:
    with pytest.raises(ValueError, match=r"view\.vega"):
        GreekBands(vega_halfwidth=10.0).decide(_view(net_delta=[0.0]))


def _regime_policy(**extra: object) -> VolRegimeBand:
    params: dict[str, object] = {
        "signal": "vol_percentile",
        "thresholds": [0.3, 0.8],
        "halfwidths": [0.5, 0.25, 0.1],
        "intervals": [7 * DAY, DAY, 0.25 * DAY],
    }
    params.update(extra)
    return VolRegimeBand(**params)  # type: ignore[arg-type]


def test_regime_band_width_follows_regime() -> None:
    percentile = [0.1, 0.5, 0.95, 0.3]  # calm, normal, stress, exactly on a threshold -> normal
    view = _view(
        net_delta=[0.3, 0.3, 0.3, 0.3],
        vol_percentile=percentile,
        last_rebalance_time=np.zeros(4),
    )
    policy = _regime_policy()
    np.testing.assert_array_equal(policy.regime(np.array(percentile)), [0, 1, 2, 1])
    decision = policy.decide(view)
    assert decision is not None
    np.testing.assert_array_equal(decision.rebalance, [False, True, True, True])
    assert decision.delta is not None
    np.testing.assert_allclose(decision.delta.upper[1:], [0.25, 0.1, 0.25])


def test_regime_cadence_is_rarer_when_calm() -> None:
    # Inside every band, last rebalance two days ago: due in normal and stress, not in calm.
    view = _view(
        net_delta=[0.0, 0.0, 0.0],
        vol_percentile=[0.1, 0.5, 0.95],
        last_rebalance_time=np.full(3, -2 * DAY),
    )
    decision = _regime_policy().decide(view)
    assert decision is not None
    np.testing.assert_array_equal(decision.rebalance, [False, True, True])
    np.testing.assert_array_equal(decision.reason[1:], [Reason.SCHEDULE, Reason.SCHEDULE])


def test_regime_on_dvol_in_usd_without_cadence() -> None:
    policy = VolRegimeBand(
        "dvol", thresholds=[0.6], halfwidths=[20_000.0, 5_000.0], unit="usd"
    )
    # 0.1 coin * 90 000 = 9 000 USD: inside the calm band, outside the stressed one
    view = _view(net_delta=[0.1, 0.1], dvol=[0.45, 0.75])
    decision = policy.decide(view)
    assert decision is not None
    np.testing.assert_array_equal(decision.rebalance, [False, True])
