"""The cost-benefit gate and the limits gate."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hedgekeeper.risk import (
    BookGreeks,
    CostBenefitGate,
    Gate,
    LimitsGate,
    TradeProposal,
    pnl_variance,
    run_gates,
)

SPOT = 90_000.0


def _proposal(cost_usd: float, delta_before: float = 2.0, delta_after: float = 0.0,
              quantity: float = -18_000.0) -> TradeProposal:
    return TradeProposal(
        instruments=("BTC-PERPETUAL",),
        quantity=np.array([quantity]),
        notional_usd=np.array([10.0]),
        reference_price_usd=np.array([10.0]),
        position_before=np.array([0.0]),
        cost_usd=cost_usd,
        greeks_before=BookGreeks(delta=delta_before, gamma=0.0, vega=0.0),
        greeks_after=BookGreeks(delta=delta_after, gamma=0.0, vega=0.0),
        spot=SPOT,
        vol=0.5,
    )


def test_gates_satisfy_the_port() -> None:
    assert isinstance(CostBenefitGate(risk_aversion=1e-4, horizon_years=1 / 365), Gate)
    assert isinstance(LimitsGate(), Gate)


def test_cost_benefit_by_hand() -> None:
    # 2 BTC at 90,000 USD, 50 % vol, one day: Var = 4 * 8.1e9 * 0.25 / 365 = 22,191,780.8 USD^2;
    # risk aversion 1e-5 / USD: benefit = 0.5e-5 * 22,191,780.8 = 110.96 USD.
    gate = CostBenefitGate(risk_aversion=1e-5, horizon_years=1 / 365)
    expected_variance = 4 * SPOT**2 * 0.25 / 365
    worth = gate.check(_proposal(cost_usd=100.0))
    assert worth.passed
    assert worth.figures["benefit_usd"] == pytest.approx(0.5e-5 * expected_variance)
    assert worth.figures["benefit_usd"] == pytest.approx(110.9589, rel=1e-6)
    assert worth.figures["cost_usd"] == 100.0
    assert worth.figures["variance_before_usd2"] == pytest.approx(expected_variance)
    assert worth.figures["variance_after_usd2"] == 0.0


def test_skips_when_cost_exceeds_benefit_and_records_both() -> None:
    gate = CostBenefitGate(risk_aversion=1e-5, horizon_years=1 / 365)
    skipped = gate.check(_proposal(cost_usd=120.0))
    assert not skipped.passed
    assert skipped.figures["cost_usd"] == 120.0
    assert skipped.figures["benefit_usd"] == pytest.approx(110.9589, rel=1e-6)
    assert "not worth it" in skipped.reason
    assert "120" in skipped.reason


def test_gate_uses_gamma_and_vega_terms() -> None:
    gate = CostBenefitGate(risk_aversion=1e-4, horizon_years=7 / 365, vol_of_vol=0.9,
                           spot_vol_correlation=-0.4)
    before = BookGreeks(delta=0.1, gamma=-2e-4, vega=-5_000.0)
    after = BookGreeks(delta=0.0, gamma=0.0, vega=-100.0)
    proposal = TradeProposal(("X",), np.array([1.0]), np.array([SPOT]), np.array([100.0]),
                             np.array([0.0]), 10.0, before, after, SPOT, 0.55)
    result = gate.check(proposal)
    v0 = float(pnl_variance(0.1, -2e-4, -5_000.0, SPOT, 0.55, 7 / 365, 0.9, -0.4))
    v1 = float(pnl_variance(0.0, 0.0, -100.0, SPOT, 0.55, 7 / 365, 0.9, -0.4))
    assert result.figures["benefit_usd"] == pytest.approx(0.5e-4 * (v0 - v1))


def test_refuses_without_a_volatility() -> None:
    gate = CostBenefitGate(risk_aversion=1e-5, horizon_years=1 / 365)
    bare = dataclasses.replace(_proposal(cost_usd=1.0), vol=None)
    result = gate.check(bare)
    assert not result.passed
    assert "volatility" in result.reason


def test_adding_risk_is_never_worth_it() -> None:
    gate = CostBenefitGate(risk_aversion=1e-5, horizon_years=1 / 365)
    worse = gate.check(_proposal(cost_usd=0.0, delta_before=0.0, delta_after=1.0))
    assert not worse.passed
    assert worse.figures["benefit_usd"] < 0.0


def test_limits_gate_refuses_large_orders_and_positions() -> None:
    gate = LimitsGate(max_order_notional_usd=100_000.0,
                      position_limits={"BTC-PERPETUAL": (-10_000.0, 10_000.0)})
    result = gate.check(_proposal(cost_usd=1.0))
    assert not result.passed
    assert "order notional 180000 USD exceeds 100000" in result.reason
    assert "position after the trade -18000" in result.reason
    assert result.figures["largest_order_notional_usd"] == 180_000.0
    assert gate.check(_proposal(cost_usd=1.0, quantity=-5_000.0)).passed


def test_run_gates_records_every_verdict() -> None:
    gates = (CostBenefitGate(risk_aversion=1e-5, horizon_years=1 / 365), LimitsGate())
    results = run_gates(gates, _proposal(cost_usd=500.0))
    assert [r.gate for r in results] == ["cost_benefit", "limits"]
    assert [r.passed for r in results] == [False, True]
    with pytest.raises(TypeError):
        results[0].figures["cost_usd"] = 0.0  # type: ignore[index]


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: CostBenefitGate(risk_aversion=-1.0, horizon_years=0.1), "risk_aversion"),
        (lambda: CostBenefitGate(risk_aversion=1.0, horizon_years=0.0), "horizon_years"),
        (lambda: CostBenefitGate(1.0, 0.1, spot_vol_correlation=2.0), "spot_vol_correlation"),
        (lambda: LimitsGate(max_order_notional_usd=0.0), "max_order_notional_usd"),
        (lambda: LimitsGate(position_limits={"X": (1.0, -1.0)}), "position_limits"),
        (lambda: BookGreeks(delta=float("nan"), gamma=0.0, vega=0.0), "delta"),
        (lambda: _proposal(cost_usd=-1.0), "cost_usd"),
    ],
)
def test_validation_names_the_parameter(build: object, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        build()  # type: ignore[operator]
