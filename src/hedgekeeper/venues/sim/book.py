"""The paper exchange's synthetic order book: a depth ladder around a reference price.

The book is the market maker the keeper trades against. Its shape comes from
:class:`~hedgekeeper.venues.sim.config.InstrumentSpec`; liquidity a trade takes is gone from the
top of the ladder and comes back linearly over ``replenish_seconds``. The client's own resting
orders trade against this ladder as it moves but are not part of it (quotes show the market
maker's book only). Pure bookkeeping: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from hedgekeeper.venues.base import Side, canonical
from hedgekeeper.venues.sim.config import InstrumentSpec

__all__ = ["Depletion", "Level", "crossing", "ladder"]

_BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class Level:
    """One price level: ``size`` contracts at ``price`` (quote currency per coin)."""

    price: Decimal
    size: Decimal


def _to_tick(value: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return canonical((value / tick).to_integral_value(rounding=rounding) * tick)


def ladder(spec: InstrumentSpec, reference: float) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
    """Bid and ask levels around ``reference``, best first.

    Parameters
    ----------
    spec : InstrumentSpec
        Shape of the book.
    reference : float
        Reference price, quote currency per coin (> 0).

    Returns
    -------
    bids, asks : tuple of Level
        Bids strictly descending, asks strictly ascending, every price on the tick grid and
        positive, best bid below best ask; up to ``spec.levels`` each (bids that would reach
        zero are dropped).
    """
    if not reference > 0:
        raise ValueError(f"reference price must be positive, got {reference!r}")
    ref = Decimal(repr(float(reference)))
    half_spread = Decimal(repr(spec.half_spread_bps)) / _BPS
    spacing = Decimal(repr(spec.level_spacing_bps)) / _BPS
    growth = Decimal(repr(spec.size_growth))
    tick = spec.tick_size
    bids: list[Level] = []
    asks: list[Level] = []
    for i in range(spec.levels):
        offset = half_spread + i * spacing
        size = _to_tick(spec.level_size * (1 + growth * i), spec.lot_size, ROUND_FLOOR)
        bid = _to_tick(ref * (1 - offset), tick, ROUND_FLOOR)
        ask = _to_tick(ref * (1 + offset), tick, ROUND_CEILING)
        if bids and bid >= bids[-1].price:
            bid = bids[-1].price - tick
        if asks and ask <= asks[-1].price:
            ask = asks[-1].price + tick
        if bid > 0:
            bids.append(Level(bid, size))
        asks.append(Level(ask, size))
    return tuple(bids), tuple(asks)


class Depletion:
    """Depth taken from one side of one instrument's ladder, coming back over time.

    ``consumed`` contracts are missing from the top of the ladder; they come back at the rate of
    the ladder's whole depth per ``replenish_seconds``.
    """

    def __init__(self, replenish_seconds: float) -> None:
        self.replenish_seconds = replenish_seconds
        self._consumed = Decimal(0)
        self._at: datetime | None = None

    def consumed(self, now: datetime, depth: Decimal) -> Decimal:
        """Contracts still missing at ``now`` for a ladder of total ``depth`` contracts."""
        if self._at is None or self._consumed == 0:
            return Decimal(0)
        elapsed = max((now - self._at).total_seconds(), 0.0)
        refill = depth * Decimal(repr(elapsed / self.replenish_seconds))
        return max(self._consumed - refill, Decimal(0))

    def available(self, levels: tuple[Level, ...], now: datetime) -> list[Level]:
        """``levels`` less the consumed depth, taken from the best level down."""
        depth = sum((level.size for level in levels), Decimal(0))
        missing = self.consumed(now, depth)
        left: list[Level] = []
        for level in levels:
            if missing >= level.size:
                missing -= level.size
                continue
            left.append(Level(level.price, level.size - missing))
            missing = Decimal(0)
        return left

    def take(self, quantity: Decimal, levels: tuple[Level, ...], now: datetime) -> None:
        """Record ``quantity`` contracts taken at ``now``."""
        depth = sum((level.size for level in levels), Decimal(0))
        self._consumed = min(self.consumed(now, depth) + quantity, depth)
        self._at = now


def crossing(side: Side, available: list[Level], limit: Decimal | None) -> list[Level]:
    """Levels an order of ``side`` may trade against (the opposite side's ``available``).

    A buy takes asks at or below ``limit``, a sell bids at or above it; ``None`` (a market
    order) takes every level.
    """
    if limit is None:
        return available
    if side is Side.BUY:
        return [level for level in available if level.price <= limit]
    return [level for level in available if level.price >= limit]
