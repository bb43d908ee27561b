"""From the keeper's configuration and live state to the engine's inputs (pure).

The keeper calls :func:`hedgekeeper.engine.decide` — the one decision path, the same as the
research shell's — with :class:`~hedgekeeper.engine.EngineState` (option book from the config
plus hedge positions from the journal's fills, rebalance history from the journal) and
:class:`~hedgekeeper.engine.MarketInputs` (the feed's snapshot, the venue's quotes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from hedgekeeper.costs import HalfSpread, ProportionalFee, Quote
from hedgekeeper.domain.book import Book, Position
from hedgekeeper.domain.instruments import Future, Instrument, Option, Perpetual
from hedgekeeper.domain.naming import parse_instrument
from hedgekeeper.engine import Components, EngineState, HedgeInstrument, SizerConfig
from hedgekeeper.keeper.config import HedgeConfig, KeeperConfig
from hedgekeeper.policies import Cooldown, DeltaBand, Policy
from hedgekeeper.policies.base import SECONDS_PER_YEAR
from hedgekeeper.risk import BookGreeks, CostBenefitGate, Gate, LimitsGate


@dataclass(frozen=True, slots=True, eq=False)
class KeeperModel:
    """What the keeper builds once from its config.

    Attributes
    ----------
    options : the option book (never traded by the keeper).
    hedges : hedge instruments by name, in config order.
    components : the engine's policy, sizer, costs and gates.
    option_names : names of the book's options (the snapshot needs their vols).
    """

    options: Book
    hedges: Mapping[str, Instrument]
    components: Components
    option_names: tuple[str, ...]

    def book(self, hedge_positions: Mapping[str, Decimal]) -> Book:
        """The whole book: options plus the hedge positions (contracts), one underlying."""
        extra = tuple(Position(instrument=self.hedges[name], quantity=float(quantity))
                      for name, quantity in hedge_positions.items()
                      if name in self.hedges and quantity != 0)
        return Book(self.options.positions + extra)

    def live_book(self, hedge_positions: Mapping[str, Decimal], now: datetime) -> Book:
        """:meth:`book` without options that have expired (settled) at ``now``."""
        return self.book(hedge_positions).filter(
            lambda p: not isinstance(p.instrument, Option | Future) or p.instrument.expiry > now)


def _policy(config: HedgeConfig, max_data_age_s: float) -> Policy:
    spec = config.policy
    band: Policy = DeltaBand(halfwidth=spec.halfwidth, unit=spec.unit, hedge_to=spec.hedge_to,
                             max_data_age=max_data_age_s / SECONDS_PER_YEAR)
    if spec.cooldown_s > 0.0:
        band = Cooldown(band, spec.cooldown_s / SECONDS_PER_YEAR)
    return band


def build_model(config: KeeperConfig) -> KeeperModel:
    """Parse the book and hedge instruments and assemble the engine's components.

    Raises
    ------
    ValueError
        Naming a position or hedge instrument that is not a valid Deribit name, a hedge
        instrument that is not a perpetual, future or option, or a book on several coins.
    """
    positions = []
    for index, spec in enumerate(config.book.positions):
        try:
            instrument = parse_instrument(spec.instrument)
        except ValueError as exc:
            raise ValueError(f"book.positions[{index}].instrument: {exc}") from None
        positions.append(Position(instrument=instrument, quantity=spec.quantity))
    options = Book(tuple(positions))
    coins = set(options.underlyings())
    hedges: dict[str, Instrument] = {}
    sizer: list[HedgeInstrument] = []
    for index, hedge in enumerate(config.hedge.instruments):
        try:
            instrument = parse_instrument(hedge.name)
        except ValueError as exc:
            raise ValueError(f"hedge.instruments[{index}].name: {exc}") from None
        if not isinstance(instrument, Perpetual | Future | Option):
            raise ValueError(f"hedge.instruments[{index}].name: {hedge.name!r} is not a "
                             "perpetual, future or option")
        coins.add(instrument.underlying)
        hedges[hedge.name] = instrument
        sizer.append(HedgeInstrument(instrument, max_order=hedge.max_order,
                                     position_min=hedge.position_min,
                                     position_max=hedge.position_max))
    if len(coins) != 1:
        raise ValueError(f"book and hedge instruments must share one underlying, got "
                         f"{sorted(coins)}")
    gates: list[Gate] = [LimitsGate(max_order_notional_usd=config.rails.max_order_notional_usd)]
    if config.hedge.risk_aversion is not None:
        gates.insert(0, CostBenefitGate(risk_aversion=config.hedge.risk_aversion,
                                        horizon_years=config.hedge.horizon_s / SECONDS_PER_YEAR))
    components = Components(
        policy=_policy(config.hedge, config.rails.max_data_age_s), sizer=SizerConfig(tuple(sizer)),
        cost_model=ProportionalFee(taker_bps=config.hedge.taker_bps) + HalfSpread(),
        gates=tuple(gates), targets=BookGreeks(config.hedge.target_delta, 0.0, 0.0),
    )
    names = tuple(p.name for p in options.positions if isinstance(p.instrument, Option))
    return KeeperModel(options=options, hedges=hedges, components=components,
                       option_names=names)


def engine_state(model: KeeperModel, hedge_positions: Mapping[str, Decimal], now: datetime,
                 last_rebalance: datetime | None, last_rebalance_spot: float | None,
                 recent: tuple[datetime, ...]) -> EngineState:
    """The engine's view of the past: the live book and the rebalance history."""
    return EngineState(book=model.live_book(hedge_positions, now), last_rebalance=last_rebalance,
                       last_rebalance_spot=last_rebalance_spot, recent_rebalances=recent)


def engine_quote(bid: Decimal, ask: Decimal) -> Quote:
    """A venue's top of book as the cost models' :class:`~hedgekeeper.costs.Quote` (floats)."""
    return Quote(bid=float(bid), ask=float(ask))


def contract_notional_usd(instrument: Instrument, price: float, spot: float) -> float:
    """Underlying notional of one contract, USD (face value for inverse perpetuals/futures)."""
    if isinstance(instrument, Perpetual | Future) and instrument.contract_currency == "USD":
        return instrument.contract_size
    if isinstance(instrument, Option):
        return instrument.contract_size * spot
    return instrument.contract_size * price
