"""Conformance suite every cost model passes (add new models to MODELS)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hedgekeeper.costs import (
    CostModel,
    CostSum,
    FixedPerOrder,
    HalfSpread,
    ProportionalFee,
    SquareRootImpact,
    TradeContext,
)

SPOT = 87_000.0
# Two options (USD per 1-BTC contract), an inverse perpetual (10 USD face) and a spot pair.
CONTEXT = TradeContext(
    bid_usd=[0.0199 * SPOT, 0.0010 * SPOT, 9.9994, 86_990.0],
    ask_usd=[0.0201 * SPOT, 0.0012 * SPOT, 10.0006, 87_010.0],
    notional_usd=[SPOT, SPOT, 10.0, SPOT],
    daily_volume=[500.0, 2_000.0, 5e7, 3_000.0],
    daily_volatility=[0.40, 0.90, 0.03, 0.03],
)

MODELS: dict[str, CostModel] = {
    "fee": ProportionalFee(taker_bps=5.0),
    "fee_capped_maker_taker": ProportionalFee(taker_bps=3.0, maker_bps=-1.0, taker_share=0.7,
                                              cap_fraction_of_price=0.125),
    "half_spread": HalfSpread(),
    "sqrt_impact": SquareRootImpact(eta=0.8),
    "impact_beta_0.6": SquareRootImpact(eta=1.0, beta=0.6),
    "fixed": FixedPerOrder(usd_per_order=1.5),
    "sum": 2.0 * SquareRootImpact() + ProportionalFee(taker_bps=3.0) + HalfSpread()
    + FixedPerOrder(0.2),
}

quantities = arrays(np.float64, st.integers(1, 4).map(lambda rows: (rows, 4)),
                    elements=st.floats(-1e4, 1e4, allow_nan=False))


@pytest.mark.parametrize("name", MODELS)
def test_is_a_cost_model(name: str) -> None:
    assert isinstance(MODELS[name], CostModel)


@pytest.mark.parametrize("name", MODELS)
def test_zero_at_zero_quantity(name: str) -> None:
    assert np.array_equal(MODELS[name].cost(np.zeros(4), CONTEXT), np.zeros(4))


@pytest.mark.parametrize("name", MODELS)
@settings(max_examples=40)
@given(quantity=quantities)
def test_non_negative_and_shaped(name: str, quantity: np.ndarray) -> None:
    cost = MODELS[name].cost(quantity, CONTEXT)
    assert cost.shape == quantity.shape
    assert cost.dtype == np.float64
    assert np.all(np.isfinite(cost))
    assert np.all(cost >= 0.0)


@pytest.mark.parametrize("name", MODELS)
@settings(max_examples=30)
@given(quantity=quantities)
def test_vectorised_equals_loop(name: str, quantity: np.ndarray) -> None:
    model = MODELS[name]
    batch = model.cost(quantity, CONTEXT)
    for r in range(quantity.shape[0]):
        for i in range(quantity.shape[1]):
            single = model.cost(np.array(quantity[r, i]), CONTEXT.take(np.array([i])))
            assert single.shape == (1,)
            assert batch[r, i] == pytest.approx(float(single[0]), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", MODELS)
@settings(max_examples=30)
@given(quantity=quantities, scale=st.floats(0.0, 10.0))
def test_additive_composition(name: str, quantity: np.ndarray, scale: float) -> None:
    model, spread = MODELS[name], HalfSpread()
    combined = scale * model + spread
    expected = scale * model.cost(quantity, CONTEXT) + spread.cost(quantity, CONTEXT)
    np.testing.assert_allclose(combined.cost(quantity, CONTEXT), expected, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("name", MODELS)
@settings(max_examples=30)
@given(quantity=quantities)
def test_symmetric_and_non_decreasing_in_size(name: str, quantity: np.ndarray) -> None:
    # The sizer relies on costs growing with |q| whatever the side.
    model = MODELS[name]
    cost = model.cost(quantity, CONTEXT)
    np.testing.assert_allclose(model.cost(-quantity, CONTEXT), cost, rtol=1e-12)
    larger = model.cost(quantity * 1.5, CONTEXT)
    assert np.all(larger >= cost - 1e-9 * np.abs(cost))


@pytest.mark.parametrize("name", MODELS)
def test_inputs_not_mutated(name: str) -> None:
    quantity = np.array([1.0, -2.0, 30.0, 0.0])
    kept = quantity.copy()
    MODELS[name].cost(quantity, CONTEXT)
    assert np.array_equal(quantity, kept)
    assert not CONTEXT.bid_usd.flags.writeable


@pytest.mark.parametrize("name", MODELS)
def test_rejects_non_finite_quantity(name: str) -> None:
    with pytest.raises(ValueError, match="quantity"):
        MODELS[name].cost(np.array([np.nan, 1.0, 1.0, 1.0]), CONTEXT)


def test_sum_builtin_and_scaling_compose() -> None:
    total = sum([HalfSpread(), ProportionalFee(taker_bps=2.0)])
    assert isinstance(total, CostSum)
    doubled = 2.0 * total
    quantity = np.array([1.0, -1.0, 100.0, 0.5])
    np.testing.assert_allclose(doubled.cost(quantity, CONTEXT), 2.0 * total.cost(quantity, CONTEXT))
    with pytest.raises(ValueError, match="scale"):
        _ = -1.0 * HalfSpread()
