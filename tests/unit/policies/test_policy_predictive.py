"""PredictiveBand and IntentBand: how the forecast sets the band and cadence; the budget rule."""

from __future__ import annotations

import numpy as np
import pytest

from hedgekeeper.policies import (
    IntentBand,
    OptionLegs,
    PolicyView,
    PredictiveBand,
    Reason,
    budget_halfwidth,
    whalley_wilmott_halfwidth,
)
from hedgekeeper.pricing.black import black_scholes

DAY = 1.0 / 365.0
NOW = 55.0


def _view(forecast_vol: list[float], net_delta: float = 0.0, last: float = NOW - 0.1 * DAY):
    """n identical short ATM straddles (1 BTC, 30 days) at 60 % implied vol."""
    n = len(forecast_vol)
    options = OptionLegs(
        strike=np.full((n, 2), 100_000.0),
        expiry=np.full((n, 2), 30 * DAY),
        vol=np.full((n, 2), 0.6),
        kind=np.tile(np.array([1, -1], dtype=np.int8), (n, 1)),
        quantity=np.full((n, 2), -1.0),
    )
    return PolicyView(
        time=np.full(n, NOW),
        spot=np.full(n, 100_000.0),
        net_delta=np.full(n, net_delta),
        data_time=np.full(n, NOW),
        last_rebalance_time=np.full(n, last),
        forecast_vol=np.asarray(forecast_vol),
        options=options,
    )


def test_band_is_whalley_wilmott_at_the_forecast_gamma() -> None:
    policy = PredictiveBand(cost=0.0005, risk_aversion=1e-4)
    vols = [0.3, 0.6, 1.2]
    decision = policy.decide(_view(vols, net_delta=5.0))
    assert decision is not None
    assert decision.rebalance.all()
    for i, vol in enumerate(vols):
        gamma = 2 * black_scholes(100_000.0, 100_000.0, 30 * DAY, 0.0, vol, "call").gamma
        half = whalley_wilmott_halfwidth(100_000.0, -gamma, 0.0005, 1e-4, 0.0, 30 * DAY)
        assert decision.delta.upper[i] == pytest.approx(float(half), rel=1e-12)
        assert decision.delta.target[i] == pytest.approx(float(half), rel=1e-12)  # to the edge
    # ATM gamma ~ 1/vol: a stress forecast narrows the band in coin.
    assert decision.delta.upper[0] > decision.delta.upper[1] > decision.delta.upper[2]


def test_cadence_speeds_up_before_forecast_stress() -> None:
    policy = PredictiveBand(0.0005, 1e-4, interval=DAY, reference_vol=0.5, min_interval=DAY / 8)
    np.testing.assert_allclose(
        policy.interval_at(np.array([0.3, 0.5, 1.0, 5.0])), [DAY, DAY, DAY / 4, DAY / 8]
    )
    # Last rebalance 6 h ago, delta inside the band: due only where the forecast is >= 1.0.
    decision = policy.decide(_view([0.4, 0.9, 1.2], last=NOW - 0.25 * DAY))
    assert decision is not None
    assert decision.rebalance.tolist() == [False, False, True]
    assert decision.reason[2] == Reason.SCHEDULE
    assert decision.delta.target[2] == 0.0


def test_non_positive_forecast_is_refused() -> None:
    decision = PredictiveBand(0.0005, 1e-4).decide(_view([0.5, 0.0], net_delta=5.0))
    assert decision is not None
    assert decision.reason.tolist() == [Reason.DELTA_BAND, Reason.REFUSED_MODEL]


def test_budget_halfwidth_formula_and_monte_carlo() -> None:
    # h_B = λ S (Γ σ S)^2 / (2 b):  λ = 1e-3, S = 1e5, Γσ S = 2 coin/√yr, b = 800 USD/yr.
    assert float(budget_halfwidth(1e5, 2e-5, 1.0, 1e-3, 800.0)) == pytest.approx(
        1e-3 * 1e5 * 4.0 / 1600.0
    )
    # The traded quantity of a Brownian mismatch (variance rate D) kept in [-h, h] by trading
    # to the edge grows at D / (2h) a year: simulate D = 1, h = 0.5 -> 1 coin a year.
    rng = np.random.default_rng(0)
    paths, steps, dt, h = 2000, 4000, 2.5e-3, 0.5
    x = np.zeros(paths)
    traded = np.zeros(paths)
    for _ in range(steps):
        x += rng.normal(0.0, np.sqrt(dt), paths)
        clipped = np.clip(x, -h, h)
        traded += np.abs(x - clipped)
        x = clipped
    rate = traded.mean() / (steps * dt)
    assert rate == pytest.approx(1.0 / (2 * h), rel=0.1)


def test_intent_band_uses_the_budget_and_never_leaves_the_range() -> None:
    def intent(budget: float) -> IntentBand:
        return IntentBand(-1.0, 3.0, NOW - 0.5, NOW + 0.5, budget, cost=0.0005)

    view = _view([0.6, 0.6], net_delta=1.2)
    gamma = 2 * black_scholes(100_000.0, 100_000.0, 30 * DAY, 0.0, 0.6, "call").gamma
    for budget in (50.0, 5_000.0, 1e7):
        affordable = float(budget_halfwidth(1e5, gamma, 0.6, 0.0005, budget))
        half = min(affordable, 2.0)
        decision = intent(budget).decide(view)
        if abs(1.2 - 1.0) <= half:
            assert decision is None
        else:
            assert decision is not None
            assert decision.delta.target[0] == pytest.approx(1.0 + half)  # the nearer edge
            assert decision.delta.lower[0] == pytest.approx(1.0 - half)
    # Outside the range it always acts, whatever the budget; after the deadline never.
    outside = _view([0.6], net_delta=3.5)
    assert intent(1.0).decide(outside).rebalance[0]
    late = IntentBand(-1.0, 3.0, NOW - 1.0, NOW - 0.5, 1.0, cost=0.0005)
    assert late.decide(outside) is None


def test_forecast_feed_uses_the_latest_forecast_not_after_the_decision() -> None:
    from hedgekeeper.policies import ForecastFeed

    inner = PredictiveBand(cost=0.0005, risk_aversion=1e-4)
    origins = NOW + DAY * np.array([-2.0, -1.0, 0.5])  # the last one is in the future
    feed = ForecastFeed(inner, origins, [0.3, 1.2, 0.1], max_age=1.5 * DAY)
    view = _view([np.nan], net_delta=5.0)  # the view's own forecast is ignored
    decision = feed.decide(view)
    direct = inner.decide(_view([1.2], net_delta=5.0))
    assert decision is not None
    assert direct is not None
    assert decision.delta.upper[0] == direct.delta.upper[0]  # the forecast made a day ago
    stale = ForecastFeed(inner, origins[:1], [0.3], max_age=DAY)
    refused = stale.decide(view)
    assert refused is not None
    assert refused.reason[0] == Reason.REFUSED_NAN
