"""Hedge sizing: the least-cost whole-lot trades that bring targeted Greeks into their bands.

``size_hedge(HedgeProblem(...)) -> HedgeResult``; closed form for one Greek and one instrument
(vectorised: :func:`size_single_instrument`), a HiGHS mixed-integer program otherwise.
Refusals are data: a status and a reason, never an exception.
"""

from hedgekeeper.hedging.closed_form import size_single_instrument
from hedgekeeper.hedging.problem import (
    BAND_RTOL,
    HedgeProblem,
    HedgeResult,
    HedgeStatus,
    band_tolerance,
    inside_band,
)
from hedgekeeper.hedging.sizer import size_hedge

__all__ = [
    "BAND_RTOL",
    "HedgeProblem",
    "HedgeResult",
    "HedgeStatus",
    "band_tolerance",
    "inside_band",
    "size_hedge",
    "size_single_instrument",
]
