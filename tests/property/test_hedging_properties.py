"""Invariants of the sizer over random problems (hypothesis)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from hedgekeeper.costs import FixedPerOrder, HalfSpread, ProportionalFee, TradeContext
from hedgekeeper.hedging import (
    HedgeProblem,
    HedgeStatus,
    inside_band,
    size_hedge,
    size_single_instrument,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "hedging"))
from hedging_examples import brute_force

SPOT = 87_000.0
COST = ProportionalFee(taker_bps=3.0) + HalfSpread()
OPTION_QUOTES = TradeContext(bid_usd=[1_700.0, 2_600.0], ask_usd=[1_790.0, 2_700.0],
                             notional_usd=SPOT)
PERP_QUOTE = TradeContext(bid_usd=[9.9994], ask_usd=[10.0006], notional_usd=10.0)
ALL_QUOTES = TradeContext(bid_usd=[1_700.0, 2_600.0, 9.9994], ask_usd=[1_790.0, 2_700.0, 10.0006],
                          notional_usd=[SPOT, SPOT, 10.0])

finite = st.floats(-5.0, 5.0, allow_nan=False)


@st.composite
def single_problems(draw: st.DrawFn) -> dict[str, float]:
    centre = draw(finite)
    half = draw(st.floats(0.0, 0.5))
    return {
        "exposure": draw(finite),
        "lower": centre - half,
        "upper": centre + half,
        "sensitivity": draw(st.sampled_from([10.0 / SPOT, 0.5, -0.45, 1.0])),
        "lot": draw(st.sampled_from([0.1, 1.0])),
        "max_order": draw(st.sampled_from([5.0, 1e3, 1e6])),
        "position": draw(st.floats(-10.0, 10.0)),
        "position_min": draw(st.sampled_from([-np.inf, -20.0, -1.0])),
        "position_max": draw(st.sampled_from([np.inf, 20.0, 1.0])),
    }


@settings(max_examples=60)
@given(st.lists(single_problems(), min_size=1, max_size=6))
def test_closed_form_batch_equals_singles(problems: list[dict[str, float]]) -> None:
    batch = {key: np.array([p[key] for p in problems]) for key in problems[0]}
    trades, status = size_single_instrument(**batch)
    for i, single in enumerate(problems):
        one_trade, one_status = size_single_instrument(**single)
        assert float(one_trade) == trades[i]
        assert int(one_status) == status[i]


@settings(max_examples=40)
@given(single_problems())
def test_closed_form_equals_milp(single: dict[str, float]) -> None:
    problem = HedgeProblem(
        greeks=("delta",), exposure=np.array([single["exposure"]]),
        lower=np.array([single["lower"]]), upper=np.array([single["upper"]]),
        instruments=("X",), sensitivity=np.array([[single["sensitivity"]]]),
        lot=np.array([single["lot"]]), max_order=np.array([single["max_order"]]),
        cost_model=COST, context=PERP_QUOTE, position=np.array([single["position"]]),
        position_min=np.array([single["position_min"]]),
        position_max=np.array([single["position_max"]]),
    )
    closed = size_hedge(problem, method="closed_form")
    solved = size_hedge(problem, method="milp")
    assert closed.status == solved.status, (closed.reason, solved.reason)
    np.testing.assert_allclose(closed.trades, solved.trades, rtol=1e-12, atol=1e-12)


@st.composite
def dgv_problems(draw: st.DrawFn) -> HedgeProblem:
    gamma = np.array([draw(st.floats(1e-6, 5e-5)), draw(st.floats(1e-6, 5e-5))])
    vega = np.array([draw(st.floats(500.0, 20_000.0)), draw(st.floats(500.0, 20_000.0))])
    delta = np.array([draw(st.floats(-0.9, 0.9)), draw(st.floats(-0.9, 0.9))])
    sensitivity = np.array([[delta[0], gamma[0], vega[0]], [delta[1], gamma[1], vega[1]],
                            [10.0 / SPOT, 0.0, 0.0]])
    half = np.array([draw(st.floats(1e-4, 0.1)), draw(st.floats(1e-7, 2e-5)),
                     draw(st.floats(10.0, 5_000.0))])
    cap = draw(st.sampled_from([0.5, 3.0, 50.0]))
    # Mostly reachable gaps: minus what some option trade would add, plus noise of a few bands.
    hidden = np.array([draw(st.integers(-8, 8)), draw(st.integers(-8, 8))]) * 0.1
    noise = np.array([draw(st.floats(-3.0, 3.0)) for _ in range(3)]) * half
    exposure = -(hidden @ sensitivity[:2]) + noise + np.array([draw(st.floats(-3.0, 3.0)),
                                                               0.0, 0.0])
    fixed = draw(st.sampled_from([0.0, 20.0]))
    return HedgeProblem(
        greeks=("delta", "gamma", "vega"), exposure=exposure, lower=-half, upper=half,
        instruments=("A", "B", "PERP"), sensitivity=sensitivity, lot=np.array([0.1, 0.1, 1.0]),
        max_order=np.array([cap, cap, 1e6]), cost_model=COST + FixedPerOrder(fixed),
        context=ALL_QUOTES, position=np.array([draw(st.floats(-1.0, 1.0)), 0.0, 0.0]),
        position_min=np.array([-2.0, -np.inf, -np.inf]),
        position_max=np.array([2.0, np.inf, np.inf]),
    )


@settings(max_examples=40)
@given(dgv_problems())
def test_ok_solutions_are_in_band_whole_lots_within_limits(problem: HedgeProblem) -> None:
    result = size_hedge(problem)
    event(result.status.name)
    lots = result.trades / problem.lot
    np.testing.assert_allclose(lots, np.round(lots), atol=1e-9)
    position = problem.position + result.trades
    assert np.all(position >= problem.position_min - 1e-9)
    assert np.all(position <= problem.position_max + 1e-9)
    assert np.all(np.abs(result.trades) <= problem.max_order + 1e-9)
    assert result.cost_usd == problem.trade_cost(result.trades)
    np.testing.assert_allclose(result.exposure_after, problem.greeks_after(result.trades))
    inside = inside_band(result.exposure_after, problem.lower, problem.upper, problem.tolerance)
    if result.status in (HedgeStatus.OK, HedgeStatus.IN_BAND, HedgeStatus.SOLVER_LIMIT):
        assert np.all(inside), result.reason
    else:
        assert result.reason
        if result.status is HedgeStatus.INFEASIBLE:
            assert np.all(result.trades == 0.0)
        else:
            assert not np.all(inside)


@settings(max_examples=15)
@given(dgv_problems())
def test_milp_never_costs_more_than_brute_force(problem: HedgeProblem) -> None:
    result = size_hedge(problem)
    caps = np.floor(problem.max_order[:2] / problem.lot[:2] + 1e-9)
    span = int(min(caps.min(), 8))
    best = brute_force(problem, range(-span, span + 1), perp_index=2)
    event(f"{result.status.name}, brute force {'found' if np.isfinite(best) else 'none'}")
    if result.status is HedgeStatus.OK and np.isfinite(best):
        assert result.cost_usd <= best * (1 + 1e-9) + 1e-9
    if np.isfinite(best):
        assert result.status in (HedgeStatus.OK, HedgeStatus.IN_BAND), result.reason
