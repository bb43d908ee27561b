"""Monte Carlo hedging of option books under any rebalancing policy.

A book of European option legs (short or long calls, puts, straddles, ...) is held along every
simulated spot path and hedged with the underlying (cash borrowed or lent at the risk-free
rate) or with a linear perpetual (variation margin and funding). At every date of the time
grid the engine builds one batch :class:`~hedgekeeper.policies.PolicyView` over all paths and
calls ``policy.decide`` -- the same policy objects the live keeper uses -- and trades the hedge
to the returned net-delta target where the policy fires. Only the delta part of a decision is
executed (the hedge instrument is linear); gamma and vega targets would need option trades.

Accounting per path, in USD (see :mod:`hedgekeeper.sim.hedge_kernels` for the equations): the
premium of the book at Black-Scholes value goes into a cash account that earns ``rate``; hedge
trades, transaction costs and perpetual funding flow through it; legs pay their intrinsic value
at expiry, legs still alive at the horizon are marked at Black-Scholes value, and the hedge is
unwound at the horizon. ``pnl_pv`` is the present value (at the first grid date) of the final
cash. The *cost of writing and hedging* (Hull, *Options, Futures, and Other Derivatives*,
section "Delta hedging") is ``premium - pnl_pv``, whose mean is the option price when hedging
is perfect and whose standard deviation over the option price is Hull's performance measure.

Two engines give the same numbers for the rules they share (tests check it):

* ``"kernel"``: a numba loop (:func:`~hedgekeeper.sim.hedge_kernels.delta_hedge_kernel`) for
  the default every-date hedge, :class:`~hedgekeeper.policies.Calendar` without ``align_to``
  and :class:`~hedgekeeper.policies.DeltaBand`;
* ``"policy"``: numpy over all paths per date, calling ``policy.decide`` -- any policy.

``engine="auto"`` picks the kernel when the policy is one of those exact types.

Units: spot and strikes USD per coin; delta coin; gamma coin per USD; vega USD per 1.00 vol;
times in years (ACT/365); vols, rates and funding rates annualised fractions, continuously
compounded; quantities signed numbers of options on one coin each (negative = written).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from hedgekeeper.costs import (
    AdditiveCost,
    CostModel,
    HalfSpread,
    ProportionalFee,
    SquareRootImpact,
    TradeContext,
)
from hedgekeeper.policies import Calendar, DeltaBand, OptionLegs, Policy, PolicyView, Reason
from hedgekeeper.pricing._inputs import as_kind
from hedgekeeper.pricing._jit import NUMBA_AVAILABLE
from hedgekeeper.pricing.black import black_scholes
from hedgekeeper.sim import hedge_kernels

FloatArray = npt.NDArray[np.float64]
HedgeInstrument = Literal["underlying", "perpetual"]
Engine = Literal["auto", "kernel", "policy"]

_KERNEL_BATCH_VALUES = 1 << 18
"""Prices per kernel call: ``ln(spot)`` is taken by numpy (vectorised) one batch at a time, so
the extra array stays in cache (2 MB)."""

_GRID_TOLERANCE = 1e-9
"""Years: an expiry this close to a grid date settles on it."""

EVERY_DATE = Calendar(interval=hedge_kernels.TIME_TOLERANCE)
"""The default policy as a policy object: due at every date (any step exceeds the interval)."""

_REFUSED = np.array([Reason.REFUSED_NAN, Reason.REFUSED_STALE, Reason.REFUSED_MODEL])

_OUTPUTS = (
    "pnl_pv",
    "transaction_cost_pv",
    "funding_pv",
    "rebalances",
    "turnover_coin",
    "turnover_usd",
    "max_abs_delta_deviation",
)


def _frozen(name: str, value: object, dtype: type[np.generic] = np.float64) -> Any:
    try:
        array = np.array(value, dtype=dtype, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number or an array of numbers, got {value!r}") from exc
    array.setflags(write=False)
    return array


def _finite_number(
    name: str, value: object, *, minimum: float | None = None, strict: bool = False
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    number = float(value)
    low_ok = minimum is None or (number > minimum if strict else number >= minimum)
    if not math.isfinite(number) or not low_ok:
        bound = "" if minimum is None else f" and {'>' if strict else '>='} {minimum:g}"
        raise ValueError(f"{name} must be finite{bound}, got {value!r}")
    return number


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class OptionBook:
    """European option legs on one underlying, shape ``(legs,)``.

    Attributes
    ----------
    strike : USD per coin, > 0.
    expiry : years from the same origin as the simulation's ``times`` (usually 0 = today), > 0.
    vol : the implied volatility each leg is priced and delta-hedged at, fraction, > 0.
    kind : int8, +1 call, -1 put (``"call"``/``"put"`` accepted).
    quantity : signed number of options on one coin each; negative = written (short).
    """

    strike: FloatArray
    expiry: FloatArray
    vol: FloatArray
    kind: npt.NDArray[np.int8]
    quantity: FloatArray

    def __post_init__(self) -> None:
        kind = as_kind(self.kind, "book.kind")
        values = {
            "strike": _frozen("book.strike", self.strike),
            "expiry": _frozen("book.expiry", self.expiry),
            "vol": _frozen("book.vol", self.vol),
            "quantity": _frozen("book.quantity", self.quantity),
        }
        try:
            arrays = np.broadcast_arrays(*values.values(), kind)
        except ValueError:
            shapes = ", ".join(f"book.{k}{v.shape}" for k, v in values.items())
            raise ValueError(f"book legs do not broadcast together: {shapes}") from None
        if arrays[0].ndim > 1:
            raise ValueError(f"book legs must be scalars or shape (legs,), got {arrays[0].shape}")
        for name, array in zip((*values, "kind"), arrays, strict=True):
            array = np.array(np.atleast_1d(array), copy=True)
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        for name in ("strike", "expiry", "vol"):
            array = getattr(self, name)
            if not np.all(np.isfinite(array) & (array > 0.0)):
                bad = array[~(np.isfinite(array) & (array > 0.0))][0]
                raise ValueError(f"book.{name} must be finite and > 0, got {bad!r}")
        if not np.all(np.isfinite(self.quantity)):
            raise ValueError("book.quantity must be finite")
        if not np.any(self.quantity != 0.0):
            raise ValueError("book.quantity must hold at least one non-zero leg")

    @classmethod
    def single(
        cls,
        kind: str,
        strike: float,
        expiry: float,
        vol: float,
        position: Literal["short", "long"] = "short",
        quantity: float = 1.0,
    ) -> OptionBook:
        """One call or put: ``quantity`` options written (``"short"``) or bought (``"long"``)."""
        return cls(
            np.array([strike], dtype=np.float64),
            np.array([expiry], dtype=np.float64),
            np.array([vol], dtype=np.float64),
            as_kind(kind).reshape(1),
            np.array([_signed(position, quantity)]),
        )

    @classmethod
    def straddle(
        cls,
        strike: float,
        expiry: float,
        vol: float,
        position: Literal["short", "long"] = "short",
        quantity: float = 1.0,
    ) -> OptionBook:
        """A call and a put at the same strike and expiry, ``quantity`` of each."""
        signed = _signed(position, quantity)
        return cls(
            np.array([strike, strike], dtype=np.float64),
            np.array([expiry, expiry], dtype=np.float64),
            np.array([vol, vol], dtype=np.float64),
            np.array([1, -1], dtype=np.int8),
            np.array([signed, signed]),
        )

    @property
    def legs(self) -> int:
        """Number of legs."""
        return int(self.strike.shape[0])

    def value(self, spot: npt.ArrayLike, t: float, rate: float) -> FloatArray:
        """Black-Scholes value of the whole book at time ``t`` (legs not yet expired), USD.

        Parameters
        ----------
        spot : (n,) USD per coin.
        t : years, same origin as ``expiry``; legs with ``expiry <= t`` are left out.
        rate : continuously compounded, per year.

        Returns
        -------
        (n,) USD, signed (negative for a written book).
        """
        s = np.atleast_1d(np.asarray(spot, dtype=np.float64))
        alive = self.expiry - t > _GRID_TOLERANCE
        tau = np.where(alive, self.expiry - t, 1.0)
        greeks = black_scholes(s[:, None], self.strike, tau, rate, self.vol, self.kind)
        return np.asarray(np.sum(np.where(alive, self.quantity, 0.0) * greeks.price, axis=1))


def _signed(position: str, quantity: float) -> float:
    size = _finite_number("quantity", quantity, minimum=0.0, strict=True)
    if position not in ("short", "long"):
        raise ValueError(f"position must be 'short' or 'long', got {position!r}")
    return -size if position == "short" else size


@dataclass(frozen=True, slots=True)
class HedgeCosts:
    """Costs of trading the hedge; they add up (:mod:`hedgekeeper.costs` models).

    Cost of trading ``u`` coin at spot ``S``:
    ``|u| S (fee_bps + half_spread_bps) / 1e4 + |u| S η σ_d (|u| / V_d)^β`` -- a
    :class:`~hedgekeeper.costs.ProportionalFee`, a :class:`~hedgekeeper.costs.HalfSpread` and a
    :class:`~hedgekeeper.costs.SquareRootImpact` (quotes ``S (1 ± half_spread_bps / 1e4)``).

    Attributes
    ----------
    fee_bps : taker fee, basis points of notional, >= 0.
    half_spread_bps : half the bid-ask spread, basis points of spot, >= 0.
    impact_eta : square-root impact coefficient η, >= 0 (0 = no impact).
    impact_beta : impact exponent β in [0, 1].
    daily_volume : V_d, coin per day, > 0 (needed when ``impact_eta > 0``).
    daily_volatility : σ_d, daily volatility of the hedge's price, fraction (needed with impact).
    settlement : ``"cash"`` (the whole hedge is traded back at the horizon and charged, as for
        cash-settled crypto options) or ``"physical"`` (options expiring in the money at the
        horizon are settled by delivering the underlying held as hedge, so only the rest of the
        hedge is traded and charged -- Hull's textbook setting; underlying hedge only).
    """

    fee_bps: float = 0.0
    half_spread_bps: float = 0.0
    impact_eta: float = 0.0
    impact_beta: float = 0.5
    daily_volume: float = math.nan
    daily_volatility: float = math.nan
    settlement: Literal["cash", "physical"] = "cash"

    def __post_init__(self) -> None:
        for name in ("fee_bps", "half_spread_bps", "impact_eta"):
            _finite_number(f"HedgeCosts.{name}", getattr(self, name), minimum=0.0)
        beta = _finite_number("HedgeCosts.impact_beta", self.impact_beta, minimum=0.0)
        if beta > 1.0:
            raise ValueError(f"HedgeCosts.impact_beta must be in [0, 1], got {beta}")
        if self.half_spread_bps >= 1e4:
            raise ValueError(
                f"HedgeCosts.half_spread_bps must be < 10000, got {self.half_spread_bps}"
            )
        if self.impact_eta > 0.0:
            _finite_number("HedgeCosts.daily_volume", self.daily_volume, minimum=0.0, strict=True)
            _finite_number("HedgeCosts.daily_volatility", self.daily_volatility, minimum=0.0)
        if self.settlement not in ("cash", "physical"):
            raise ValueError(
                f"HedgeCosts.settlement must be 'cash' or 'physical', got {self.settlement!r}"
            )

    @property
    def linear_rate(self) -> float:
        """Proportional cost (fee + half spread) as a fraction of traded notional."""
        return (self.fee_bps + self.half_spread_bps) / 1e4

    @property
    def impact_coef(self) -> float:
        """``η σ_d`` (0 without impact)."""
        return self.impact_eta * self.daily_volatility if self.impact_eta > 0.0 else 0.0

    def model(self) -> CostModel | None:
        """The additive cost model, or None when every cost is zero."""
        terms: list[AdditiveCost] = []
        if self.fee_bps > 0.0:
            terms.append(ProportionalFee(taker_bps=self.fee_bps))
        if self.half_spread_bps > 0.0:
            terms.append(HalfSpread())
        if self.impact_eta > 0.0:
            terms.append(SquareRootImpact(eta=self.impact_eta, beta=self.impact_beta))
        if not terms:
            return None
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total

    def context(self, spot: FloatArray) -> TradeContext:
        """Quotes of the hedge instrument at ``spot`` (USD per coin, shape ``(n,)``)."""
        half = self.half_spread_bps / 1e4
        return TradeContext(
            bid_usd=spot * (1.0 - half),
            ask_usd=spot * (1.0 + half),
            notional_usd=spot,
            daily_volume=np.asarray(self.daily_volume),
            daily_volatility=np.asarray(self.daily_volatility),
        )


# ---------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class HedgeStatistics:
    """Summary of one policy over all paths (USD unless stated; P&L and costs are present
    values at the first grid date).

    Attributes
    ----------
    paths : number of paths.
    option_price : ``|Σ q_i V_i|`` at the start, the Black-Scholes value of the book (mean
        over paths if they start at different spots).
    hedge_cost_mean, hedge_cost_std : cost of writing (or buying) and hedging the book,
        ``premium - pnl``; for a written option its mean is about the option price.
    performance : ``hedge_cost_std / option_price`` (Hull's performance measure); equal to the
        hedging-error std ``pnl_std`` over the option price.
    pnl_mean, pnl_std : hedged P&L of the book (premium included).
    pnl_cvar_95 : mean P&L of the worst 5 % of paths (expected shortfall, as a P&L: negative
        is a loss).
    transaction_cost_mean : fees, spread and impact paid.
    funding_mean : perpetual funding paid (negative = received); 0 with the underlying.
    rebalances_mean : trades per path (the initial hedge included, the final unwind not).
    turnover_mean, turnover_usd_mean : traded size per path, coin and USD.
    max_abs_delta_deviation_mean, max_abs_delta_deviation_max : the largest ``|net delta|``
        seen at a decision date before trading, coin, over the dates after the first (the
        unhedged book at the start is left out; 0 with a single decision date): mean over paths
        of each path's maximum, and the maximum over all paths.
    refused_mean : decisions per path the policy refused (bad inputs, formula undefined).
    engine : ``"kernel"`` or ``"policy"``.
    """

    paths: int
    option_price: float
    hedge_cost_mean: float
    hedge_cost_std: float
    performance: float
    pnl_mean: float
    pnl_std: float
    pnl_cvar_95: float
    transaction_cost_mean: float
    funding_mean: float
    rebalances_mean: float
    turnover_mean: float
    turnover_usd_mean: float
    max_abs_delta_deviation_mean: float
    max_abs_delta_deviation_max: float
    refused_mean: float
    engine: str

    def as_dict(self) -> dict[str, float | int | str]:
        """Field name -> value, JSON-ready."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class HedgeResult:
    """Per-path outcomes of one simulation; every array has shape ``(n,)``.

    Attributes
    ----------
    premium : USD received at the start for the book (``-Σ q_i V_i``; negative when bought).
    pnl_pv : hedged P&L, present value, USD.
    transaction_cost_pv : costs paid, present value, USD.
    funding_pv : perpetual funding paid, present value, USD.
    rebalances : number of trades.
    turnover_coin, turnover_usd : traded size.
    max_abs_delta_deviation : largest |net delta| before trading at a decision date after the
        first, coin.
    refused : decisions refused by the policy.
    engine : ``"kernel"`` or ``"policy"``.
    """

    premium: FloatArray
    pnl_pv: FloatArray
    transaction_cost_pv: FloatArray
    funding_pv: FloatArray
    rebalances: FloatArray
    turnover_coin: FloatArray
    turnover_usd: FloatArray
    max_abs_delta_deviation: FloatArray
    refused: FloatArray
    engine: str

    @classmethod
    def concatenate(cls, results: list[HedgeResult]) -> HedgeResult:
        """Join the paths of several runs of the same policy (e.g. batches of paths)."""
        if not results:
            raise ValueError("results must hold at least one HedgeResult")
        engines = {r.engine for r in results}
        arrays = {
            f.name: np.concatenate([getattr(r, f.name) for r in results])
            for f in fields(cls)
            if f.name != "engine"
        }
        return cls(**arrays, engine="+".join(sorted(engines)))

    @property
    def hedge_cost_pv(self) -> FloatArray:
        """Cost of writing and hedging: ``premium - pnl_pv``, USD per path."""
        return np.asarray(self.premium - self.pnl_pv)

    def statistics(self) -> HedgeStatistics:
        """The summary over paths (sample std with ``ddof=1``)."""
        n = self.pnl_pv.shape[0]
        ddof = 1 if n > 1 else 0
        option_price = float(np.mean(np.abs(self.premium)))
        cost = self.hedge_cost_pv
        cost_std = float(np.std(cost, ddof=ddof))
        tail = max(1, math.ceil(0.05 * n))
        worst = np.partition(self.pnl_pv, tail - 1)[:tail]
        return HedgeStatistics(
            paths=n,
            option_price=option_price,
            hedge_cost_mean=float(np.mean(cost)),
            hedge_cost_std=cost_std,
            performance=cost_std / option_price if option_price > 0.0 else math.nan,
            pnl_mean=float(np.mean(self.pnl_pv)),
            pnl_std=float(np.std(self.pnl_pv, ddof=ddof)),
            pnl_cvar_95=float(np.mean(worst)),
            transaction_cost_mean=float(np.mean(self.transaction_cost_pv)),
            funding_mean=float(np.mean(self.funding_pv)),
            rebalances_mean=float(np.mean(self.rebalances)),
            turnover_mean=float(np.mean(self.turnover_coin)),
            turnover_usd_mean=float(np.mean(self.turnover_usd)),
            max_abs_delta_deviation_mean=float(np.mean(self.max_abs_delta_deviation)),
            max_abs_delta_deviation_max=float(np.max(self.max_abs_delta_deviation)),
            refused_mean=float(np.mean(self.refused)),
            engine=self.engine,
        )


# ---------------------------------------------------------------- engine


@dataclass(frozen=True, slots=True)
class _Setup:
    spot: FloatArray  # (n, K + 1)
    times: FloatArray  # (K + 1,) years since the epoch
    expiry: FloatArray  # (L,) years since the epoch
    settle_step: npt.NDArray[np.int64]  # (L,)
    funding: FloatArray  # (1 or n, K)
    rate: float
    perpetual: bool
    origin: float  # times[0] in the book's time origin


def _prepare(
    spot_paths: npt.ArrayLike,
    times: npt.ArrayLike,
    book: OptionBook,
    rate: float,
    hedge: str,
    funding_rate: npt.ArrayLike,
    start_time: float,
) -> _Setup:
    if not isinstance(book, OptionBook):
        raise ValueError(f"book must be an OptionBook, got {type(book).__name__}")
    spot = np.ascontiguousarray(np.asarray(spot_paths, dtype=np.float64))
    if spot.ndim != 2 or spot.shape[1] < 2 or spot.shape[0] < 1:
        raise ValueError(f"spot_paths must have shape (paths, dates >= 2), got {spot.shape}")
    if not np.all(np.isfinite(spot) & (spot > 0.0)):
        raise ValueError("spot_paths must be finite and > 0 (USD per coin)")
    grid = np.asarray(times, dtype=np.float64)
    if grid.shape != (spot.shape[1],):
        raise ValueError(
            f"times must have shape ({spot.shape[1]},) like the columns of spot_paths, "
            f"got {grid.shape}"
        )
    if not np.all(np.isfinite(grid)) or not np.all(np.diff(grid) > 0.0):
        raise ValueError("times must be finite and strictly increasing (years)")
    rate = _finite_number("rate", rate)
    start = _finite_number("start_time", start_time)
    if hedge not in ("underlying", "perpetual"):
        raise ValueError(f"hedge must be 'underlying' or 'perpetual', got {hedge!r}")
    settle = np.empty(book.legs, dtype=np.int64)
    last = grid.shape[0] - 1
    for i, expiry in enumerate(book.expiry.tolist()):
        if expiry <= grid[0] + _GRID_TOLERANCE:
            raise ValueError(
                f"book.expiry[{i}] = {expiry!r} must be after the first date of times "
                f"({float(grid[0])!r})"
            )
        if expiry > grid[-1] + _GRID_TOLERANCE:
            settle[i] = last + 1
            continue
        j = int(np.argmin(np.abs(grid - expiry)))
        if abs(grid[j] - expiry) > _GRID_TOLERANCE:
            raise ValueError(
                f"book.expiry[{i}] = {expiry!r} falls between dates of times; put it on the grid "
                "or after its last date"
            )
        settle[i] = j
    funding = np.asarray(funding_rate, dtype=np.float64)
    if not np.all(np.isfinite(funding)):
        raise ValueError("funding_rate must be finite (annualised fraction)")
    steps = grid.shape[0] - 1
    if funding.ndim == 0:
        funding = np.full((1, steps), float(funding))
    elif funding.ndim == 1 and funding.shape[0] == steps:
        funding = funding[None, :]
    elif funding.ndim == 2 and funding.shape[1] == steps and funding.shape[0] in (1, spot.shape[0]):
        funding = np.array(funding)
    else:
        raise ValueError(
            f"funding_rate must be a number, shape ({steps},) or ({spot.shape[0]}, {steps}) "
            f"(one rate per step), got shape {funding.shape}"
        )
    return _Setup(
        spot=spot,
        times=start + grid,
        expiry=start + book.expiry,
        settle_step=settle,
        funding=np.ascontiguousarray(funding),
        rate=rate,
        perpetual=hedge == "perpetual",
        origin=float(grid[0]),
    )


def _kernel_rule(policy: Policy | None) -> tuple[int, float, float, bool, bool] | None:
    """(rule, interval, halfwidth, halfwidth_usd, to_edge) for policies the kernel runs."""
    if policy is None:
        return hedge_kernels.RULE_SCHEDULE, 0.0, 0.0, False, False
    if type(policy) is Calendar and policy.align_to is None:
        return hedge_kernels.RULE_SCHEDULE, policy.interval, 0.0, False, False
    if type(policy) is DeltaBand:
        return (
            hedge_kernels.RULE_DELTA_BAND,
            0.0,
            policy.halfwidth,
            policy.unit == "usd",
            policy.hedge_to == "edge",
        )
    return None


def _run_kernel(
    setup: _Setup,
    book: OptionBook,
    costs: HedgeCosts,
    rule: tuple[int, float, float, bool, bool],
    use_numpy: bool = False,
) -> FloatArray:
    n, columns = setup.spot.shape
    out = np.empty((len(_OUTPUTS), n))
    kernel = hedge_kernels.delta_hedge_numpy if use_numpy else hedge_kernels.delta_hedge_kernel
    legs = (
        np.ascontiguousarray(book.strike),
        np.ascontiguousarray(setup.expiry),
        np.ascontiguousarray(book.vol),
        book.kind.astype(np.float64),
        np.ascontiguousarray(book.quantity),
        setup.settle_step,
    )
    per_path_funding = setup.funding.shape[0] > 1
    batch = max(1, _KERNEL_BATCH_VALUES // columns)
    for start in range(0, n, batch):
        stop = min(n, start + batch)
        spot = setup.spot[start:stop]
        block = np.empty((len(_OUTPUTS), stop - start))
        kernel(
            spot,
            np.log(spot),
            setup.times,
            *legs,
            setup.rate,
            setup.funding[start:stop] if per_path_funding else setup.funding,
            setup.perpetual,
            rule[0],
            rule[1],
            rule[2],
            rule[3],
            rule[4],
            costs.linear_rate,
            costs.impact_coef,
            costs.impact_beta,
            costs.daily_volume if costs.impact_eta > 0.0 else 1.0,
            costs.settlement == "physical",
            block,
        )
        out[:, start:stop] = block
    return out


def _run_policy(
    setup: _Setup,
    book: OptionBook,
    policy: Policy,
    costs: HedgeCosts,
    recent_rebalances: int,
    realised_vol_decay: float,
) -> tuple[FloatArray, FloatArray]:
    """The generic engine; returns (outputs (7, n), refused (n,))."""
    spot, times, rate = setup.spot, setup.times, setup.rate
    n, columns = spot.shape
    last = columns - 1
    model = costs.model()
    strike, vol, kind, quantity = book.strike, book.vol, book.kind, book.quantity
    per_path_funding = setup.funding.shape[0] > 1

    cash = np.zeros(n)
    hedge = np.zeros(n)
    cost_pv = np.zeros(n)
    funding_pv = np.zeros(n)
    count = np.zeros(n)
    refused = np.zeros(n)
    turnover = np.zeros(n)
    turnover_usd = np.zeros(n)
    max_dev = np.zeros(n)
    last_time = np.full(n, np.nan)
    last_spot = np.full(n, np.nan)
    recent = np.full((n, recent_rebalances), np.nan)
    weights = np.abs(quantity)
    variance = np.full(n, float(np.sum(weights * vol) / np.sum(weights)) ** 2)

    def trade_cost(size: FloatArray, s: FloatArray) -> FloatArray:
        if model is None:
            return np.zeros(n)
        return np.asarray(model.cost(size, costs.context(s)), dtype=np.float64)

    alive0 = setup.settle_step > 0
    greeks0 = black_scholes(
        spot[:, 0:1], strike, np.where(alive0, setup.expiry - times[0], 1.0), rate, vol, kind
    )
    cash -= np.sum(np.where(alive0, quantity, 0.0) * greeks0.price, axis=1)
    for k in range(columns):
        s = spot[:, k]
        disc = math.exp(-rate * (times[k] - times[0]))
        if k > 0:
            dt = times[k] - times[k - 1]
            s_prev = spot[:, k - 1]
            cash *= math.exp(rate * dt)
            if setup.perpetual:
                rates = setup.funding[:, k - 1] if per_path_funding else setup.funding[0, k - 1]
                paid = hedge * s_prev * rates * dt
                cash += hedge * (s - s_prev) - paid
                funding_pv += paid * disc
            log_return = np.log(s / s_prev)
            variance = realised_vol_decay * variance + (1.0 - realised_vol_decay) * (
                log_return * log_return / dt
            )
        expiring = setup.settle_step == k
        delivered = np.zeros(n)
        if np.any(expiring):
            intrinsic = kind[expiring] * (s[:, None] - strike[expiring])
            cash += np.sum(quantity[expiring] * np.maximum(intrinsic, 0.0), axis=1)
            in_money = intrinsic > 0.0
            delivered = np.sum(np.where(in_money, quantity[expiring] * kind[expiring], 0.0), axis=1)
        alive = setup.settle_step > k
        tau = np.where(alive, setup.expiry - times[k], 1.0)
        live_quantity = np.where(alive, quantity, 0.0)
        if k == last:
            if np.any(alive):
                marks = black_scholes(s[:, None], strike, tau, rate, vol, kind).price
                cash += np.sum(live_quantity * marks, axis=1)
            if not setup.perpetual:
                cash += hedge * s
            size = np.abs(hedge + delivered if costs.settlement == "physical" else hedge)
            c = trade_cost(size, s)
            cash -= c
            cost_pv += c * disc
            turnover += size
            turnover_usd += size * s
            break
        greeks = black_scholes(s[:, None], strike, tau, rate, vol, kind)
        net = hedge + np.sum(live_quantity * greeks.delta, axis=1)
        if k > 0:
            max_dev = np.maximum(max_dev, np.abs(net))
        now = np.full(n, times[k])
        view = PolicyView(
            time=now,
            spot=s,
            net_delta=net,
            data_time=now,
            gamma=np.sum(live_quantity * greeks.gamma, axis=1),
            vega=np.sum(live_quantity * greeks.vega, axis=1),
            rate=np.full(n, rate),
            last_rebalance_time=last_time,
            last_rebalance_spot=last_spot,
            recent_rebalance_times=recent,
            realised_vol=np.sqrt(variance),
            options=OptionLegs(
                strike=np.broadcast_to(strike, (n, book.legs)),
                expiry=np.broadcast_to(np.where(alive, tau, 0.0), (n, book.legs)),
                vol=np.broadcast_to(vol, (n, book.legs)),
                kind=np.broadcast_to(kind, (n, book.legs)),
                quantity=np.broadcast_to(live_quantity, (n, book.legs)),
            ),
        )
        decision = policy.decide(view)
        if decision is None:
            continue
        if decision.size != n:
            raise ValueError(
                f"{type(policy).__name__}.decide returned {decision.size} elements for {n} paths"
            )
        refused += np.isin(decision.reason, _REFUSED)
        fire = np.asarray(decision.rebalance)
        if not np.any(fire):
            continue
        if decision.delta is None:
            raise ValueError(
                f"{type(policy).__name__} fired without a delta target; the Monte Carlo engine "
                "hedges net delta with a linear instrument only"
            )
        target = np.where(fire, decision.delta.target, 0.0)
        if not np.all(np.isfinite(target)):
            raise ValueError(f"{type(policy).__name__} fired with a non-finite delta target")
        trade = np.where(fire, target - net, 0.0)
        hedge += trade
        if not setup.perpetual:
            cash -= trade * s
        size = np.abs(trade)
        c = trade_cost(size, s)
        cash -= c
        cost_pv += c * disc
        count += fire
        turnover += size
        turnover_usd += size * s
        last_time = np.where(fire, times[k], last_time)
        last_spot = np.where(fire, s, last_spot)
        if recent_rebalances > 0:
            shifted = np.concatenate([now[:, None], recent[:, :-1]], axis=1)
            recent = np.where(fire[:, None], shifted, recent)
    pnl = cash * math.exp(-rate * (times[last] - times[0]))
    outputs = np.stack([pnl, cost_pv, funding_pv, count, turnover, turnover_usd, max_dev])
    return outputs, refused


def funding_rate_on_grid(
    times: npt.ArrayLike, settlement_times: npt.ArrayLike, rates: npt.ArrayLike
) -> FloatArray:
    """Per-step annualised funding rates that pay a real funding history on a simulation grid.

    Perpetual funding is settled at discrete times (Binance and Deribit: every 8 hours, a
    fraction ``rate`` of the position's notional, longs paying when positive). Step ``k``
    (from ``times[k]`` to ``times[k + 1]``) gets the sum of the rates settled in
    ``(times[k], times[k + 1]]`` divided by the step length, so that
    :func:`simulate_hedge` (``funding_rate=``) charges exactly those settlements on the position
    held over the step, valued at the spot at the start of the step.

    Parameters
    ----------
    times : (K + 1,) grid, years since the epoch (``start_time + times`` of the simulation).
    settlement_times : (m,) settlement times, years since the epoch, non-decreasing
        (:func:`hedgekeeper.policies.years_since_epoch` converts timestamps).
    rates : (m,) funding rate per settlement, fraction of notional.

    Returns
    -------
    (K,) annualised rates, fraction per year.
    """
    grid = np.asarray(times, dtype=np.float64)
    settled = np.asarray(settlement_times, dtype=np.float64)
    paid = np.asarray(rates, dtype=np.float64)
    if grid.ndim != 1 or grid.shape[0] < 2 or not np.all(np.diff(grid) > 0.0):
        raise ValueError("times must be a strictly increasing grid of at least two dates")
    if settled.ndim != 1 or paid.shape != settled.shape:
        raise ValueError(
            f"settlement_times and rates must have the same shape (m,), got {settled.shape} "
            f"and {paid.shape}"
        )
    if not (np.all(np.isfinite(settled)) and np.all(np.isfinite(paid))):
        raise ValueError("settlement_times and rates must be finite")
    if np.any(np.diff(settled) < 0.0):
        raise ValueError("settlement_times must be sorted (non-decreasing)")
    cumulative = np.concatenate([[0.0], np.cumsum(paid)])
    index = np.searchsorted(settled, grid, side="right")
    per_step = cumulative[index[1:]] - cumulative[index[:-1]]
    return np.asarray(per_step / np.diff(grid), dtype=np.float64)


def simulate_hedge(
    spot_paths: npt.ArrayLike,
    times: npt.ArrayLike,
    book: OptionBook,
    policy: Policy | None = None,
    *,
    rate: float = 0.0,
    costs: HedgeCosts | None = None,
    hedge: HedgeInstrument = "underlying",
    funding_rate: npt.ArrayLike = 0.0,
    start_time: float = 0.0,
    engine: Engine = "auto",
    recent_rebalances: int = 8,
    realised_vol_decay: float = 0.94,
) -> HedgeResult:
    """Hedge ``book`` along every path under ``policy``; return per-path outcomes.

    Parameters
    ----------
    spot_paths : (n, K + 1) spot of the underlying, USD per coin, on the dates ``times``
        (e.g. from :mod:`hedgekeeper.sim.paths`).
    times : (K + 1,) years from the origin of ``book.expiry`` (usually 0.0 = now), strictly
        increasing. Every date is a decision date except the last (the horizon). A leg whose
        expiry is a date settles there; one expiring after the horizon is marked at
        Black-Scholes value at the horizon.
    book : the option legs; priced and delta-hedged at each leg's ``vol``.
    policy : any :class:`~hedgekeeper.policies.Policy`, or None to rebalance to zero net delta
        at every date but the last (the textbook experiment).
    rate : risk-free rate earned/paid on cash, continuously compounded, per year.
    costs : trading costs of the hedge (default none).
    hedge : ``"underlying"`` (buy/sell spot, financed in cash) or ``"perpetual"`` (a linear
        perpetual at the spot price: no cash outlay, variation margin and funding).
    funding_rate : perpetual funding, annualised fraction paid by longs over each step (an
        8-hourly rate ``f`` is ``f * 3 * 365``): a number, ``(K,)`` per step, or ``(n, K)``;
        :func:`funding_rate_on_grid` maps a real settlement history onto the grid.
    start_time : years since the epoch of ``times[0]``, for the ``time`` field of the policy
        views (calendar grids aligned to a clock time).
    engine : ``"auto"`` (numba kernel for the default, ``Calendar`` without ``align_to`` and
        ``DeltaBand``; the policy engine otherwise), ``"kernel"`` or ``"policy"``.
    recent_rebalances : columns of ``view.recent_rebalance_times`` (for ``MaxFrequency``).
    realised_vol_decay : per-date EWMA decay of ``view.realised_vol``, in (0, 1); the estimate
        starts at the book's |quantity|-weighted pricing vol.

    Returns
    -------
    HedgeResult
        Per-path P&L, costs and trading counts; ``.statistics()`` summarises them.

    Raises
    ------
    ValueError
        Naming the bad input (shapes, non-finite or non-positive spots, times not increasing,
        an expiry between dates, an unknown engine or hedge, a policy the kernel cannot run
        with ``engine="kernel"``, a policy that fires without a delta target).
    """
    if costs is None:
        costs = HedgeCosts()
    elif not isinstance(costs, HedgeCosts):
        raise ValueError(f"costs must be HedgeCosts or None, got {type(costs).__name__}")
    if engine not in ("auto", "kernel", "policy"):
        raise ValueError(f"engine must be 'auto', 'kernel' or 'policy', got {engine!r}")
    if policy is not None and not isinstance(policy, Policy):
        raise ValueError(f"policy must have a decide(view) method, got {policy!r}")
    if (
        isinstance(recent_rebalances, bool)
        or not isinstance(recent_rebalances, int)
        or (recent_rebalances < 0)
    ):
        raise ValueError(f"recent_rebalances must be an integer >= 0, got {recent_rebalances!r}")
    decay = _finite_number("realised_vol_decay", realised_vol_decay, minimum=0.0, strict=True)
    if decay >= 1.0:
        raise ValueError(f"realised_vol_decay must be in (0, 1), got {realised_vol_decay!r}")
    setup = _prepare(spot_paths, times, book, rate, hedge, funding_rate, start_time)
    if setup.perpetual and costs.settlement == "physical":
        raise ValueError(
            "costs.settlement='physical' delivers the underlying held as hedge; "
            "with hedge='perpetual' use settlement='cash'"
        )
    rule = _kernel_rule(policy)
    if engine == "kernel" and rule is None:
        raise ValueError(
            f"engine='kernel' runs the default, Calendar (no align_to) and DeltaBand only, "
            f"not {type(policy).__name__}; use engine='policy'"
        )
    premium = -book.value(setup.spot[:, 0], setup.origin, setup.rate)
    refused = np.zeros(setup.spot.shape[0])
    if rule is not None and engine != "policy":
        outputs = _run_kernel(setup, book, costs, rule)
        used = "kernel"
    else:
        active = policy if policy is not None else EVERY_DATE
        outputs, refused = _run_policy(setup, book, active, costs, recent_rebalances, decay)
        used = "policy"
    return HedgeResult(
        premium=premium,
        pnl_pv=outputs[0],
        transaction_cost_pv=outputs[1],
        funding_pv=outputs[2],
        rebalances=outputs[3],
        turnover_coin=outputs[4],
        turnover_usd=outputs[5],
        max_abs_delta_deviation=outputs[6],
        refused=refused,
        engine=used,
    )


def compare_policies(
    spot_paths: npt.ArrayLike,
    times: npt.ArrayLike,
    book: OptionBook,
    policies: Mapping[str, Policy | None],
    *,
    rate: float = 0.0,
    costs: HedgeCosts | None = None,
    hedge: HedgeInstrument = "underlying",
    funding_rate: npt.ArrayLike = 0.0,
    start_time: float = 0.0,
    engine: Engine = "auto",
) -> dict[str, HedgeStatistics]:
    """Run :func:`simulate_hedge` for each named policy on the same paths; name -> statistics."""
    if not policies:
        raise ValueError("policies must name at least one policy")
    return {
        name: simulate_hedge(
            spot_paths,
            times,
            book,
            policy,
            rate=rate,
            costs=costs,
            hedge=hedge,
            funding_rate=funding_rate,
            start_time=start_time,
            engine=engine,
        ).statistics()
        for name, policy in policies.items()
    }


__all__ = [
    "EVERY_DATE",
    "NUMBA_AVAILABLE",
    "HedgeCosts",
    "HedgeResult",
    "HedgeStatistics",
    "OptionBook",
    "compare_policies",
    "funding_rate_on_grid",
    "simulate_hedge",
]
