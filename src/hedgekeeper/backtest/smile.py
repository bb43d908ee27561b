"""The implied volatility the backtest prices its options at, from Deribit's DVOL index.

There are no historical option chains for 2019-2024 in the project's data, only DVOL: Deribit's
30-day implied volatility index (a variance-swap style average over the whole smile of the two
expiries around 30 days, in vol points). The backtest turns it into a volatility for any strike
and expiry with a deliberately simple rule, :class:`DvolSmile`:

``sigma(K, T) = atm_vol * max(0.1, 1 + skew * ln(K / F) / sqrt(T / T30))``, with
``atm_vol = atm_ratio * DVOL`` and ``T30 = 30 / 365``.

* **Default: flat** (``atm_ratio = 1``, ``skew = 0``): every strike and expiry at DVOL. The
  books it is used for are near-the-money options struck at about 30 days, where DVOL's horizon
  matches the option's, near-the-money legs are the least sensitive to the smile, and the sign
  of BTC's skew flips between regimes (call skew in 2021 rallies, put skew in 2022 sell-offs),
  so a fixed skew would be a guess. Because DVOL averages the whole smile it sits a little
  above at-the-money vol; ``atm_ratio < 1`` (e.g. 0.95) models that.
* **Skew** (``skew != 0``): a linear smile in standardised log-moneyness ``ln(K/F)/sqrt(T/T30)``,
  so its slope per unit of log-moneyness steepens as ``1/sqrt(T)`` for short expiries (the
  usual sticky-delta scaling). With ``skew = -0.1`` a 30-day put struck 10 % below the forward
  (``ln(K/F) = -0.105``) is priced at ``atm * (1 + 0.0105)``, about 1 % above ATM vol.
* **Term structure flat**: the same ATM vol for every expiry (DVOL is the only point known).
* **Sticky moneyness**: the smile moves with the forward; the vol of a held option changes as
  DVOL and ``K/F`` change, hour by hour.

Before DVOL exists (it starts 2021-03-24) or when it is stale, the backtest falls back to
realised volatility (see :mod:`hedgekeeper.backtest.market`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

DVOL_HORIZON_YEARS = 30.0 / 365.0
"""DVOL's horizon, 30 days in years (ACT/365)."""

_FLOOR = 0.1  # the smile never goes below 10 % of ATM vol
_MIN_T = 1.0 / (365.0 * 24.0)  # one hour: the standardisation is capped for expiring options


@dataclass(frozen=True, slots=True)
class DvolSmile:
    """A :class:`~hedgekeeper.domain.market.VolSurface` built from one ATM volatility.

    ``sigma(K, T) = atm_vol * max(0.1, 1 + skew * ln(K/F) / sqrt(max(T, 1 h) / T30))``.

    Parameters
    ----------
    atm_vol : at-the-money implied volatility, annualised fraction (> 0).
    skew : slope in standardised log-moneyness, dimensionless (0 = flat; negative = puts richer).
    """

    atm_vol: float
    skew: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.atm_vol) and self.atm_vol > 0.0):
            raise ValueError(f"DvolSmile.atm_vol must be a finite fraction > 0, got "
                             f"{self.atm_vol!r}")
        if not math.isfinite(self.skew):
            raise ValueError(f"DvolSmile.skew must be finite, got {self.skew!r}")

    def implied_vol(
        self, strike: FloatArray, expiry_t: FloatArray, forward: FloatArray
    ) -> FloatArray:
        """Implied Black volatility (fraction) at ``strike`` for expiry ``expiry_t`` (years).

        All arguments broadcast; ``forward`` is the forward of each point's expiry (USD).
        """
        k = np.asarray(strike, dtype=np.float64)
        t = np.asarray(expiry_t, dtype=np.float64)
        f = np.asarray(forward, dtype=np.float64)
        shape = np.broadcast_shapes(k.shape, t.shape, f.shape)
        if self.skew == 0.0:
            return np.full(shape, self.atm_vol)
        standard = np.log(k / f) / np.sqrt(np.maximum(t, _MIN_T) / DVOL_HORIZON_YEARS)
        return np.asarray(self.atm_vol * np.maximum(_FLOOR, 1.0 + self.skew * standard),
                          dtype=np.float64)
