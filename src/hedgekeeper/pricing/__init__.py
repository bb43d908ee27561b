"""Option pricing: Black-Scholes-Merton, Black-76, Greeks, implied volatility, inverse options.

Every function broadcasts its arguments (scalars or numpy arrays of compatible shapes).
Units: ``t`` in years (ACT/365), ``vol`` and ``rate`` as fractions, continuously compounded.
"""
