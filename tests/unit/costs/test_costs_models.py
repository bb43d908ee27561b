"""Hand-checked values and input validation of each cost model."""

from __future__ import annotations

import numpy as np
import pytest

from hedgekeeper.costs import (
    FixedPerOrder,
    HalfSpread,
    ProportionalFee,
    SquareRootImpact,
    TradeContext,
)


def _context(**overrides: object) -> TradeContext:
    fields: dict[str, object] = {"bid_usd": 99.0, "ask_usd": 101.0, "notional_usd": 87_000.0,
                                 "daily_volume": 10_000.0, "daily_volatility": 0.02}
    fields.update(overrides)
    return TradeContext(**fields)  # type: ignore[arg-type]


def test_proportional_fee_by_hand() -> None:
    # 5 bp of 87,000 USD = 43.5 USD per contract; 3 contracts sold -> 130.5 USD.
    cost = ProportionalFee(taker_bps=5.0).cost(np.array(-3.0), _context())
    assert float(cost) == pytest.approx(130.5)


def test_fee_cap_binds_for_cheap_options() -> None:
    # Deribit-style: 3 bp of the underlying (26.1 USD) capped at 12.5 % of a 100 USD option.
    fee = ProportionalFee(taker_bps=3.0, cap_fraction_of_price=0.125)
    assert float(fee.cost(np.array(2.0), _context())) == pytest.approx(2 * 12.5)
    expensive = _context(bid_usd=999.0, ask_usd=1001.0)
    assert float(fee.cost(np.array(2.0), expensive)) == pytest.approx(2 * 26.1)


def test_maker_taker_blend() -> None:
    fee = ProportionalFee(taker_bps=5.0, maker_bps=-1.0, taker_share=0.5)
    assert fee.rate == pytest.approx(2e-4)
    with pytest.raises(ValueError, match="maker_bps"):
        ProportionalFee(taker_bps=1.0, maker_bps=-3.0, taker_share=0.25)


def test_half_spread_by_hand() -> None:
    assert float(HalfSpread().cost(np.array(-4.0), _context())) == pytest.approx(4.0)


def test_square_root_impact_by_hand() -> None:
    # 100 contracts of 10,000 a day at 2 % daily vol: move 1 * 0.02 * sqrt(0.01) = 0.2 %,
    # paid on 100 * 100 USD = 20 USD.
    cost = SquareRootImpact(eta=1.0).cost(np.array(100.0), _context())
    assert float(cost) == pytest.approx(20.0)
    # beta = 0.6 (Almgren et al. 2005): 0.02 * 0.01 ** 0.6 * 10,000 USD.
    cost = SquareRootImpact(eta=1.0, beta=0.6).cost(np.array(100.0), _context())
    assert float(cost) == pytest.approx(0.02 * 0.01**0.6 * 10_000.0)


def test_impact_needs_volume_and_volatility() -> None:
    bare = TradeContext(bid_usd=99.0, ask_usd=101.0, notional_usd=100.0)
    with pytest.raises(ValueError, match="daily_volume"):
        SquareRootImpact().cost(np.array(1.0), bare)


def test_fixed_per_order_counts_orders() -> None:
    cost = FixedPerOrder(usd_per_order=3.0).cost(np.array([0.0, 1e-3, -50.0]), _context())
    np.testing.assert_array_equal(cost, [0.0, 3.0, 3.0])


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"bid_usd": 102.0}, "ask_usd"),
        ({"bid_usd": -1.0}, "bid_usd"),
        ({"notional_usd": np.inf}, "notional_usd"),
        ({"daily_volume": 0.0}, "daily_volume"),
        ({"daily_volatility": -0.1}, "daily_volatility"),
        ({"bid_usd": [1.0, 2.0], "ask_usd": [1.0, 2.0, 3.0]}, "broadcast"),
        ({"bid_usd": "cheap"}, "bid_usd"),
    ],
)
def test_context_validation_names_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        _context(**overrides)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: ProportionalFee(taker_bps=-1.0), "taker_bps"),
        (lambda: ProportionalFee(taker_bps=1.0, taker_share=1.5), "taker_share"),
        (lambda: ProportionalFee(taker_bps=1.0, cap_fraction_of_price=-0.1), "cap_fraction"),
        (lambda: SquareRootImpact(eta=-1.0), "eta"),
        (lambda: SquareRootImpact(beta=2.0), "beta"),
        (lambda: FixedPerOrder(usd_per_order=float("nan")), "usd_per_order"),
    ],
)
def test_model_validation_names_the_parameter(build: object, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        build()  # type: ignore[operator]


def test_context_take_and_mid() -> None:
    context = TradeContext(bid_usd=[1.0, 2.0, 3.0], ask_usd=[1.5, 2.5, 3.5], notional_usd=10.0)
    picked = context.take(np.array([2, 0]))
    np.testing.assert_array_equal(picked.mid_usd, [3.25, 1.25])
    np.testing.assert_array_equal(picked.half_spread_usd, [0.25, 0.25])
    assert float(picked.notional_usd) == 10.0
