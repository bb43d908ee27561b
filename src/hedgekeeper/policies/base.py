"""The policy port: ``Policy.decide(view) -> HedgeTarget | None``.

A policy answers *whether* each book in a batch should rebalance now and *to what*. It is pure:
no I/O, no clock, no globals, and no state kept between calls. Everything a policy needs across
steps (time and spot of the last rebalance, recent rebalance times) is handed to it in the
:class:`PolicyView`, so a replay is exact. Live trading is a batch of one.

Conventions (all arrays carry a leading batch axis of length ``n``: paths or books):

* **time** is a float in years since 1970-01-01T00:00:00Z on ACT/365, i.e. POSIX seconds divided
  by 31 536 000 (:data:`SECONDS_PER_YEAR`). Simulations may start at any value; calendar
  alignment to a clock time of day uses this epoch. :func:`years_since_epoch` converts
  ``datetime64`` values.
* **delta** is in coin (units of the underlying, e.g. BTC); USD delta is ``delta * spot``.
* **gamma** is ``d(delta)/d(spot)`` of the whole book, coin per USD.
* **vega** is the book's value change per 1.00 of volatility, USD.
* **vol** values (realised, forecast, DVOL, option vols) are annualised fractions (0.55, not 55).
* **rate** is continuously compounded, a fraction per year.
* **weights** are fractions of portfolio value per asset, shape ``(n, assets)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int16]
KindArray = npt.NDArray[np.int8]

SECONDS_PER_YEAR = 365.0 * 86_400.0
"""ACT/365 year length in seconds; ``time`` in a view is POSIX seconds / this."""


def years_since_epoch(timestamps: npt.ArrayLike) -> FloatArray:
    """Convert ``datetime64`` values (any unit, UTC) to years since 1970-01-01 on ACT/365.

    Parameters
    ----------
    timestamps : array_like of datetime64 or ISO-8601 strings, shape ``(n,)`` or scalar

    Returns
    -------
    ndarray of float64, same shape; NaT becomes NaN.
    """
    stamps = np.asarray(timestamps, dtype="datetime64[ns]")
    nanos = stamps.astype(np.int64).astype(np.float64)
    out = np.where(np.isnat(stamps), np.nan, nanos / 1e9 / SECONDS_PER_YEAR)
    return np.asarray(out, dtype=np.float64)


class Reason(IntEnum):
    """Why an element of a batch did, or did not, rebalance (``HedgeTarget.reason``)."""

    HOLD = 0
    """Inside the band / not due: no trade."""
    SCHEDULE = 1
    """Calendar time reached."""
    DELTA_BAND = 2
    """Net delta left its band."""
    WEIGHT_BAND = 3
    """A portfolio weight left its band."""
    GAMMA_BAND = 4
    """Net gamma left its band."""
    VEGA_BAND = 5
    """Net vega left its band."""
    REFUSED_NAN = 10
    """Refused: a required input is NaN or infinite."""
    REFUSED_STALE = 11
    """Refused: market data older than the policy's ``max_data_age`` (or its time is missing)."""
    REFUSED_MODEL = 12
    """Refused: the policy's formula is undefined for these inputs (e.g. a negative Leland
    variance, an expired option)."""
    COOLDOWN = 20
    """Suppressed by a cooldown after the last rebalance."""
    BELOW_MIN_TRADE = 21
    """Suppressed: the trade would be smaller than the minimum size."""
    MAX_FREQUENCY = 22
    """Suppressed: too many rebalances in the recent window."""
    NOT_ALL = 23
    """Suppressed by ``AllOf``: not every member policy fired."""

    @property
    def refused(self) -> bool:
        """True for refusals caused by bad or stale input."""
        return self in (Reason.REFUSED_NAN, Reason.REFUSED_STALE, Reason.REFUSED_MODEL)

    @property
    def suppressed(self) -> bool:
        """True for trades a combinator held back (cooldown, size, frequency, all-of)."""
        return self in (
            Reason.COOLDOWN,
            Reason.BELOW_MIN_TRADE,
            Reason.MAX_FREQUENCY,
            Reason.NOT_ALL,
        )


@dataclass(frozen=True, slots=True)
class OptionLegs:
    """Option legs of each book, shape ``(n, legs)``; pad unused legs with ``quantity = 0``.

    Attributes
    ----------
    strike : USD.
    expiry : time to expiry in years (ACT/365), > 0.
    vol : annualised volatility of each leg, fraction.
    kind : int8, +1 call, -1 put.
    quantity : signed number of options, each on one coin of underlying; positive long.
    """

    strike: FloatArray
    expiry: FloatArray
    vol: FloatArray
    kind: KindArray
    quantity: FloatArray

    def __post_init__(self) -> None:
        shape: tuple[int, ...] | None = None
        for field in dataclasses.fields(self):
            dtype = np.int8 if field.name == "kind" else np.float64
            array = _frozen_array(f"options.{field.name}", getattr(self, field.name), dtype)
            if array.ndim != 2:
                raise ValueError(
                    f"options.{field.name} must have shape (n, legs), got {array.shape}"
                )
            if shape is None:
                shape = array.shape
            elif array.shape != shape:
                raise ValueError(
                    f"options.{field.name} has shape {array.shape}, "
                    f"expected {shape} like options.strike"
                )
            object.__setattr__(self, field.name, array)
        if not np.all(np.isin(self.kind, (1, -1))):
            raise ValueError("options.kind must be +1 (call) or -1 (put)")

    @property
    def size(self) -> int:
        """Batch length ``n``."""
        return int(self.strike.shape[0])

    def take(self, index: npt.ArrayLike) -> OptionLegs:
        """The rows ``index`` (an integer array or boolean mask) as a new ``OptionLegs``."""
        rows = np.asarray(index)
        return OptionLegs(
            strike=self.strike[rows],
            expiry=self.expiry[rows],
            vol=self.vol[rows],
            kind=self.kind[rows],
            quantity=self.quantity[rows],
        )


# Fields of PolicyView that hold per-element arrays of shape (n,), and those of shape (n, k).
_VECTOR_FIELDS = (
    "time",
    "spot",
    "net_delta",
    "data_time",
    "target_delta",
    "gamma",
    "vega",
    "target_gamma",
    "target_vega",
    "rate",
    "last_rebalance_time",
    "last_rebalance_spot",
    "realised_vol",
    "vol_percentile",
    "dvol",
    "forecast_vol",
)
_MATRIX_FIELDS = ("weights", "target_weights", "recent_rebalance_times")


@dataclass(frozen=True, slots=True)
class PolicyView:
    """Everything a policy may look at, for a batch of ``n`` books or paths.

    Required fields are the clock, the market and the book's delta. Optional fields default to
    ``None``; a policy that needs one raises ``ValueError`` naming it. All arrays are copied to
    read-only float64 on construction (the caller's arrays are never touched).

    Attributes
    ----------
    time : (n,) years since the epoch (see module docstring).
    spot : (n,) underlying price, USD per coin.
    net_delta : (n,) net delta of the whole book including existing hedges, coin.
    data_time : (n,) time stamp of the oldest market input the exposure was computed from, in the
        same years-since-epoch unit; NaN means unknown and is refused as stale.
    target_delta : (n,) desired net delta, coin. ``None`` means 0.
    gamma : (n,) net gamma of the book, coin per USD.
    vega : (n,) net vega of the book, USD per 1.00 vol.
    target_gamma, target_vega : (n,) desired net gamma / vega. ``None`` means 0.
    rate : (n,) continuously compounded risk-free rate, fraction per year. ``None`` means 0.
    last_rebalance_time : (n,) years since epoch of the last rebalance; NaN = never.
    last_rebalance_spot : (n,) spot at the last rebalance, USD; NaN = never.
    recent_rebalance_times : (n, k) times of the last ``k`` rebalances, NaN-padded (for
        ``MaxFrequency``).
    realised_vol : (n,) realised volatility, annualised fraction.
    vol_percentile : (n,) percentile in [0, 1] of the current volatility in its own history.
    dvol : (n,) Deribit DVOL index as a fraction (DVOL 55 -> 0.55).
    forecast_vol : (n,) a forecaster's volatility forecast over the hedging horizon, fraction.
    weights : (n, assets) current portfolio weights, fractions.
    target_weights : (n, assets) target portfolio weights, fractions.
    options : the option legs (strike, expiry, vol, kind, quantity), shape (n, legs).
    """

    time: FloatArray
    spot: FloatArray
    net_delta: FloatArray
    data_time: FloatArray
    target_delta: FloatArray | None = None
    gamma: FloatArray | None = None
    vega: FloatArray | None = None
    target_gamma: FloatArray | None = None
    target_vega: FloatArray | None = None
    rate: FloatArray | None = None
    last_rebalance_time: FloatArray | None = None
    last_rebalance_spot: FloatArray | None = None
    recent_rebalance_times: FloatArray | None = None
    realised_vol: FloatArray | None = None
    vol_percentile: FloatArray | None = None
    dvol: FloatArray | None = None
    forecast_vol: FloatArray | None = None
    weights: FloatArray | None = None
    target_weights: FloatArray | None = None
    options: OptionLegs | None = None

    def __post_init__(self) -> None:
        time = _frozen_array("view.time", self.time, np.float64)
        if time.ndim != 1:
            raise ValueError(f"view.time must have shape (n,), got {time.shape}")
        n = time.shape[0]
        object.__setattr__(self, "time", time)
        for name in _VECTOR_FIELDS[1:]:
            value = getattr(self, name)
            if value is None:
                continue
            array = _frozen_array(f"view.{name}", value, np.float64)
            if array.ndim == 0:
                array = _frozen_array(f"view.{name}", np.full(n, array), np.float64)
            if array.shape != (n,):
                raise ValueError(
                    f"view.{name} must have shape ({n},) like view.time, got {array.shape}"
                )
            object.__setattr__(self, name, array)
        for name in _MATRIX_FIELDS:
            value = getattr(self, name)
            if value is None:
                continue
            array = _frozen_array(f"view.{name}", value, np.float64)
            if array.ndim != 2 or array.shape[0] != n:
                raise ValueError(f"view.{name} must have shape ({n}, k), got {array.shape}")
            object.__setattr__(self, name, array)
        if (self.weights is None) != (self.target_weights is None):
            raise ValueError("view.weights and view.target_weights must be given together")
        if (
            self.weights is not None
            and self.target_weights is not None
            and self.weights.shape != self.target_weights.shape
        ):
            raise ValueError(
                f"view.target_weights has shape {self.target_weights.shape}, "
                f"expected {self.weights.shape} like view.weights"
            )
        if self.options is not None and self.options.size != n:
            raise ValueError(
                f"view.options must have {n} rows like view.time, got {self.options.size}"
            )

    @property
    def size(self) -> int:
        """Batch length ``n``."""
        return int(self.time.shape[0])

    def require(self, name: str, policy: str) -> FloatArray:
        """Return the optional array field ``name``, or raise ``ValueError`` naming it."""
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"view.{name} is required by {policy} but was not given")
        return np.asarray(value, dtype=np.float64)

    def require_options(self, policy: str) -> OptionLegs:
        """Return ``options``, or raise ``ValueError`` naming it."""
        if self.options is None:
            raise ValueError(f"view.options is required by {policy} but was not given")
        return self.options

    def spot_or_one(self) -> FloatArray:
        """``spot`` with non-finite or non-positive entries replaced by 1.0 (USD).

        For computing on elements that are refused anyway without tripping validation or
        floating-point warnings; never use the result of a refused element.
        """
        return np.where(np.isfinite(self.spot) & (self.spot > 0.0), self.spot, 1.0)

    def target_delta_or_zero(self) -> FloatArray:
        """``target_delta``, or zeros when it was not given (coin)."""
        if self.target_delta is None:
            return np.zeros(self.size)
        return self.target_delta

    def take(self, index: npt.ArrayLike) -> PolicyView:
        """The batch elements ``index`` (integer array or boolean mask) as a new view."""
        rows = np.asarray(index)
        if rows.ndim == 0:
            rows = rows.reshape(1)
        changes: dict[str, object] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None:
                continue
            changes[field.name] = value.take(rows) if isinstance(value, OptionLegs) else value[rows]
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class GreekTarget:
    """Where one Greek should be after the trade, per batch element (shape ``(n,)``).

    The sizer aims at ``target`` and must end inside ``[lower, upper]``. NaN where the element
    does not rebalance. Units are those of the Greek (delta coin, gamma coin/USD, vega USD/vol).
    """

    target: FloatArray
    lower: FloatArray
    upper: FloatArray

    def __post_init__(self) -> None:
        shape: tuple[int, ...] | None = None
        for name in ("target", "lower", "upper"):
            array = _frozen_array(f"GreekTarget.{name}", getattr(self, name), np.float64)
            if array.ndim != 1 or (shape is not None and array.shape != shape):
                raise ValueError(f"GreekTarget.{name} must have shape (n,), got {array.shape}")
            shape = array.shape
            object.__setattr__(self, name, array)

    def take(self, index: npt.ArrayLike) -> GreekTarget:
        """The elements ``index`` as a new ``GreekTarget``."""
        rows = np.asarray(index)
        return GreekTarget(self.target[rows], self.lower[rows], self.upper[rows])


@dataclass(frozen=True, slots=True)
class HedgeTarget:
    """A policy's decision for a batch of ``n`` books: who rebalances, to what, and why.

    Attributes
    ----------
    rebalance : (n,) bool, True where the element should trade now.
    reason : (n,) int16 :class:`Reason` codes, one per element, also for holds and refusals.
    policy : (n,) str, name of the policy that set the element's reason.
    delta : target and band for net delta (coin), or None if the policy does not target delta.
    gamma : target and band for net gamma (coin/USD), or None.
    vega : target and band for net vega (USD per 1.00 vol), or None.
    weights : (n, assets) target portfolio weights (NaN rows where not rebalancing), or None.
    """

    rebalance: BoolArray
    reason: IntArray
    policy: npt.NDArray[np.str_]
    delta: GreekTarget | None = None
    gamma: GreekTarget | None = None
    vega: GreekTarget | None = None
    weights: FloatArray | None = None

    def __post_init__(self) -> None:
        rebalance = _frozen_array("HedgeTarget.rebalance", self.rebalance, np.bool_)
        n = rebalance.shape[0] if rebalance.ndim == 1 else -1
        if n < 0:
            raise ValueError(f"HedgeTarget.rebalance must have shape (n,), got {rebalance.shape}")
        reason = _frozen_array("HedgeTarget.reason", self.reason, np.int16)
        policy = np.array(self.policy, dtype=np.str_)
        if policy.ndim == 0:
            policy = np.full(n, policy)
        policy.setflags(write=False)
        for name, array in (("reason", reason), ("policy", policy)):
            if array.shape != (n,):
                raise ValueError(f"HedgeTarget.{name} must have shape ({n},), got {array.shape}")
        valid = np.isin(reason, [int(code) for code in Reason])
        if not np.all(valid):
            raise ValueError(f"HedgeTarget.reason holds unknown codes {np.unique(reason[~valid])}")
        for name in ("delta", "gamma", "vega"):
            greek = getattr(self, name)
            if greek is not None and greek.target.shape != (n,):
                raise ValueError(f"HedgeTarget.{name} must have shape ({n},)")
        if self.weights is not None:
            weights = _frozen_array("HedgeTarget.weights", self.weights, np.float64)
            if weights.ndim != 2 or weights.shape[0] != n:
                raise ValueError(f"HedgeTarget.weights must have shape ({n}, assets)")
            object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "rebalance", rebalance)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "policy", policy)

    @property
    def size(self) -> int:
        """Batch length ``n``."""
        return int(self.rebalance.shape[0])

    def explain(self, index: int) -> str:
        """One line ``"<policy>: <REASON>"`` for element ``index``."""
        return f"{self.policy[index]}: {Reason(int(self.reason[index])).name}"

    def take(self, index: npt.ArrayLike) -> HedgeTarget:
        """The elements ``index`` (integer array or boolean mask) as a new ``HedgeTarget``."""
        rows = np.asarray(index)
        if rows.ndim == 0:
            rows = rows.reshape(1)
        return HedgeTarget(
            rebalance=self.rebalance[rows],
            reason=self.reason[rows],
            policy=self.policy[rows],
            delta=None if self.delta is None else self.delta.take(rows),
            gamma=None if self.gamma is None else self.gamma.take(rows),
            vega=None if self.vega is None else self.vega.take(rows),
            weights=None if self.weights is None else self.weights[rows],
        )


@runtime_checkable
class Policy(Protocol):
    """When, and to what, to rebalance. Pure and vectorised over the batch axis.

    ``decide`` returns ``None`` when every element holds (reason ``HOLD``) and nothing was
    refused; otherwise a :class:`HedgeTarget` covering the whole batch, where elements that do
    not trade carry ``rebalance=False`` and their reason (hold, refusal, suppression).
    """

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """Decide for every element of ``view``."""
        ...


def _frozen_array(name: str, value: object, dtype: type[np.generic]) -> npt.NDArray[np.generic]:
    try:
        array = np.array(value, dtype=dtype, copy=True)
    except (TypeError, ValueError) as exc:
        expected = np.dtype(dtype).name
        raise ValueError(f"{name} must be an array of {expected}, got {value!r}") from exc
    array.setflags(write=False)
    return array
