"""The cost-model port, the market inputs it reads, and additive composition.

A cost model maps signed trade quantities (contracts; positive buys, negative sells) to the
expected cost of trading them, in USD, element by element. Models add up the way cvxportfolio's
do: ``2.0 * impact + fee + spread`` is again a cost model. Every model is vectorised: the
quantity array broadcasts against the arrays of the :class:`TradeContext`, whose last axis is
usually the instrument axis.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TradeContext:
    """Market inputs a cost model may read, per traded instrument (all per one contract).

    Every array is copied to read-only float64. Arrays must broadcast with each other and with
    the quantities priced against them (usually shape ``(instruments,)``).

    Attributes
    ----------
    bid_usd, ask_usd : best bid and ask of one contract, USD. For an inverse perpetual with a
        USD face value, one contract is worth its face: ``bid_usd = face * bid / mid``.
    notional_usd : underlying notional of one contract, USD (the base of percentage fees:
        spot times contract size for options, the face value for inverse perpetuals).
    daily_volume : average daily traded volume, contracts per day (impact models only).
        NaN (the default) means unknown; a model that needs it raises ``ValueError``.
    daily_volatility : volatility of the contract's price over one day, fraction of the price
        (impact models only). NaN (the default) means unknown.
    """

    bid_usd: FloatArray
    ask_usd: FloatArray
    notional_usd: FloatArray
    daily_volume: FloatArray = dataclasses.field(default_factory=lambda: np.array(np.nan))
    daily_volatility: FloatArray = dataclasses.field(default_factory=lambda: np.array(np.nan))

    def __post_init__(self) -> None:
        arrays: dict[str, FloatArray] = {}
        for field in dataclasses.fields(self):
            name = f"TradeContext.{field.name}"
            try:
                array = np.array(getattr(self, field.name), dtype=np.float64, copy=True)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name} must be a number or an array of numbers") from exc
            array.setflags(write=False)
            arrays[field.name] = array
            object.__setattr__(self, field.name, array)
        try:
            np.broadcast_shapes(*(a.shape for a in arrays.values()))
        except ValueError:
            shapes = ", ".join(f"{k}{v.shape}" for k, v in arrays.items())
            raise ValueError(f"TradeContext arrays do not broadcast together: {shapes}") from None
        for name in ("bid_usd", "ask_usd", "notional_usd"):
            _require(f"TradeContext.{name}", np.isfinite(arrays[name]) & (arrays[name] >= 0.0),
                     "finite and >= 0 (USD per contract)", arrays[name])
        spread_ok = np.broadcast_to(arrays["ask_usd"] >= arrays["bid_usd"],
                                    np.broadcast_shapes(arrays["ask_usd"].shape,
                                                        arrays["bid_usd"].shape))
        _require("TradeContext.ask_usd", spread_ok, ">= bid_usd",
                 np.broadcast_to(arrays["ask_usd"], spread_ok.shape))
        volume = arrays["daily_volume"]
        _require("TradeContext.daily_volume", np.isnan(volume) | (volume > 0.0),
                 "> 0 contracts per day (or NaN when unknown)", volume)
        daily_vol = arrays["daily_volatility"]
        _require("TradeContext.daily_volatility",
                 np.isnan(daily_vol) | (np.isfinite(daily_vol) & (daily_vol >= 0.0)),
                 "finite and >= 0 (or NaN when unknown)", daily_vol)

    @property
    def mid_usd(self) -> FloatArray:
        """Mid price of one contract, USD."""
        return np.asarray(0.5 * (self.bid_usd + self.ask_usd), dtype=np.float64)

    @property
    def half_spread_usd(self) -> FloatArray:
        """Half the bid-ask spread of one contract, USD."""
        return np.asarray(0.5 * (self.ask_usd - self.bid_usd), dtype=np.float64)

    def take(self, index: npt.ArrayLike) -> TradeContext:
        """The instruments ``index`` (integers or a mask, on the last axis) as a new context."""
        rows = np.asarray(index)
        changes = {
            field.name: _take_last(getattr(self, field.name), rows)
            for field in dataclasses.fields(self)
        }
        return dataclasses.replace(self, **changes)


@runtime_checkable
class CostModel(Protocol):
    """Expected cost of trading, vectorised. Models add: ``a * model1 + model2``."""

    def cost(self, quantity: FloatArray, context: TradeContext) -> FloatArray:
        """Cost in USD (>= 0) of trading ``quantity`` contracts, element by element.

        Parameters
        ----------
        quantity : ndarray of float64
            Signed contracts (buy > 0, sell < 0); broadcasts with the ``context`` arrays.
        context : TradeContext
            Quotes and liquidity of the instruments traded.

        Returns
        -------
        ndarray of float64, the broadcast shape: cost in USD, zero where ``quantity == 0``.
        """
        ...


class AdditiveCost(ABC):
    """Base of the bundled cost models: ``+`` and scalar ``*`` (cvxportfolio-style composition).

    Any object with a conforming ``cost`` method is a :class:`CostModel`; inheriting from this
    class only adds the operators.
    """

    @abstractmethod
    def cost(self, quantity: FloatArray, context: TradeContext) -> FloatArray:
        """Cost in USD (>= 0) of trading ``quantity`` contracts; see :class:`CostModel`."""

    def __add__(self, other: object) -> CostSum:
        if not isinstance(other, CostModel):
            return NotImplemented
        return CostSum(((1.0, self),)) + other

    def __radd__(self, other: object) -> CostSum:
        if isinstance(other, int | float) and other == 0:
            return CostSum(((1.0, self),))  # so that sum([...]) works
        if not isinstance(other, CostModel):
            return NotImplemented
        return CostSum(((1.0, other),)) + self

    def __mul__(self, scale: object) -> CostSum:
        if isinstance(scale, bool) or not isinstance(scale, int | float):
            return NotImplemented
        return CostSum(((_check_scale(float(scale)), self),))

    __rmul__ = __mul__


@dataclass(frozen=True, slots=True)
class CostSum(AdditiveCost):
    """``sum(scale_i * model_i.cost(q, context))``: the composition ``a * m1 + m2``.

    Attributes
    ----------
    terms : tuple of (scale, model); every scale finite and >= 0.
    """

    terms: tuple[tuple[float, CostModel], ...]

    def __post_init__(self) -> None:
        for index, term in enumerate(self.terms):
            if not (isinstance(term, tuple) and len(term) == 2 and isinstance(term[1], CostModel)):
                raise ValueError(f"CostSum.terms[{index}] must be a (scale, CostModel) pair")
            _check_scale(term[0])

    def cost(self, quantity: FloatArray, context: TradeContext) -> FloatArray:
        q = as_quantity(quantity)
        total = np.zeros(np.broadcast_shapes(q.shape, _context_shape(context)))
        for scale, model in self.terms:
            total = total + scale * model.cost(q, context)
        return np.asarray(total, dtype=np.float64)

    def __add__(self, other: object) -> CostSum:
        if isinstance(other, CostSum):
            return CostSum(self.terms + other.terms)
        if not isinstance(other, CostModel):
            return NotImplemented
        return CostSum((*self.terms, (1.0, other)))

    def __mul__(self, scale: object) -> CostSum:
        if isinstance(scale, bool) or not isinstance(scale, int | float):
            return NotImplemented
        factor = _check_scale(float(scale))
        return CostSum(tuple((factor * s, m) for s, m in self.terms))

    __rmul__ = __mul__


def as_quantity(quantity: object) -> FloatArray:
    """``quantity`` as float64 contracts, or ``ValueError`` if it is not finite."""
    try:
        q = np.asarray(quantity, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"quantity must be an array of numbers (contracts), got {quantity!r}"
        ) from exc
    _require("quantity", np.isfinite(q), "finite (contracts)", q)
    return q


def require_number(name: str, value: object, *, minimum: float | None = None) -> float:
    """``value`` as a finite float (``>= minimum`` if given); ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or (minimum is not None and number < minimum):
        bound = "" if minimum is None else f" and >= {minimum:g}"
        raise ValueError(f"{name} must be finite{bound}, got {value!r}")
    return number


def _context_shape(context: TradeContext) -> tuple[int, ...]:
    return np.broadcast_shapes(*(np.shape(getattr(context, f.name))
                                 for f in dataclasses.fields(context)))


def _take_last(array: FloatArray, rows: npt.NDArray[np.generic]) -> FloatArray:
    if array.ndim == 0:
        return array
    return np.asarray(array[..., rows], dtype=np.float64)


def _check_scale(scale: float) -> float:
    if not math.isfinite(scale) or scale < 0.0:
        raise ValueError(f"cost scale must be finite and >= 0 (costs are >= 0), got {scale}")
    return scale


def _require(name: str, ok: npt.NDArray[np.bool_], expected: str, value: FloatArray) -> None:
    if not np.all(ok):
        bad = np.ravel(np.broadcast_to(value, np.shape(ok))[~np.asarray(ok)])[0]
        raise ValueError(f"{name} must be {expected}, got {bad!r}")
