"""Example views and a registry of every exported policy, shared by the policy tests.

Adding a policy to ``hedgekeeper.policies`` without an entry in ``EXAMPLES`` fails the
conformance suite (``test_policy_conformance.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from hedgekeeper.policies import (
    SECONDS_PER_YEAR,
    AllOf,
    AnyOf,
    Calendar,
    Cooldown,
    DeltaBand,
    ForecastFeed,
    GreekBands,
    IntentBand,
    LelandDelta,
    MaxFrequency,
    MinTradeSize,
    OptionLegs,
    Policy,
    PolicyView,
    PredictiveBand,
    VolRegimeBand,
    WeightBand,
    WhalleyWilmottBand,
    ZakamoulineBand,
)

DAY = 1.0 / 365.0
NOW = 56.1  # years since 1970: early 2026


def rich_view(n: int = 24, seed: int = 7) -> PolicyView:
    """A batch of ``n`` BTC-like books with every view field filled, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    spot = 100_000.0 * np.exp(rng.normal(0.0, 0.05, n))
    time = NOW + rng.uniform(0.0, 1.0, n) * DAY
    last = time - rng.uniform(0.0, 2.0, n) * DAY
    last[::5] = np.nan  # never rebalanced
    recent = np.stack([last, last - rng.uniform(0.0, 1.0, n) * DAY, last - 1.5 * DAY], axis=1)
    legs = 2
    quantity = rng.choice([-2.0, -1.0, 1.0, 2.0], size=(n, legs))
    quantity[1::4, 1] = 0.0  # a padded leg
    options = OptionLegs(
        strike=spot[:, None] * rng.uniform(0.85, 1.15, (n, legs)),
        expiry=rng.uniform(0.02, 0.5, (n, legs)),
        vol=rng.uniform(0.4, 0.8, (n, legs)),
        kind=rng.choice(np.array([1, -1], dtype=np.int8), size=(n, legs)),
        quantity=quantity,
    )
    weights = rng.dirichlet(np.ones(3), n)
    target_weights = np.clip(weights + rng.normal(0.0, 0.04, (n, 3)), 0.0, None)
    target_weights /= target_weights.sum(axis=1, keepdims=True)
    return PolicyView(
        time=time,
        spot=spot,
        net_delta=rng.uniform(-0.5, 0.5, n),
        data_time=time - rng.uniform(0.0, 60.0, n) / SECONDS_PER_YEAR,
        target_delta=rng.choice([0.0, 0.1], n),
        gamma=rng.uniform(-3e-5, 3e-5, n),
        vega=rng.uniform(-200.0, 200.0, n),
        target_gamma=np.zeros(n),
        target_vega=np.zeros(n),
        rate=np.full(n, 0.01),
        last_rebalance_time=last,
        last_rebalance_spot=spot * np.exp(rng.normal(0.0, 0.02, n)),
        recent_rebalance_times=recent,
        realised_vol=rng.uniform(0.3, 1.0, n),
        vol_percentile=rng.uniform(0.0, 1.0, n),
        dvol=rng.uniform(0.3, 1.0, n),
        forecast_vol=rng.uniform(0.3, 1.0, n),
        weights=weights,
        target_weights=target_weights,
        options=options,
    )


@dataclass(frozen=True)
class Example:
    """How to build a policy, the view fields it must refuse on when NaN, and bad constructions
    with the parameter name the error must mention."""

    build: Callable[[], Policy]
    nan_fields: tuple[str, ...] = ()
    bad: tuple[tuple[Callable[[], object], str], ...] = field(default_factory=tuple)


def _delta() -> DeltaBand:
    return DeltaBand(0.2)


EXAMPLES: dict[str, Example] = {
    "Calendar": Example(
        build=lambda: Calendar(DAY),
        nan_fields=("target_delta", "weights"),
        bad=(
            (lambda: Calendar(0.0), "interval"),
            (lambda: Calendar(DAY, align_to="08:00"), "align_to"),  # type: ignore[arg-type]
            (lambda: Calendar(DAY, max_data_age=-1.0), "max_data_age"),
        ),
    ),
    "DeltaBand": Example(
        build=_delta,
        nan_fields=("target_delta",),
        bad=(
            (lambda: DeltaBand(-0.1), "halfwidth"),
            (lambda: DeltaBand(float("nan")), "halfwidth"),
            (lambda: DeltaBand(0.1, unit="eth"), "unit"),  # type: ignore[arg-type]
            (lambda: DeltaBand(0.1, hedge_to="middle"), "hedge_to"),  # type: ignore[arg-type]
            (lambda: DeltaBand(0.1, max_data_age=0.0), "max_data_age"),
        ),
    ),
    "WeightBand": Example(
        build=lambda: WeightBand(absolute=0.05, relative=0.25, hedge_to="edge"),
        nan_fields=("weights", "target_weights"),
        bad=(
            (lambda: WeightBand(), "absolute"),
            (lambda: WeightBand(absolute=-0.05), "absolute"),
            (lambda: WeightBand(relative=0.0), "relative"),
            (lambda: WeightBand(absolute=0.05, hedge_to="target"), "hedge_to"),  # type: ignore[arg-type]
        ),
    ),
    "WhalleyWilmottBand": Example(
        build=lambda: WhalleyWilmottBand(cost=0.0005, risk_aversion=1e-5),
        nan_fields=("gamma", "options.vol", "rate"),
        bad=(
            (lambda: WhalleyWilmottBand(cost=-0.001, risk_aversion=1e-5), "cost"),
            (lambda: WhalleyWilmottBand(cost=0.001, risk_aversion=0.0), "risk_aversion"),
            (lambda: WhalleyWilmottBand(cost="1bp", risk_aversion=1.0), "cost"),  # type: ignore[arg-type]
        ),
    ),
    "ZakamoulineBand": Example(
        build=lambda: ZakamoulineBand(cost=0.0005, risk_aversion=1e-5),
        nan_fields=("options.vol", "options.strike", "rate"),
        bad=(
            (lambda: ZakamoulineBand(cost=-0.001, risk_aversion=1e-5), "cost"),
            (lambda: ZakamoulineBand(cost=0.001, risk_aversion=-2.0), "risk_aversion"),
            (lambda: ZakamoulineBand(0.001, 1e-5, hedge_to="far"), "hedge_to"),  # type: ignore[arg-type]
        ),
    ),
    "LelandDelta": Example(
        build=lambda: LelandDelta(cost_round_trip=0.001, interval=DAY),
        nan_fields=("options.vol", "options.expiry"),
        bad=(
            (lambda: LelandDelta(cost_round_trip=-0.001, interval=DAY), "cost_round_trip"),
            (lambda: LelandDelta(cost_round_trip=0.001, interval=0.0), "interval"),
        ),
    ),
    "GreekBands": Example(
        build=lambda: GreekBands(gamma_halfwidth=1e-5, vega_halfwidth=50.0, delta_halfwidth=0.3),
        nan_fields=("gamma", "vega", "target_gamma"),
        bad=(
            (lambda: GreekBands(), "gamma_halfwidth"),
            (lambda: GreekBands(gamma_halfwidth=-1.0), "gamma_halfwidth"),
            (lambda: GreekBands(vega_halfwidth=0.0), "vega_halfwidth"),
            (lambda: GreekBands(vega_halfwidth=10.0, delta_halfwidth=-1.0), "delta_halfwidth"),
        ),
    ),
    "VolRegimeBand": Example(
        build=lambda: VolRegimeBand(
            "realised_vol", [0.5, 0.8], [0.4, 0.2, 0.1], intervals=[7 * DAY, DAY, 0.25 * DAY]
        ),
        nan_fields=("realised_vol",),
        bad=(
            (lambda: VolRegimeBand("vix", [0.5], [0.2, 0.1]), "signal"),  # type: ignore[arg-type]
            (lambda: VolRegimeBand("realised_vol", [0.8, 0.5], [0.3, 0.2, 0.1]), "thresholds"),
            (lambda: VolRegimeBand("realised_vol", [0.5], [0.1, 0.2]), "halfwidths"),
            (lambda: VolRegimeBand("realised_vol", [0.5], [0.2]), "halfwidths"),
            (lambda: VolRegimeBand("realised_vol", [0.5], [0.2, 0.1], [DAY, 2 * DAY]), "intervals"),
            (lambda: VolRegimeBand("vol_percentile", [50.0], [0.2, 0.1]), "thresholds"),
        ),
    ),
    "PredictiveBand": Example(
        build=lambda: PredictiveBand(
            cost=0.0005, risk_aversion=1e-5, interval=DAY, reference_vol=0.5
        ),
        nan_fields=("forecast_vol", "options.strike", "rate", "target_delta"),
        bad=(
            (lambda: PredictiveBand(cost=-0.001, risk_aversion=1e-5), "cost"),
            (lambda: PredictiveBand(cost=0.001, risk_aversion=0.0), "risk_aversion"),
            (lambda: PredictiveBand(0.001, 1e-5, interval=0.0, reference_vol=0.5), "interval"),
            (lambda: PredictiveBand(0.001, 1e-5, interval=DAY), "reference_vol"),
            (
                lambda: PredictiveBand(0.001, 1e-5, DAY, 0.5, min_interval=2 * DAY),
                "min_interval",
            ),
            (lambda: PredictiveBand(0.001, 1e-5, hedge_to="far"), "hedge_to"),  # type: ignore[arg-type]
        ),
    ),
    "IntentBand": Example(
        build=lambda: IntentBand(
            lower=-0.3, upper=0.3, start=NOW - 1.0, deadline=NOW + 1.0, cost_budget=1000.0,
            cost=0.0005,
        ),
        nan_fields=("forecast_vol", "options.expiry"),
        bad=(
            (lambda: IntentBand(0.3, -0.3, NOW, NOW + 1.0, 1000.0, 0.0005), "upper"),
            (lambda: IntentBand(-0.3, 0.3, NOW, NOW - 1.0, 1000.0, 0.0005), "deadline"),
            (lambda: IntentBand(-0.3, 0.3, NOW, NOW + 1.0, 0.0, 0.0005), "cost_budget"),
            (lambda: IntentBand(-0.3, 0.3, NOW, NOW + 1.0, 1000.0, -1.0), "cost"),
            (lambda: IntentBand(float("nan"), 0.3, NOW, NOW + 1.0, 1000.0, 0.0), "lower"),
        ),
    ),
    "ForecastFeed": Example(
        build=lambda: ForecastFeed(
            PredictiveBand(cost=0.0005, risk_aversion=1e-5, interval=DAY, reference_vol=0.5),
            times=NOW + DAY * np.arange(-3.0, 2.0),
            forecast_vol=[0.4, 0.5, 0.9, 0.6, 1.2],
            max_age=2 * DAY,
        ),
        nan_fields=("options.strike",),
        bad=(
            (lambda: ForecastFeed("PredictiveBand", [NOW], [0.5]), "policy"),  # type: ignore[arg-type]
            (lambda: ForecastFeed(_delta(), [NOW, NOW - DAY], [0.5, 0.6]), "times"),
            (lambda: ForecastFeed(_delta(), [NOW], [0.5, 0.6]), "forecast_vol"),
            (lambda: ForecastFeed(_delta(), [NOW], [0.5], max_age=0.0), "max_age"),
        ),
    ),
    "Cooldown": Example(
        build=lambda: Cooldown(_delta(), min_interval=DAY),
        bad=(
            (lambda: Cooldown(_delta(), min_interval=0.0), "min_interval"),
            (lambda: Cooldown("DeltaBand", min_interval=DAY), "policy"),  # type: ignore[arg-type]
        ),
    ),
    "MinTradeSize": Example(
        build=lambda: MinTradeSize(DeltaBand(0.2, hedge_to="edge"), min_delta=0.1),
        bad=(
            (lambda: MinTradeSize(_delta()), "min_delta"),
            (lambda: MinTradeSize(_delta(), min_delta_usd=-5.0), "min_delta_usd"),
            (lambda: MinTradeSize(_delta(), min_turnover=float("inf")), "min_turnover"),
        ),
    ),
    "MaxFrequency": Example(
        build=lambda: MaxFrequency(_delta(), max_count=2, window=DAY),
        bad=(
            (lambda: MaxFrequency(_delta(), max_count=0, window=DAY), "max_count"),
            (lambda: MaxFrequency(_delta(), max_count=1.5, window=DAY), "max_count"),  # type: ignore[arg-type]
            (lambda: MaxFrequency(_delta(), max_count=2, window=-DAY), "window"),
        ),
    ),
    "AnyOf": Example(
        build=lambda: AnyOf(DeltaBand(0.3), Calendar(DAY)),
        bad=(
            (lambda: AnyOf(), "policies"),
            (lambda: AnyOf(_delta(), 3), "policies[1]"),  # type: ignore[arg-type]
        ),
    ),
    "AllOf": Example(
        build=lambda: AllOf(DeltaBand(0.1), GreekBands(gamma_halfwidth=1e-5)),
        bad=(
            (lambda: AllOf(), "policies"),
            (lambda: AllOf(None), "policies[0]"),  # type: ignore[arg-type]
        ),
    ),
}
