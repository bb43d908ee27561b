"""Cooldown, MinTradeSize, MaxFrequency, AnyOf and AllOf on hand-built views."""

from __future__ import annotations

import numpy as np

from hedgekeeper.policies import (
    AllOf,
    AnyOf,
    Calendar,
    Cooldown,
    DeltaBand,
    GreekBands,
    MaxFrequency,
    MinTradeSize,
    PolicyView,
    Reason,
    WeightBand,
)

DAY = 1.0 / 365.0


def _view(net_delta: list[float], **extra: object) -> PolicyView:
    n = len(net_delta)
    fields: dict[str, object] = {
        "time": np.full(n, 10.0),
        "spot": np.full(n, 50_000.0),
        "net_delta": net_delta,
        "data_time": np.full(n, 10.0),
    }
    fields.update(extra)
    return PolicyView(**fields)  # type: ignore[arg-type]


def test_cooldown_suppresses_recent_rebalances_and_says_so() -> None:
    view = _view([0.5, 0.5, 0.5, 0.0], last_rebalance_time=[10.0 - 0.5 * DAY, 10.0 - 2 * DAY,
                                                           np.nan, 10.0])
    decision = Cooldown(DeltaBand(0.2), min_interval=DAY).decide(view)
    assert decision is not None
    np.testing.assert_array_equal(decision.rebalance, [False, True, True, False])
    assert decision.reason[0] == Reason.COOLDOWN
    assert decision.policy[0] == "Cooldown"
    assert decision.policy[1] == "DeltaBand"
    assert decision.delta is not None
    assert np.isnan(decision.delta.target[0])
    assert decision.reason[3] == Reason.HOLD


def test_min_trade_size_in_coin_usd_and_turnover() -> None:
    view = _view([0.25, 0.6])
    edge = DeltaBand(0.2, hedge_to="edge")  # trades of 0.05 and 0.4 coin
    decision = MinTradeSize(edge, min_delta=0.1).decide(view)
    assert decision is not None
    np.testing.assert_array_equal(decision.rebalance, [False, True])
    assert decision.reason[0] == Reason.BELOW_MIN_TRADE
    usd = MinTradeSize(edge, min_delta_usd=3_000.0).decide(view)  # 2 500 USD vs 20 000 USD
    assert usd is not None
    np.testing.assert_array_equal(usd.rebalance, [False, True])
    weights = _view(
        [0.0, 0.0], weights=[[0.56, 0.44], [0.7, 0.3]], target_weights=[[0.5, 0.5]] * 2
    )
    turnover = MinTradeSize(WeightBand(absolute=0.05), min_turnover=0.1).decide(weights)
    assert turnover is not None  # turnovers 0.06 and 0.2
    np.testing.assert_array_equal(turnover.rebalance, [False, True])


def test_min_trade_size_never_suppresses_option_trades() -> None:
    view = _view([0.0], gamma=[1.0])
    decision = MinTradeSize(GreekBands(gamma_halfwidth=0.5), min_delta=1.0).decide(view)
    assert decision is not None
    assert decision.rebalance[0]


def test_max_frequency_counts_the_trailing_window() -> None:
    now = 10.0
    recent = [
        [now - 0.1 * DAY, now - 0.5 * DAY, now - 2 * DAY],  # two in the last day: capped
        [now - 0.1 * DAY, now - 1.5 * DAY, np.nan],  # one: allowed
    ]
    view = _view([0.5, 0.5], recent_rebalance_times=recent)
    decision = MaxFrequency(DeltaBand(0.2), max_count=2, window=DAY).decide(view)
    assert decision is not None
    np.testing.assert_array_equal(decision.rebalance, [False, True])
    assert decision.reason[0] == Reason.MAX_FREQUENCY
    single = MaxFrequency(DeltaBand(0.2), max_count=1, window=DAY).decide(
        _view([0.5, 0.5], last_rebalance_time=[now - 0.5 * DAY, now - 2 * DAY])
    )
    assert single is not None
    np.testing.assert_array_equal(single.rebalance, [False, True])


def test_any_of_takes_first_firing_member_and_refusal_wins() -> None:
    view = _view(
        [0.5, 0.0, 0.0, 0.5],
        last_rebalance_time=[10.0, 10.0 - 2 * DAY, 10.0, 10.0 - 2 * DAY],
        data_time=[10.0, 10.0, 10.0, 9.0],  # last element stale
    )
    decision = AnyOf(DeltaBand(0.2), Calendar(DAY)).decide(view)
    assert decision is not None
    np.testing.assert_array_equal(decision.rebalance, [True, True, False, False])
    np.testing.assert_array_equal(
        decision.reason,
        [Reason.DELTA_BAND, Reason.SCHEDULE, Reason.HOLD, Reason.REFUSED_STALE],
    )
    np.testing.assert_array_equal(decision.policy[:2], ["DeltaBand", "Calendar"])


def test_all_of_needs_every_member() -> None:
    view = _view([0.5, 0.5, 0.0], gamma=[2.0, 0.0, 2.0])
    decision = AllOf(DeltaBand(0.2), GreekBands(gamma_halfwidth=1.0)).decide(view)
    assert decision is not None
    np.testing.assert_array_equal(decision.rebalance, [True, False, False])
    np.testing.assert_array_equal(
        decision.reason, [Reason.DELTA_BAND, Reason.NOT_ALL, Reason.NOT_ALL]
    )
    assert decision.gamma is not None  # filled from the second member
    assert decision.gamma.target[0] == 0.0
    assert AllOf(DeltaBand(0.2)).decide(_view([0.0])) is None
