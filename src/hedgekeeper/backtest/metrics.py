"""Summary statistics of a replay (:class:`~hedgekeeper.backtest.replay.BacktestResult`).

Definitions (USD unless stated):

* **daily P&L** — the change of equity over each UTC day (a step belongs to the day its bar
  opened in; the first day starts from zero equity before the first step);
* ``hedge_error_std_usd`` — standard deviation of the hedged book's daily P&L (costs and
  funding included): the hedging error. ``unhedged_std_usd`` is the same for the book alone
  (its daily ``option_pnl``), and ``hedge_error_ratio`` their ratio (< 1: hedging reduced the
  variability);
* ``tracking_error_usd`` — root mean square of the book's net delta before each decision, in
  USD (``net_delta * index``): how far the exposure strayed from its zero target, hour by hour;
* ``total_cost_usd`` — fees + half spreads + impact paid; ``funding_usd`` — funding received
  (negative: paid), kept apart because its sign depends on the market, not on the policy's
  skill;
* ``cvar_95_usd`` — mean of the worst 5 % of daily P&Ls (at least one day; negative = loss);
* ``rebalances`` — steps with a hedge fill; ``turnover_coin`` / ``turnover_usd`` — perpetual
  traded; ``max_abs_delta_coin`` — the largest |net delta| before a decision, steps where the
  book was just (re)opened left out (the first step, and each roll, where the hedge of the
  expired legs is still on until the step's decision).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from hedgekeeper.backtest.replay import BacktestResult

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class BacktestSummary:
    """One replay in numbers (see the module docstring for definitions; USD unless stated)."""

    name: str
    policy: str
    hours: int
    days: int
    pnl_usd: float
    option_pnl_usd: float
    hedge_pnl_usd: float
    hedge_error_std_usd: float
    unhedged_std_usd: float
    hedge_error_ratio: float
    tracking_error_usd: float
    total_cost_usd: float
    fees_usd: float
    spread_usd: float
    impact_usd: float
    funding_usd: float
    cvar_95_usd: float
    rebalances: int
    turnover_coin: float
    turnover_usd: float
    max_abs_delta_coin: float
    refused: int
    premium_usd: float

    def as_dict(self) -> dict[str, float | int | str]:
        """Field name -> value (JSON-ready; NaN stays NaN)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def daily_pnl(result: BacktestResult, series: str = "equity") -> FloatArray:
    """Daily changes of a cumulative USD series of ``result`` (``"equity"`` or
    ``"option_pnl"``), one per UTC day the steps' bars opened in, shape ``(days,)``."""
    values = np.asarray(getattr(result, series), dtype=np.float64)
    day = (result.time - np.timedelta64(1, "h")).astype("datetime64[D]")
    last = np.flatnonzero(np.append(day[1:] != day[:-1], True))
    closes = values[last]
    return np.asarray(np.diff(closes, prepend=0.0), dtype=np.float64)


def cvar(pnl: FloatArray, level: float = 0.95) -> float:
    """Mean of the worst ``1 - level`` share of ``pnl`` (at least one value), same unit."""
    values = np.sort(np.asarray(pnl, dtype=np.float64))
    if values.size == 0:
        return math.nan
    count = max(1, math.floor((1.0 - level) * values.size))
    return float(np.mean(values[:count]))


def _std(values: FloatArray) -> float:
    return float(np.std(values, ddof=1)) if values.size > 1 else math.nan


def summarise(result: BacktestResult) -> BacktestSummary:
    """The :class:`BacktestSummary` of one replay."""
    daily = daily_pnl(result)
    unhedged = daily_pnl(result, "option_pnl")
    hedged_std, unhedged_std = _std(daily), _std(unhedged)
    exposure_usd = result.net_delta_before * result.index
    perp_fills = [f for f in result.fills if f.instrument == result.perp]
    turnover_coin = float(sum(abs(f.quantity) * f.contract_size for f in perp_fills))
    turnover_usd = float(sum(f.notional_usd for f in perp_fills))
    after_first = np.abs(result.net_delta_before[~result.rolled])
    return BacktestSummary(
        name=result.name,
        policy=result.policy,
        hours=len(result),
        days=int(daily.size),
        pnl_usd=float(result.equity[-1]),
        option_pnl_usd=float(result.option_pnl[-1]),
        hedge_pnl_usd=float(result.hedge_pnl[-1]),
        hedge_error_std_usd=hedged_std,
        unhedged_std_usd=unhedged_std,
        hedge_error_ratio=hedged_std / unhedged_std if unhedged_std > 0 else math.nan,
        tracking_error_usd=float(np.sqrt(np.mean(exposure_usd**2))),
        total_cost_usd=float(result.costs[-1]),
        fees_usd=float(result.fees[-1]),
        spread_usd=float(result.spread[-1]),
        impact_usd=float(result.impact[-1]),
        funding_usd=float(result.funding[-1]),
        cvar_95_usd=cvar(daily),
        rebalances=int(np.count_nonzero(result.rebalanced)),
        turnover_coin=turnover_coin,
        turnover_usd=turnover_usd,
        max_abs_delta_coin=float(np.max(after_first)) if after_first.size else math.nan,
        refused=int(np.count_nonzero(result.outcome == "refused_input")),
        premium_usd=result.premium_received,
    )
