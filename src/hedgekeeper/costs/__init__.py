"""Trading cost models that add up: fees, spread, impact, fixed per-order costs.

``cost = 2.0 * SquareRootImpact() + ProportionalFee(taker_bps=5) + HalfSpread()`` is a cost
model; ``cost.cost(quantity, context)`` returns USD per element. All models are pure and
vectorised.
"""

from hedgekeeper.costs.fees import FixedPerOrder, ProportionalFee
from hedgekeeper.costs.impact import SquareRootImpact
from hedgekeeper.costs.model import AdditiveCost, CostModel, CostSum, TradeContext
from hedgekeeper.costs.quotes import Quote, trade_context
from hedgekeeper.costs.spread import HalfSpread

__all__ = [
    "AdditiveCost",
    "CostModel",
    "CostSum",
    "FixedPerOrder",
    "HalfSpread",
    "ProportionalFee",
    "Quote",
    "SquareRootImpact",
    "TradeContext",
    "trade_context",
]
