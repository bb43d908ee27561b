"""Shared pieces of every policy: parameter checks, input screening, assembling the decision."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

import numpy as np

from hedgekeeper.policies.base import (
    SECONDS_PER_YEAR,
    BoolArray,
    FloatArray,
    GreekTarget,
    HedgeTarget,
    IntArray,
    PolicyView,
    Reason,
)

DEFAULT_MAX_DATA_AGE = 300.0 / SECONDS_PER_YEAR
"""Five minutes, in years: market data older than this is refused by default."""

Unit = Literal["coin", "usd"]
HedgeTo = Literal["centre", "edge"]


# ---------------------------------------------------------------- parameter checks


def positive(owner: str, name: str, value: object, *, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (or >= 0), else ``ValueError`` naming ``owner.name``."""
    number = _number(owner, name, value)
    if not math.isfinite(number) or number < 0.0 or (number == 0.0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{owner}: {name} must be a finite number {bound}, got {value!r}")
    return number


def optional_positive(owner: str, name: str, value: object) -> float | None:
    """Like :func:`positive` but lets ``None`` through."""
    return None if value is None else positive(owner, name, value)


def choice(owner: str, name: str, value: object, options: tuple[str, ...]) -> str:
    """``value`` if it is one of ``options``, else ``ValueError`` naming ``owner.name``."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{owner}: {name} must be one of {options}, got {value!r}")
    return value


def _number(owner: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(f"{owner}: {name} must be a number, got {value!r}")
    return float(value)


def max_age(owner: str, value: object) -> float:
    """Validate ``max_data_age`` (years, > 0)."""
    return positive(owner, "max_data_age", value)


# ---------------------------------------------------------------- screening


def screen(
    view: PolicyView,
    owner: str,
    max_data_age: float,
    fields: Iterable[str] = (),
    *,
    options: bool = False,
) -> IntArray:
    """Per-element refusal code: 0 (fine), ``REFUSED_NAN`` or ``REFUSED_STALE``.

    ``time``, ``spot`` and ``net_delta`` are always checked for finiteness, plus ``fields``
    (optional view fields the policy needs; a missing one raises ``ValueError``). With
    ``options`` every leg with a non-zero quantity must have finite inputs, expiry > 0.
    Data is stale when ``time - data_time > max_data_age`` or ``data_time`` is NaN.
    """
    bad = ~(np.isfinite(view.time) & np.isfinite(view.spot) & np.isfinite(view.net_delta))
    bad |= ~(view.spot > 0.0)
    for name in fields:
        array = view.require(name, owner)
        finite = np.isfinite(array)
        bad |= ~finite if array.ndim == 1 else ~np.all(finite, axis=1)
    if options:
        legs = view.options
        if legs is None:
            raise ValueError(f"view.options is required by {owner} but was not given")
        used = legs.quantity != 0.0
        leg_ok = (
            np.isfinite(legs.strike)
            & (legs.strike > 0.0)
            & np.isfinite(legs.expiry)
            & np.isfinite(legs.vol)
            & (legs.vol > 0.0)
        )
        bad |= ~np.isfinite(legs.quantity).all(axis=1)
        bad |= np.any(used & ~leg_ok, axis=1)
    with np.errstate(invalid="ignore"):
        stale = ~(view.time - view.data_time <= max_data_age)
    code = np.zeros(view.size, dtype=np.int16)
    code[stale] = Reason.REFUSED_STALE
    code[bad] = Reason.REFUSED_NAN
    return code


def present(view: PolicyView, names: Iterable[str]) -> list[str]:
    """Those of the optional view fields ``names`` that were given (to be screened if present)."""
    return [name for name in names if getattr(view, name) is not None]


def halfwidth_in_coin(halfwidth: float | FloatArray, unit: str, spot: FloatArray) -> FloatArray:
    """A delta band half-width in coin, from coin or USD (USD / spot)."""
    width = np.asarray(halfwidth, dtype=np.float64)
    return np.asarray(width / spot if unit == "usd" else np.broadcast_to(width, spot.shape))


# ---------------------------------------------------------------- assembling


def nan_where(keep: BoolArray, values: FloatArray) -> FloatArray:
    """``values`` where ``keep`` (broadcast along trailing axes), NaN elsewhere."""
    mask = keep.reshape(keep.shape + (1,) * (values.ndim - 1))
    return np.where(mask, values, np.nan)


def greek(keep: BoolArray, target: FloatArray, lower: FloatArray, upper: FloatArray) -> GreekTarget:
    """A :class:`GreekTarget` with NaN where ``keep`` is False."""
    return GreekTarget(nan_where(keep, target), nan_where(keep, lower), nan_where(keep, upper))


def finish(
    owner: str,
    fire: BoolArray,
    fire_reason: IntArray | int,
    refusal: IntArray,
    *,
    delta: tuple[FloatArray, FloatArray, FloatArray] | None = None,
    gamma: tuple[FloatArray, FloatArray, FloatArray] | None = None,
    vega: tuple[FloatArray, FloatArray, FloatArray] | None = None,
    weights: FloatArray | None = None,
) -> HedgeTarget | None:
    """Build the decision: refusals win over firing; ``None`` when every element holds.

    ``delta``/``gamma``/``vega`` are ``(target, lower, upper)`` triples of shape ``(n,)``;
    values are blanked (NaN) where the element does not rebalance.
    """
    refused = refusal != 0
    rebalance = fire & ~refused
    reason = np.where(refused, refusal, np.where(rebalance, fire_reason, Reason.HOLD))
    reason = reason.astype(np.int16)
    if not np.any(reason != Reason.HOLD):
        return None
    return HedgeTarget(
        rebalance=rebalance,
        reason=reason,
        policy=np.full(fire.shape[0], owner),
        delta=None if delta is None else greek(rebalance, *delta),
        gamma=None if gamma is None else greek(rebalance, *gamma),
        vega=None if vega is None else greek(rebalance, *vega),
        weights=None if weights is None else nan_where(rebalance, weights),
    )


def delta_band_target(
    net_delta: FloatArray,
    centre: FloatArray,
    halfwidth: FloatArray,
    hedge_to: str,
) -> tuple[BoolArray, tuple[FloatArray, FloatArray, FloatArray]]:
    """Whether net delta is outside ``centre ± halfwidth`` (coin), and the (target, lower, upper).

    The target is the centre, or with ``hedge_to="edge"`` the nearest band edge.
    """
    lower = centre - halfwidth
    upper = centre + halfwidth
    outside = (net_delta < lower) | (net_delta > upper)
    target = np.clip(net_delta, lower, upper) if hedge_to == "edge" else centre
    return outside, (np.asarray(target, dtype=np.float64), lower, upper)


def safe(values: FloatArray, fill: float = 1.0) -> FloatArray:
    """``values`` with non-finite entries replaced by ``fill`` (refused rows are computed on
    harmless numbers so that no floating-point warning fires; their result is discarded)."""
    return np.where(np.isfinite(values), values, fill)
