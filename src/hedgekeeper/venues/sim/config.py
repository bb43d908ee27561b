"""Configuration of the paper exchange: instruments and their synthetic book, account, latency.

Every config is frozen, validated on construction, and built from a plain mapping (a TOML table)
with :meth:`from_mapping`, which rejects unknown keys and names the bad field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Self

from hedgekeeper.venues.base import as_decimal

__all__ = [
    "DEFAULT_INSTRUMENTS",
    "InstrumentSpec",
    "LatencySpec",
    "SimConfig",
]


def _number(name: str, value: object, *, low: float, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < low or (low_open and number == low):
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return number


def _check_keys(kind: type[Any], where: str, values: Mapping[str, object]) -> None:
    if not isinstance(values, Mapping):
        raise ValueError(f"{where} must be a table (mapping), got {values!r}")
    known = {f.name for f in fields(kind)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"expected some of {', '.join(sorted(known))}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class InstrumentSpec:
    """One instrument of the paper exchange and the shape of its synthetic book.

    The book is a ladder around the feed's reference price ``P``: level ``i`` (0-based) bids at
    ``P * (1 - half_spread_bps/1e4 - i * level_spacing_bps/1e4)`` rounded down to the tick and
    asks symmetrically rounded up, each with ``level_size * (1 + size_growth * i)`` contracts.
    Liquidity taken from the ladder comes back linearly: the whole ladder's depth per
    ``replenish_seconds``.

    Attributes
    ----------
    name : str
        Venue instrument name, e.g. ``"BTC-PERPETUAL"``.
    initial_price : float
        Reference price (quote currency per coin) where a synthetic feed starts.
    volatility : float
        Annualised volatility (fraction) of the synthetic feed's random walk.
    tick_size, lot_size : Decimal
        Price and quantity increments; contracts are linear, ``contract_size`` coins each.
    contract_size : Decimal
        Coins per contract.
    half_spread_bps, level_spacing_bps : float
        Basis points of the reference price.
    levels : int
        Levels on each side.
    level_size : Decimal
        Contracts at the best level.
    size_growth : float
        Relative size increase per level.
    replenish_seconds : float
        Seconds for fully consumed depth to come back.
    max_order_size : Decimal
        Largest order accepted (contracts); larger ones are rejected ``SIZE_LIMIT``.
    price_band : float
        A limit price farther than this fraction from the reference is rejected ``INVALID_PRICE``.
    """

    name: str
    initial_price: float
    volatility: float = 0.6
    tick_size: Decimal = Decimal("0.5")
    lot_size: Decimal = Decimal("0.001")
    contract_size: Decimal = Decimal(1)
    half_spread_bps: float = 1.0
    level_spacing_bps: float = 2.0
    levels: int = 10
    level_size: Decimal = Decimal("0.5")
    size_growth: float = 0.5
    replenish_seconds: float = 5.0
    max_order_size: Decimal = Decimal(50)
    price_band: float = 0.1

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or not self.name.isprintable():
            raise ValueError(f"instrument name must be a non-empty string, got {self.name!r}")
        _number(f"{self.name}.initial_price", self.initial_price, low=0.0, low_open=True)
        _number(f"{self.name}.volatility", self.volatility, low=0.0)
        for name in ("tick_size", "lot_size", "contract_size", "level_size", "max_order_size"):
            value = as_decimal(getattr(self, name), f"{self.name}.{name}", positive=True)
            object.__setattr__(self, name, value)
        _number(f"{self.name}.half_spread_bps", self.half_spread_bps, low=0.0, low_open=True)
        _number(f"{self.name}.level_spacing_bps", self.level_spacing_bps, low=0.0, low_open=True)
        _number(f"{self.name}.size_growth", self.size_growth, low=0.0)
        _number(f"{self.name}.replenish_seconds", self.replenish_seconds, low=0.0, low_open=True)
        _number(f"{self.name}.price_band", self.price_band, low=0.0, low_open=True)
        if isinstance(self.levels, bool) or not isinstance(self.levels, int) or self.levels < 1:
            raise ValueError(f"{self.name}.levels must be an integer >= 1, got {self.levels!r}")
        if self.level_size % self.lot_size != 0:
            raise ValueError(
                f"{self.name}.level_size must be a multiple of lot_size={self.lot_size}, "
                f"got {self.level_size}"
            )

    @classmethod
    def for_price(cls, name: str, price: float) -> Self:
        """Defaults scaled to an instrument trading near ``price``.

        Tick ``10**(e-5)`` and lot ``10**(1-e)`` for ``e = floor(log10(price))`` (BTC near
        87,000: tick 0.1, lot 0.001), 500 lots at the best level, orders up to 50,000 lots.
        """
        _number(f"{name}.price", price, low=0.0, low_open=True)
        exponent = math.floor(math.log10(price))
        lot = Decimal(1).scaleb(1 - exponent)
        return cls(
            name=name,
            initial_price=float(price),
            tick_size=Decimal(1).scaleb(exponent - 5),
            lot_size=lot,
            level_size=lot * 500,
            max_order_size=lot * 50_000,
        )

    @classmethod
    def from_mapping(cls, name: str, values: Mapping[str, object]) -> Self:
        """Build from a TOML table (``name`` is the table's key); unknown keys are an error."""
        _check_keys(cls, f"instrument {name!r}", values)
        if "name" in values and values["name"] != name:
            raise ValueError(f"instrument {name!r}: name {values['name']!r} differs from its key")
        kwargs: dict[str, Any] = {**values, "name": name}
        return cls(**kwargs)


@dataclass(frozen=True, slots=True, kw_only=True)
class LatencySpec:
    """Request latency of the paper exchange.

    Attributes
    ----------
    seconds : float
        Fixed one-way latency added to every request.
    jitter_seconds : float
        Extra latency drawn uniformly from ``[0, jitter_seconds]`` (seeded).
    sleep : bool
        ``True``: really wait (``asyncio.sleep``), for a wall-clock venue. ``False``: simulate
        it: the request is processed at venue time ``now + latency`` (the market moves first),
        and no time passes for the caller.
    """

    seconds: float = 0.0
    jitter_seconds: float = 0.0
    sleep: bool = False

    def __post_init__(self) -> None:
        _number("latency.seconds", self.seconds, low=0.0)
        _number("latency.jitter_seconds", self.jitter_seconds, low=0.0)
        if not isinstance(self.sleep, bool):
            raise ValueError(f"latency.sleep must be true or false, got {self.sleep!r}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Self:
        """Build from a TOML table; unknown keys are an error."""
        _check_keys(cls, "latency", values)
        kwargs: dict[str, Any] = dict(values)
        return cls(**kwargs)


DEFAULT_INSTRUMENTS: Mapping[str, InstrumentSpec] = MappingProxyType(
    {
        # Starting prices: Deribit perpetuals at 2026-01-26T04:11:38Z (bundled sample).
        "BTC-PERPETUAL": InstrumentSpec(name="BTC-PERPETUAL", initial_price=87395.5),
        "ETH-PERPETUAL": InstrumentSpec(
            name="ETH-PERPETUAL",
            initial_price=2855.05,
            volatility=0.75,
            tick_size=Decimal("0.05"),
            lot_size=Decimal("0.01"),
            level_size=Decimal(10),
            max_order_size=Decimal(1000),
        ),
    }
)
"""Linear BTC and ETH perpetuals with a tight synthetic book."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SimConfig:
    """The paper exchange's configuration.

    Attributes
    ----------
    instruments : Mapping[str, InstrumentSpec]
        Tradable instruments by name.
    currency : str
        Cash currency of the account (prices are in it).
    initial_balance : Decimal
        Cash deposited when the ledger is created.
    initial_margin_rate : float
        Fraction of gross notional (all positions plus open orders, at the reference price) the
        equity must cover; an order that would break it is rejected ``INSUFFICIENT_MARGIN``.
    taker_fee_rate, maker_fee_rate : float
        Fee as a fraction of fill notional (a negative maker rate is a rebate).
    match_interval_seconds : float
        Resting orders are matched against the moving book at this step of venue time.
    feed_silent_seconds : float
        How long a ``feed_silent`` fault keeps the quote feed quiet (venue seconds).
    latency : LatencySpec
    seed : int
        Seed of the latency jitter.
    """

    instruments: Mapping[str, InstrumentSpec] = field(default_factory=lambda: DEFAULT_INSTRUMENTS)
    currency: str = "USD"
    initial_balance: Decimal = Decimal(1_000_000)
    initial_margin_rate: float = 0.1
    taker_fee_rate: float = 0.0005
    maker_fee_rate: float = 0.0
    match_interval_seconds: float = 1.0
    feed_silent_seconds: float = 30.0
    latency: LatencySpec = field(default_factory=LatencySpec)
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.instruments, Mapping) or not self.instruments:
            raise ValueError(
                f"instruments must be a non-empty mapping of name to InstrumentSpec, "
                f"got {self.instruments!r}"
            )
        for name, spec in self.instruments.items():
            if not isinstance(spec, InstrumentSpec) or spec.name != name:
                raise ValueError(f"instruments[{name!r}] must be an InstrumentSpec named {name!r}")
        object.__setattr__(self, "instruments", MappingProxyType(dict(self.instruments)))
        if not isinstance(self.currency, str) or not self.currency.isalnum():
            raise ValueError(
                f"currency must be a currency code such as 'USD', got {self.currency!r}"
            )
        object.__setattr__(
            self, "initial_balance", as_decimal(self.initial_balance, "initial_balance")
        )
        if self.initial_balance < 0:
            raise ValueError(f"initial_balance must be >= 0, got {self.initial_balance}")
        _number("initial_margin_rate", self.initial_margin_rate, low=0.0)
        _number("taker_fee_rate", self.taker_fee_rate, low=-1.0)
        _number("maker_fee_rate", self.maker_fee_rate, low=-1.0)
        _number("match_interval_seconds", self.match_interval_seconds, low=0.0, low_open=True)
        _number("feed_silent_seconds", self.feed_silent_seconds, low=0.0)
        if not isinstance(self.latency, LatencySpec):
            raise ValueError(f"latency must be a LatencySpec, got {self.latency!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Self:
        """Build from a TOML table such as ``[venue]``; unknown keys are an error.

        ``instruments`` is a table of tables keyed by instrument name (absent: the defaults),
        ``latency`` a table with the :class:`LatencySpec` fields.
        """
        _check_keys(cls, "venue", values)
        kwargs: dict[str, Any] = dict(values)
        if "instruments" in values:
            table = values["instruments"]
            if not isinstance(table, Mapping):
                raise ValueError(f"instruments must be a table of tables, got {table!r}")
            kwargs["instruments"] = {
                name: InstrumentSpec.from_mapping(name, spec) for name, spec in table.items()
            }
        if "latency" in values:
            latency = values["latency"]
            if not isinstance(latency, Mapping):
                raise ValueError(f"latency must be a table, got {latency!r}")
            kwargs["latency"] = LatencySpec.from_mapping(latency)
        return cls(**kwargs)
