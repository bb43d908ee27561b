"""Market impact: the square-root law."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hedgekeeper.costs.model import (
    AdditiveCost,
    FloatArray,
    TradeContext,
    as_quantity,
    require_number,
)


@dataclass(frozen=True, slots=True)
class SquareRootImpact(AdditiveCost):
    """Square-root market impact: ``cost = |q| * mid_usd * eta * sigma_d * (|q| / V_d) ** beta``.

    The average price moves against a meta-order of ``|q|`` contracts by ``eta * sigma_d *
    (|q|/V_d)**beta`` of the price, with ``sigma_d`` the daily volatility of the contract's price
    and ``V_d`` its daily volume. ``beta = 1/2`` and ``eta`` of order one are the square-root
    law measured across markets by Tóth et al. (2011), "Anomalous price impact and the critical
    nature of liquidity in financial markets", Phys. Rev. X 1, 021006; Almgren, Thum, Hauptmann
    and Li (2005), "Direct estimation of equity market impact", Risk 18(7), fit ``beta = 0.6``
    for the temporary part. The cost is convex in ``|q|`` for ``beta >= 0``.

    Parameters
    ----------
    eta : dimensionless impact coefficient, finite and >= 0 (Tóth et al.: "Y", of order 1).
    beta : exponent, in [0, 1] (default 0.5).
    """

    eta: float = 1.0
    beta: float = 0.5

    def __post_init__(self) -> None:
        require_number("SquareRootImpact.eta", self.eta, minimum=0.0)
        if require_number("SquareRootImpact.beta", self.beta, minimum=0.0) > 1.0:
            raise ValueError(f"SquareRootImpact.beta must be in [0, 1], got {self.beta}")

    def cost(self, quantity: FloatArray, context: TradeContext) -> FloatArray:
        """USD impact cost of trading ``quantity`` contracts as one meta-order."""
        q = as_quantity(quantity)
        for name in ("daily_volume", "daily_volatility"):
            if np.any(np.isnan(getattr(context, name))):
                raise ValueError(f"TradeContext.{name} is required by SquareRootImpact but is NaN")
        size = np.abs(q)
        participation = size / context.daily_volume
        move = self.eta * context.daily_volatility * participation**self.beta
        return np.asarray(np.where(size > 0.0, size * context.mid_usd * move, 0.0),
                          dtype=np.float64)
