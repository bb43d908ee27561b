"""Market feeds for the keeper: replayed price files or a seeded synthetic path.

A feed is a deterministic sequence of :class:`MarketUpdate` (same config, same updates), so a
restarted keeper resumes by skipping what its journal says it has processed
(``updates(after=sequence)``). Each update carries the index price, named price *sources* (for
the price-sanity rail: ``index`` and ``perp``) and the :class:`ReferenceMarket` — the option
chain snapshot whose implied vols and forward basis value the book — from which
:meth:`MarketUpdate.snapshot` builds the engine's ``MarketSnapshot``.

Kinds (see :class:`hedgekeeper.keeper.config.FeedConfig`):

* ``chain``: Deribit chain snapshots (the shared data file or the bundled sample) with
  BTC-PERPETUAL prices at the same times; optionally ``bridge_ticks`` seeded Brownian-bridge
  index ticks between two real snapshots (labelled ``bridge`` in ``origin``), at the ATM vol.
* ``bars``: the returns of a Binance hourly bar file replayed onto the first chain snapshot
  (each price is ``S0 * close_t / close_0``, time re-based to the snapshot's), so that a
  2022 crash can be run against a 2026 book.
* ``synthetic``: geometric Brownian motion (``vol``, seeded) from the first chain snapshot.

Forwards move with the index (``F_t = F_ref * S_t / S_ref``: basis held as a ratio); implied
vols are held at the reference snapshot's marks (sticky strike) until the next real snapshot.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

import numpy as np

from hedgekeeper.domain.chain import OptionChain
from hedgekeeper.domain.market import ForwardQuote, MarketSnapshot, from_datetime64
from hedgekeeper.keeper.config import BUNDLED, FeedConfig, resolve_path
from hedgekeeper.marketdata import load_chains, load_perp_prices, sample_chain_path
from hedgekeeper.marketdata.samples import sample_perp_path
from hedgekeeper.pricing.exposure import listed_snapshot

PERPETUAL = "PERPETUAL"


@dataclass(frozen=True, slots=True, eq=False)
class ReferenceMarket:
    """The chain snapshot that values the book between real snapshots.

    Attributes
    ----------
    snapshot : Deribit's listed forwards and mark IVs at the snapshot time.
    atm_vol : mark IV of the option nearest the money of the nearest expiry beyond a week,
        fraction (the bridge and the synthetic path's default scale).
    """

    snapshot: MarketSnapshot
    atm_vol: float

    @classmethod
    def of(cls, chain: OptionChain, perp_prices: Mapping[str, float]) -> ReferenceMarket:
        """Reference market of one chain snapshot."""
        snapshot = listed_snapshot(chain, dict(perp_prices))
        later = chain.t > 7.0 / 365.0
        rows = np.flatnonzero(later) if np.any(later) else np.arange(len(chain))
        nearest = rows[chain.t[rows] == chain.t[rows].min()]
        atm = nearest[np.argmin(np.abs(np.log(chain.strike[nearest] / chain.forward[nearest])))]
        return cls(snapshot=snapshot, atm_vol=float(chain.mark_iv[atm]))


@dataclass(frozen=True, slots=True, eq=False)
class MarketUpdate:
    """One observation of the market.

    Attributes
    ----------
    sequence : 0-based position in the feed (the resume key).
    time : observation time (UTC).
    index_price : USD per coin.
    sources : source name -> price of the underlying, USD per coin (``index``, ``perp``).
    perp_price : perpetual price, USD per coin (``sources["perp"]`` or the index).
    reference : the chain snapshot valuing options at this update.
    origin : ``snapshot`` (a real observation), ``bridge``, ``bars`` or ``synthetic``.
    """

    sequence: int
    time: datetime
    index_price: float
    sources: Mapping[str, float]
    reference: ReferenceMarket
    origin: str
    perp_name: str = "BTC-PERPETUAL"
    _names_cache: dict[tuple[str, ...], MarketSnapshot] = field(
        default_factory=dict, repr=False, compare=False, init=False)

    @property
    def perp_price(self) -> float:
        """Perpetual price, USD per coin."""
        return self.sources.get("perp", self.index_price)

    def snapshot(self, option_names: Sequence[str]) -> MarketSnapshot:
        """The engine's snapshot at this update, with mark IVs of ``option_names`` only.

        Forwards scale with the index (basis held as a ratio); expiries at or before ``time``
        are dropped. Raises ``ValueError`` naming an option the reference chain lacks.
        """
        key = tuple(option_names)
        cached = self._names_cache.get(key)
        if cached is not None:
            return cached
        reference = self.reference.snapshot
        ratio = self.index_price / reference.index_price
        forwards = {
            expiry: ForwardQuote(expiry, quote.forward * ratio, quote.source)
            for expiry, quote in reference.forwards.items() if expiry > self.time
        }
        ivs = {}
        for name in key:
            iv = reference.mark_ivs.get(name)
            if iv is None:
                raise ValueError(f"option {name!r} is not in the reference chain of "
                                 f"{reference.timestamp.isoformat()}")
            ivs[name] = iv
        snapshot = MarketSnapshot(
            timestamp=self.time, underlying=reference.underlying, index_price=self.index_price,
            forwards=forwards, rate=reference.rate, perp_prices={self.perp_name: self.perp_price},
            mark_ivs=ivs,
        )
        self._names_cache[key] = snapshot
        return snapshot


class MarketFeed(Protocol):
    """A deterministic, restartable sequence of market updates."""

    def updates(self, after: int = -1) -> Iterator[MarketUpdate]:
        """Updates with ``sequence > after``, in order."""
        ...


def _sources(index: float, perp: float | None) -> Mapping[str, float]:
    values = {"index": index}
    if perp is not None:
        values["perp"] = perp
    return MappingProxyType(values)


def _chain_path(value: str, config_path: Path | None) -> Path:
    return sample_chain_path() if value == BUNDLED else resolve_path(value, config_path)


def _perp_lookup(value: str | None, coin: str,
                 config_path: Path | None) -> tuple[str, Mapping[datetime, float]]:
    if value is None:
        return f"{coin}-{PERPETUAL}", {}
    path = sample_perp_path() if value == BUNDLED else resolve_path(value, config_path)
    prices = load_perp_prices(path, coin)
    return prices.instrument_name, {
        from_datetime64(stamp): float(price)
        for stamp, price in zip(prices.timestamp, prices.price, strict=True)
    }


@dataclass(frozen=True, slots=True, eq=False)
class _Anchor:
    time: datetime
    index: float
    perp: float | None
    reference: ReferenceMarket


class ChainFeed:
    """Replay of Deribit chain snapshots, with optional seeded Brownian-bridge ticks between.

    Parameters
    ----------
    anchors : the real snapshots, ascending in time.
    bridge_ticks : synthetic ticks inserted between consecutive snapshots.
    seed : seeds the bridge (segment ``k`` draws from ``default_rng([seed, k])``).
    """

    def __init__(self, anchors: Sequence[_Anchor], bridge_ticks: int, seed: int,
                 perp_name: str) -> None:
        if not anchors:
            raise ValueError("the chain feed has no snapshots")
        self._anchors = tuple(anchors)
        self._bridge_ticks = bridge_ticks
        self._seed = seed
        self._perp_name = perp_name

    @property
    def first(self) -> _Anchor:
        """The first real snapshot."""
        return self._anchors[0]

    def updates(self, after: int = -1) -> Iterator[MarketUpdate]:
        """Real snapshots and bridge ticks with ``sequence > after``."""
        per_segment = self._bridge_ticks + 1
        for k, anchor in enumerate(self._anchors):
            base = k * per_segment
            if base > after:
                yield MarketUpdate(base, anchor.time, anchor.index,
                                   _sources(anchor.index, anchor.perp), anchor.reference,
                                   "snapshot", self._perp_name)
            if k + 1 == len(self._anchors) or self._bridge_ticks == 0:
                continue
            if base + self._bridge_ticks <= after:
                continue
            yield from self._bridge(k, anchor, self._anchors[k + 1], base, after)

    def _bridge(self, k: int, start: _Anchor, end: _Anchor, base: int,
                after: int) -> Iterator[MarketUpdate]:
        n = self._bridge_ticks
        span = (end.time - start.time).total_seconds()
        dt_years = span / (n + 1) / (365.0 * 86_400.0)
        rng = np.random.default_rng([self._seed, k])
        steps = rng.standard_normal(n + 1) * start.reference.atm_vol * math.sqrt(dt_years)
        walk = np.concatenate(([0.0], np.cumsum(steps)))
        fraction = np.linspace(0.0, 1.0, n + 2)
        # Brownian bridge: pin the walk to the real log-return between the two snapshots.
        log_path = walk - fraction * walk[-1] + fraction * math.log(end.index / start.index)
        basis_start = (start.perp / start.index) if start.perp else None
        basis_end = (end.perp / end.index) if end.perp else None
        for j in range(1, n + 1):
            sequence = base + j
            if sequence <= after:
                continue
            index = start.index * math.exp(log_path[j])
            perp = None
            if basis_start is not None and basis_end is not None:
                perp = index * float(basis_start + fraction[j] * (basis_end - basis_start))
            when = start.time + timedelta(seconds=span * fraction[j])
            yield MarketUpdate(sequence, when, index, _sources(index, perp), start.reference,
                               "bridge", self._perp_name)


class PathFeed:
    """Index (and optionally perpetual) prices on a time grid over one reference snapshot."""

    def __init__(self, times: Sequence[datetime], index: np.ndarray, perp: np.ndarray | None,
                 reference: ReferenceMarket, origin: str, perp_name: str) -> None:
        self._times = tuple(times)
        self._index = np.asarray(index, dtype=np.float64)
        self._perp = None if perp is None else np.asarray(perp, dtype=np.float64)
        self._reference = reference
        self._origin = origin
        self._perp_name = perp_name

    def updates(self, after: int = -1) -> Iterator[MarketUpdate]:
        """Grid points with ``sequence > after``."""
        for i in range(max(after + 1, 0), len(self._times)):
            index = float(self._index[i])
            perp = None
            if self._perp is not None and math.isfinite(self._perp[i]):
                perp = float(self._perp[i])
            yield MarketUpdate(i, self._times[i], index, _sources(index, perp), self._reference,
                               self._origin, self._perp_name)


class SyntheticFeed:
    """Seeded geometric Brownian motion over one reference snapshot, generated lazily.

    ``S_{i+1} = S_i * exp(-vol²/2 dt + vol sqrt(dt) Z_i)``, ``Z`` from ``default_rng(seed)``
    in blocks of 4,096 (so an unlimited feed costs no memory); the perpetual trades at the
    reference snapshot's basis ratio.
    """

    _BLOCK = 4096

    def __init__(self, anchor: _Anchor, vol: float, interval_s: float, count: int, seed: int,
                 perp_name: str) -> None:
        self._anchor = anchor
        self._vol = vol
        self._interval_s = interval_s
        self._count = count
        self._seed = seed
        self._perp_name = perp_name

    def updates(self, after: int = -1) -> Iterator[MarketUpdate]:
        """Updates with ``sequence > after`` (the path is regenerated from the seed)."""
        anchor = self._anchor
        dt = self._interval_s / (365.0 * 86_400.0)
        drift, scale = -0.5 * self._vol**2 * dt, self._vol * math.sqrt(dt)
        basis = anchor.perp / anchor.index if anchor.perp else None
        rng = np.random.default_rng(self._seed)
        log_price, sequence = math.log(anchor.index), 0
        while self._count == 0 or sequence < self._count:
            shocks = rng.standard_normal(self._BLOCK)
            for shock in shocks:
                if self._count and sequence >= self._count:
                    return
                if sequence > after:
                    index = math.exp(log_price)
                    when = anchor.time + timedelta(seconds=self._interval_s * sequence)
                    perp = None if basis is None else index * basis
                    yield MarketUpdate(sequence, when, index, _sources(index, perp),
                                       anchor.reference, "synthetic", self._perp_name)
                log_price += drift + scale * float(shock)
                sequence += 1


def _anchors(config: FeedConfig, config_path: Path | None,
             first_only: bool) -> tuple[list[_Anchor], str]:
    chain_file = _chain_path(config.chain, config_path)
    anchors: list[_Anchor] = []
    perp_name = ""
    perps: Mapping[datetime, float] = {}
    for chain in load_chains(chain_file):
        if not perp_name:
            perp_name, perps = _perp_lookup(config.perp, chain.underlying, config_path)
        perp = perps.get(chain.timestamp)
        reference = ReferenceMarket.of(chain, {perp_name: perp} if perp else {})
        anchors.append(_Anchor(chain.timestamp, chain.index_price, perp, reference))
        if first_only:
            break
    return anchors, perp_name


def build_feed(config: FeedConfig, config_path: Path | None = None) -> MarketFeed:
    """The feed a :class:`FeedConfig` describes (relative paths from the config's folder).

    Raises
    ------
    ValueError
        (``MarketDataError``) naming a missing or malformed file.
    """
    if config.kind == "chain":
        anchors, perp_name = _anchors(config, config_path, first_only=False)
        return ChainFeed(anchors, config.bridge_ticks, config.seed, perp_name)
    anchors, perp_name = _anchors(config, config_path, first_only=True)
    anchor = anchors[0]
    if config.kind == "synthetic":
        return SyntheticFeed(anchor, config.vol, config.interval_s, config.updates, config.seed,
                             perp_name)
    from hedgekeeper.marketdata.binance import load_hourly_bars

    assert config.bars is not None
    start = None
    if config.start is not None:
        start = datetime.fromisoformat(config.start)
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
    bars = load_hourly_bars(resolve_path(config.bars, config_path), start=start)
    close_time = [t.tolist() for t in bars.close_time]
    close = np.asarray(bars.close, dtype=np.float64)
    perp_lookup: dict[object, float] = {}
    if config.perp_bars:
        perp_bars = load_hourly_bars(resolve_path(config.perp_bars, config_path), start=start)
        perp_lookup = dict(zip([t.tolist() for t in perp_bars.close_time],
                               perp_bars.close.tolist(), strict=True))
        common = [i for i, t in enumerate(close_time) if t in perp_lookup]
        if not common:
            raise ValueError(f"feed.perp_bars {config.perp_bars!r} has no bar at the times of "
                             f"feed.bars {config.bars!r}")
        close_time, close = close_time[common[0]:], close[common[0]:]
    # A bar's close is known an hour after its open; the replay starts at the anchor snapshot.
    times = [anchor.time + (t - close_time[0]) for t in close_time]
    index = anchor.index * close / close[0]
    perp = None
    if perp_lookup:
        base = anchor.perp if anchor.perp else anchor.index
        first = perp_lookup[close_time[0]]
        perp = np.array([base * perp_lookup[t] / first if t in perp_lookup else math.nan
                         for t in close_time])
    count = len(times) if config.updates == 0 else min(config.updates, len(times))
    return PathFeed(times[:count], index[:count], None if perp is None else perp[:count],
                    anchor.reference, "bars", perp_name)
