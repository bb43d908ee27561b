"""Inverse (coin-margined) European options, Deribit style: price and Greeks in coin.

A Deribit BTC option on 1 BTC pays ``max(w (S_T - K), 0) / S_T`` BTC at expiry: the USD payoff
of a vanilla option, paid in coin at the settlement price. Its value in coin is the Black-76
USD value of the vanilla divided by the forward of its expiry (Deribit's ``mark_price``
convention, with ``r = 0`` on Deribit)::

    P = V / F,     V = black76(F, K, t, r, vol, kind).price  (USD),  P in coin

Deribit, "Inverse Options" (support.deribit.com, article 25944688327069): premium and
settlement in the base coin, contract multiplier 1. With ``r = 0``, Black-76 on the chain's
``underlying`` at its ``implied_volatility`` reproduces the chain's ``mark_price`` to about
1e-5 BTC and its ``delta`` (the Black forward delta, not premium-adjusted) to about 2e-4
(median over 62,776 quotes; tests/reference/test_inverse_reference.py).

Coin Greeks are derivatives of ``P`` with the forward held fixed unless the derivative is with
respect to it; with ``D`` the Black-76 USD delta, ``G`` its gamma, ``Vega`` its vega::

    delta_pa = F dP/dF = D - P        premium-adjusted delta, coin per option
    gamma_pa = d delta_pa / dF = G - (D - P) / F                per USD
    vega     = Vega / F               coin per 1.00 vol
    theta    = theta_usd / F          coin per year of calendar time passing (F fixed)
    rho      = rho_usd / F = -t P     coin per 1.00 rate (F fixed)
    vanna    = d delta_pa / d vol = vanna_usd - Vega / F        per 1.00 vol
    volga    = volga_usd / F          coin per 1.00 vol, per 1.00 vol

``delta_pa`` is the delta Deribit uses for inverse options in an account's risk: Deribit API
v2, ``private/get_account_summary``, field ``delta_total``: "Net Transaction Delta = Black
Scholes Delta - Mark Price of Options" (docs.deribit.com), the mark price being in coin. It
is the coin amount whose coin value moves like the option's as the forward moves: a long call
deep in the money (D -> 1, P -> 1 - K/F) has ``delta_pa -> K/F``, since its coin value only
changes through ``K/F``. The USD Greeks themselves are in ``usd`` (what the chain reports as
``delta`` is ``usd.delta``; Deribit's ``vega`` column is ``usd.vega / 100``, USD per vol point).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from hedgekeeper.pricing._inputs import ArrayLike, FloatArray, KindLike
from hedgekeeper.pricing.black import OptionGreeks, black76

__all__ = ["InverseOptionGreeks", "inverse_option"]


@dataclass(frozen=True, slots=True)
class InverseOptionGreeks:
    """Coin price and coin Greeks of inverse options; every field has the broadcast shape.

    All array fields are read-only float64 (0-d for scalar inputs). ``price``, ``vega``,
    ``theta``, ``rho`` and ``volga`` are in coin per option (BTC for Deribit BTC options);
    ``delta_pa`` is in coin per option; ``gamma_pa`` per USD of forward; ``vanna`` per 1.00
    vol. ``usd`` holds the Black-76 USD price and Greeks of the same options (delta and gamma
    with respect to the forward). See the module docstring for the formulas.
    """

    price: FloatArray
    delta_pa: FloatArray
    gamma_pa: FloatArray
    vega: FloatArray
    theta: FloatArray
    rho: FloatArray
    vanna: FloatArray
    volga: FloatArray
    usd: OptionGreeks

    def __post_init__(self) -> None:
        for field in fields(self):
            if field.name == "usd":
                continue
            value = np.asarray(getattr(self, field.name), dtype=np.float64)
            view = value.view()
            view.flags.writeable = False
            object.__setattr__(self, field.name, view)


def inverse_option(
    forward: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    vol: ArrayLike,
    kind: KindLike,
    rate: ArrayLike = 0.0,
) -> InverseOptionGreeks:
    """Coin price and coin Greeks of inverse (coin-margined) European options.

    Parameters
    ----------
    forward : array_like
        Forward (futures) price of the option's expiry in USD, ``> 0``; Deribit's chain calls
        it ``underlying``.
    strike : array_like
        Strike in USD, ``>= 0``.
    t : array_like
        Time to expiry in years (ACT/365), ``>= 0``.
    vol : array_like
        Implied volatility as a fraction (0.42, not 42), ``>= 0``.
    kind : str or array_like
        ``"call"``/``"put"``, ``"c"``/``"p"``, or integers +1 (call) / -1 (put).
    rate : array_like, default 0.0
        USD discount rate, continuously compounded (Deribit's mark prices use 0).

    Returns
    -------
    InverseOptionGreeks
        Fields of the broadcast shape of the inputs: coin price and coin Greeks, plus the
        Black-76 USD price and Greeks in ``usd``.

    Raises
    ------
    ValueError
        Naming the argument: a forward that is not a finite number ``> 0`` (the coin price
        divides by it), and every error :func:`hedgekeeper.pricing.black76` raises.

    Examples
    --------
    Deribit BTC-6FEB26-100000-C on 2026-01-26 04:11:38 UTC: mark price 0.00111198 BTC,
    delta 0.03851 (the bundled sample).

    >>> g = inverse_option(87519.87, 100000.0, 0.030550519, 0.4224, "call")
    >>> round(float(g.price), 5), round(float(g.usd.delta), 4)
    (0.00111, 0.0385)
    """
    usd = black76(forward, strike, t, rate, vol, kind)
    f = np.broadcast_to(np.asarray(forward, dtype=np.float64), usd.price.shape)
    if not np.all(f > 0.0):
        bad = np.ravel(f[~(f > 0.0)])[0]
        raise ValueError(f"forward must be a finite number > 0 for an inverse option, got {bad}")
    price = usd.price / f
    delta_pa = usd.delta - price
    return InverseOptionGreeks(
        price=price,
        delta_pa=delta_pa,
        gamma_pa=usd.gamma - delta_pa / f,
        vega=usd.vega / f,
        theta=usd.theta / f,
        rho=usd.rho / f,
        vanna=usd.vanna - usd.vega / f,
        volga=usd.volga / f,
        usd=usd,
    )
