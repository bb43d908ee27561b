"""Exchange fees: proportional (maker/taker, optionally capped) and a fixed cost per order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hedgekeeper.costs.model import (
    AdditiveCost,
    FloatArray,
    TradeContext,
    as_quantity,
    require_number,
)


@dataclass(frozen=True, slots=True)
class ProportionalFee(AdditiveCost):
    """Fee proportional to the traded notional, optionally capped at a fraction of the price.

    ``cost = |q| * min(rate * notional_usd, cap_fraction_of_price * mid_usd)`` with
    ``rate = (taker_share * taker_bps + (1 - taker_share) * maker_bps) / 1e4``.

    The cap models Deribit's option fee, a percentage of the underlying capped at a percentage
    of the option price (at the time of writing 0.03 % of the underlying capped at 12.5 % of the
    option price; perpetuals 0.05 % taker, see deribit.com "Fees" — check the current schedule).

    Parameters
    ----------
    taker_bps, maker_bps : fee rates in basis points of ``notional_usd``; ``maker_bps`` may be
        negative (a rebate) as long as the blended rate stays >= 0.
    taker_share : fraction of the volume expected to execute as taker, in [0, 1].
    cap_fraction_of_price : cap per contract as a fraction of the contract's mid price, or None.
    """

    taker_bps: float
    maker_bps: float = 0.0
    taker_share: float = 1.0
    cap_fraction_of_price: float | None = None

    def __post_init__(self) -> None:
        require_number("ProportionalFee.taker_bps", self.taker_bps, minimum=0.0)
        require_number("ProportionalFee.maker_bps", self.maker_bps)
        share = require_number("ProportionalFee.taker_share", self.taker_share, minimum=0.0)
        if share > 1.0:
            raise ValueError(f"ProportionalFee.taker_share must be in [0, 1], got {share}")
        if self.rate < 0.0:
            raise ValueError(
                f"ProportionalFee.maker_bps={self.maker_bps} makes the blended fee rate negative; "
                "a net rebate is not a cost model"
            )
        if self.cap_fraction_of_price is not None:
            require_number("ProportionalFee.cap_fraction_of_price", self.cap_fraction_of_price,
                           minimum=0.0)

    @property
    def rate(self) -> float:
        """Blended fee rate, fraction of notional."""
        return (self.taker_share * self.taker_bps + (1.0 - self.taker_share) * self.maker_bps) / 1e4

    def cost(self, quantity: FloatArray, context: TradeContext) -> FloatArray:
        """USD fee of trading ``quantity`` contracts; see the class docstring."""
        q = as_quantity(quantity)
        per_contract = self.rate * context.notional_usd
        if self.cap_fraction_of_price is not None:
            per_contract = np.minimum(per_contract, self.cap_fraction_of_price * context.mid_usd)
        return np.asarray(np.abs(q) * per_contract, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class FixedPerOrder(AdditiveCost):
    """A fixed cost per non-zero order, USD: ``cost = usd_per_order * (q != 0)``.

    Models a flat ticket fee or, on a chain, the gas of one transaction at a given gas price.

    Parameters
    ----------
    usd_per_order : finite, >= 0.
    """

    usd_per_order: float

    def __post_init__(self) -> None:
        require_number("FixedPerOrder.usd_per_order", self.usd_per_order, minimum=0.0)

    def cost(self, quantity: FloatArray, context: TradeContext) -> FloatArray:
        """USD cost: ``usd_per_order`` where ``quantity != 0``, else 0."""
        q = as_quantity(quantity)
        shape = np.broadcast_shapes(q.shape, context.bid_usd.shape)
        return np.asarray(np.broadcast_to(np.where(q != 0.0, self.usd_per_order, 0.0), shape),
                          dtype=np.float64)
