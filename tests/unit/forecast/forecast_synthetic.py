"""Synthetic hourly histories for the forecast tests (GARCH / GJR-GARCH returns)."""

from __future__ import annotations

import numpy as np

from hedgekeeper.forecast import MarketHistory

START = np.datetime64("2020-01-01T00:00", "ns")


def gjr_returns(
    n: int,
    omega: float,
    alpha: float,
    beta: float,
    gamma: float = 0.0,
    seed: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """(returns, conditional variances) of a zero-mean Gaussian GJR-GARCH(1,1,1) path.

    ``sigma2[t]`` is the variance of ``returns[t]`` given the past (Glosten et al. 1993).
    """
    rng = np.random.default_rng(seed)
    shocks = rng.standard_normal(n)
    sigma2 = np.empty(n)
    returns = np.empty(n)
    sigma2[0] = omega / (1.0 - alpha - 0.5 * gamma - beta)
    for t in range(n):
        if t > 0:
            previous = returns[t - 1]
            sigma2[t] = (
                omega
                + (alpha + gamma * (previous < 0)) * previous * previous
                + beta * sigma2[t - 1]
            )
        returns[t] = np.sqrt(sigma2[t]) * shocks[t]
    return returns, sigma2


def history_from_returns(
    returns: np.ndarray,
    dvol: np.ndarray | None = None,
    volume: np.ndarray | None = None,
    funding_rate: np.ndarray | None = None,
) -> MarketHistory:
    """Hourly history whose candle ``t`` (t >= 1) has log return ``returns[t - 1]``."""
    close = 30_000.0 * np.exp(np.concatenate([[0.0], np.cumsum(returns)]))
    n = close.size
    time = START + np.arange(n).astype("timedelta64[h]")

    def pad(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else np.concatenate([[np.nan], values])

    return MarketHistory(
        time=time, close=close, volume=pad(volume), dvol=pad(dvol), funding_rate=pad(funding_rate)
    )


# Hourly GARCH with a daily-ish persistence: unconditional hourly vol ~0.5 % (about 47 % a year).
OMEGA, ALPHA, BETA = 2.5e-7, 0.06, 0.93
