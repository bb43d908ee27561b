"""Option pricing: Black-Scholes-Merton, Black-76, Greeks, implied volatility, inverse options.

Every function broadcasts its arguments (scalars or numpy arrays of compatible shapes).
Units: ``t`` in years (ACT/365), ``vol`` and ``rate`` as fractions, continuously compounded;
``vega``, ``vanna``, ``volga`` per 1.00 of vol; ``rho`` per 1.00 of rate; ``theta`` per year of
calendar time passing (QuantLib's convention).
"""

from hedgekeeper.pricing.black import OptionGreeks, black76, black_scholes
from hedgekeeper.pricing.implied import IVStatus, implied_vol
from hedgekeeper.pricing.inverse import InverseOptionGreeks, inverse_option

__all__ = [
    "IVStatus",
    "InverseOptionGreeks",
    "OptionGreeks",
    "black76",
    "black_scholes",
    "implied_vol",
    "inverse_option",
]
