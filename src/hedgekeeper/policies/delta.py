"""Fixed band on net delta."""

from __future__ import annotations

from hedgekeeper.policies._decision import (
    DEFAULT_MAX_DATA_AGE,
    HedgeTo,
    Unit,
    choice,
    delta_band_target,
    finish,
    halfwidth_in_coin,
    max_age,
    positive,
    present,
    screen,
)
from hedgekeeper.policies.base import HedgeTarget, PolicyView, Reason


class DeltaBand:
    """Rebalance when net delta leaves a fixed band around its target.

    Rule: fire when ``|net_delta - target_delta| > halfwidth`` (coin), or in USD when
    ``|net_delta - target_delta| * spot > halfwidth``; trade back to the target (``"centre"``)
    or to the nearest band edge (``"edge"``, the cheaper choice under proportional costs).

    Parameters
    ----------
    halfwidth : band half-width, > 0, in coin or USD (see ``unit``).
    unit : ``"coin"`` or ``"usd"``.
    hedge_to : ``"centre"`` or ``"edge"``.
    max_data_age : years; older market data is refused (default five minutes).
    """

    def __init__(
        self,
        halfwidth: float,
        unit: Unit = "coin",
        hedge_to: HedgeTo = "centre",
        max_data_age: float = DEFAULT_MAX_DATA_AGE,
    ) -> None:
        self.halfwidth = positive("DeltaBand", "halfwidth", halfwidth)
        self.unit = choice("DeltaBand", "unit", unit, ("coin", "usd"))
        self.hedge_to = choice("DeltaBand", "hedge_to", hedge_to, ("centre", "edge"))
        self.max_data_age = max_age("DeltaBand", max_data_age)

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """Fire where net delta is outside ``target ± halfwidth``."""
        refusal = screen(view, "DeltaBand", self.max_data_age, present(view, ("target_delta",)))
        width = halfwidth_in_coin(self.halfwidth, self.unit, view.spot_or_one())
        outside, band = delta_band_target(
            view.net_delta, view.target_delta_or_zero(), width, self.hedge_to
        )
        return finish("DeltaBand", outside, Reason.DELTA_BAND, refusal, delta=band)
