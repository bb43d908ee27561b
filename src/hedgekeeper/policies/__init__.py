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
from hedgekeeper.policies.calendar import Calendar
from hedgekeeper.policies.combinators import AllOf, AnyOf, Cooldown, MaxFrequency, MinTradeSize
from hedgekeeper.policies.delta import DeltaBand
from hedgekeeper.policies.greeks import GreekBands
from hedgekeeper.policies.optimal import (
    LelandDelta,
    WhalleyWilmottBand,
    ZakamoulineBand,
    leland_vol,
    whalley_wilmott_halfwidth,
    zakamouline_band,
)
from hedgekeeper.policies.predictive import (
    ForecastFeed,
    IntentBand,
    PredictiveBand,
    budget_halfwidth,
)
from hedgekeeper.policies.regime import VolRegimeBand
from hedgekeeper.policies.weights import WeightBand

__all__ = [
    "SECONDS_PER_YEAR",
    "AllOf",
    "AnyOf",
    "Calendar",
    "Cooldown",
    "DeltaBand",
    "ForecastFeed",
    "GreekBands",
    "GreekTarget",
    "HedgeTarget",
    "IntentBand",
    "LelandDelta",
    "MaxFrequency",
    "MinTradeSize",
    "OptionLegs",
    "Policy",
    "PolicyView",
    "PredictiveBand",
    "Reason",
    "VolRegimeBand",
    "WeightBand",
    "WhalleyWilmottBand",
    "ZakamoulineBand",
    "budget_halfwidth",
    "leland_vol",
    "whalley_wilmott_halfwidth",
    "years_since_epoch",
    "zakamouline_band",
]
