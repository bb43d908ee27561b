"""Pre-trade gates: ``Gate.check(proposal) -> GateResult``.

A gate looks at one proposed set of trades and passes or refuses it, saying why and recording
the numbers it used. Gates are pure. The port is one method so that later gates (margin and
health of every account after the trade, oracle price sanity) slot in beside these two without
touching the engine: implement ``check`` and add the gate to the engine's components.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from hedgekeeper.risk.variance import pnl_variance, variance_benefit

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class BookGreeks:
    """Net Greeks of a whole book.

    Attributes
    ----------
    delta : coin.
    gamma : coin per USD.
    vega : USD per 1.00 of vol.
    """

    delta: float
    gamma: float
    vega: float

    def __post_init__(self) -> None:
        for name in ("delta", "gamma", "vega"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float | np.floating) \
                    or not math.isfinite(value):
                raise ValueError(f"BookGreeks.{name} must be a finite number, got {value!r}")
            object.__setattr__(self, name, float(value))


@dataclass(frozen=True, slots=True)
class TradeProposal:
    """Trades the sizer proposes, with what a gate needs to judge them.

    Attributes
    ----------
    instruments : names of the ``n`` instruments.
    quantity : (n,) signed contracts to trade.
    notional_usd : (n,) underlying notional of one contract, USD.
    reference_price_usd : (n,) price of one contract used for the order, USD.
    position_before : (n,) contracts held before the trade.
    cost_usd : expected cost of all the trades (fees, spread, impact, fixed), USD.
    greeks_before, greeks_after : the whole book's Greeks before and after the trades.
    spot : underlying price, USD per coin.
    vol : annualised spot volatility used to price risk, fraction; None when no estimate was
        available (gates that need it refuse).
    """

    instruments: tuple[str, ...]
    quantity: FloatArray
    notional_usd: FloatArray
    reference_price_usd: FloatArray
    position_before: FloatArray
    cost_usd: float
    greeks_before: BookGreeks
    greeks_after: BookGreeks
    spot: float
    vol: float | None

    def __post_init__(self) -> None:
        n = len(self.instruments)
        object.__setattr__(self, "instruments", tuple(self.instruments))
        for name in ("quantity", "notional_usd", "reference_price_usd", "position_before"):
            array = np.array(getattr(self, name), dtype=np.float64, copy=True)
            if array.shape != (n,) or not np.all(np.isfinite(array)):
                raise ValueError(
                    f"TradeProposal.{name} must be {n} finite numbers (one per instrument), "
                    f"got {array}"
                )
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        for name in ("cost_usd", "spot", "vol"):
            value = getattr(self, name)
            if value is None and name == "vol":
                continue
            if not math.isfinite(value) or value < 0.0 or (name == "spot" and value <= 0.0):
                raise ValueError(f"TradeProposal.{name} must be finite and >= 0 (spot > 0), "
                                 f"got {value!r}")


@dataclass(frozen=True, slots=True)
class GateResult:
    """A gate's verdict on a proposal.

    Attributes
    ----------
    gate : name of the gate.
    passed : False refuses the whole proposal.
    reason : one sentence, naming the number or limit that decided.
    figures : the numbers the gate used (e.g. ``cost_usd``, ``benefit_usd``), read-only.
    """

    gate: str
    passed: bool
    reason: str
    figures: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "figures", MappingProxyType(
            {key: float(value) for key, value in self.figures.items()}))


@runtime_checkable
class Gate(Protocol):
    """A pre-trade check. Pure: same proposal, same result."""

    def check(self, proposal: TradeProposal) -> GateResult:
        """Pass or refuse ``proposal``, saying why."""
        ...


@dataclass(frozen=True, slots=True)
class CostBenefitGate:
    """Trade only when the risk it removes is worth at least what it costs.

    ``benefit = risk_aversion / 2 * (Var_before - Var_after)`` with the P&L variance over
    ``horizon_years`` of :func:`~hedgekeeper.risk.variance.pnl_variance` (delta, gamma and vega
    terms; see that module for the formula and its assumptions). Refuses when
    ``cost_usd > benefit``; records both numbers and the two variances either way.

    Parameters
    ----------
    risk_aversion : absolute risk aversion, 1/USD (>= 0). E.g. 1e-4/USD values removing a P&L
        standard deviation of 1,000 USD at 50 USD.
    horizon_years : time until the next decision, years (> 0).
    vol_of_vol : annualised volatility of absolute implied-vol changes (>= 0); 0 ignores vega.
    spot_vol_correlation : correlation of spot returns and vol changes, in [-1, 1].
    """

    risk_aversion: float
    horizon_years: float
    vol_of_vol: float = 0.0
    spot_vol_correlation: float = 0.0
    name: str = "cost_benefit"

    def __post_init__(self) -> None:
        checks = (("risk_aversion", 0.0), ("vol_of_vol", 0.0))
        for label, minimum in checks:
            value = getattr(self, label)
            if not math.isfinite(value) or value < minimum:
                raise ValueError(f"CostBenefitGate.{label} must be finite and >= 0, got {value!r}")
        if not math.isfinite(self.horizon_years) or self.horizon_years <= 0.0:
            raise ValueError(
                f"CostBenefitGate.horizon_years must be finite and > 0, got {self.horizon_years!r}"
            )
        if not -1.0 <= self.spot_vol_correlation <= 1.0:
            raise ValueError("CostBenefitGate.spot_vol_correlation must be in [-1, 1], "
                             f"got {self.spot_vol_correlation!r}")

    def variance(self, greeks: BookGreeks, spot: float, vol: float) -> float:
        """P&L variance of ``greeks`` over the gate's horizon, USD²."""
        return float(pnl_variance(greeks.delta, greeks.gamma, greeks.vega, spot, vol,
                                  self.horizon_years, self.vol_of_vol, self.spot_vol_correlation))

    def check(self, proposal: TradeProposal) -> GateResult:
        """Pass when ``benefit_usd >= cost_usd``; refuse when the proposal has no volatility."""
        if proposal.vol is None:
            return GateResult(self.name, False, "no spot volatility to price the risk removed "
                              "(give a realised, forecast or implied volatility)",
                              {"cost_usd": proposal.cost_usd})
        before = self.variance(proposal.greeks_before, proposal.spot, proposal.vol)
        after = self.variance(proposal.greeks_after, proposal.spot, proposal.vol)
        benefit = float(variance_benefit(before, after, self.risk_aversion))
        cost = proposal.cost_usd
        passed = cost <= benefit
        verdict = "worth it" if passed else "not worth it: skip"
        return GateResult(
            gate=self.name,
            passed=passed,
            reason=(f"expected cost {cost:.6g} USD vs benefit {benefit:.6g} USD (variance "
                    f"{before:.6g} -> {after:.6g} USD² over {self.horizon_years:.6g} y at risk "
                    f"aversion {self.risk_aversion:.3g}/USD): {verdict}"),
            figures={"cost_usd": cost, "benefit_usd": benefit, "variance_before_usd2": before,
                     "variance_after_usd2": after},
        )


@dataclass(frozen=True, slots=True)
class LimitsGate:
    """Hard limits: order notional and position per instrument.

    Parameters
    ----------
    max_order_notional_usd : largest ``|quantity| * notional_usd`` of any one order, USD (> 0).
    position_limits : instrument name -> ``(min, max)`` position after the trade, contracts.
        Instruments not named are unlimited here.
    """

    max_order_notional_usd: float = math.inf
    position_limits: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    name: str = "limits"

    def __post_init__(self) -> None:
        if math.isnan(self.max_order_notional_usd) or self.max_order_notional_usd <= 0.0:
            raise ValueError("LimitsGate.max_order_notional_usd must be > 0 USD, got "
                             f"{self.max_order_notional_usd!r}")
        limits: dict[str, tuple[float, float]] = {}
        for instrument, bounds in self.position_limits.items():
            low, high = (float(b) for b in bounds)
            if math.isnan(low) or math.isnan(high) or low > high:
                raise ValueError(f"LimitsGate.position_limits[{instrument!r}] must be (min, max) "
                                 f"with min <= max, got {bounds!r}")
            limits[instrument] = (low, high)
        object.__setattr__(self, "position_limits", MappingProxyType(limits))

    def check(self, proposal: TradeProposal) -> GateResult:
        """Refuse naming the first order or position over its limit."""
        notional = np.abs(proposal.quantity) * proposal.notional_usd
        problems: list[str] = []
        for i, name in enumerate(proposal.instruments):
            if notional[i] > self.max_order_notional_usd:
                problems.append(f"{name} order notional {notional[i]:.6g} USD exceeds "
                                f"{self.max_order_notional_usd:.6g} USD")
            if name in self.position_limits and proposal.quantity[i] != 0.0:
                low, high = self.position_limits[name]
                after = proposal.position_before[i] + proposal.quantity[i]
                if not low <= after <= high:
                    problems.append(f"{name} position after the trade {after:.6g} contracts is "
                                    f"outside [{low:.6g}, {high:.6g}]")
        largest = float(np.max(notional, initial=0.0))
        if problems:
            return GateResult(self.name, False, "; ".join(problems),
                              {"largest_order_notional_usd": largest})
        return GateResult(self.name, True, "every order and position within its limits",
                          {"largest_order_notional_usd": largest})


def run_gates(gates: Sequence[Gate], proposal: TradeProposal) -> tuple[GateResult, ...]:
    """Every gate's verdict on ``proposal``, in order (all run, so all numbers are recorded)."""
    return tuple(gate.check(proposal) for gate in gates)
