"""Deviation bands for a multi-asset target-weight portfolio."""

from __future__ import annotations

import numpy as np

from hedgekeeper.policies._decision import (
    DEFAULT_MAX_DATA_AGE,
    HedgeTo,
    choice,
    finish,
    max_age,
    optional_positive,
    safe,
    screen,
)
from hedgekeeper.policies.base import FloatArray, HedgeTarget, PolicyView, Reason

WEIGHT_TOLERANCE = 1e-12
"""Slack in weight comparisons, so that weights moved exactly to a band edge count as inside."""


def weight_halfwidths(
    target_weights: FloatArray, absolute: float | None, relative: float | None
) -> FloatArray:
    """Per-asset band half-widths: ``min(absolute, relative * |target|)`` of those given.

    Parameters
    ----------
    target_weights : (n, assets) fractions.
    absolute : percentage points as a fraction (0.05 = 5 points), or None.
    relative : fraction of the target weight (0.25 = 25 %), or None.
    """
    width = np.full(target_weights.shape, np.inf)
    if absolute is not None:
        width = np.minimum(width, absolute)
    if relative is not None:
        width = np.minimum(width, relative * np.abs(target_weights))
    return width


class WeightBand:
    """Rebalance a target-weight portfolio when any weight leaves its deviation band.

    Rule (tolerance bands as in the "5/25" rule popularised by L. Swedroe, and G. Daryanani
    (2008), "Opportunistic rebalancing: a new paradigm for wealth managers", Journal of
    Financial Planning 21(1)):
    asset ``i`` has half-width ``h_i = min(absolute, relative * |w*_i|)`` (whichever of the two
    are given); fire when ``|w_i - w*_i| > h_i`` for some ``i``.

    ``hedge_to="centre"`` trades fully to the target weights. ``hedge_to="edge"`` moves the
    portfolio along the straight line from current to target weights just far enough that every
    weight is inside its band: ``w' = w* + θ (w - w*)`` with ``θ = min_i h_i / |w_i - w*_i|``,
    so the worst asset lands on its band edge, the others inside, and the weights still sum to
    what the target sums to. An asset with a zero band (relative band, zero target) forces a
    full rebalance.

    Parameters
    ----------
    absolute : absolute band, fraction of portfolio value, > 0, or None.
    relative : relative band, fraction of each target weight, > 0, or None. At least one of
        ``absolute`` and ``relative`` must be given.
    hedge_to : ``"centre"`` (target weights) or ``"edge"``.
    max_data_age : years; older market data is refused (default five minutes).
    """

    def __init__(
        self,
        absolute: float | None = None,
        relative: float | None = None,
        hedge_to: HedgeTo = "centre",
        max_data_age: float = DEFAULT_MAX_DATA_AGE,
    ) -> None:
        self.absolute = optional_positive("WeightBand", "absolute", absolute)
        self.relative = optional_positive("WeightBand", "relative", relative)
        if self.absolute is None and self.relative is None:
            raise ValueError("WeightBand: give absolute, relative or both; both are None")
        self.hedge_to = choice("WeightBand", "hedge_to", hedge_to, ("centre", "edge"))
        self.max_data_age = max_age("WeightBand", max_data_age)

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """Fire where some weight is outside its band; target weights per ``hedge_to``."""
        refusal = screen(
            view, "WeightBand", self.max_data_age, ("weights", "target_weights")
        )
        weights = safe(view.require("weights", "WeightBand"), 0.0)
        target = safe(view.require("target_weights", "WeightBand"), 0.0)
        width = weight_halfwidths(target, self.absolute, self.relative)
        deviation = weights - target
        outside = np.any(np.abs(deviation) > width + WEIGHT_TOLERANCE, axis=1)
        if self.hedge_to == "edge":
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(deviation != 0.0, width / np.abs(deviation), np.inf)
            theta = np.clip(np.min(ratio, axis=1, initial=np.inf), 0.0, 1.0)
            new_weights = target + theta[:, None] * deviation
        else:
            new_weights = target
        return finish("WeightBand", outside, Reason.WEIGHT_BAND, refusal, weights=new_weights)
