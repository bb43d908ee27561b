"""Summary statistics: daily P&L by UTC day, CVaR, tracking error, the rolled steps left out."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hedgekeeper.backtest import BacktestResult, Fill, daily_pnl, summarise
from hedgekeeper.backtest.metrics import cvar
from hedgekeeper.domain.market import from_datetime64


def _result(equity: list[float], option: list[float], delta: list[float],
            index: float = 100.0) -> BacktestResult:
    n = len(equity)
    # steps are bar closes: 01:00 .. of 2022-11-01 (bars opening 00:00 ..)
    time = np.datetime64("2022-11-01T01:00", "us") + np.arange(n) * np.timedelta64(12, "h")
    zeros = np.zeros(n)
    rolled = np.zeros(n, dtype=bool)
    rolled[0] = True
    fill = Fill(time=from_datetime64(time[1]), instrument="BTCUSDT", quantity=-2.0, price=100.0,
                contract_size=1.0, fee_usd=0.1, spread_usd=0.0, impact_usd=0.0)
    return BacktestResult(
        name="x", policy="DeltaBand", perp="BTCUSDT", time=time, index=np.full(n, index),
        implied_vol=np.full(n, 0.5), equity=np.array(equity), option_pnl=np.array(option),
        hedge_pnl=zeros, fees=np.full(n, 0.1), spread=zeros, impact=zeros, funding=zeros,
        hedge_position=zeros, net_delta_before=np.array(delta), net_delta_after=zeros,
        gamma=zeros, band_lower=zeros, band_upper=zeros, rebalanced=rolled, rolled=rolled,
        traded_coin=zeros, outcome=np.array(["trade"] * n), fills=(fill,), premium_received=5.0,
    )


def test_daily_pnl_groups_by_the_day_the_bar_opened() -> None:
    # steps at 01:00, 13:00 (day 1), 01:00, 13:00 (day 2), 01:00 (day 3)
    result = _result([1.0, 3.0, 2.0, 7.0, 4.0], [0.0, -1.0, -2.0, -3.0, 5.0], [0.0] * 5)
    np.testing.assert_allclose(daily_pnl(result), [3.0, 4.0, -3.0])
    np.testing.assert_allclose(daily_pnl(result, "option_pnl"), [-1.0, -2.0, 8.0])


def test_a_midnight_step_closes_the_previous_day() -> None:
    result = _result([1.0, 2.0], [0.0, 0.0], [0.0, 0.0])
    shifted = np.datetime64("2022-11-01T23:00", "us") + np.arange(2) * np.timedelta64(1, "h")
    object.__setattr__(result, "time", shifted)  # 23:00 and 00:00 close bars of 11-01
    np.testing.assert_allclose(daily_pnl(result), [2.0])


def test_cvar() -> None:
    assert cvar(np.arange(100.0)) == pytest.approx(2.0)  # mean of the worst 5
    assert cvar(np.array([3.0, -1.0])) == -1.0  # at least one value
    assert math.isnan(cvar(np.array([])))


def test_summary() -> None:
    result = _result([1.0, 3.0, 2.0, 7.0, 4.0], [0.0, -1.0, -2.0, -3.0, 5.0],
                     [9.0, 1.0, -1.0, 2.0, 0.0])
    summary = summarise(result)
    assert summary.days == 3
    assert summary.hedge_error_std_usd == pytest.approx(float(np.std([3.0, 4.0, -3.0], ddof=1)))
    assert summary.hedge_error_ratio == pytest.approx(
        summary.hedge_error_std_usd / float(np.std([-1.0, -2.0, 8.0], ddof=1)))
    assert summary.tracking_error_usd == pytest.approx(100.0 * math.sqrt((81 + 1 + 1 + 4) / 5))
    assert summary.max_abs_delta_coin == 2.0  # the rolled first step (9 coin) left out
    assert summary.turnover_coin == 2.0
    assert summary.turnover_usd == 200.0
    assert summary.total_cost_usd == pytest.approx(0.1)
    assert summary.pnl_usd == 4.0
    assert summary.premium_usd == 5.0
    assert summary.as_dict()["name"] == "x"
