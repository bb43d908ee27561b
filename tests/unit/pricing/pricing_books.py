"""A mixed BTC book shared by the exposure and scenario tests (arrays, no snapshot needed).

Inverse and linear options, inverse and linear perpetuals, a dated future and spot, priced
around the 2026-01-26 04:11 UTC bundled snapshot (index ``SPOT``).
"""

from __future__ import annotations

import numpy as np

from hedgekeeper.pricing.exposure import (
    PRODUCT_FUTURE,
    PRODUCT_OPTION,
    PRODUCT_SPOT,
    PositionArrays,
)

SPOT = 87_377.38


def mixed_book(quantity_sign: float = 1.0) -> PositionArrays:
    """Inverse and linear options, inverse and linear perpetuals, a dated future and spot."""
    names = (
        "BTC-27MAR26-80000-C",
        "BTC-27MAR26-90000-P",
        "BTC-6FEB26-95000-C",
        "BTC_USDC-27MAR26-85000-P",
        "BTC-PERPETUAL",
        "BTC_USDC-PERPETUAL",
        "BTC-27MAR26",
        "BTC_USDC",
    )
    return PositionArrays(
        instrument_name=names,
        underlying=("BTC",) * 8,
        bucket=(
            "2026-03-27",
            "2026-03-27",
            "2026-02-06",
            "2026-03-27",
            "perpetual",
            "perpetual",
            "2026-03-27",
            "spot",
        ),
        product=[PRODUCT_OPTION] * 4 + [PRODUCT_FUTURE] * 3 + [PRODUCT_SPOT],
        inverse=[True, True, True, False, True, False, True, False],
        option_kind=[1, -1, 1, -1, 0, 0, 0, 0],
        strike=[80_000, 90_000, 95_000, 85_000, np.nan, np.nan, np.nan, np.nan],
        expiry_years=[0.1643, 0.1643, 0.0306, 0.1643, np.nan, np.nan, 0.1643, np.nan],
        forward=[88_050.0, 88_050.0, 87_520.0, 88_050.0, 87_395.5, 87_410.0, 88_050.0, SPOT],
        vol=[0.47, 0.43, 0.41, 0.45, np.nan, np.nan, np.nan, np.nan],
        rate=np.zeros(8),
        quantity=quantity_sign * np.array([3.0, -2.5, 10.0, 1.5, -4_000.0, 0.7, 1_500.0, -0.4]),
        contract_size=[1.0, 1.0, 1.0, 1.0, 10.0, 1.0, 10.0, 1.0],
        spot=np.full(8, SPOT),
    )
