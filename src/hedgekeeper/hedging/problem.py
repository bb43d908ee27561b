"""What the sizer is asked (:class:`HedgeProblem`) and what it answers (:class:`HedgeResult`).

Units are those of the caller, consistent between rows: ``exposure``, ``lower``, ``upper`` of a
Greek and the ``sensitivity`` column of that Greek (per contract) share one unit, e.g. delta in
coin, gamma in coin per USD, vega in USD per 1.00 vol. Quantities are contracts (one contract is
the instrument's contract size: Deribit BTC options 1 BTC, BTC-PERPETUAL 10 USD).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from hedgekeeper.costs import CostModel, TradeContext

FloatArray = npt.NDArray[np.float64]

BAND_RTOL = 1e-9
"""Relative tolerance of every band check (see :func:`band_tolerance`)."""


class HedgeStatus(IntEnum):
    """Outcome of sizing; ``HedgeResult.reason`` explains it in words."""

    OK = 0
    """Least-cost trades in whole lots; every targeted Greek ends inside its band."""
    IN_BAND = 1
    """Every targeted Greek is already inside its band: no trade."""
    OUTSIDE_BAND_AFTER_ROUNDING = 2
    """The band is reachable with fractional contracts but not in whole lots within the limits;
    the trades are the lot-rounded hedge closest to the band (then cheapest)."""
    INFEASIBLE = 3
    """Refused, no trades: no allowed instrument carries a Greek that is off band, the
    instruments cannot reach the bands jointly, or a position/order limit binds."""
    SOLVER_LIMIT = 4
    """The solver stopped at its time or node limit with in-band trades not proven cheapest."""

    @property
    def in_band(self) -> bool:
        """True when the trades (possibly none) leave every targeted Greek inside its band."""
        return self in (HedgeStatus.OK, HedgeStatus.IN_BAND, HedgeStatus.SOLVER_LIMIT)


@dataclass(frozen=True, slots=True)
class HedgeProblem:
    """The exposure gap, the instruments allowed to close it, their costs and limits.

    Attributes
    ----------
    greeks : names of the ``k`` targeted Greeks, e.g. ``("delta", "gamma", "vega")``.
    exposure : (k,) current value of each Greek for the whole book.
    lower, upper : (k,) band each Greek must end inside; ``lower <= upper``, finite.
    instruments : names of the ``n`` hedge instruments.
    sensitivity : (n, k) each Greek of one contract of each instrument.
    lot : (n,) trade size step, contracts (> 0): trades are whole multiples of it.
    max_order : (n,) largest trade per instrument, contracts (finite, > 0).
    cost_model : prices trades of each instrument, USD (:class:`~hedgekeeper.costs.CostModel`).
    context : quotes of the ``n`` instruments, arrays of shape ``(n,)`` or scalars.
    position : (n,) contracts held now (default 0; a scalar is broadcast).
    position_min, position_max : (n,) limits on the position after the trade, contracts
        (default unbounded, ±inf).
    """

    greeks: tuple[str, ...]
    exposure: FloatArray
    lower: FloatArray
    upper: FloatArray
    instruments: tuple[str, ...]
    sensitivity: FloatArray
    lot: FloatArray
    max_order: FloatArray
    cost_model: CostModel
    context: TradeContext
    position: FloatArray = dataclasses.field(default_factory=lambda: np.array(0.0))
    position_min: FloatArray = dataclasses.field(default_factory=lambda: np.array(-np.inf))
    position_max: FloatArray = dataclasses.field(default_factory=lambda: np.array(np.inf))

    def __post_init__(self) -> None:
        greeks = tuple(self.greeks)
        instruments = tuple(self.instruments)
        k, n = len(greeks), len(instruments)
        if k == 0:
            raise ValueError("HedgeProblem.greeks must name at least one targeted Greek")
        if n == 0:
            raise ValueError("HedgeProblem.instruments must name at least one hedge instrument")
        for label, names in (("greeks", greeks), ("instruments", instruments)):
            if len(set(names)) != len(names) or not all(isinstance(x, str) and x for x in names):
                raise ValueError(
                    f"HedgeProblem.{label} must be distinct non-empty names, got {names}"
                )
        object.__setattr__(self, "greeks", greeks)
        object.__setattr__(self, "instruments", instruments)
        shapes = {"exposure": (k,), "lower": (k,), "upper": (k,), "sensitivity": (n, k),
                  "lot": (n,), "max_order": (n,), "position": (n,), "position_min": (n,),
                  "position_max": (n,)}
        for name, shape in shapes.items():
            array = _frozen(f"HedgeProblem.{name}", getattr(self, name), shape)
            object.__setattr__(self, name, array)
        finite = ("exposure", "lower", "upper", "sensitivity", "lot", "max_order", "position")
        for name in finite:
            if not np.all(np.isfinite(getattr(self, name))):
                raise ValueError(f"HedgeProblem.{name} must be finite, got {getattr(self, name)}")
        if np.any(self.lower > self.upper):
            bad = int(np.argmax(self.lower > self.upper))
            raise ValueError(
                f"HedgeProblem.lower must be <= upper; {greeks[bad]} has band "
                f"[{self.lower[bad]}, {self.upper[bad]}]"
            )
        for name in ("lot", "max_order"):
            value = getattr(self, name)
            if np.any(value <= 0.0):
                raise ValueError(f"HedgeProblem.{name} must be > 0 contracts, got {value}")
        if np.any(np.isnan(self.position_min)) or np.any(np.isnan(self.position_max)):
            raise ValueError("HedgeProblem.position_min/position_max must not be NaN (use ±inf)")
        if np.any(self.position_min > self.position_max):
            raise ValueError("HedgeProblem.position_min must be <= position_max")
        if not isinstance(self.cost_model, CostModel):
            raise ValueError(
                f"HedgeProblem.cost_model must be a CostModel, got {self.cost_model!r}"
            )
        if not isinstance(self.context, TradeContext):
            raise ValueError(f"HedgeProblem.context must be a TradeContext, got {self.context!r}")
        for field in dataclasses.fields(self.context):
            shape = np.shape(getattr(self.context, field.name))
            if shape not in ((), (n,)):
                raise ValueError(
                    f"HedgeProblem.context.{field.name} must have shape () or ({n},), got {shape}"
                )

    @property
    def tolerance(self) -> FloatArray:
        """(k,) absolute tolerance of the band checks (:func:`band_tolerance`, finest lot step)."""
        per_lot = np.abs(self.sensitivity * self.lot[:, None])
        step = np.min(np.where(per_lot > 0.0, per_lot, np.inf), axis=0)
        return band_tolerance(self.exposure, self.lower, self.upper,
                              np.where(np.isfinite(step), step, 0.0))

    def greeks_after(self, trades: FloatArray) -> FloatArray:
        """(k,) Greeks after trading ``trades`` (n,) contracts."""
        return np.asarray(self.exposure + np.asarray(trades) @ self.sensitivity, dtype=np.float64)

    def trade_cost(self, trades: FloatArray) -> float:
        """USD cost of ``trades`` (n,) contracts under the problem's cost model."""
        return float(np.sum(self.cost_model.cost(np.asarray(trades, dtype=np.float64),
                                                 self.context)))


@dataclass(frozen=True, slots=True)
class HedgeResult:
    """The sizer's answer: trades per instrument (contracts), status, reason, cost, Greeks.

    Attributes
    ----------
    status : :class:`HedgeStatus`.
    reason : one or two sentences explaining the status (refusals name the Greek or limit).
    method : ``"none"``, ``"closed_form"`` or ``"milp"``.
    instruments : names of the ``n`` hedge instruments (as in the problem).
    trades : (n,) signed contracts to trade, whole multiples of each lot; zeros on refusal.
    cost_usd : cost of ``trades`` under the problem's cost model, USD.
    greeks : names of the ``k`` targeted Greeks.
    exposure_before, exposure_after : (k,) Greeks before and after the trades.
    lower, upper : (k,) the bands asked for.
    """

    status: HedgeStatus
    reason: str
    method: str
    instruments: tuple[str, ...]
    trades: FloatArray
    cost_usd: float
    greeks: tuple[str, ...]
    exposure_before: FloatArray
    exposure_after: FloatArray
    lower: FloatArray
    upper: FloatArray

    def __post_init__(self) -> None:
        for name in ("trades", "exposure_before", "exposure_after", "lower", "upper"):
            array = np.array(getattr(self, name), dtype=np.float64, copy=True)
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    @property
    def in_band(self) -> bool:
        """True when every targeted Greek ends inside its band."""
        return self.status.in_band

    def nonzero_trades(self) -> tuple[tuple[str, float], ...]:
        """``(instrument, contracts)`` for every instrument traded."""
        return tuple((name, float(q)) for name, q in zip(self.instruments, self.trades, strict=True)
                     if q != 0.0)


def band_tolerance(exposure: npt.ArrayLike, lower: npt.ArrayLike, upper: npt.ArrayLike,
                   step: npt.ArrayLike = 0.0) -> FloatArray:
    """Slack of band checks: ``BAND_RTOL * max(upper - lower, |exposure|, |bounds|, step)``.

    Parameters
    ----------
    exposure, lower, upper : arrays that broadcast, in the Greek's unit.
    step : the Greek of one lot of the finest hedge instrument (same unit), so that a Greek
        near zero is not held to a precision no trade could reach.

    Returns
    -------
    ndarray of float64, the broadcast shape, same unit.
    """
    lo, hi = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    scale = np.maximum(np.maximum(hi - lo, np.abs(np.asarray(exposure, dtype=np.float64))),
                       np.maximum(np.maximum(np.abs(lo), np.abs(hi)),
                                  np.abs(np.asarray(step, dtype=np.float64))))
    return np.asarray(BAND_RTOL * scale, dtype=np.float64)


def inside_band(value: FloatArray, lower: FloatArray, upper: FloatArray,
                tolerance: FloatArray) -> npt.NDArray[np.bool_]:
    """Element-wise ``lower - tolerance <= value <= upper + tolerance``."""
    return np.asarray((value >= lower - tolerance) & (value <= upper + tolerance))


def _frozen(name: str, value: object, shape: tuple[int, ...]) -> FloatArray:
    try:
        array = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numbers, got {value!r}") from exc
    if array.ndim == 0 and shape != ():
        array = np.full(shape, float(array))
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    array.setflags(write=False)
    return array
