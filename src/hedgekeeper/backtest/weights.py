"""Multi-asset target-weight portfolio backtest (BTC, ETH, stable cash, ...) with costs.

A portfolio of ``n_assets`` assets, one of them the *cash* asset (a stablecoin: it settles every
trade and pays every cost), is held along ``n_bars`` bars of close prices. At each bar a
rebalancing policy from :mod:`hedgekeeper.policies` looks at the portfolio's drifted weights and
decides whether to trade back towards the target weights:
:class:`~hedgekeeper.policies.Calendar` (every ``interval``, optionally on a clock-aligned grid)
or :class:`~hedgekeeper.policies.WeightBand` (absolute and/or relative bands, back to the target
or to the band edge) -- or any other policy whose decision carries target weights (combinators
such as ``MinTradeSize(WeightBand(...), min_turnover=...)``).

Timing and accounting (no look-ahead), per bar ``t`` with close prices ``P_t``:

1. Holdings ``h`` (units) are those after bar ``t - 1``'s trades. Value ``V_t = Σ_i h_i P_t,i``
   and drifted weights ``w_i = h_i P_t,i / V_t`` use prices up to ``t`` only.
2. The policy decides on ``(time_t, w, w*, last rebalance time)``; if it fires with target
   weights ``w'``, every non-cash asset trades ``q_i = w'_i V_t / P_t,i - h_i`` units **at bar
   ``t``'s close plus slippage**: fill price ``P_t,i (1 + s sign(q_i))``. The fee is
   ``f |q_i| × fill price`` (fees on the filled notional). The cash asset pays
   ``Σ_i q_i × fill_i + fees`` (slippage is the ``s |q_i| P_t,i`` part of it). Targets are
   computed from the pre-trade value, so costs come out of the cash asset and the post-trade
   weights are ``w'`` up to the costs just paid (as vectorbt's ``targetpercent`` orders do).
3. Equity ``E_t = Σ_i h'_i P_t,i`` marks the post-trade holdings at the close.

The portfolio starts at bar 0 entirely in cash (or at ``initial_weights``, bought at no cost), so
the first decision usually buys the target. Nothing at bar ``t`` reads a price after ``t``.

Two engines give the same numbers (a test checks them bar by bar):

* ``"kernel"``: a numba loop implementing the ``Calendar`` and ``WeightBand`` rules with the
  policies' own arithmetic (:func:`hedgekeeper.policies.calendar.schedule_due`'s comparisons,
  :func:`hedgekeeper.policies.weights.weight_halfwidths` for the band widths);
* ``"policy"``: numpy accounting with :mod:`hedgekeeper.costs` models (``ProportionalFee``,
  ``HalfSpread``) that calls ``policy.decide`` on a batch of one at every bar -- any policy.

Units: prices in USD (or any one numeraire, the cash asset's price included, e.g. 1.0 for USDT);
weights are fractions of portfolio value; times in years since the epoch (ACT/365,
:func:`hedgekeeper.policies.years_since_epoch`); costs in basis points of traded notional.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from hedgekeeper.costs import HalfSpread, ProportionalFee, TradeContext
from hedgekeeper.policies import Calendar, Policy, PolicyView, WeightBand, years_since_epoch
from hedgekeeper.policies.calendar import TIME_TOLERANCE
from hedgekeeper.policies.weights import WEIGHT_TOLERANCE, weight_halfwidths
from hedgekeeper.pricing._jit import NUMBA_AVAILABLE, njit

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Engine = Literal["auto", "kernel", "policy"]

RULE_CALENDAR = 0
"""Kernel rule: :class:`~hedgekeeper.policies.Calendar` (to target)."""
RULE_BAND = 1
"""Kernel rule: :class:`~hedgekeeper.policies.WeightBand` (to target or to the band edge)."""

_RECENT_REBALANCES = 8
"""Columns of ``view.recent_rebalance_times`` given to policies (for ``MaxFrequency``)."""

_SUM_TOLERANCE = 1e-9


def _finite_number(name: str, value: object, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or (minimum is not None and number < minimum):
        bound = "" if minimum is None else f" and >= {minimum:g}"
        raise ValueError(f"{name} must be finite{bound}, got {value!r}")
    return number


def _readonly(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    array.setflags(write=False)
    return array


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class WeightCosts:
    """Costs of rebalancing: a proportional fee and slippage, both in basis points.

    A trade of ``q`` units at close ``P`` fills at ``P (1 + s sign(q))`` and pays
    ``f |q| P (1 + s sign(q))``; ``f = fee_bps / 1e4``, ``s = slippage_bps / 1e4``. As cost models
    (:mod:`hedgekeeper.costs`) these are a :class:`~hedgekeeper.costs.ProportionalFee` on the fill
    notional and a :class:`~hedgekeeper.costs.HalfSpread` with quotes ``P (1 ± s)``.

    Attributes
    ----------
    fee_bps : fee, basis points of the filled notional, >= 0.
    slippage_bps : price concession vs the close, basis points, in [0, 10000).
    """

    fee_bps: float = 0.0
    slippage_bps: float = 0.0

    def __post_init__(self) -> None:
        _finite_number("WeightCosts.fee_bps", self.fee_bps, minimum=0.0)
        slip = _finite_number("WeightCosts.slippage_bps", self.slippage_bps, minimum=0.0)
        if slip >= 1e4:
            raise ValueError(f"WeightCosts.slippage_bps must be < 10000, got {self.slippage_bps}")

    @property
    def fee_rate(self) -> float:
        """Fee as a fraction of the filled notional."""
        return self.fee_bps / 1e4

    @property
    def slippage_rate(self) -> float:
        """Slippage as a fraction of the close."""
        return self.slippage_bps / 1e4

    def fee_model(self) -> ProportionalFee:
        """The fee as a :class:`~hedgekeeper.costs.ProportionalFee` (taker)."""
        return ProportionalFee(taker_bps=self.fee_bps)

    def slippage_model(self) -> HalfSpread:
        """The slippage as a :class:`~hedgekeeper.costs.HalfSpread` (see :meth:`context`)."""
        return HalfSpread()

    def context(self, close: FloatArray, quantity: FloatArray) -> TradeContext:
        """Quotes ``close (1 ± s)``; the fee's notional is the fill price of each trade's side."""
        bid = close * (1.0 - self.slippage_rate)
        ask = close * (1.0 + self.slippage_rate)
        return TradeContext(bid_usd=bid, ask_usd=ask, notional_usd=np.where(quantity > 0, ask, bid))


@dataclass(frozen=True, slots=True)
class _Setup:
    prices: FloatArray  # (n_bars, n_assets), C-contiguous
    times: FloatArray  # (n_bars,) years since epoch
    target: FloatArray  # (n_assets,)
    cash: int
    initial_holdings: FloatArray  # (n_assets,)


def _prepare(
    prices: npt.ArrayLike,
    times: npt.ArrayLike,
    target_weights: npt.ArrayLike,
    cash_asset: int,
    initial_value: float,
    initial_weights: npt.ArrayLike | None,
) -> _Setup:
    try:
        price = np.ascontiguousarray(prices, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("prices must be an array of numbers, shape (n_bars, n_assets)") from exc
    if price.ndim != 2 or price.shape[0] < 1 or price.shape[1] < 2:
        raise ValueError(
            f"prices must have shape (n_bars >= 1, n_assets >= 2) incl. the cash asset, "
            f"got {price.shape}"
        )
    n_bars, n_assets = price.shape
    # min/max reductions are one fast pass each; NaN fails the comparisons too
    if not (price.min() > 0.0 and price.max() < np.inf):
        bar, asset = np.argwhere(~(np.isfinite(price) & (price > 0.0)))[0]
        raise ValueError(
            f"prices must be finite and > 0, got {price[bar, asset]!r} at bar {bar}, asset {asset}"
        )
    stamps = np.asarray(times)
    if np.issubdtype(stamps.dtype, np.datetime64):
        stamps = years_since_epoch(stamps)
    try:
        time = np.ascontiguousarray(stamps, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("times must be datetime64 values or years since the epoch") from exc
    if time.shape != (n_bars,):
        raise ValueError(f"times must have shape ({n_bars},) like prices' bars, got {time.shape}")
    if not np.all(np.isfinite(time)) or np.any(np.diff(time) <= 0.0):
        raise ValueError("times must be finite and strictly increasing")
    if isinstance(cash_asset, bool) or not isinstance(cash_asset, int | np.integer):
        raise ValueError(f"cash_asset must be an integer column index, got {cash_asset!r}")
    if not -n_assets <= cash_asset < n_assets:
        raise ValueError(f"cash_asset must index one of the {n_assets} assets, got {cash_asset}")
    cash = int(cash_asset) % n_assets
    target = _weights_vector("target_weights", target_weights, n_assets)
    value = _finite_number("initial_value", initial_value, minimum=0.0)
    if value <= 0.0:
        raise ValueError(f"initial_value must be > 0 (USD), got {initial_value!r}")
    holdings = np.zeros(n_assets)
    if initial_weights is None:
        holdings[cash] = value / price[0, cash]
    else:
        start = _weights_vector("initial_weights", initial_weights, n_assets)
        holdings = start * value / price[0]
    return _Setup(price, time, target, cash, holdings)


def _weights_vector(name: str, value: npt.ArrayLike, n_assets: int) -> FloatArray:
    try:
        weights = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numbers, shape ({n_assets},)") from exc
    if weights.shape != (n_assets,):
        raise ValueError(
            f"{name} must have shape ({n_assets},) like prices' assets, got {weights.shape}"
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0.0):
        raise ValueError(f"{name} must be finite and >= 0 (long-only), got {weights.tolist()}")
    if abs(float(np.sum(weights)) - 1.0) > _SUM_TOLERANCE:
        raise ValueError(f"{name} must sum to 1 (cash included), got {float(np.sum(weights))!r}")
    return weights


def portfolio_prices(
    closes: Mapping[str, tuple[npt.ArrayLike, npt.ArrayLike]], cash: str = "USDT"
) -> tuple[list[str], npt.NDArray[np.datetime64], FloatArray]:
    """Align close series on their common times and append a cash asset priced 1.0.

    Parameters
    ----------
    closes : asset name -> ``(times, close)``: ``datetime64`` times (UTC; for hourly bars the
        time the close became known, ``HourlyBars.close_time``) ascending, and close prices in
        the cash asset's unit (e.g. USDT per coin).
    cash : name of the cash asset (its price is 1.0 at every bar).

    Returns
    -------
    (names, times, prices) : asset names with ``cash`` last, the ``(n_bars,)`` times present in
        every series (inner join; a gap in one series drops the bar), and ``(n_bars, n_assets)``
        prices, ready for :func:`backtest_weights` with ``cash_asset=-1``.
    """
    if not closes:
        raise ValueError("closes must name at least one asset")
    if cash in closes:
        raise ValueError(f"cash asset {cash!r} must not be among the priced assets")
    frames = []
    for name, (stamps, close) in closes.items():
        index = pd.DatetimeIndex(np.asarray(stamps, dtype="datetime64[ns]"))
        values = np.asarray(close, dtype=np.float64)
        if values.shape != (len(index),):
            raise ValueError(
                f"closes[{name!r}]: times and close must have the same length, got "
                f"{len(index)} and {values.shape}"
            )
        if not index.is_monotonic_increasing or not index.is_unique:
            raise ValueError(f"closes[{name!r}]: times must be strictly increasing")
        frames.append(pd.Series(values, index=index, name=name))
    joined = pd.concat(frames, axis=1, join="inner")
    if joined.empty:
        raise ValueError("the close series have no time in common")
    prices = np.hstack([joined.to_numpy(dtype=np.float64), np.ones((len(joined), 1))])
    return [*closes, cash], joined.index.to_numpy(dtype="datetime64[ns]"), prices


# ---------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class WeightStatistics:
    """Summary of one backtest (USD unless stated).

    Attributes
    ----------
    bars : number of bars.
    years : length of the backtest, years.
    final_equity : equity after the last bar.
    total_return : ``final / initial - 1``.
    annualised_return : geometric, per year.
    annualised_volatility : std of bar returns × sqrt(bars per year).
    max_drawdown : largest peak-to-trough loss of equity, fraction (>= 0).
    tracking_error : annualised std of the bar-return difference to the target portfolio
        rebalanced at every bar at no cost (the ideal the policy approximates).
    weight_deviation_rms, weight_deviation_max : RMS over bars and maximum of the Euclidean
        distance between the held (post-trade) weights and the target.
    fees, slippage, costs : paid in total; ``costs = fees + slippage``.
    cost_per_year_bps : ``costs`` per year over mean equity, basis points.
    turnover_usd : traded notional of the non-cash assets, at close prices.
    turnover_per_year : one-way turnover per year, ``turnover_usd / 2 / mean equity / years``.
    rebalances : number of bars that traded.
    engine : ``"kernel"`` or ``"policy"``.
    """

    bars: int
    years: float
    final_equity: float
    total_return: float
    annualised_return: float
    annualised_volatility: float
    max_drawdown: float
    tracking_error: float
    weight_deviation_rms: float
    weight_deviation_max: float
    fees: float
    slippage: float
    costs: float
    cost_per_year_bps: float
    turnover_usd: float
    turnover_per_year: float
    rebalances: int
    engine: str

    def as_dict(self) -> dict[str, float | int | str]:
        """Field name -> value, JSON-ready."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, eq=False)
class WeightBacktest:
    """Outcome of :func:`backtest_weights`; all arrays are read-only.

    ``holdings`` and ``weights`` are derived on first access (and kept) from the trades, which
    the backtest itself records only where they happen.

    Attributes
    ----------
    times : (n_bars,) years since the epoch.
    prices : (n_bars, n_assets) close prices, USD.
    target_weights : (n_assets,) fractions.
    cash_asset : column of the cash asset.
    initial_value : USD at the start.
    initial_holdings : (n_assets,) units held before bar 0.
    trades : (n_bars, n_assets) change of holdings at each bar, units (the cash column is the
        cash paid or received, costs included).
    equity : (n_bars,) portfolio value after each bar's trades, at the close, USD.
    fees, slippage : (n_bars,) paid at each bar, USD.
    turnover : (n_bars,) traded notional of the non-cash assets at close prices, USD.
    rebalance : (n_bars,) bool, True where the bar traded.
    engine : ``"kernel"`` or ``"policy"``.
    """

    times: FloatArray
    prices: FloatArray
    target_weights: FloatArray
    cash_asset: int
    initial_value: float
    initial_holdings: FloatArray
    trades: FloatArray
    equity: FloatArray
    fees: FloatArray
    slippage: FloatArray
    turnover: FloatArray
    rebalance: BoolArray
    engine: str

    @cached_property
    def holdings(self) -> FloatArray:
        """(n_bars, n_assets) units held after each bar's trades."""
        # the running sum in bar order adds exactly what the backtest added, bar by bar
        steps = np.vstack([self.initial_holdings[None, :], self.trades])
        return _readonly(np.cumsum(steps, axis=0)[1:])

    @cached_property
    def weights(self) -> FloatArray:
        """(n_bars, n_assets) weights after each bar's trades, at the close."""
        return _readonly(self.holdings * self.prices / self.equity[:, None])

    @property
    def rebalances(self) -> int:
        """Number of bars that traded."""
        return int(np.count_nonzero(self.rebalance))

    @property
    def costs(self) -> FloatArray:
        """(n_bars,) fees plus slippage, USD."""
        return np.asarray(self.fees + self.slippage)

    @property
    def drifted_weights(self) -> FloatArray:
        """(n_bars, n_assets) weights *before* each bar's trades (what the policy saw)."""
        before = np.vstack([self.initial_holdings[None, :], self.holdings[:-1]])
        values = before * self.prices
        return np.asarray(values / values.sum(axis=1, keepdims=True))

    def returns(self) -> FloatArray:
        """(n_bars,) bar returns of equity; the first is against ``initial_value``."""
        previous = np.concatenate([[self.initial_value], self.equity[:-1]])
        return np.asarray(self.equity / previous - 1.0)

    def target_returns(self) -> FloatArray:
        """(n_bars,) returns of the target portfolio rebalanced each bar at no cost (0 at bar 0)."""
        growth = self.prices[1:] / self.prices[:-1] - 1.0
        return np.concatenate([[0.0], growth @ self.target_weights])

    def statistics(self) -> WeightStatistics:
        """The summary (see :class:`WeightStatistics`)."""
        n_bars = self.equity.shape[0]
        years = float(self.times[-1] - self.times[0]) if n_bars > 1 else 0.0
        bars_per_year = (n_bars - 1) / years if years > 0.0 else math.nan
        returns = self.returns()
        final = float(self.equity[-1])
        peak = np.maximum.accumulate(np.concatenate([[self.initial_value], self.equity]))
        drawdown = float(np.max(1.0 - np.concatenate([[self.initial_value], self.equity]) / peak))
        active = returns[1:] - self.target_returns()[1:]
        deviation = np.sqrt(np.sum((self.weights - self.target_weights) ** 2, axis=1))
        mean_equity = float(np.mean(self.equity))
        fees = float(np.sum(self.fees))
        slippage = float(np.sum(self.slippage))
        turnover = float(np.sum(self.turnover))
        ddof = 1 if active.shape[0] > 1 else 0
        root_bars = math.sqrt(bars_per_year) if years > 0.0 else math.nan
        return WeightStatistics(
            bars=n_bars,
            years=years,
            final_equity=final,
            total_return=final / self.initial_value - 1.0,
            annualised_return=(
                (final / self.initial_value) ** (1.0 / years) - 1.0 if years > 0.0 else math.nan
            ),
            annualised_volatility=(
                float(np.std(returns[1:], ddof=ddof)) * root_bars if n_bars > 1 else math.nan
            ),
            max_drawdown=drawdown,
            tracking_error=(
                float(np.std(active, ddof=ddof)) * root_bars if n_bars > 1 else math.nan
            ),
            weight_deviation_rms=float(np.sqrt(np.mean(deviation**2))),
            weight_deviation_max=float(np.max(deviation)),
            fees=fees,
            slippage=slippage,
            costs=fees + slippage,
            cost_per_year_bps=(
                (fees + slippage) / mean_equity / years * 1e4 if years > 0.0 else math.nan
            ),
            turnover_usd=turnover,
            turnover_per_year=turnover / 2.0 / mean_equity / years if years > 0.0 else math.nan,
            rebalances=self.rebalances,
            engine=self.engine,
        )

    def trade_log(self, assets: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per non-cash trade: bar, time (years), asset, units, close, notional, side.

        Parameters
        ----------
        assets : names of the columns (default ``"asset0"``, ...).
        """
        names = (
            list(assets)
            if assets is not None
            else [f"asset{i}" for i in range(self.prices.shape[1])]
        )
        if len(names) != self.prices.shape[1]:
            raise ValueError(f"assets must name {self.prices.shape[1]} columns, got {len(names)}")
        traded = self.trades.copy()
        traded[:, self.cash_asset] = 0.0
        bars, columns = np.nonzero(traded)
        quantity = traded[bars, columns]
        close = self.prices[bars, columns]
        return pd.DataFrame(
            {
                "bar": bars,
                "time": self.times[bars],
                "asset": [names[c] for c in columns],
                "quantity": quantity,
                "close": close,
                "notional_usd": np.abs(quantity) * close,
                "side": np.where(quantity > 0, "buy", "sell"),
            }
        )


# ---------------------------------------------------------------- the kernel


@njit
def _weights_kernel(
    prices: FloatArray,
    times: FloatArray,
    target: FloatArray,
    width: FloatArray,
    cash: int,
    initial_holdings: FloatArray,
    rule: int,
    to_edge: bool,
    interval: float,
    anchor: float,
    has_anchor: bool,
    fee_rate: float,
    slippage_rate: float,
    trades_out: FloatArray,
    equity_out: FloatArray,
    fees_out: FloatArray,
    slippage_out: FloatArray,
    turnover_out: FloatArray,
    rebalance_out: BoolArray,
) -> None:
    """Bar loop: decide (Calendar or WeightBand rule), trade at the close, mark to the close.

    Rules as in the policies: Calendar is due when never rebalanced or
    ``t - t_last >= interval - 1e-9`` (with an anchor: ``floor((t - a) / interval + 1e-9)``
    moved past ``floor((t_last - a) / interval + 1e-9)``); WeightBand fires when some
    ``|w_i - w*_i| > h_i + 1e-12`` and targets ``w*`` or ``w* + θ (w - w*)``,
    ``θ = clip(min_i h_i / |w_i - w*_i|, 0, 1)``. Trades: see the module docstring.
    ``trades_out``, ``fees_out``, ``slippage_out``, ``turnover_out`` and ``rebalance_out`` must
    come in zeroed; only bars that trade are written.
    """
    n_bars, n_assets = prices.shape
    held = initial_holdings.copy()
    weights = np.empty(n_assets)
    goal = np.empty(n_assets)
    last = np.nan
    for t in range(n_bars):
        value = 0.0
        for i in range(n_assets):
            value += held[i] * prices[t, i]
        fire = False
        if rule == RULE_CALENDAR:
            if math.isnan(last):
                fire = True
            elif has_anchor:
                step_now = math.floor((times[t] - anchor) / interval + TIME_TOLERANCE)
                step_last = math.floor((last - anchor) / interval + TIME_TOLERANCE)
                fire = step_now > step_last
            else:
                fire = times[t] - last >= interval - TIME_TOLERANCE
            if fire:
                for i in range(n_assets):
                    goal[i] = target[i]
        else:
            for i in range(n_assets):
                weights[i] = held[i] * prices[t, i] / value
                if abs(weights[i] - target[i]) > width[i] + WEIGHT_TOLERANCE:
                    fire = True
            if fire and to_edge:
                theta = np.inf
                for i in range(n_assets):
                    deviation = weights[i] - target[i]
                    if deviation != 0.0:
                        theta = min(theta, width[i] / abs(deviation))
                theta = min(max(theta, 0.0), 1.0)
                for i in range(n_assets):
                    goal[i] = target[i] + theta * (weights[i] - target[i])
            elif fire:
                for i in range(n_assets):
                    goal[i] = target[i]
        if not fire:
            equity_out[t] = value
            continue
        last = times[t]
        rebalance_out[t] = True
        cash_paid = 0.0
        fees = 0.0
        slip = 0.0
        traded = 0.0
        for i in range(n_assets):
            if i == cash:
                continue
            quantity = goal[i] * value / prices[t, i] - held[i]
            if quantity == 0.0:
                continue
            size = abs(quantity)
            side = 1.0 if quantity > 0.0 else -1.0
            fill = prices[t, i] * (1.0 + side * slippage_rate)
            fee = fee_rate * size * fill
            cash_paid += quantity * fill + fee
            fees += fee
            slip += slippage_rate * size * prices[t, i]
            traded += size * prices[t, i]
            held[i] += quantity
            trades_out[t, i] = quantity
        cash_change = -cash_paid / prices[t, cash]
        held[cash] += cash_change
        trades_out[t, cash] = cash_change
        fees_out[t] = fees
        slippage_out[t] = slip
        turnover_out[t] = traded
        equity = 0.0
        for i in range(n_assets):
            equity += held[i] * prices[t, i]
        equity_out[t] = equity


def _kernel_rule(policy: Policy) -> tuple[int, bool, float, float, bool] | None:
    """``(rule, to_edge, interval, anchor, has_anchor)`` for the kernel, or None."""
    if type(policy) is Calendar:
        anchor = policy.anchor
        return (
            RULE_CALENDAR,
            False,
            policy.interval,
            0.0 if anchor is None else anchor,
            (anchor is not None),
        )
    if type(policy) is WeightBand:
        return RULE_BAND, policy.hedge_to == "edge", 0.0, 0.0, False
    return None


def _run_kernel(setup: _Setup, policy: Policy, costs: WeightCosts) -> dict[str, Any]:
    rule = _kernel_rule(policy)
    assert rule is not None
    code, to_edge, interval, anchor, has_anchor = rule
    n_bars, n_assets = setup.prices.shape
    if isinstance(policy, WeightBand):
        width = weight_halfwidths(setup.target[None, :], policy.absolute, policy.relative)[0]
    else:
        width = np.full(n_assets, np.inf)
    out: dict[str, Any] = {
        "trades": np.zeros((n_bars, n_assets)),
        "equity": np.empty(n_bars),
        "fees": np.zeros(n_bars),
        "slippage": np.zeros(n_bars),
        "turnover": np.zeros(n_bars),
        "rebalance": np.zeros(n_bars, dtype=np.bool_),
    }
    _weights_kernel(
        setup.prices,
        setup.times,
        setup.target,
        np.ascontiguousarray(width, dtype=np.float64),
        setup.cash,
        setup.initial_holdings,
        code,
        to_edge,
        interval,
        anchor,
        has_anchor,
        costs.fee_rate,
        costs.slippage_rate,
        out["trades"],
        out["equity"],
        out["fees"],
        out["slippage"],
        out["turnover"],
        out["rebalance"],
    )
    return out


# ---------------------------------------------------------------- the policy engine


def _run_policy(setup: _Setup, policy: Policy, costs: WeightCosts) -> dict[str, Any]:
    n_bars, n_assets = setup.prices.shape
    cash = setup.cash
    others = np.arange(n_assets) != cash
    fee_model = costs.fee_model()
    slippage_model = costs.slippage_model()
    out: dict[str, Any] = {
        "trades": np.zeros((n_bars, n_assets)),
        "equity": np.empty(n_bars),
        "fees": np.zeros(n_bars),
        "slippage": np.zeros(n_bars),
        "turnover": np.zeros(n_bars),
        "rebalance": np.zeros(n_bars, dtype=np.bool_),
    }
    held = setup.initial_holdings.copy()
    target = setup.target[None, :]
    recent = np.full((1, _RECENT_REBALANCES), np.nan)
    last_time = np.nan
    last_value = np.nan
    name = type(policy).__name__
    for t in range(n_bars):
        close = setup.prices[t]
        values = held * close
        value = float(np.sum(values))
        now = np.array([setup.times[t]])
        view = PolicyView(
            time=now,
            spot=np.array([value]),
            net_delta=np.zeros(1),
            data_time=now,
            last_rebalance_time=np.array([last_time]),
            last_rebalance_spot=np.array([last_value]),
            recent_rebalance_times=recent,
            weights=(values / value)[None, :],
            target_weights=target,
        )
        decision = policy.decide(view)
        if decision is not None and bool(decision.rebalance[0]):
            if decision.weights is None or not np.all(np.isfinite(decision.weights[0])):
                raise ValueError(
                    f"policy {name} fired at bar {t} without target weights; the weights "
                    "backtest needs a weight policy (WeightBand, Calendar, or a combinator of them)"
                )
            goal = decision.weights[0]
            quantity = np.where(others, goal * value / close - held, 0.0)
            context = costs.context(close, quantity)
            fees = fee_model.cost(quantity, context)
            # HalfSpread charges |q| (ask - bid) / 2 = |q| s P: the slippage vs the close.
            slippage = slippage_model.cost(quantity, context)
            cash_paid = float(np.sum(quantity * close + slippage + fees))
            quantity[cash] = -cash_paid / close[cash]
            held = held + quantity
            out["trades"][t] = quantity
            out["fees"][t] = float(np.sum(fees))
            out["slippage"][t] = float(np.sum(slippage))
            out["turnover"][t] = float(np.sum(np.abs(quantity[others]) * close[others]))
            out["rebalance"][t] = True
            recent = np.concatenate([[[setup.times[t]]], recent[:, :-1]], axis=1)
            last_time = float(setup.times[t])
            last_value = value
        out["equity"][t] = float(np.sum(held * close))
    return out


# ---------------------------------------------------------------- entry point


def backtest_weights(
    prices: npt.ArrayLike,
    times: npt.ArrayLike,
    target_weights: npt.ArrayLike,
    policy: Policy,
    *,
    cash_asset: int = -1,
    costs: WeightCosts | None = None,
    initial_value: float = 1.0,
    initial_weights: npt.ArrayLike | None = None,
    engine: Engine = "auto",
) -> WeightBacktest:
    """Backtest a target-weight portfolio rebalanced by ``policy``.

    Parameters
    ----------
    prices : (n_bars, n_assets) close prices in one numeraire (USD), finite and > 0; one column
        is the cash asset (a stablecoin, price about 1).
    times : (n_bars,) ``datetime64`` (UTC) or years since the epoch, strictly increasing.
    target_weights : (n_assets,) fractions of portfolio value, >= 0, summing to 1 (cash
        included).
    policy : :class:`~hedgekeeper.policies.Calendar`, :class:`~hedgekeeper.policies.WeightBand`
        (both run in the numba kernel), or any policy whose decision carries ``weights``.
    cash_asset : column of the cash asset (default the last).
    costs : fee and slippage (default none).
    initial_value : USD at the start, > 0.
    initial_weights : (n_assets,) weights held at bar 0 before any decision, bought at no cost;
        default all in the cash asset.
    engine : ``"auto"`` (the kernel when the policy is exactly ``Calendar`` or ``WeightBand``),
        ``"kernel"`` or ``"policy"`` (``policy.decide`` at every bar, a batch of one).

    Returns
    -------
    WeightBacktest
        Equity, holdings, weights, trades and costs per bar; ``.statistics()`` summarises.

    Raises
    ------
    ValueError
        Naming the bad input: shapes, non-finite or non-positive prices, times not increasing,
        weights not summing to 1 or negative, a policy that fires without target weights, an
        unknown engine, ``engine="kernel"`` with a policy the kernel does not run.
    """
    if costs is None:
        costs = WeightCosts()
    elif not isinstance(costs, WeightCosts):
        raise ValueError(f"costs must be WeightCosts or None, got {type(costs).__name__}")
    if not isinstance(policy, Policy):
        raise ValueError(f"policy must have a decide(view) method, got {policy!r}")
    if engine not in ("auto", "kernel", "policy"):
        raise ValueError(f"engine must be 'auto', 'kernel' or 'policy', got {engine!r}")
    rule = _kernel_rule(policy)
    if engine == "kernel" and rule is None:
        raise ValueError(
            f"engine='kernel' runs Calendar and WeightBand only, not {type(policy).__name__}; "
            "use engine='policy'"
        )
    setup = _prepare(prices, times, target_weights, cash_asset, initial_value, initial_weights)
    use_kernel = rule is not None and engine != "policy"
    out = _run_kernel(setup, policy, costs) if use_kernel else _run_policy(setup, policy, costs)
    return WeightBacktest(
        times=_readonly(setup.times.view()),
        prices=_readonly(setup.prices.view()),
        target_weights=_readonly(setup.target),
        cash_asset=setup.cash,
        initial_value=float(initial_value),
        initial_holdings=_readonly(setup.initial_holdings),
        trades=_readonly(out["trades"]),
        equity=_readonly(out["equity"]),
        fees=_readonly(out["fees"]),
        slippage=_readonly(out["slippage"]),
        turnover=_readonly(out["turnover"]),
        rebalance=_readonly(out["rebalance"]),
        engine="kernel" if use_kernel else "policy",
    )


__all__ = [
    "NUMBA_AVAILABLE",
    "RULE_BAND",
    "RULE_CALENDAR",
    "WeightBacktest",
    "WeightCosts",
    "WeightStatistics",
    "backtest_weights",
    "portfolio_prices",
]
