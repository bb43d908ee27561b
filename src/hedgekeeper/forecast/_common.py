"""Pieces every forecaster shares: parameter checks and the fitted-state guard."""

from __future__ import annotations

import math

import numpy as np

from hedgekeeper.forecast.history import MarketHistory


def positive_number(owner: str, name: str, value: object, *, upper: float = math.inf) -> float:
    """``value`` as a finite float in ``(0, upper)``, else ``ValueError`` naming ``owner.name``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(f"{owner}: {name} must be a number, got {value!r}")
    number = float(value)
    if not (math.isfinite(number) and 0.0 < number < upper):
        bound = f"in (0, {upper:g})" if math.isfinite(upper) else "> 0"
        raise ValueError(f"{owner}: {name} must be a finite number {bound}, got {value!r}")
    return number


def positive_int(owner: str, name: str, value: object, *, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, else ``ValueError`` naming ``owner.name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def optional_days(owner: str, name: str, value: object) -> int | None:
    """A window length in whole days >= 1, or None (expanding window)."""
    return None if value is None else positive_int(owner, name, value)


def not_fitted(owner: str) -> ValueError:
    """The error for ``predict``/``update`` before ``fit``."""
    return ValueError(f"{owner} is not fitted: call fit(history) first")


def window_start(history: MarketHistory, window_days: int | None) -> int:
    """First row of a rolling window of ``window_days`` ending at the history's end (0 when
    the window is expanding or longer than the history)."""
    if window_days is None:
        return 0
    return max(0, history.size - 24 * window_days)


class InsufficientHistoryError(ValueError):
    """``fit`` got too little usable history (too few samples, no DVOL yet).

    A walk-forward records no forecast at such an origin instead of failing.
    """
