"""Scenario grid: full revaluation of a book's P&L over spot shocks x implied-vol shocks.

This is how portfolio-margin systems stress a book: every option is repriced (Black-76, not a
Greek expansion) at each point of the grid, in one broadcast call over
``options x spot shocks x vol shocks``.

Conventions
-----------
* A spot shock ``s`` multiplies the index and every forward and perpetual price by ``1 + s``
  (forwards move proportionally to spot; the basis ``F/S`` is held).
* A vol shock ``v`` multiplies every implied vol by ``1 + v`` (relative, so the smile's shape
  is kept); ``v > -1``.
* Time does not pass; rates are held.
* P&L is the change of the book's value in the numeraire (see
  :mod:`hedgekeeper.pricing.exposure` for the per-instrument value in USD and in coin). In the
  coin numeraire USD-linear positions are revalued in coin at the shocked index, and an inverse
  perpetual's P&L is its coin P&L ``N (1/F0 - 1/F)``; spot coins make no coin P&L.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hedgekeeper.pricing._inputs import FloatArray, as_float
from hedgekeeper.pricing.black import black76
from hedgekeeper.pricing.exposure import (
    PRODUCT_FUTURE,
    PRODUCT_OPTION,
    PRODUCT_SPOT,
    Numeraire,
    PositionArrays,
    check_numeraire,
)

DEFAULT_SPOT_SHOCKS: FloatArray = np.round(np.linspace(-0.30, 0.30, 21), 12)
"""Relative spot shocks, -30 % to +30 % in 3 % steps (21 points, 0 included)."""
DEFAULT_VOL_SHOCKS: FloatArray = np.round(np.linspace(-0.50, 0.50, 11), 12)
"""Relative implied-vol shocks, -50 % to +50 % in 10 % steps (11 points, 0 included)."""
DEFAULT_SPOT_SHOCKS.setflags(write=False)
DEFAULT_VOL_SHOCKS.setflags(write=False)


@dataclass(frozen=True, eq=False)
class ScenarioGrid:
    """Book P&L under each (spot shock, vol shock) pair.

    Attributes
    ----------
    numeraire : {"usd", "coin"}
        Currency of the P&L.
    spot_shocks : float64, shape (m,)
        Relative spot (and forward) shocks, first axis of ``pnl``.
    vol_shocks : float64, shape (k,)
        Relative implied-vol shocks, second axis of ``pnl``.
    underlying : tuple of str, length u
        Underlyings, first axis of ``pnl_by_underlying``.
    pnl_by_underlying : float64, shape (u, m, k)
        P&L of the positions on each underlying (all underlyings are shocked together).
    """

    numeraire: Numeraire
    spot_shocks: FloatArray
    vol_shocks: FloatArray
    underlying: tuple[str, ...]
    pnl_by_underlying: FloatArray

    axes: tuple[str, str] = ("spot_shock", "vol_shock")

    @property
    def pnl(self) -> FloatArray:
        """P&L of the whole book, shape ``(m, k)``, axes ``(spot_shock, vol_shock)``."""
        return np.asarray(self.pnl_by_underlying.sum(axis=0), dtype=np.float64)

    def worst(self) -> tuple[float, float, float]:
        """``(pnl, spot_shock, vol_shock)`` of the worst point of the grid."""
        pnl = self.pnl
        i, j = np.unravel_index(int(np.argmin(pnl)), pnl.shape)
        return float(pnl[i, j]), float(self.spot_shocks[i]), float(self.vol_shocks[j])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description: axes, shocks, P&L (rows: spot shocks, columns: vol shocks)."""
        return {
            "numeraire": self.numeraire,
            "axes": list(self.axes),
            "spot_shocks": self.spot_shocks.tolist(),
            "vol_shocks": self.vol_shocks.tolist(),
            "pnl": self.pnl.tolist(),
            "pnl_by_underlying": {
                coin: self.pnl_by_underlying[i].tolist() for i, coin in enumerate(self.underlying)
            },
        }


def _shocks(name: str, values: object, lower: float) -> FloatArray:
    shocks = as_float(name, values)
    if shocks.ndim != 1 or shocks.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-d array of relative shocks, got shape {shocks.shape}"
        )
    if not np.all(np.isfinite(shocks) & (shocks > lower)):
        bad = shocks[~(np.isfinite(shocks) & (shocks > lower))][0]
        raise ValueError(f"{name} must be finite and greater than {lower} (relative), got {bad!r}")
    out = np.array(shocks, dtype=np.float64)
    out.setflags(write=False)
    return out


def scenario_grid(
    positions: PositionArrays,
    spot_shocks: object = DEFAULT_SPOT_SHOCKS,
    vol_shocks: object = DEFAULT_VOL_SHOCKS,
    numeraire: str = "usd",
) -> ScenarioGrid:
    """Revalue the book at every (spot shock, vol shock) pair and return its P&L.

    Parameters
    ----------
    positions : PositionArrays
        ``n`` positions with their market inputs (see :mod:`hedgekeeper.pricing.exposure`).
    spot_shocks : array_like, shape (m,)
        Relative shocks of the index and of every forward, each > -1 (default
        :data:`DEFAULT_SPOT_SHOCKS`).
    vol_shocks : array_like, shape (k,)
        Relative shocks of every implied vol, each > -1 (default :data:`DEFAULT_VOL_SHOCKS`).
    numeraire : {"usd", "coin"}
        Currency of the P&L.

    Returns
    -------
    ScenarioGrid
        P&L of shape ``(u, m, k)`` per underlying; ``.pnl`` sums the underlyings.
    """
    chosen = check_numeraire(numeraire)
    spot_axis = _shocks("spot_shocks", spot_shocks, -1.0)
    vol_axis = _shocks("vol_shocks", vol_shocks, -1.0)
    spot_factor = 1.0 + spot_axis
    vol_factor = 1.0 + vol_axis
    coins = tuple(dict.fromkeys(positions.underlying))
    code = {coin: i for i, coin in enumerate(coins)}
    owner = np.array([code[c] for c in positions.underlying], dtype=np.intp)
    m, k = spot_factor.size, vol_factor.size
    pnl = np.zeros((len(coins), m, k))

    quantity, size = positions.quantity, positions.contract_size
    forward, index = positions.forward, positions.spot
    coin_numeraire = chosen == "coin"
    # Each position's value at the shocked point is w_i * g_i(f, v) / (f if coin else 1), with
    # w_i its quantity-weighted scale; summing w_i g_i per underlying is one matrix product.
    option = np.flatnonzero(positions.product == PRODUCT_OPTION)
    if option.size:
        shocked = black76(
            forward[option, None, None] * spot_factor[None, :, None],
            positions.strike[option, None, None],
            positions.expiry_years[option, None, None],
            positions.rate[option, None, None],
            positions.vol[option, None, None] * vol_factor[None, None, :],
            positions.option_kind[option, None, None],
        ).price
        base = black76(
            forward[option],
            positions.strike[option],
            positions.expiry_years[option],
            positions.rate[option],
            positions.vol[option],
            positions.option_kind[option],
        ).price
        weight = quantity[option] * size[option]
        if coin_numeraire:
            weight = weight / positions.conversion[option]
        membership = np.zeros((len(coins), option.size))
        membership[owner[option], np.arange(option.size)] = weight
        revalued = (membership @ shocked.reshape(option.size, m * k)).reshape(len(coins), m, k)
        if coin_numeraire:
            revalued = revalued / spot_factor[None, :, None]
        pnl += revalued - (membership @ base)[:, None, None]

    # Delta-one positions: P&L is linear in f = 1 + s in USD, and in 1/f in coin.
    future = positions.product == PRODUCT_FUTURE
    spot = positions.product == PRODUCT_SPOT
    inverse = positions.inverse
    usd_per_unit_move = (
        np.where(
            future & inverse,
            size,  # N (f - 1)
            np.where(
                future,
                size * forward,  # size F (f - 1)
                np.where(spot, size * index, 0.0),
            ),  # size S (f - 1)
        )
        * quantity
    )
    if coin_numeraire:
        # Coin P&L: inverse future N/F (1 - 1/f); linear future size F/S (1 - 1/f); spot 0.
        per_unit = np.where(future, usd_per_unit_move / positions.conversion, 0.0)
        move = 1.0 - 1.0 / spot_factor
    else:
        per_unit = usd_per_unit_move
        move = spot_factor - 1.0
    linear = np.bincount(owner, weights=per_unit, minlength=len(coins))
    pnl += linear[:, None, None] * move[None, :, None]
    pnl.setflags(write=False)
    return ScenarioGrid(
        numeraire=chosen,
        spot_shocks=spot_axis,
        vol_shocks=vol_axis,
        underlying=coins,
        pnl_by_underlying=pnl,
    )
