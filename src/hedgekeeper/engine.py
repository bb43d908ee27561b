"""The one decision path: ``decide(state, market, components) -> Decision``.

exposure (:mod:`hedgekeeper.pricing.exposure`) -> policy (``Policy.decide``) -> sizing
(:func:`hedgekeeper.hedging.size_hedge`) -> gates (``Gate.check``). Pure: no I/O, no clock (time
is the snapshot's), no globals; the same call serves a backtest step and the live keeper. The
:class:`Decision` is data — what to trade and why — and only a shell acts on it.

Conventions: Greeks of the whole book for the snapshot's underlying in the USD numeraire,
delta in coin, gamma in coin per USD, vega in USD per 1.00 of vol (the policies' units); order
quantities in contracts; prices in the venue's units (coin per inverse option, USD per coin for
perpetuals and futures).

The one HiGHS time limit (``SizerConfig.time_limit_s``) is the only way the wall clock can touch
a decision: when it binds the sizer says so (status ``SOLVER_LIMIT``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

import numpy as np

from hedgekeeper.costs import CostModel, Quote, trade_context
from hedgekeeper.domain.book import Book, Position
from hedgekeeper.domain.instruments import Future, Option, Perpetual
from hedgekeeper.domain.market import MarketSnapshot, to_datetime64
from hedgekeeper.hedging import HedgeProblem, HedgeResult, HedgeStatus, size_hedge
from hedgekeeper.policies.base import (
    HedgeTarget,
    OptionLegs,
    Policy,
    PolicyView,
    Reason,
    years_since_epoch,
)
from hedgekeeper.pricing._inputs import FloatArray
from hedgekeeper.pricing.exposure import Exposure, book_exposure
from hedgekeeper.risk import BookGreeks, Gate, GateResult, TradeProposal, run_gates

HedgeInstrumentType = Perpetual | Future | Option

_GREEKS = ("delta", "gamma", "vega")
_PER_VOL_POINT = 100.0  # exposure reports vega per vol point; the policies use per 1.00 of vol
_RECENT_KEPT = 64


@dataclass(frozen=True, slots=True)
class EngineState:
    """What the engine needs from the past: the book and when it last rebalanced.

    Attributes
    ----------
    book : positions held now (all venues and accounts; netted per instrument).
    last_rebalance : time of the last rebalance (UTC), or None if never.
    last_rebalance_spot : index at the last rebalance, USD per coin, or None.
    recent_rebalances : times of recent rebalances, oldest first (for frequency limits).
    """

    book: Book
    last_rebalance: datetime | None = None
    last_rebalance_spot: float | None = None
    recent_rebalances: tuple[datetime, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.book, Book):
            raise ValueError(f"EngineState.book must be a Book, got {self.book!r}")
        if (self.last_rebalance is None) != (self.last_rebalance_spot is None):
            raise ValueError("EngineState.last_rebalance and last_rebalance_spot go together")
        if self.last_rebalance_spot is not None and not (
                math.isfinite(self.last_rebalance_spot) and self.last_rebalance_spot > 0.0):
            raise ValueError("EngineState.last_rebalance_spot must be a positive price, got "
                             f"{self.last_rebalance_spot!r}")
        object.__setattr__(self, "recent_rebalances", tuple(self.recent_rebalances))

    def after(self, decision: Decision) -> EngineState:
        """The state once ``decision`` was acted on: its time recorded if it traded.

        The book is not changed here: positions change with fills, which only a shell sees.
        """
        if not decision.orders:
            return self
        recent = (*self.recent_rebalances, decision.timestamp)[-_RECENT_KEPT:]
        return replace(self, last_rebalance=decision.timestamp,
                       last_rebalance_spot=decision.spot, recent_rebalances=recent)


@dataclass(frozen=True, slots=True)
class MarketInputs:
    """The market at one instant: the snapshot, quotes of the hedge instruments, vol signals.

    Attributes
    ----------
    snapshot : index, forwards and implied vols of one underlying, as of its timestamp.
    quotes : instrument name -> top of book of each allowed hedge instrument.
    realised_vol, forecast_vol, dvol : annualised spot volatility estimates, fractions, or None.
        The cost-benefit gate prices risk with the first given of forecast, realised, DVOL.
    vol_percentile : percentile in [0, 1] of the current volatility in its history, or None.
    now : the decision time (UTC) from the shell's clock, or None for the snapshot's timestamp.
        The engine reads no clock: a shell that passes ``now`` lets the policies refuse data
        older than their ``max_data_age`` (``now`` earlier than the snapshot is an error).
    """

    snapshot: MarketSnapshot
    quotes: Mapping[str, Quote] = field(default_factory=dict)
    realised_vol: float | None = None
    forecast_vol: float | None = None
    dvol: float | None = None
    vol_percentile: float | None = None
    now: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.snapshot, MarketSnapshot):
            raise ValueError(f"MarketInputs.snapshot must be a MarketSnapshot, got "
                             f"{self.snapshot!r}")
        for name, quote in self.quotes.items():
            if not isinstance(quote, Quote):
                raise ValueError(f"MarketInputs.quotes[{name!r}] must be a Quote, got {quote!r}")
        object.__setattr__(self, "quotes", MappingProxyType(dict(self.quotes)))
        if self.now is not None:
            if self.now.tzinfo is None or self.now.utcoffset() is None:
                raise ValueError(f"MarketInputs.now must be timezone-aware (UTC), got {self.now!r}")
            if self.now < self.snapshot.timestamp:
                raise ValueError(f"MarketInputs.now ({self.now.isoformat()}) is earlier than the "
                                 f"snapshot ({self.snapshot.timestamp.isoformat()}): data from "
                                 "the future")
        for name in ("realised_vol", "forecast_vol", "dvol", "vol_percentile"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"MarketInputs.{name} must be a finite number >= 0 or None, "
                                 f"got {value!r}")

    @property
    def decision_time(self) -> datetime:
        """When the decision is made: ``now`` if given, else the snapshot's timestamp."""
        return self.snapshot.timestamp if self.now is None else self.now

    @property
    def risk_vol(self) -> float | None:
        """Volatility used to price risk: forecast, else realised, else DVOL, else None."""
        for value in (self.forecast_vol, self.realised_vol, self.dvol):
            if value is not None:
                return value
        return None


@dataclass(frozen=True, slots=True)
class HedgeInstrument:
    """An instrument the sizer may trade, with its limits.

    Attributes
    ----------
    instrument : a perpetual, dated future or option (its ``lot_size`` is the trade step).
    max_order : largest order, contracts (finite, > 0).
    position_min, position_max : limits on the position after the trade, contracts.
    """

    instrument: HedgeInstrumentType
    max_order: float
    position_min: float = -math.inf
    position_max: float = math.inf

    def __post_init__(self) -> None:
        if not isinstance(self.instrument, Perpetual | Future | Option):
            raise ValueError(f"HedgeInstrument.instrument must be a Perpetual, Future or Option, "
                             f"got {self.instrument!r}")
        if not (math.isfinite(self.max_order) and self.max_order > 0.0):
            raise ValueError(f"HedgeInstrument.max_order of {self.instrument.name} must be a "
                             f"finite number of contracts > 0, got {self.max_order!r}")
        if math.isnan(self.position_min) or math.isnan(self.position_max) \
                or self.position_min > self.position_max:
            raise ValueError(f"HedgeInstrument limits of {self.instrument.name} must satisfy "
                             f"position_min <= position_max, got [{self.position_min}, "
                             f"{self.position_max}]")


@dataclass(frozen=True, slots=True)
class SizerConfig:
    """How targets become sizing problems.

    The policy gives each targeted Greek a ``target`` and its band ``[lower, upper]``. The sizer
    must land within ``half = max(target_tolerance * (upper - lower) / 2, lot_tolerance * step)``
    of the target (``step`` the Greek of one lot of the finest instrument carrying it), kept
    inside ``[lower, upper]`` when that band has width: hedging "to the centre" means near the
    centre, not at the cheaper band edge.

    Attributes
    ----------
    instruments : the hedge instruments allowed.
    target_tolerance : fraction of the policy band's half-width, in [0, 1] (default 0.25).
    lot_tolerance : multiples of the finest lot's Greek, >= 0.5 keeps whole lots feasible for
        one instrument (default 0.5).
    segments : pieces of the sizer's piecewise-linear impact cost (default 12).
    time_limit_s : HiGHS time limit per solve, seconds (default 10).
    """

    instruments: tuple[HedgeInstrument, ...]
    target_tolerance: float = 0.25
    lot_tolerance: float = 0.5
    segments: int = 12
    time_limit_s: float = 10.0

    def __post_init__(self) -> None:
        instruments = tuple(self.instruments)
        if not instruments or not all(isinstance(h, HedgeInstrument) for h in instruments):
            raise ValueError("SizerConfig.instruments must be one or more HedgeInstrument")
        names = [h.instrument.name for h in instruments]
        if len(set(names)) != len(names):
            raise ValueError(f"SizerConfig.instruments names an instrument twice: {names}")
        object.__setattr__(self, "instruments", instruments)
        if not 0.0 <= self.target_tolerance <= 1.0:
            raise ValueError(f"SizerConfig.target_tolerance must be in [0, 1], got "
                             f"{self.target_tolerance!r}")
        if not (math.isfinite(self.lot_tolerance) and self.lot_tolerance >= 0.0):
            raise ValueError(f"SizerConfig.lot_tolerance must be >= 0, got {self.lot_tolerance!r}")
        if isinstance(self.segments, bool) or not isinstance(self.segments, int) or (
            self.segments < 1
        ):
            raise ValueError(f"SizerConfig.segments must be an integer >= 1, got "
                             f"{self.segments!r}")
        if not (math.isfinite(self.time_limit_s) and self.time_limit_s > 0.0):
            raise ValueError(f"SizerConfig.time_limit_s must be a finite number of seconds > 0, "
                             f"got {self.time_limit_s!r}")

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the hedge instruments, in order."""
        return tuple(h.instrument.name for h in self.instruments)


@dataclass(frozen=True, slots=True)
class Components:
    """Everything configurable about a decision.

    Attributes
    ----------
    policy : when, and to what, to rebalance.
    sizer : hedge instruments, limits and tolerances.
    cost_model : expected trading cost (the same model the sizer minimises and gates weigh).
    gates : pre-trade checks, all run in order; any refusal blocks the orders.
    targets : desired Greeks of the book (delta coin, gamma coin/USD, vega USD per 1.00 vol).
    """

    policy: Policy
    sizer: SizerConfig
    cost_model: CostModel
    gates: tuple[Gate, ...] = ()
    targets: BookGreeks = field(default_factory=lambda: BookGreeks(0.0, 0.0, 0.0))

    def __post_init__(self) -> None:
        if not isinstance(self.policy, Policy):
            raise ValueError(f"Components.policy must implement Policy.decide, got "
                             f"{self.policy!r}")
        if not isinstance(self.sizer, SizerConfig):
            raise ValueError(f"Components.sizer must be a SizerConfig, got {self.sizer!r}")
        if not isinstance(self.cost_model, CostModel):
            raise ValueError(f"Components.cost_model must be a CostModel, got "
                             f"{self.cost_model!r}")
        gates = tuple(self.gates)
        for index, gate in enumerate(gates):
            if not isinstance(gate, Gate):
                raise ValueError(f"Components.gates[{index}] must implement Gate.check, "
                                 f"got {gate!r}")
        object.__setattr__(self, "gates", gates)


class Outcome(StrEnum):
    """What a decision amounts to."""

    TRADE = "trade"
    """Orders to send."""
    HOLD = "hold"
    """The policy did not fire."""
    REFUSED_INPUT = "refused_input"
    """The policy refused the input (NaN or stale data)."""
    IN_BAND = "in_band"
    """The policy fired but the sizer found every targeted Greek already inside its band."""
    SIZING_REFUSED = "sizing_refused"
    """No acceptable whole-lot hedge (infeasible, limits, or off band after rounding)."""
    GATE_REFUSED = "gate_refused"
    """A gate refused the trades (cost above benefit, a limit)."""


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """One order to send.

    Attributes
    ----------
    instrument : instrument name.
    side : ``"buy"`` or ``"sell"``.
    quantity : contracts, > 0 (a whole number of lots).
    limit_price : marketable limit, venue price units (the ask for a buy, the bid for a sell:
        the price the cost model assumed).
    reference_price : mid at decision time, venue price units.
    """

    instrument: str
    side: Literal["buy", "sell"]
    quantity: float
    limit_price: float
    reference_price: float


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's answer: the orders (maybe none) and why.

    Attributes
    ----------
    outcome : :class:`Outcome`.
    reason : one line explaining the outcome.
    timestamp : when the decision was made (UTC): ``MarketInputs.decision_time``.
    underlying : the coin.
    spot : index at decision time, USD per coin.
    inputs : input name -> its time stamp (``snapshot``, ``last_rebalance``), read-only.
    exposure_before, exposure_after : book Greeks now and after the proposed trades.
    policy : name of the policy that set the reason; ``policy_reason`` its
        :class:`~hedgekeeper.policies.Reason` name; ``fired`` whether it asked to rebalance.
    hedge : the sizer's result (None when the policy did not fire).
    gates : every gate's verdict (empty unless sizing proposed trades).
    orders : what to send; empty unless ``outcome`` is ``TRADE``.
    cost_usd : expected cost of the proposed trades (None if none were proposed).
    benefit_usd : value of the risk removed per the cost-benefit gate (None if no such gate ran).
    """

    outcome: Outcome
    reason: str
    timestamp: datetime
    underlying: str
    spot: float
    inputs: Mapping[str, datetime | None]
    exposure_before: BookGreeks
    exposure_after: BookGreeks
    policy: str
    policy_reason: str
    fired: bool
    hedge: HedgeResult | None = None
    gates: tuple[GateResult, ...] = ()
    orders: tuple[OrderIntent, ...] = ()
    cost_usd: float | None = None
    benefit_usd: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))


def decide(state: EngineState, market: MarketInputs, components: Components) -> Decision:
    """Decide whether, and what, to trade now.

    Parameters
    ----------
    state : the book and its rebalance history.
    market : snapshot of the book's underlying, hedge quotes, vol signals and the decision time
        (``market.now``, default the snapshot's timestamp).
    components : policy, sizer configuration, cost model, gates, target Greeks.

    Returns
    -------
    Decision
        Refusals (policy, sizer, gates) are outcomes with reasons, not exceptions.

    Raises
    ------
    ValueError
        For inputs that cannot be priced (an option without implied vol or forward, an expired
        instrument, a hedge instrument without a quote), naming the instrument.
    """
    snapshot = market.snapshot
    coin = snapshot.underlying
    book = state.book.filter(lambda p: p.instrument.underlying == coin)
    exposure = book_exposure(book, snapshot) if len(book) else None
    before = _book_greeks(exposure, coin)
    view = _policy_view(state, market, components.targets, before, exposure)
    target = components.policy.decide(view)
    held = Reason.HOLD if target is None else Reason(int(target.reason[0]))
    policy = _policy_name(components.policy) if target is None else str(target.policy[0])
    decision = Decision(
        outcome=Outcome.REFUSED_INPUT if held.refused else Outcome.HOLD,
        reason=f"{policy}: {held.name}", timestamp=market.decision_time, underlying=coin,
        spot=snapshot.index_price,
        inputs={"snapshot": snapshot.timestamp, "last_rebalance": state.last_rebalance},
        exposure_before=before, exposure_after=before, policy=policy,
        policy_reason=held.name, fired=False,
    )
    if target is None or not bool(target.rebalance[0]):
        return decision
    decision = replace(decision, fired=True)
    per_contract = _contract_greeks(components.sizer.instruments, snapshot)
    problem = _problem(state, market, components, target, before, per_contract)
    if isinstance(problem, str):
        return replace(decision, outcome=Outcome.SIZING_REFUSED, reason=problem)
    result = size_hedge(problem, segments=components.sizer.segments,
                        time_limit_s=components.sizer.time_limit_s)
    if result.status is HedgeStatus.IN_BAND:
        return replace(decision, outcome=Outcome.IN_BAND, reason=result.reason, hedge=result)
    if result.status not in (HedgeStatus.OK, HedgeStatus.SOLVER_LIMIT):
        return replace(decision, outcome=Outcome.SIZING_REFUSED, reason=result.reason,
                       hedge=result)
    change = result.trades @ per_contract
    after = BookGreeks(before.delta + change[0], before.gamma + change[1],
                       before.vega + change[2])
    proposal = TradeProposal(
        instruments=problem.instruments, quantity=result.trades,
        notional_usd=np.broadcast_to(problem.context.notional_usd, result.trades.shape),
        reference_price_usd=np.broadcast_to(problem.context.mid_usd, result.trades.shape),
        position_before=problem.position, cost_usd=result.cost_usd, greeks_before=before,
        greeks_after=after, spot=snapshot.index_price, vol=market.risk_vol,
    )
    verdicts = run_gates(components.gates, proposal)
    benefit = next((v.figures["benefit_usd"] for v in verdicts if "benefit_usd" in v.figures),
                   None)
    decision = replace(decision, exposure_after=after, hedge=result, gates=verdicts,
                       cost_usd=result.cost_usd, benefit_usd=benefit)
    refused = [v for v in verdicts if not v.passed]
    if refused:
        reason = "; ".join(f"{v.gate}: {v.reason}" for v in refused)
        return replace(decision, outcome=Outcome.GATE_REFUSED, reason=reason)
    orders = tuple(_order(name, quantity, market.quotes[name])
                   for name, quantity in result.nonzero_trades())
    return replace(decision, outcome=Outcome.TRADE, reason=result.reason, orders=orders)


def _book_greeks(exposure: Exposure | None, coin: str) -> BookGreeks:
    if exposure is None:
        return BookGreeks(0.0, 0.0, 0.0)
    row = exposure.by_underlying.row(coin)
    return BookGreeks(row["delta_coin"], row["gamma_coin_per_usd"],
                      row["vega_per_vol_point"] * _PER_VOL_POINT)


def _contract_greeks(hedges: tuple[HedgeInstrument, ...],
                     snapshot: MarketSnapshot) -> FloatArray:
    """(n, 3) delta, gamma, vega of one contract of each hedge instrument (USD numeraire)."""
    one_each = Book(tuple(Position(instrument=h.instrument, quantity=1.0) for h in hedges))
    totals = book_exposure(one_each, snapshot).per_position
    return np.column_stack([totals.delta_coin, totals.gamma_coin_per_usd,
                            totals.vega_per_vol_point * _PER_VOL_POINT])


def _problem(state: EngineState, market: MarketInputs, components: Components,
             target: HedgeTarget, before: BookGreeks,
             per_contract: FloatArray) -> HedgeProblem | str:
    """The sizing problem for the policy's target, or the reason there is none."""
    config = components.sizer
    hedges = config.instruments
    lot = np.array([h.instrument.lot_size for h in hedges])
    names, rows, lower, upper = [], [], [], []
    now = {"delta": before.delta, "gamma": before.gamma, "vega": before.vega}
    for column, name in enumerate(_GREEKS):
        greek = getattr(target, name)
        if greek is None:
            continue
        aim, low, high = float(greek.target[0]), float(greek.lower[0]), float(greek.upper[0])
        if not all(math.isfinite(v) for v in (aim, low, high)):
            return f"{target.policy[0]} gave a non-finite {name} target [{low}, {aim}, {high}]"
        per_lot = np.abs(per_contract[:, column] * lot)
        carried = per_lot[per_lot > 0.0]
        step = float(np.min(carried)) if carried.size else 0.0
        half = max(config.target_tolerance * 0.5 * (high - low), config.lot_tolerance * step)
        band = [aim - half, aim + half]
        if high > low and low <= aim <= high:
            band = [max(band[0], low), min(band[1], high)]
        names.append(name)
        rows.append(column)
        lower.append(band[0])
        upper.append(band[1])
    if not names:
        return f"{target.policy[0]} fired without a delta, gamma or vega target to size"
    context = trade_context([h.instrument for h in hedges], market.quotes, market.snapshot)
    return HedgeProblem(
        greeks=tuple(names), exposure=np.array([now[n] for n in names]),
        lower=np.array(lower), upper=np.array(upper), instruments=config.names,
        sensitivity=per_contract[:, rows], lot=lot,
        max_order=np.array([h.max_order for h in hedges]), cost_model=components.cost_model,
        context=context,
        position=np.array([state.book.net_quantity(n) for n in config.names]),
        position_min=np.array([h.position_min for h in hedges]),
        position_max=np.array([h.position_max for h in hedges]),
    )


def _policy_view(state: EngineState, market: MarketInputs, targets: BookGreeks,
                 before: BookGreeks, exposure: Exposure | None) -> PolicyView:
    snapshot = market.snapshot
    now = _years(market.decision_time)
    data_time = _years(snapshot.timestamp)
    last = None if state.last_rebalance is None else _years(state.last_rebalance)
    recent = None
    if state.recent_rebalances:
        recent = np.array([[_years(t) for t in state.recent_rebalances]])
    return PolicyView(
        time=np.array([now]), spot=np.array([snapshot.index_price]),
        net_delta=np.array([before.delta]), data_time=np.array([data_time]),
        target_delta=np.array([targets.delta]), gamma=np.array([before.gamma]),
        vega=np.array([before.vega]), target_gamma=np.array([targets.gamma]),
        target_vega=np.array([targets.vega]), rate=np.array([snapshot.rate]),
        last_rebalance_time=np.array([np.nan if last is None else last]),
        last_rebalance_spot=np.array([np.nan if state.last_rebalance_spot is None
                                      else state.last_rebalance_spot]),
        recent_rebalance_times=recent,
        realised_vol=_optional(market.realised_vol), vol_percentile=_optional(
            market.vol_percentile),
        dvol=_optional(market.dvol), forecast_vol=_optional(market.forecast_vol),
        options=_option_legs(exposure),
    )


def _option_legs(exposure: Exposure | None) -> OptionLegs | None:
    if exposure is None or not np.any(exposure.positions.is_option):
        return None
    positions = exposure.positions
    option = positions.is_option
    # One option contract is contract_size coins; the legs count options on one coin each.
    return OptionLegs(strike=positions.strike[option][None, :],
                      expiry=positions.expiry_years[option][None, :],
                      vol=positions.vol[option][None, :],
                      kind=positions.option_kind[option][None, :],
                      quantity=(positions.quantity * positions.contract_size)[option][None, :])


def _order(name: str, quantity: float, quote: Quote) -> OrderIntent:
    buy = quantity > 0.0
    return OrderIntent(instrument=name, side="buy" if buy else "sell", quantity=abs(quantity),
                       limit_price=quote.ask if buy else quote.bid, reference_price=quote.mid)


def _years(when: datetime) -> float:
    return float(years_since_epoch(to_datetime64(when)))


def _optional(value: float | None) -> FloatArray | None:
    return None if value is None else np.array([value])


def _policy_name(policy: Policy) -> str:
    return type(policy).__name__
