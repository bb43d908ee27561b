"""A simulated venue for replays: fills at the quote's mid, costs charged by the cost models.

The engine sizes trades with a cost model ``fee + spread + impact``; :class:`SimVenue` charges
the executed trades with **the same model objects**, term by term, so what a decision expected
to pay and what the replay books agree exactly when the fill uses the decision's quotes
(cvxportfolio's rule: the simulator and the optimiser price costs with the same code).

Accounting is in USD (USDT/USDC at par). Every instrument the backtest trades is linear: a
trade of ``q`` contracts at price ``p`` moves ``q * p * contract_size`` USD out of cash and the
position is worth ``position * mark * contract_size``; a linear perpetual's variation margin
and a funded position give the same equity, so the perpetual is booked the same way. Equity is
``cash + sum(position * mark)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from hedgekeeper.costs import CostModel, CostSum, ProportionalFee, Quote, trade_context
from hedgekeeper.domain.instruments import Instrument, Option
from hedgekeeper.domain.market import MarketSnapshot


@dataclass(frozen=True, slots=True)
class Fill:
    """One executed trade.

    Attributes
    ----------
    time : when it executed (UTC).
    instrument : name.
    quantity : signed contracts (buy > 0).
    price : execution price before costs (the quote's mid), USD per coin.
    contract_size : coins per contract.
    fee_usd, spread_usd, impact_usd : costs charged, USD, >= 0.
    purpose : ``"hedge"`` (an engine decision) or ``"roll"`` (the book's own legs, or closing
        hedge options at a roll).
    """

    time: datetime
    instrument: str
    quantity: float
    price: float
    contract_size: float
    fee_usd: float
    spread_usd: float
    impact_usd: float
    purpose: str = "hedge"

    @property
    def cost_usd(self) -> float:
        """All trading costs of the fill, USD."""
        return self.fee_usd + self.spread_usd + self.impact_usd

    @property
    def notional_usd(self) -> float:
        """``|quantity| * price * contract_size``, USD."""
        return abs(self.quantity) * self.price * self.contract_size


@dataclass(frozen=True, slots=True)
class CostTerms:
    """The three cost terms the venue charges separately; ``model`` is their sum.

    Attributes
    ----------
    fee, spread, impact : cost models (``None`` for a term that is zero).
    """

    fee: CostModel | None
    spread: CostModel | None
    impact: CostModel | None

    @property
    def model(self) -> CostModel:
        """``fee + spread + impact`` as one model (zero cost when all are None)."""
        terms = [t for t in (self.fee, self.spread, self.impact) if t is not None]
        if not terms:
            return ProportionalFee(taker_bps=0.0)
        return CostSum(tuple((1.0, term) for term in terms))


@dataclass
class SimVenue:
    """A venue that fills every order at the mid of the quotes it is shown, charging costs.

    Mutable by design (it is the simulated outside world): ``cash_usd`` and ``positions``
    change with fills, settlements and funding. The replay's own per-category tallies are
    checked against it in tests.

    Attributes
    ----------
    costs : cost terms charged on every fill.
    cash_usd : account cash, USD.
    positions : instrument name -> contracts held.
    instruments : instrument name -> instrument, for everything ever held.
    fills : every fill, in order.
    """

    costs: CostTerms
    cash_usd: float = 0.0
    positions: dict[str, float] = field(default_factory=dict)
    instruments: dict[str, Instrument] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)

    def execute(
        self,
        trades: Iterable[tuple[Instrument, float]],
        quotes: Mapping[str, Quote],
        snapshot: MarketSnapshot,
        purpose: str = "hedge",
        charge: bool = True,
    ) -> tuple[Fill, ...]:
        """Fill ``(instrument, signed contracts)`` at the quotes' mids, charging costs.

        Parameters
        ----------
        trades : what to trade; zero quantities are skipped.
        quotes : instrument name -> top of book (the same quotes the engine saw).
        snapshot : market of the underlying (for the USD conversion of the cost context).
        purpose : label stored on the fills.
        charge : False fills at mid without costs (the backtest's own book legs).

        Returns
        -------
        The fills, in order.
        """
        done: list[Fill] = []
        for instrument, quantity in trades:
            if quantity == 0.0:
                continue
            if not math.isfinite(quantity):
                raise ValueError(f"trade quantity of {instrument.name} must be finite, got "
                                 f"{quantity!r}")
            quote = quotes[instrument.name]
            context = trade_context([instrument], quotes, snapshot)
            q = np.array([quantity])
            fee, spread, impact = (
                0.0 if term is None or not charge else float(term.cost(q, context)[0])
                for term in (self.costs.fee, self.costs.spread, self.costs.impact)
            )
            fill = Fill(time=snapshot.timestamp, instrument=instrument.name, quantity=quantity,
                        price=quote.mid, contract_size=instrument.contract_size,
                        fee_usd=fee, spread_usd=spread, impact_usd=impact, purpose=purpose)
            self.instruments[instrument.name] = instrument
            self.positions[instrument.name] = self.positions.get(instrument.name, 0.0) + quantity
            self.cash_usd -= quantity * fill.price * instrument.contract_size + fill.cost_usd
            self.fills.append(fill)
            done.append(fill)
        return tuple(done)

    def settle(self, name: str, payoff_per_coin: float) -> float:
        """Cash-settle the whole position in option ``name`` at ``payoff_per_coin`` USD.

        Returns the USD received (negative when paid); the position is removed.
        """
        instrument = self.instruments[name]
        if not isinstance(instrument, Option):
            raise ValueError(f"only options settle at expiry, not {name!r}")
        quantity = self.positions.pop(name, 0.0)
        amount = quantity * payoff_per_coin * instrument.contract_size
        self.cash_usd += amount
        return amount

    def pay_funding(self, name: str, rate: float, mark: float) -> float:
        """Settle perpetual funding: longs pay ``rate * mark`` per coin. Returns USD received."""
        quantity = self.positions.get(name, 0.0)
        received = -quantity * self.instruments[name].contract_size * mark * rate \
            if quantity else 0.0
        self.cash_usd += received
        return received

    def value_usd(self, marks: Mapping[str, float]) -> float:
        """``cash + sum(position * mark * contract_size)``; every held position needs a mark."""
        total = self.cash_usd
        for name, quantity in self.positions.items():
            if quantity != 0.0:
                total += quantity * marks[name] * self.instruments[name].contract_size
        return total
