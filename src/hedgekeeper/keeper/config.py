"""The keeper's configuration: a frozen, typed TOML document that rejects unknown keys.

Every table is a pydantic model with ``extra="forbid"`` and ``frozen=True``; a bad value raises
:class:`ConfigError` (a ``ValueError``) naming the dotted field, e.g.
``rails.max_orders_per_minute: Input should be greater than 0``. Secrets are never written in
the config text: the config names an environment variable or a file holding them
(:class:`SecretSource`), and the loaded value is a ``pydantic.SecretStr`` that prints as
``**********``.

Units: quantities in contracts, notionals in USD, times in seconds (market time for data age,
wall time for timeouts), fractions for jumps and disagreements (0.1 = 10 %).
"""

from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(gt=0.0, lt=1.0, allow_inf_nan=False)]

BUNDLED = "bundled"
"""Path value meaning "the sample bundled with the package"."""


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the field."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PositionConfig(_Frozen):
    """One holding of the book: a Deribit instrument name and signed contracts."""

    instrument: str = Field(min_length=1)
    quantity: float = Field(allow_inf_nan=False)


class BookConfig(_Frozen):
    """The option book the keeper keeps on target (its options are never traded here).

    Attributes
    ----------
    positions : instrument name and contracts (negative short), e.g. a short straddle.
    """

    positions: tuple[PositionConfig, ...] = Field(min_length=1)


class FeedConfig(_Frozen):
    """Where market updates come from.

    ``kind = "chain"`` replays Deribit option chain snapshots (``/work/shared/data`` format or the
    bundled sample, ``chain = "bundled"``), with BTC-PERPETUAL prices from ``perp`` as a second
    price source; ``bridge_ticks`` inserts that many seeded Brownian-bridge index ticks between
    consecutive real snapshots (0: real snapshots only). ``kind = "bars"`` replays the returns of
    a Binance hourly bar file (``bars``; ``perp_bars`` a second source) onto the first chain
    snapshot, time re-based to that snapshot, from ``start`` (ISO-8601 UTC, e.g.
    ``2022-11-01``). ``kind = "synthetic"`` is a seeded geometric
    Brownian motion from the first chain snapshot, one update every ``interval_s`` market
    seconds, ``updates`` of them (0: unlimited).
    """

    kind: Literal["chain", "bars", "synthetic"] = "chain"
    chain: str = BUNDLED
    perp: str | None = BUNDLED
    bars: str | None = None
    perp_bars: str | None = None
    start: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}")
    bridge_ticks: int = Field(default=0, ge=0, le=100_000)
    seed: int = 0
    interval_s: PositiveFloat = 60.0
    updates: int = Field(default=0, ge=0)
    vol: PositiveFloat = 0.5
    spread_bps: NonNegativeFloat = 1.0
    quote_depth: PositiveFloat = 1.0e6

    @model_validator(mode="after")
    def _bars_given(self) -> FeedConfig:
        if self.kind == "bars" and not self.bars:
            raise ValueError("feed.bars must name a Binance hourly bar file when kind = 'bars'")
        return self


class HedgeInstrumentConfig(_Frozen):
    """A hedge instrument and its limits (contracts)."""

    name: str = Field(min_length=1)
    max_order: PositiveFloat = 100_000.0
    position_min: float = -math.inf
    position_max: float = math.inf


class PolicyConfig(_Frozen):
    """When to rebalance: a fixed delta band (coin or USD), optionally with a cooldown."""

    kind: Literal["delta_band"] = "delta_band"
    halfwidth: PositiveFloat = 0.25
    unit: Literal["coin", "usd"] = "coin"
    hedge_to: Literal["centre", "edge"] = "centre"
    cooldown_s: NonNegativeFloat = 0.0


class HedgeConfig(_Frozen):
    """How the engine sizes and vets hedges: instruments, policy, costs, gates."""

    instruments: tuple[HedgeInstrumentConfig, ...] = (HedgeInstrumentConfig(name="BTC-PERPETUAL"),)
    policy: PolicyConfig = PolicyConfig()
    taker_bps: NonNegativeFloat = 5.0
    risk_aversion: NonNegativeFloat | None = None
    horizon_s: PositiveFloat = 3600.0
    realised_vol: PositiveFloat | None = 0.5
    target_delta: float = Field(default=0.0, allow_inf_nan=False)

    @field_validator("instruments")
    @classmethod
    def _some(cls, value: tuple[HedgeInstrumentConfig, ...]) -> tuple[HedgeInstrumentConfig, ...]:
        if not value:
            raise ValueError("name at least one hedge instrument")
        names = [h.name for h in value]
        if len(set(names)) != len(names):
            raise ValueError(f"an instrument is named twice: {names}")
        return value


class RailsConfig(_Frozen):
    """Safety rails, all on by default (loosen a limit to relax a rail; none can be removed).

    Attributes
    ----------
    max_order_notional_usd : largest notional of one order, USD.
    max_orders_per_minute : orders per instrument in any 60 s of market time.
    max_daily_turnover_usd : sum of order notionals per UTC day (market time), USD.
    max_consecutive_same_side : orders in a row on the same side of one instrument.
    max_data_age_s : no decision on market data older than this, market seconds.
    max_price_jump : a move of the index beyond this fraction between two updates pauses.
    max_source_disagreement : two price sources further apart than this fraction pause.
    max_venue_errors : consecutive venue errors that halt trading.
    order_timeout_s : wall seconds to wait for an acknowledgement before the order is UNKNOWN.
    fill_wait_s : wall seconds to wait for an order to finish before cancelling the rest.
    """

    max_order_notional_usd: PositiveFloat = 2_000_000.0
    max_orders_per_minute: int = Field(default=6, gt=0)
    max_daily_turnover_usd: PositiveFloat = 50_000_000.0
    max_consecutive_same_side: int = Field(default=20, gt=0)
    max_data_age_s: PositiveFloat = 300.0
    max_price_jump: Fraction = 0.1
    max_source_disagreement: Fraction = 0.02
    max_venue_errors: int = Field(default=5, gt=0)
    order_timeout_s: PositiveFloat = 2.0
    fill_wait_s: PositiveFloat = 5.0


class SecretSource(_Frozen):
    """Where a secret comes from: an environment variable or a file (never the config text)."""

    env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    file: str | None = None

    @model_validator(mode="after")
    def _one(self) -> SecretSource:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of env (a variable name) or file (a path)")
        return self

    def load(self, base: Path) -> SecretStr | None:
        """The secret, or None when the variable is unset/empty.

        Raises :class:`ConfigError` (without the secret) when the file cannot be read.
        """
        if self.env is not None:
            value = os.environ.get(self.env, "")
            return SecretStr(value) if value else None
        assert self.file is not None
        path = Path(self.file) if Path(self.file).is_absolute() else base / self.file
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"secret file {str(path)!r} cannot be read "
                              f"({exc.strerror})") from None
        return SecretStr(value) if value else None


class VenueConfig(_Frozen):
    """The venue: the in-process paper exchange (``url`` unset) or a ``paper-venue serve`` URL.

    The in-process paper exchange lists the hedge instruments (linear perpetuals and futures;
    contract size, tick and lot from their Deribit specification) with a synthetic depth
    ladder around the feed's perpetual price, and keeps its ledger in the file ``state``.

    Attributes
    ----------
    url : base URL of a remote paper venue (``http://127.0.0.1:PORT``), or None.
    state : the in-process paper exchange's ledger file (``--venue-state`` overrides).
    api_key : secret sent to a remote venue (an environment variable or a file).
    timeout_s : a remote venue's request timeout, wall seconds.
    half_spread_bps, level_size, levels, replenish_s, max_order_size : the ladder: half
        spread (bps of the price), contracts at the best level (each deeper level 50 % more),
        levels per side, seconds for taken depth to come back, largest order (contracts).
    match_interval_s : venue seconds between two matches of resting orders.
    initial_balance_usd : cash deposited when the ledger is created.
    taker_fee_bps : fee of fills that take liquidity, bps of notional.
    latency_ms : simulated request latency (venue time).
    faults : injected faults in the paper exchange's grammar, e.g. ``"ack_lost=0.05,seed=7"``.
    seed : seeds the latency jitter.
    """

    url: str | None = Field(default=None, pattern=r"^https?://")
    state: str = "paper-venue.sqlite"
    api_key: SecretSource | None = None
    timeout_s: PositiveFloat = 5.0
    half_spread_bps: PositiveFloat = 1.0
    level_size: PositiveFloat = 0.5
    levels: int = Field(default=10, ge=1, le=1000)
    replenish_s: PositiveFloat = 5.0
    match_interval_s: PositiveFloat = 1.0
    max_order_size: PositiveFloat = 50.0
    initial_balance_usd: NonNegativeFloat = 10_000_000.0
    taker_fee_bps: NonNegativeFloat = 5.0
    latency_ms: NonNegativeFloat = 0.0
    faults: str = ""
    seed: int = Field(default=0, ge=0)

    @field_validator("faults")
    @classmethod
    def _faults(cls, value: str) -> str:
        from hedgekeeper.venues.sim.faults import FaultSpec

        FaultSpec.parse(value)
        return value


class ApiConfig(_Frozen):
    """The HTTP control and metrics server (FastAPI)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=0, le=65_535)
    token_env: str = Field(default="HEDGEKEEPER_API_TOKEN", pattern=r"^[A-Z_][A-Z0-9_]*$")


class LogConfig(_Frozen):
    """Structured JSON logs: to stderr, and to ``file`` when given."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    file: str | None = None


class KeeperConfig(_Frozen):
    """The whole keeper configuration (one TOML file).

    ``db`` is the journal URL (``--db`` overrides); ``hold_journal_interval_s`` is how often, in
    market seconds, an unchanged routine decision (a hold) is journalled again with the feed
    checkpoint (every decision that trades or changes outcome is journalled at once).
    """

    name: str = Field(default="paper", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    db: str = "sqlite:///keeper.sqlite"
    hold_journal_interval_s: PositiveFloat = 60.0
    book: BookConfig
    feed: FeedConfig = FeedConfig()
    hedge: HedgeConfig = HedgeConfig()
    rails: RailsConfig = RailsConfig()
    venue: VenueConfig = VenueConfig()
    api: ApiConfig = ApiConfig()
    log: LogConfig = LogConfig()


def _field_path(location: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in location:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts) or "config"


def parse_config(document: dict[str, object], source: str = "config") -> KeeperConfig:
    """Validate a parsed TOML document.

    Raises
    ------
    ConfigError
        Naming every bad field (dotted path) and what was expected; secrets are never echoed
        (the config holds none, only where to find them).
    """
    try:
        return KeeperConfig.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_field_path(error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"{source}: {problems}") from None


def load_config(path: str | Path) -> KeeperConfig:
    """Read and validate a keeper TOML file; :class:`ConfigError` naming the file and field."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"config file {str(file)!r} cannot be read ({exc.strerror})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(file)!r} is not valid TOML: {exc}") from None
    return parse_config(document, source=str(file))


def resolve_path(value: str, config_path: Path | None) -> Path:
    """A path from the config, relative to the config file's folder."""
    path = Path(value).expanduser()
    if path.is_absolute() or config_path is None:
        return path
    return config_path.parent / path
