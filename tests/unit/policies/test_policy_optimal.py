"""WhalleyWilmottBand, ZakamoulineBand and LelandDelta on hand-built option books."""

from __future__ import annotations

import numpy as np
import pytest

from hedgekeeper.policies import (
    LelandDelta,
    OptionLegs,
    PolicyView,
    Reason,
    WhalleyWilmottBand,
    ZakamoulineBand,
    leland_vol,
    whalley_wilmott_halfwidth,
    zakamouline_band,
)
from hedgekeeper.pricing.black import black_scholes

DAY = 1.0 / 365.0


def _book(
    quantity: float,
    net_delta: list[float],
    *,
    strike: float = 100.0,
    expiry: float = 1.0,
    vol: float = 0.3,
    kind: int = 1,
    rate: float | None = None,
    last: float = np.nan,
) -> PolicyView:
    n = len(net_delta)
    greeks = black_scholes(100.0, strike, expiry, rate or 0.0, vol, kind)
    return PolicyView(
        time=np.zeros(n),
        spot=np.full(n, 100.0),
        net_delta=net_delta,
        data_time=np.zeros(n),
        gamma=np.full(n, quantity * float(greeks.gamma)),
        rate=None if rate is None else np.full(n, rate),
        last_rebalance_time=np.full(n, last),
        options=OptionLegs(
            strike=np.full((n, 1), strike),
            expiry=np.full((n, 1), expiry),
            vol=np.full((n, 1), vol),
            kind=np.full((n, 1), kind, dtype=np.int8),
            quantity=np.full((n, 1), quantity),
        ),
    )


def test_whalley_wilmott_band_matches_formula() -> None:
    view = _book(-1.0, [0.0, 0.2, -0.2], rate=0.05, expiry=0.5)
    assert view.gamma is not None
    half = whalley_wilmott_halfwidth(100.0, view.gamma[0], 0.01, 1.0, 0.05, 0.5)
    decision = WhalleyWilmottBand(cost=0.01, risk_aversion=1.0).decide(view)
    assert decision is not None
    np.testing.assert_array_equal(decision.rebalance, [False, half < 0.2, half < 0.2])
    assert decision.delta is not None
    np.testing.assert_allclose(decision.delta.upper[1], half, rtol=1e-14)
    np.testing.assert_allclose(decision.delta.target[1:], [half, -half], rtol=1e-14)  # edge


def test_whalley_wilmott_band_needs_options_only_with_a_rate() -> None:
    view = _book(-1.0, [0.3])
    no_options = PolicyView(
        time=view.time, spot=view.spot, net_delta=view.net_delta, data_time=view.data_time,
        gamma=view.gamma,
    )
    assert WhalleyWilmottBand(0.01, 1.0).decide(no_options) is not None
    with_rate = PolicyView(
        time=view.time, spot=view.spot, net_delta=view.net_delta, data_time=view.data_time,
        gamma=view.gamma, rate=[0.05],
    )
    with pytest.raises(ValueError, match=r"view\.options"):
        WhalleyWilmottBand(0.01, 1.0).decide(with_rate)


def test_zakamouline_policy_single_short_call_matches_function() -> None:
    lower, upper = zakamouline_band(100.0, 100.0, 1.0, 0.0, 0.3, "call", 0.02, 1.0)
    delta = float(black_scholes(100.0, 100.0, 1.0, 0.0, 0.3, "call").delta)
    # hedge h inside [lower, upper]  <=>  net = h - Δ(σ) inside [lower - Δ, upper - Δ]
    hedges = np.array([lower - 0.01, (lower + upper) / 2, upper + 0.01])
    view = _book(-1.0, list(hedges - delta))
    decision = ZakamoulineBand(cost=0.02, risk_aversion=1.0).decide(view)
    assert decision is not None
    np.testing.assert_array_equal(decision.rebalance, [True, False, True])
    assert decision.delta is not None
    np.testing.assert_allclose(decision.delta.target[[0, 2]], [lower - delta, upper - delta])
    centre = ZakamoulineBand(cost=0.02, risk_aversion=1.0, hedge_to="centre").decide(view)
    assert centre is not None
    assert centre.delta is not None
    np.testing.assert_allclose(centre.delta.target[0], (lower + upper) / 2 - delta, atol=1e-12)


def test_zakamouline_policy_position_size_follows_cara_scaling() -> None:
    # q options at risk aversion γ hedge like q times one option at risk aversion qγ.
    lower, upper = zakamouline_band(100.0, 100.0, 1.0, 0.0, 0.3, "call", 0.02, 2.0)
    delta = float(black_scholes(100.0, 100.0, 1.0, 0.0, 0.3, "call").delta)
    view = _book(-2.0, [0.0])
    decision = ZakamoulineBand(cost=0.02, risk_aversion=1.0, hedge_to="centre").decide(
        PolicyView(
            time=view.time, spot=view.spot, net_delta=[10.0], data_time=view.data_time,
            options=view.options,
        )
    )
    assert decision is not None
    assert decision.delta is not None
    np.testing.assert_allclose(decision.delta.lower, 2 * (lower - delta), rtol=1e-12)
    np.testing.assert_allclose(decision.delta.upper, 2 * (upper - delta), rtol=1e-12)


def test_zakamouline_policy_long_position_uses_lower_vol() -> None:
    # For a long call the centre is Δ at σ sqrt(1 + K) < σ: the band shifts the other way.
    view = _book(1.0, [5.0])
    decision = ZakamoulineBand(cost=0.02, risk_aversion=1.0, hedge_to="centre").decide(view)
    assert decision is not None
    assert decision.delta is not None
    gamma = float(black_scholes(100.0, 100.0, 1.0, 0.0, 0.3, "call").gamma)
    k = -4.76 * 0.02**0.78 * (1 / 0.3) ** 0.25 * (100.0**2 * gamma) ** 0.15
    modified = float(black_scholes(100.0, 100.0, 1.0, 0.0, 0.3 * np.sqrt(1 + k), "call").delta)
    plain = float(black_scholes(100.0, 100.0, 1.0, 0.0, 0.3, "call").delta)
    np.testing.assert_allclose(decision.delta.target, plain - modified, rtol=1e-10)


def test_optimal_bands_refuse_expired_legs() -> None:
    view = _book(-1.0, [0.5], expiry=0.0)
    for policy in (ZakamoulineBand(0.01, 1.0), LelandDelta(0.002, DAY)):
        decision = policy.decide(view)
        assert decision is not None
        assert decision.reason[0] == Reason.REFUSED_MODEL
        assert not decision.rebalance[0]


def test_leland_policy_targets_leland_delta_on_schedule() -> None:
    vol_l = float(leland_vol(0.3, 0.004, DAY, short=True))
    plain = float(black_scholes(100.0, 100.0, 1.0, 0.0, 0.3, "call").delta)
    leland = float(black_scholes(100.0, 100.0, 1.0, 0.0, vol_l, "call").delta)
    due = _book(-1.0, [0.0], last=-DAY)
    decision = LelandDelta(cost_round_trip=0.004, interval=DAY).decide(due)
    assert decision is not None
    assert decision.reason[0] == Reason.SCHEDULE
    assert decision.delta is not None
    # hedge = +Δ(σ_L) for the written call; net = hedge - Δ(σ)
    np.testing.assert_allclose(decision.delta.target, leland - plain, rtol=1e-12)
    assert LelandDelta(0.004, DAY).decide(_book(-1.0, [0.0], last=-0.5 * DAY)) is None


def test_leland_policy_refuses_where_long_variance_negative() -> None:
    view = _book(1.0, [0.0], vol=0.2)
    decision = LelandDelta(cost_round_trip=0.05, interval=DAY).decide(view)
    assert decision is not None
    assert decision.reason[0] == Reason.REFUSED_MODEL


def test_band_functions_validate_arguments() -> None:
    with pytest.raises(ValueError, match="risk_aversion"):
        whalley_wilmott_halfwidth(100.0, 0.01, 0.01, 0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="spot"):
        whalley_wilmott_halfwidth(-1.0, 0.01, 0.01, 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="t must"):
        zakamouline_band(100.0, 100.0, 0.0, 0.0, 0.3, "call", 0.01, 1.0)
    with pytest.raises(ValueError, match="kind"):
        zakamouline_band(100.0, 100.0, 1.0, 0.0, 0.3, "straddle", 0.01, 1.0)
    with pytest.raises(ValueError, match="cost_round_trip"):
        leland_vol(0.3, -0.01, DAY)
    with pytest.raises(ValueError, match="short"):
        leland_vol(0.3, 0.01, DAY, short="yes")
    with pytest.raises(ValueError, match="shapes do not broadcast"):
        whalley_wilmott_halfwidth([1.0, 2.0], [0.1, 0.2, 0.3], 0.01, 1.0, 0.0, 1.0)
