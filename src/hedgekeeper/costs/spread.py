"""Crossing the spread: half the bid-ask spread per contract traded."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hedgekeeper.costs.model import AdditiveCost, FloatArray, TradeContext, as_quantity


@dataclass(frozen=True, slots=True)
class HalfSpread(AdditiveCost):
    """``cost = |q| * (ask_usd - bid_usd) / 2``: a marketable order pays half the spread vs mid.

    Valid while the order fits the top of book; deeper orders also pay impact
    (:class:`~hedgekeeper.costs.impact.SquareRootImpact`).
    """

    def cost(self, quantity: FloatArray, context: TradeContext) -> FloatArray:
        """USD cost of crossing half the spread for ``quantity`` contracts."""
        q = as_quantity(quantity)
        return np.asarray(np.abs(q) * context.half_spread_usd, dtype=np.float64)
