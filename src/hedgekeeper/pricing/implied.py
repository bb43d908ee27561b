"""Implied volatility from option prices: Black-76 or Black-Scholes-Merton, vectorised.

The solver is Peter Jäckel's "Let's Be Rational" (Wilmott, January 2015): a rational initial
guess followed by two third-order Householder steps on the normalised Black function, which
is evaluated to a few ulps everywhere (asymptotic expansion deep out of the money, Taylor
expansion for small total volatility, Cody's ``erfcx`` elsewhere). The kernels live in
:mod:`hedgekeeper.pricing.lets_be_rational`.

In-the-money prices are converted to the out-of-the-money option of the same strike through
put-call parity before solving, so the time value, not the whole price, drives the answer.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Literal, overload

import numpy as np
import numpy.typing as npt

from hedgekeeper.pricing import lets_be_rational as lbr
from hedgekeeper.pricing._inputs import as_float, as_kind, broadcast

FloatArray = npt.NDArray[np.float64]
StatusArray = npt.NDArray[np.int8]

MODELS: dict[str, int] = {
    "black76": lbr.MODEL_BLACK76,
    "black_scholes": lbr.MODEL_BLACK_SCHOLES,
}


class IVStatus(IntEnum):
    """Per-element outcome of :func:`implied_vol` (the ``status`` array holds these codes)."""

    OK = lbr.STATUS_OK
    """A volatility was found; it reproduces the price to floating-point accuracy."""
    BELOW_INTRINSIC = lbr.STATUS_BELOW_INTRINSIC
    """Price below the discounted intrinsic value (negative prices included): no vol exists."""
    ABOVE_MAXIMUM = lbr.STATUS_ABOVE_MAXIMUM
    """Price at or above the no-arbitrage upper bound (discounted forward for a call,
    discounted strike for a put), or within 4 ulps below it: no finite vol exists (or none
    that the price can pin down)."""
    NO_TIME_VALUE = lbr.STATUS_NO_TIME_VALUE
    """Price equals the intrinsic value within floating-point rounding (a zero out-of-the-money
    price, or an in-the-money time value of at most 4 ulps of the price): the vol is not
    determined by the price."""
    INVALID_INPUT = lbr.STATUS_INVALID_INPUT
    """Non-finite input, ``underlying <= 0``, ``strike <= 0`` or ``t < 0`` in this element."""
    ZERO_EXPIRY = lbr.STATUS_ZERO_EXPIRY
    """``t == 0``: the price carries no information about volatility."""
    NOT_CONVERGED = lbr.STATUS_NOT_CONVERGED
    """The solver returned no positive finite vol. Only seen at the edge of the double range:
    ``|ln(F/K)|`` beyond about 1400 (say a subnormal forward against a strike of 1e308)."""


@overload
def implied_vol(
    price: object,
    underlying: object,
    strike: object,
    t: object,
    rate: object,
    kind: object,
    model: str = ...,
    div_yield: object = ...,
    return_status: Literal[False] = ...,
) -> FloatArray: ...
@overload
def implied_vol(
    price: object,
    underlying: object,
    strike: object,
    t: object,
    rate: object,
    kind: object,
    model: str = ...,
    div_yield: object = ...,
    *,
    return_status: Literal[True],
) -> tuple[FloatArray, StatusArray]: ...
@overload
def implied_vol(
    price: object,
    underlying: object,
    strike: object,
    t: object,
    rate: object,
    kind: object,
    model: str,
    div_yield: object,
    return_status: Literal[True],
) -> tuple[FloatArray, StatusArray]: ...
def implied_vol(
    price: object,
    underlying: object,
    strike: object,
    t: object,
    rate: object,
    kind: object,
    model: str = "black76",
    div_yield: object = 0.0,
    return_status: bool = False,
) -> FloatArray | tuple[FloatArray, StatusArray]:
    """Black-76 or Black-Scholes-Merton implied volatility of European option prices.

    Every argument broadcasts; the work is one compiled loop over the broadcast elements.

    Parameters
    ----------
    price : array_like of float
        Option price today (discounted), in the currency of ``underlying`` and ``strike``.
    underlying : array_like of float
        Forward price for ``model="black76"`` (so that
        ``price = exp(-rate t) Black(forward, strike, t, vol)``); spot price for
        ``model="black_scholes"`` (forward ``spot * exp((rate - div_yield) t)``).
    strike : array_like of float
        Strike price, same currency as ``underlying``.
    t : array_like of float
        Time to expiry in years (ACT/365).
    rate : array_like of float
        Continuously compounded risk-free rate (0.05 for 5 %), used for discounting.
    kind : "call"/"put", "c"/"p" (any case) or +1/-1, array_like
        Option kind.
    model : {"black76", "black_scholes"}
        Pricing model the price comes from.
    div_yield : array_like of float, default 0.0
        Continuously compounded dividend (or foreign-rate / funding) yield; only with
        ``model="black_scholes"``.
    return_status : bool, default False
        Also return the per-element :class:`IVStatus` codes.

    Returns
    -------
    vol : numpy.ndarray of float64, broadcast shape of the inputs (0-d for all-scalar input)
        Implied volatility as a fraction per sqrt(year) (0.42 = 42 vol points); NaN where no
        volatility reproduces the price.
    status : numpy.ndarray of int8, same shape
        Only with ``return_status=True``: :class:`IVStatus` code per element (0 = OK).

    Raises
    ------
    ValueError
        For problems with a whole argument: an unknown ``model``; a ``kind`` that is not
        call/put; non-numeric ``price``/``underlying``/``strike``/``t``/``rate``/``div_yield``;
        shapes that do not broadcast; a non-zero ``div_yield`` with ``model="black76"``.
        Problems confined to single elements (NaN, non-positive underlying or strike, negative
        or zero expiry, prices outside the no-arbitrage bounds) never raise: they give NaN and
        their status code.

    Notes
    -----
    Accuracy: where the price is well conditioned (``16 eps * price / (vol * vega) < 1e-12``,
    see ``tests/property/test_implied_properties.py``), ``implied_vol`` of a price computed at
    ``vol`` returns ``vol`` to a relative 1e-12 or better: total volatility ``vol sqrt(t)`` from
    0.001 to 3, up to 40 standard deviations out of the money, prices down to 1e-300 (also
    where ``price / sqrt(F K)`` is subnormal: the deepest segment works with its logarithm).
    The answer can be no better than the price allows: an in-the-money price whose time value
    is a few ulps of the price determines the vol only coarsely (and at 4 ulps or less, not at
    all: ``IVStatus.NO_TIME_VALUE``).

    Status order: a non-finite or invalid element is ``INVALID_INPUT`` before anything else,
    then ``t == 0`` is ``ZERO_EXPIRY``, a negative price ``BELOW_INTRINSIC``, then the upper
    bound, the intrinsic value and the time value are checked in that order.

    References
    ----------
    P. Jäckel, "Let's Be Rational", Wilmott Magazine, January 2015, pp. 40-53.

    Examples
    --------
    >>> round(float(implied_vol(7.965567455405804, 100.0, 100.0, 1.0, 0.0, "call")), 12)
    0.2
    """
    model_code = MODELS.get(model) if isinstance(model, str) else None
    if model_code is None:
        raise ValueError(f"model must be one of {sorted(MODELS)}, got {model!r}")
    price_arr = as_float("price", price)
    underlying_arr = as_float("underlying", underlying)
    strike_arr = as_float("strike", strike)
    t_arr = as_float("t", t)
    rate_arr = as_float("rate", rate)
    div_yield_arr = as_float("div_yield", div_yield)
    kind_arr = as_kind(kind, "kind")
    if model_code == lbr.MODEL_BLACK76 and np.any(div_yield_arr != 0.0):
        raise ValueError(
            "div_yield must be 0 with model='black76' (the forward already carries it); "
            "use model='black_scholes' for a spot price with a dividend yield"
        )
    named: dict[str, FloatArray | npt.NDArray[np.int8]] = {
        "price": price_arr,
        "underlying": underlying_arr,
        "strike": strike_arr,
        "t": t_arr,
        "rate": rate_arr,
        "div_yield": div_yield_arr,
        "kind": kind_arr,
    }
    shape = broadcast(named)[0].shape
    size = int(np.prod(shape))
    price_flat, price_step = lbr.flat_for_kernel(price_arr, shape)
    underlying_flat, underlying_step = lbr.flat_for_kernel(underlying_arr, shape)
    strike_flat, strike_step = lbr.flat_for_kernel(strike_arr, shape)
    t_flat, t_step = lbr.flat_for_kernel(t_arr, shape)
    rate_flat, rate_step = lbr.flat_for_kernel(rate_arr, shape)
    div_flat, div_step = lbr.flat_for_kernel(div_yield_arr, shape)
    kind_flat, kind_step = lbr.flat_for_kernel(kind_arr, shape)
    steps = np.array(
        [price_step, underlying_step, strike_step, t_step, rate_step, div_step, kind_step],
        dtype=np.int64,
    )
    vol = np.empty(size, dtype=np.float64)
    status = np.empty(size, dtype=np.int8)
    lbr.implied_vol_kernel(
        price_flat,
        underlying_flat,
        strike_flat,
        t_flat,
        rate_flat,
        div_flat,
        kind_flat,
        steps,
        model_code,
        vol,
        status,
    )
    if return_status:
        return vol.reshape(shape), status.reshape(shape)
    return vol.reshape(shape)

