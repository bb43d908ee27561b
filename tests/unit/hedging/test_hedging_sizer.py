"""The sizer: least-cost whole-lot hedges, closed form vs MILP, refusals, rounding, limits."""

from __future__ import annotations

import numpy as np
import pytest
from hedging_examples import (
    CONTEXT,
    LINEAR_COST,
    LOT,
    NAMES,
    SENSITIVITY,
    SPOT,
    brute_force,
    dgv_problem,
)

from hedgekeeper.costs import FixedPerOrder, HalfSpread, SquareRootImpact, TradeContext
from hedgekeeper.costs.model import AdditiveCost
from hedgekeeper.hedging import HedgeProblem, HedgeStatus, size_hedge


def _assert_valid(problem: HedgeProblem, trades: np.ndarray) -> None:
    lots = trades / problem.lot
    np.testing.assert_allclose(lots, np.round(lots), atol=1e-9)
    assert np.all(np.abs(trades) <= problem.max_order + 1e-9)
    after_position = problem.position + trades
    assert np.all(after_position >= problem.position_min - 1e-9)
    assert np.all(after_position <= problem.position_max + 1e-9)


def test_delta_gamma_vega_in_band_with_whole_lots() -> None:
    problem = dgv_problem()
    result = size_hedge(problem)
    assert result.status is HedgeStatus.OK, result.reason
    assert result.method == "milp"
    _assert_valid(problem, result.trades)
    tol = problem.tolerance
    assert np.all(result.exposure_after >= problem.lower - tol)
    assert np.all(result.exposure_after <= problem.upper + tol)
    np.testing.assert_allclose(result.exposure_after, problem.greeks_after(result.trades))
    assert result.cost_usd == pytest.approx(problem.trade_cost(result.trades))
    assert "least-cost" in result.reason


def test_milp_matches_brute_force_on_small_lot_counts() -> None:
    # Wide vega band so small option lot counts suffice; brute force over -12..12 lots each.
    problem = dgv_problem(exposure=(0.8, -2.0e-5, -3_000.0),
                          halfwidth=(0.02, 4.0e-6, 1_500.0), max_order=(1.2, 1.2, 1.2, 1e6))
    result = size_hedge(problem)
    assert result.status is HedgeStatus.OK, result.reason
    best = brute_force(problem, range(-12, 13), perp_index=3)
    assert np.isfinite(best)
    assert result.cost_usd <= best * (1 + 1e-9) + 1e-9


def test_milp_matches_brute_force_with_fixed_cost_and_impact() -> None:
    # Caps of 12 lots <= segments + 1: every lot count is a breakpoint, so the convex
    # piecewise-linear impact is exact and the MILP must find the brute-force optimum.
    cost = LINEAR_COST + SquareRootImpact(eta=1.0) + FixedPerOrder(usd_per_order=25.0)
    problem = dgv_problem(exposure=(0.8, -2.0e-5, -3_000.0), halfwidth=(0.02, 4.0e-6, 1_500.0),
                          cost_model=cost, max_order=(1.2, 1.2, 1.2, 1e6))
    result = size_hedge(problem, segments=16)
    assert result.status is HedgeStatus.OK, result.reason
    best = brute_force(problem, range(-12, 13), perp_index=3)
    # The perpetual's impact is priced on a 16-piece chord over ~10^6 lots, above the true
    # cost between breakpoints; its share of the total is tiny.
    assert result.cost_usd <= best * (1 + 1e-4)


@pytest.mark.parametrize(
    ("exposure", "lower", "upper", "sensitivity", "lot"),
    [
        (1.37, -0.05, 0.05, 10.0 / SPOT, 1.0),     # delta with the perpetual, long
        (-2.2, -0.01, 0.01, 10.0 / SPOT, 1.0),     # short
        (1.37, 0.3, 0.3 + 1e-3, 10.0 / SPOT, 1.0),  # narrow band around a non-zero target
        (-3e-4, -1e-5, 1e-5, 4.1e-5, 0.1),         # gamma with one option
        (0.02, -0.05, 0.05, 10.0 / SPOT, 1.0),     # already in band
        (1.0, 0.50001, 0.50002, 0.5, 0.1),         # no whole lot lands in the band
    ],
)
def test_closed_form_agrees_with_milp_on_square_problems(
    exposure: float, lower: float, upper: float, sensitivity: float, lot: float
) -> None:
    problem = HedgeProblem(greeks=("delta",), exposure=np.array([exposure]),
                           lower=np.array([lower]), upper=np.array([upper]),
                           instruments=("X",), sensitivity=np.array([[sensitivity]]),
                           lot=np.array([lot]), max_order=np.array([1e7]),
                           cost_model=LINEAR_COST, context=CONTEXT.take(np.array([3])))
    closed = size_hedge(problem, method="closed_form")
    solved = size_hedge(problem, method="milp")
    assert closed.status == solved.status, (closed.reason, solved.reason)
    np.testing.assert_allclose(closed.trades, solved.trades, rtol=1e-12)
    assert closed.cost_usd == pytest.approx(solved.cost_usd)
    assert size_hedge(problem).method == ("none" if closed.status is HedgeStatus.IN_BAND
                                          else "closed_form")


def test_closed_form_hedges_to_target_point() -> None:
    # A 2 BTC long delta hedged to 0 within half a perpetual lot: -gap / delta per contract.
    problem = HedgeProblem(greeks=("delta",), exposure=np.array([2.0]),
                           lower=np.array([-5.0 / SPOT]), upper=np.array([5.0 / SPOT]),
                           instruments=("PERP",), sensitivity=np.array([[10.0 / SPOT]]),
                           lot=np.array([1.0]), max_order=np.array([1e6]),
                           cost_model=LINEAR_COST, context=CONTEXT.take(np.array([3])))
    result = size_hedge(problem)
    assert result.status is HedgeStatus.OK
    assert result.trades[0] == -round(2.0 * SPOT / 10.0)


def test_already_in_band_trades_nothing() -> None:
    problem = dgv_problem(exposure=(0.01, 1e-6, 100.0))
    result = size_hedge(problem)
    assert result.status is HedgeStatus.IN_BAND
    assert result.in_band
    assert np.all(result.trades == 0.0)
    assert result.cost_usd == 0.0
    assert "already in band" in result.reason


def test_refuses_when_no_instrument_carries_gamma() -> None:
    problem = HedgeProblem(greeks=("delta", "gamma"), exposure=np.array([1.0, -1e-4]),
                           lower=np.array([-0.05, -1e-5]), upper=np.array([0.05, 1e-5]),
                           instruments=("PERP",), sensitivity=np.array([[10.0 / SPOT, 0.0]]),
                           lot=np.array([1.0]), max_order=np.array([1e6]),
                           cost_model=LINEAR_COST, context=CONTEXT.take(np.array([3])))
    result = size_hedge(problem)
    assert result.status is HedgeStatus.INFEASIBLE
    assert not result.in_band
    assert "carries gamma" in result.reason
    assert np.all(result.trades == 0.0)


def test_refuses_when_position_limit_binds() -> None:
    problem = dgv_problem(position_max=np.array([0.5, 0.5, 0.5, 1e9]),
                          position_min=np.array([-0.5, -0.5, -0.5, -1e9]))
    result = size_hedge(problem)
    assert result.status is HedgeStatus.INFEASIBLE
    assert "limit binds" in result.reason
    assert any(name in result.reason for name in NAMES[:3])
    assert np.all(result.trades == 0.0)


def test_refuses_when_order_cap_binds_for_the_perpetual() -> None:
    problem = HedgeProblem(greeks=("delta",), exposure=np.array([2.0]),
                           lower=np.array([-0.05]), upper=np.array([0.05]),
                           instruments=("PERP",), sensitivity=np.array([[10.0 / SPOT]]),
                           lot=np.array([1.0]), max_order=np.array([1_000.0]),
                           cost_model=LINEAR_COST, context=CONTEXT.take(np.array([3])))
    for method in ("closed_form", "milp"):
        result = size_hedge(problem, method=method)  # type: ignore[arg-type]
        assert result.status is HedgeStatus.INFEASIBLE, method
        assert "PERP needs about" in result.reason
        assert "at most -1000" in result.reason


def test_refuses_when_greeks_are_not_spanned() -> None:
    # Two options with proportional (delta, gamma): gamma can be hit only with delta in lockstep.
    sensitivity = np.array([[0.5, 4e-5], [1.0, 8e-5]])
    problem = HedgeProblem(greeks=("delta", "gamma"), exposure=np.array([0.0, -1e-4]),
                           lower=np.array([-0.01, -1e-5]), upper=np.array([0.01, 1e-5]),
                           instruments=("A", "B"), sensitivity=sensitivity,
                           lot=np.array([0.1, 0.1]), max_order=np.array([100.0, 100.0]),
                           cost_model=LINEAR_COST, context=CONTEXT.take(np.array([0, 1])))
    result = size_hedge(problem)
    assert result.status is HedgeStatus.INFEASIBLE
    assert "cannot bring" in result.reason


def test_says_so_when_lots_cannot_land_in_band() -> None:
    # Gamma band narrower than one option lot's gamma (4.1e-6): reachable only fractionally.
    problem = dgv_problem(halfwidth=(0.05, 1e-7, 1e9), exposure=(0.0, -3.3e-5, 0.0))
    problem = HedgeProblem(greeks=problem.greeks, exposure=problem.exposure, lower=problem.lower,
                           upper=problem.upper, instruments=NAMES[:1] + NAMES[3:],
                           sensitivity=SENSITIVITY[[0, 3]], lot=LOT[[0, 3]],
                           max_order=np.array([30.0, 1e6]), cost_model=LINEAR_COST,
                           context=CONTEXT.take(np.array([0, 3])))
    result = size_hedge(problem)
    assert result.status is HedgeStatus.OUTSIDE_BAND_AFTER_ROUNDING, result.reason
    assert not result.in_band
    assert "fractional" in result.reason
    # Closest whole lots: 8 lots of gamma 4.1e-6 -> +3.28e-5, leaving gamma at -2e-7.
    assert result.trades[0] == pytest.approx(0.8)
    assert result.exposure_after[1] == pytest.approx(-2e-7, abs=1e-12)
    # Delta is still brought inside its band by the perpetual.
    assert abs(result.exposure_after[0]) <= 0.05


def test_fixed_cost_prefers_fewer_orders() -> None:
    # With a large fixed cost per order, one option that fixes both gamma and vega wins over two.
    cheap_fixed = size_hedge(dgv_problem())
    costly = size_hedge(dgv_problem(cost_model=LINEAR_COST + FixedPerOrder(5_000.0)))
    assert costly.status is HedgeStatus.OK
    assert np.count_nonzero(costly.trades) <= np.count_nonzero(cheap_fixed.trades)


def test_rejects_non_convex_cost() -> None:
    class Concave(AdditiveCost):
        def cost(self, quantity: np.ndarray, context: TradeContext) -> np.ndarray:
            return np.asarray(np.sqrt(np.abs(quantity)) * context.mid_usd, dtype=np.float64)

    with pytest.raises(ValueError, match="not convex"):
        size_hedge(dgv_problem(cost_model=Concave()))


def test_closed_form_needs_a_square_problem() -> None:
    with pytest.raises(ValueError, match="closed_form"):
        size_hedge(dgv_problem(), method="closed_form")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lower": np.array([2.0, 0.0, 0.0])}, "lower"),
        ({"lot": np.array([0.1, 0.0, 0.1, 1.0])}, "lot"),
        ({"max_order": np.array([1.0, 1.0, np.inf, 1.0])}, "max_order"),
        ({"sensitivity": np.ones((3, 3))}, "sensitivity"),
        ({"exposure": np.array([np.nan, 0.0, 0.0])}, "exposure"),
        ({"greeks": ("delta", "delta", "vega")}, "greeks"),
        ({"position_min": np.array([1.0, 0.0, 0.0, 0.0]),
          "position_max": np.array([0.0, 0.0, 0.0, 0.0])}, "position_min"),
    ],
)
def test_problem_validation_names_the_field(change: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {
        "greeks": ("delta", "gamma", "vega"), "exposure": np.zeros(3), "lower": -np.ones(3),
        "upper": np.ones(3), "instruments": NAMES, "sensitivity": SENSITIVITY, "lot": LOT,
        "max_order": np.ones(4), "cost_model": HalfSpread(), "context": CONTEXT,
    }
    fields.update(change)
    with pytest.raises(ValueError, match=field):
        HedgeProblem(**fields)  # type: ignore[arg-type]


def test_sizer_argument_validation() -> None:
    with pytest.raises(ValueError, match="method"):
        size_hedge(dgv_problem(), method="magic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="segments"):
        size_hedge(dgv_problem(), segments=0)


def test_same_input_same_output() -> None:
    first, second = size_hedge(dgv_problem()), size_hedge(dgv_problem())
    np.testing.assert_array_equal(first.trades, second.trades)
    assert first.reason == second.reason
    assert not first.trades.flags.writeable
