"""The in-process paper exchange for a keeper config, priced by the keeper's own feed.

The paper exchange (:mod:`hedgekeeper.venues.sim`) books orders against a depth ladder around a
reference price from a :class:`~hedgekeeper.venues.sim.PriceFeed`. In paper mode that reference
must be the market the keeper is replaying, so :class:`FollowFeed` (a ``PriceFeed``) holds the
last perpetual price the keeper saw; the keeper pushes every update into it before it talks to
the venue. (A ``paper-venue serve`` process runs its own feed instead.)
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from hedgekeeper.domain.instruments import Future, Instrument, Margining, Perpetual
from hedgekeeper.keeper.clock import Clock
from hedgekeeper.keeper.config import VenueConfig
from hedgekeeper.venues.sim import (
    FaultSpec,
    InstrumentSpec,
    LatencySpec,
    SimConfig,
    SimVenue,
)


class FollowFeed:
    """A paper-exchange price feed that follows the keeper's market feed.

    Parameters
    ----------
    prices : instrument -> first reference price, quote currency per coin.
    """

    def __init__(self, prices: Mapping[str, float]) -> None:
        self._prices = {name: float(price) for name, price in prices.items()}

    def has(self, instrument: str) -> bool:
        """True for the instruments it was built with."""
        return instrument in self._prices

    def price(self, instrument: str, elapsed_seconds: float) -> float:
        """The last price pushed for ``instrument`` (venue time does not matter)."""
        try:
            return self._prices[instrument]
        except KeyError:
            raise ValueError(f"instrument {instrument!r} is not in the keeper's feed") from None

    def push(self, instrument: str, price: float) -> None:
        """Set the reference price of ``instrument`` (> 0)."""
        if not price > 0.0:
            raise ValueError(f"reference price of {instrument} must be > 0, got {price!r}")
        self._prices[instrument] = float(price)


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def paper_spec(instrument: Instrument, price: float, config: VenueConfig) -> InstrumentSpec:
    """The paper exchange's listing of a hedge instrument (linear perpetuals and futures).

    Raises ``ValueError`` for an instrument the paper exchange cannot book (inverse contracts,
    options: its contracts are linear, ``contract_size`` coins each).
    """
    if not isinstance(instrument, Perpetual | Future) or \
            instrument.margining is not Margining.LINEAR:
        raise ValueError(f"hedge instrument {instrument.name!r}: the paper exchange books linear "
                         "perpetuals and futures only (contracts of contract_size coins); hedge "
                         "with a linear one such as BTC_USDC-PERPETUAL")
    return InstrumentSpec(
        name=instrument.name, initial_price=price, tick_size=_decimal(instrument.tick_size),
        lot_size=_decimal(instrument.lot_size), contract_size=_decimal(instrument.contract_size),
        half_spread_bps=config.half_spread_bps, level_spacing_bps=2.0 * config.half_spread_bps,
        levels=config.levels, level_size=_decimal(config.level_size),
        replenish_seconds=config.replenish_s, max_order_size=_decimal(config.max_order_size),
    )


def open_paper_venue(config: VenueConfig, hedges: Mapping[str, Instrument],
                     prices: Mapping[str, float], state: str | Path,
                     clock: Clock) -> tuple[SimVenue, FollowFeed]:
    """Open (or create) the in-process paper exchange with its ledger at ``state``.

    Parameters
    ----------
    config : the ``[venue]`` table.
    hedges : the hedge instruments it lists.
    prices : their first reference prices (the feed's first update).
    state : ledger file.
    clock : venue time (the keeper's clock: a replay's market time).
    """
    specs = {name: paper_spec(instrument, prices[name], config)
             for name, instrument in hedges.items()}
    for name, spec in specs.items():
        if spec.level_size % spec.lot_size != 0:
            raise ValueError(f"venue.level_size {config.level_size} is not a multiple of the lot "
                             f"size {spec.lot_size} of {name}")
    sim = SimConfig(
        instruments=specs, initial_balance=_decimal(config.initial_balance_usd),
        taker_fee_rate=config.taker_fee_bps / 1e4, maker_fee_rate=0.0,
        match_interval_seconds=config.match_interval_s,
        latency=LatencySpec(seconds=config.latency_ms / 1000.0), seed=config.seed,
    )
    feed = FollowFeed(prices)
    venue = SimVenue.open(state, sim, feed=feed, faults=FaultSpec.parse(config.faults),
                          clock=clock)
    return venue, feed
