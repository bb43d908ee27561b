"""Pre-trade risk: the cost-benefit gate, hard limits, and the ``Gate`` port for more.

``CostBenefitGate`` skips trades whose expected cost exceeds the mean-variance value of the risk
they remove (formula in :mod:`hedgekeeper.risk.variance`); ``LimitsGate`` enforces order notional
and position limits. Margin and price-sanity gates implement the same one-method ``Gate``.
"""

from hedgekeeper.risk.gates import (
    BookGreeks,
    CostBenefitGate,
    Gate,
    GateResult,
    LimitsGate,
    TradeProposal,
    run_gates,
)
from hedgekeeper.risk.variance import pnl_variance, variance_benefit

__all__ = [
    "BookGreeks",
    "CostBenefitGate",
    "Gate",
    "GateResult",
    "LimitsGate",
    "TradeProposal",
    "pnl_variance",
    "run_gates",
    "variance_benefit",
]
