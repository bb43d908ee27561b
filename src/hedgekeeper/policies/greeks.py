"""Delta-gamma(-vega) sensitivity bands."""

from __future__ import annotations

import numpy as np

from hedgekeeper.policies._decision import (
    DEFAULT_MAX_DATA_AGE,
    HedgeTo,
    choice,
    delta_band_target,
    finish,
    max_age,
    optional_positive,
    present,
    safe,
    screen,
)
from hedgekeeper.policies.base import FloatArray, HedgeTarget, PolicyView, Reason


class GreekBands:
    """Fire when net gamma or vega (or, optionally, delta) leaves its band; target all at once.

    Rule: with ``|Γ - Γ*| > gamma_halfwidth`` or ``|V - V*| > vega_halfwidth`` (and, when
    ``delta_halfwidth`` is given, ``|Δ - Δ*| > delta_halfwidth``) the element rebalances. The
    :class:`HedgeTarget` then states a target and an acceptable band for every configured Greek
    (gamma and vega with options from the chain, delta with the perpetual/future); sizing the
    trades is the hedge solver's job. Targets are the centres ``Γ*, V*, Δ*`` (``"centre"``) or
    the nearest band edges (``"edge"``); delta always targets ``Δ*`` within
    ``± delta_halfwidth`` (0 when not given). Reason priority: gamma, then vega, then delta.

    Parameters
    ----------
    gamma_halfwidth : band on net gamma, coin per USD, > 0, or None (gamma not targeted).
    vega_halfwidth : band on net vega, USD per 1.00 vol, > 0, or None (vega not targeted).
        At least one of the two must be given.
    delta_halfwidth : band on net delta, coin, > 0, or None (delta brought exactly to target
        but never the trigger).
    hedge_to : ``"centre"`` or ``"edge"`` for gamma and vega.
    max_data_age : years; older market data is refused (default five minutes).
    """

    def __init__(
        self,
        gamma_halfwidth: float | None = None,
        vega_halfwidth: float | None = None,
        delta_halfwidth: float | None = None,
        hedge_to: HedgeTo = "centre",
        max_data_age: float = DEFAULT_MAX_DATA_AGE,
    ) -> None:
        self.gamma_halfwidth = optional_positive("GreekBands", "gamma_halfwidth", gamma_halfwidth)
        self.vega_halfwidth = optional_positive("GreekBands", "vega_halfwidth", vega_halfwidth)
        if self.gamma_halfwidth is None and self.vega_halfwidth is None:
            raise ValueError("GreekBands: give gamma_halfwidth, vega_halfwidth or both")
        self.delta_halfwidth = optional_positive("GreekBands", "delta_halfwidth", delta_halfwidth)
        self.hedge_to = choice("GreekBands", "hedge_to", hedge_to, ("centre", "edge"))
        self.max_data_age = max_age("GreekBands", max_data_age)

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """Fire where gamma, vega or delta is outside its band."""
        owner = "GreekBands"
        fields: list[str] = present(view, ("target_delta",))
        if self.gamma_halfwidth is not None:
            fields += ["gamma", *present(view, ("target_gamma",))]
        if self.vega_halfwidth is not None:
            fields += ["vega", *present(view, ("target_vega",))]
        refusal = screen(view, owner, self.max_data_age, fields)
        n = view.size
        reason = np.full(n, Reason.HOLD, dtype=np.int16)
        fire = np.zeros(n, dtype=np.bool_)
        gamma_band = vega_band = None
        for name, half, code in (
            ("vega", self.vega_halfwidth, Reason.VEGA_BAND),
            ("gamma", self.gamma_halfwidth, Reason.GAMMA_BAND),
        ):
            if half is None:
                continue
            value = safe(view.require(name, owner), 0.0)
            centre = _target_or_zero(view, f"target_{name}")
            outside, band = delta_band_target(value, centre, np.full(n, half), self.hedge_to)
            fire |= outside
            reason = np.where(outside, np.int16(code), reason).astype(np.int16)
            if name == "gamma":
                gamma_band = band
            else:
                vega_band = band
        delta_target = view.target_delta_or_zero()
        delta_half = np.full(n, 0.0 if self.delta_halfwidth is None else self.delta_halfwidth)
        delta_outside, _ = delta_band_target(view.net_delta, delta_target, delta_half, "centre")
        if self.delta_halfwidth is not None:
            reason = np.where(
                delta_outside & ~fire, np.int16(Reason.DELTA_BAND), reason
            ).astype(np.int16)
            fire |= delta_outside
        return finish(
            owner,
            fire,
            reason,
            refusal,
            delta=(delta_target, delta_target - delta_half, delta_target + delta_half),
            gamma=gamma_band,
            vega=vega_band,
        )


def _target_or_zero(view: PolicyView, name: str) -> FloatArray:
    value = getattr(view, name)
    return np.zeros(view.size) if value is None else safe(value, 0.0)
