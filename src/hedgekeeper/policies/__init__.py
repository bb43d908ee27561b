"""Rebalancing policies: when, and to what, to rebalance a batch of books.

Every policy has one method, ``decide(view: PolicyView) -> HedgeTarget | None``, is pure and
vectorised over a leading batch axis (live is a batch of one). See ``docs/policies.md``.
"""

from hedgekeeper.policies.base import (
    SECONDS_PER_YEAR,
    GreekTarget,
    HedgeTarget,
    OptionLegs,
    Policy,
    PolicyView,
    Reason,
    years_since_epoch,
)

__all__ = [
    "SECONDS_PER_YEAR",
    "GreekTarget",
    "HedgeTarget",
    "OptionLegs",
    "Policy",
    "PolicyView",
    "Reason",
    "years_since_epoch",
]
