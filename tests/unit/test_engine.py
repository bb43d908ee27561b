"""decide(state, market, components): exposure -> policy -> sizing -> gates, end to end, pure."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from hedgekeeper.costs import HalfSpread, ProportionalFee, Quote
from hedgekeeper.domain import (
    Book,
    ForwardQuote,
    ForwardSource,
    MarketSnapshot,
    Position,
    parse_instrument,
)
from hedgekeeper.engine import (
    Components,
    EngineState,
    HedgeInstrument,
    MarketInputs,
    Outcome,
    SizerConfig,
    decide,
)
from hedgekeeper.policies import DeltaBand, GreekBands, HedgeTarget, PolicyView, Reason
from hedgekeeper.pricing import black76
from hedgekeeper.risk import CostBenefitGate, LimitsGate

NOW = datetime(2026, 1, 26, 9, 0, tzinfo=UTC)
EXPIRY = datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
SPOT = 88_000.0
FORWARD = 88_600.0
CALL = parse_instrument("BTC-27MAR26-90000-C")
PERP = parse_instrument("BTC-PERPETUAL")
SNAPSHOT = MarketSnapshot(
    timestamp=NOW, underlying="BTC", index_price=SPOT,
    forwards={EXPIRY: ForwardQuote(EXPIRY, FORWARD, ForwardSource.LISTED_UNDERLYING)},
    perp_prices={"BTC-PERPETUAL": SPOT}, mark_ivs={CALL.name: 0.45},
)
MARKET = MarketInputs(
    snapshot=SNAPSHOT,
    quotes={"BTC-PERPETUAL": Quote(bid=87_999.5, ask=88_000.5),
            CALL.name: Quote(bid=0.0560, ask=0.0570)},
    realised_vol=0.5,
)
# Short 5 calls: about -2.4 BTC of delta, hedged with the perpetual.
BOOK = Book((Position(instrument=CALL, quantity=-5.0),))
COST = ProportionalFee(taker_bps=5.0) + HalfSpread()


def _components(policy: object = None, risk_aversion: float = 1e-4,
                instruments: tuple[HedgeInstrument, ...] | None = None) -> Components:
    return Components(
        policy=DeltaBand(halfwidth=0.1) if policy is None else policy,  # type: ignore[arg-type]
        sizer=SizerConfig(instruments or (HedgeInstrument(PERP, max_order=1e6),)),
        cost_model=COST,
        gates=(CostBenefitGate(risk_aversion=risk_aversion, horizon_years=1 / 365),
               LimitsGate(max_order_notional_usd=1e6)),
    )


def _call_delta() -> float:
    t = (EXPIRY - NOW).total_seconds() / (365 * 86_400)
    return float(black76(FORWARD, 90_000.0, t, 0.0, 0.45, "call").delta)


def test_delta_band_fires_and_hedges_with_the_perpetual() -> None:
    decision = decide(EngineState(BOOK), MARKET, _components())
    assert decision.outcome is Outcome.TRADE, decision.reason
    assert decision.fired
    assert decision.policy == "DeltaBand"
    assert decision.policy_reason == "DELTA_BAND"
    # Book delta in the USD numeraire: 5 short calls, forward delta scaled by F/S.
    expected_delta = -5.0 * _call_delta() * FORWARD / SPOT
    assert decision.exposure_before.delta == pytest.approx(expected_delta, rel=1e-9)
    (order,) = decision.orders
    assert order.instrument == "BTC-PERPETUAL"
    assert order.side == "buy"
    assert order.quantity == round(order.quantity)  # whole 10-USD contracts
    # Hedge to the centre within 25 % of the band half-width (0.025 BTC).
    assert abs(decision.exposure_after.delta) <= 0.025 + 1e-12
    assert order.quantity == pytest.approx(-expected_delta * SPOT / 10.0, abs=0.025 * SPOT / 10)
    assert order.limit_price == 88_000.5
    assert order.reference_price == 88_000.0
    assert decision.exposure_after.gamma == decision.exposure_before.gamma
    assert decision.cost_usd is not None
    assert decision.cost_usd > 0.0
    assert decision.benefit_usd is not None
    assert decision.benefit_usd > decision.cost_usd
    assert [g.gate for g in decision.gates] == ["cost_benefit", "limits"]
    assert all(g.passed for g in decision.gates)
    assert decision.inputs["snapshot"] == NOW
    assert decision.inputs["last_rebalance"] is None
    assert decision.timestamp == NOW


def test_same_input_same_output_and_inputs_untouched() -> None:
    state = EngineState(BOOK)
    components = _components()
    first = decide(state, MARKET, components)
    second = decide(state, MARKET, components)
    assert repr(first) == repr(second)
    assert state.book == BOOK
    assert state.last_rebalance is None


def test_holds_inside_the_band() -> None:
    hedge = Position(instrument=PERP, quantity=round(-(-5.0 * _call_delta() * FORWARD)) / 10.0)
    hedged = Book((*BOOK.positions, hedge))
    decision = decide(EngineState(hedged), MARKET, _components())
    assert decision.outcome is Outcome.HOLD
    assert not decision.fired
    assert decision.orders == ()
    assert decision.hedge is None
    assert abs(decision.exposure_before.delta) < 0.1


def test_gate_skips_when_cost_exceeds_benefit_and_records_both() -> None:
    decision = decide(EngineState(BOOK), MARKET, _components(risk_aversion=1e-12))
    assert decision.outcome is Outcome.GATE_REFUSED
    assert decision.orders == ()
    assert decision.cost_usd is not None
    assert decision.benefit_usd is not None
    assert decision.cost_usd > decision.benefit_usd
    assert "cost_benefit" in decision.reason
    # The proposal is still recorded.
    assert decision.hedge is not None
    assert np.count_nonzero(decision.hedge.trades) == 1


def test_sizing_refusal_is_explained() -> None:
    policy = GreekBands(gamma_halfwidth=1e-6, delta_halfwidth=0.1)
    decision = decide(EngineState(BOOK), MARKET, _components(policy=policy))
    assert decision.outcome is Outcome.SIZING_REFUSED
    assert "carries gamma" in decision.reason
    assert decision.orders == ()


def test_delta_gamma_hedge_with_the_option_and_perpetual() -> None:
    policy = GreekBands(gamma_halfwidth=2e-6, delta_halfwidth=0.1)
    instruments = (HedgeInstrument(PERP, max_order=1e6), HedgeInstrument(CALL, max_order=20.0))
    decision = decide(EngineState(BOOK), MARKET, _components(policy=policy,
                                                             instruments=instruments))
    assert decision.outcome is Outcome.TRADE, decision.reason
    sides = {o.instrument: o for o in decision.orders}
    assert sides[CALL.name].side == "buy"  # buys back gamma
    assert sides[CALL.name].quantity == pytest.approx(round(sides[CALL.name].quantity * 10) / 10)
    assert abs(decision.exposure_after.gamma) <= 0.25 * 2e-6 + 1e-15
    assert abs(decision.exposure_after.delta) <= 0.025 + 1e-12


def test_refused_input_is_reported() -> None:
    class Refuses:
        def decide(self, view: PolicyView) -> HedgeTarget | None:
            return HedgeTarget(rebalance=np.array([False]),
                               reason=np.array([Reason.REFUSED_STALE], dtype=np.int16),
                               policy=np.array(["Refuses"]))

    decision = decide(EngineState(BOOK), MARKET, _components(policy=Refuses()))
    assert decision.outcome is Outcome.REFUSED_INPUT
    assert decision.reason == "Refuses: REFUSED_STALE"


def test_state_records_a_rebalance() -> None:
    state = EngineState(BOOK)
    decision = decide(state, MARKET, _components())
    later = state.after(decision)
    assert later.last_rebalance == NOW
    assert later.last_rebalance_spot == SPOT
    assert later.recent_rebalances == (NOW,)
    assert later.book == BOOK
    # A hold leaves the state as it was.
    market = dataclasses.replace(MARKET, snapshot=dataclasses.replace(
        SNAPSHOT, timestamp=NOW + timedelta(minutes=5)))
    held = decide(later, market, _components(policy=DeltaBand(halfwidth=100.0)))
    assert held.outcome is Outcome.HOLD
    assert later.after(held) is later


def test_missing_quote_names_the_instrument() -> None:
    market = dataclasses.replace(MARKET, quotes={})
    with pytest.raises(ValueError, match="BTC-PERPETUAL"):
        decide(EngineState(BOOK), market, _components())


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: HedgeInstrument(PERP, max_order=float("inf")), "max_order"),
        (lambda: SizerConfig(()), "instruments"),
        (lambda: SizerConfig((HedgeInstrument(PERP, 1.0),), target_tolerance=2.0),
         "target_tolerance"),
        (lambda: MarketInputs(SNAPSHOT, realised_vol=-1.0), "realised_vol"),
        (lambda: MarketInputs(SNAPSHOT, now=NOW - timedelta(seconds=1)), "now"),
        (lambda: MarketInputs(SNAPSHOT, now=datetime(2026, 1, 26, 10)), "now"),
        (lambda: SizerConfig((HedgeInstrument(PERP, 1.0),), segments=0), "segments"),
        (lambda: SizerConfig((HedgeInstrument(PERP, 1.0),), time_limit_s=-1.0), "time_limit_s"),
        (lambda: EngineState(BOOK, last_rebalance=NOW), "last_rebalance"),
        (lambda: Components(policy=object(), sizer=SizerConfig((HedgeInstrument(PERP, 1.0),)),
                            cost_model=COST), "policy"),
    ],
)
def test_configuration_errors_name_the_field(build: object, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        build()  # type: ignore[operator]


def test_stale_snapshot_is_refused_through_decide() -> None:
    # The shell's clock says 10 minutes after the snapshot; DeltaBand's default max_data_age is
    # 5 minutes, so the policy must refuse rather than trade on stale data.
    stale = dataclasses.replace(MARKET, now=NOW + timedelta(minutes=10))
    decision = decide(EngineState(BOOK), stale, _components())
    assert decision.outcome is Outcome.REFUSED_INPUT
    assert decision.policy_reason == "REFUSED_STALE"
    assert decision.orders == ()
    assert decision.timestamp == NOW + timedelta(minutes=10)
    fresh = dataclasses.replace(MARKET, now=NOW + timedelta(minutes=1))
    assert decide(EngineState(BOOK), fresh, _components()).outcome is Outcome.TRADE
