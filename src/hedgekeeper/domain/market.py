"""Market state at one instant for one underlying: index, forwards, rates, funding, volatility.

Units: prices in the quote currency per coin (USD for Deribit BTC), volatility as a fraction,
rates continuously compounded per year, times in years ACT/365. Array timestamps are
``datetime64[us]`` holding UTC wall-clock values.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Final, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from hedgekeeper.domain.instruments import SECONDS_PER_YEAR, as_utc

FloatArray = npt.NDArray[np.float64]
DatetimeArray = npt.NDArray[np.datetime64]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

DATETIME_UNIT: Final = "us"
"""Resolution of the ``datetime64`` arrays used across hedgekeeper."""


def to_datetime64(value: datetime) -> np.datetime64:
    """A timezone-aware datetime as a ``datetime64[us]`` UTC wall-clock value."""
    utc = as_utc(value, "value")
    return np.datetime64(utc.replace(tzinfo=None), DATETIME_UNIT)


def from_datetime64(value: np.datetime64) -> datetime:
    """A ``datetime64`` UTC wall-clock value as a timezone-aware ``datetime``."""
    micros = int(np.asarray(value, dtype="datetime64[us]").astype(np.int64))
    return _EPOCH + timedelta(microseconds=micros)


def years_between(
    start: np.datetime64 | DatetimeArray, end: np.datetime64 | DatetimeArray
) -> FloatArray:
    """Years from ``start`` to ``end``, ACT/365, elementwise (negative if ``end`` is earlier).

    Parameters
    ----------
    start, end : datetime64 scalar or array, broadcastable
        UTC wall-clock times.

    Returns
    -------
    ndarray of float64, broadcast shape
        Years.
    """
    delta = np.asarray(end, dtype=f"datetime64[{DATETIME_UNIT}]") - np.asarray(
        start, dtype=f"datetime64[{DATETIME_UNIT}]"
    )
    return np.asarray(delta / np.timedelta64(1, "us"), dtype=np.float64) / (SECONDS_PER_YEAR * 1e6)


class ForwardSource(enum.Enum):
    """How a forward price was obtained."""

    FUTURE = "future"
    """The listed future of that expiry (its mark or mid price)."""
    PARITY = "put_call_parity"
    """Put-call parity on the option chain (``hedgekeeper.pricing.forward``)."""
    LISTED_UNDERLYING = "listed_underlying"
    """The venue's own underlying price for the expiry (Deribit's ``underlying`` column)."""


@dataclass(frozen=True, slots=True)
class ForwardQuote:
    """Forward price of one expiry and where it came from.

    Attributes
    ----------
    expiry : datetime
        UTC.
    forward : float
        Quote currency per coin; positive, finite.
    source : ForwardSource
    """

    expiry: datetime
    forward: float
    source: ForwardSource

    def __post_init__(self) -> None:
        object.__setattr__(self, "expiry", as_utc(self.expiry, "expiry"))
        if (
            isinstance(self.forward, bool)
            or not isinstance(self.forward, int | float | np.floating)
            or not math.isfinite(self.forward)
            or self.forward <= 0.0
        ):
            raise ValueError(f"forward must be a positive finite price, got {self.forward!r}")
        object.__setattr__(self, "forward", float(self.forward))
        if not isinstance(self.source, ForwardSource):
            raise ValueError(f"source must be a ForwardSource, got {self.source!r}")


@runtime_checkable
class VolSurface(Protocol):
    """An implied volatility surface (implemented in ``hedgekeeper.pricing.surface``)."""

    def implied_vol(
        self, strike: FloatArray, expiry_t: FloatArray, forward: FloatArray
    ) -> FloatArray:
        """Implied Black volatility (fraction) at ``strike`` for expiry ``expiry_t`` (years).

        All arguments broadcast; ``forward`` is the forward of each point's expiry.
        """
        ...


def _finite(name: str, value: object, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or (positive and number <= 0.0):
        kind = "positive finite" if positive else "finite"
        raise ValueError(f"{name} must be a {kind} number, got {value!r}")
    return number


def _frozen_floats(
    name: str, values: Mapping[str, float], *, positive: bool
) -> Mapping[str, float]:
    if not isinstance(values, Mapping):
        raise ValueError(f"{name} must be a mapping of instrument name to number, got {values!r}")
    checked: dict[str, float] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"{name} keys must be instrument names, got {key!r}")
        checked[key] = _finite(f"{name}[{key!r}]", value, positive=positive)
    return MappingProxyType(checked)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MarketSnapshot:
    """Everything the pricing needs about one underlying at ``timestamp``.

    Attributes
    ----------
    timestamp : datetime
        Observation time, timezone-aware (stored in UTC).
    underlying : str
        The coin, e.g. ``"BTC"``.
    index_price : float
        Spot index, quote currency per coin (USD).
    forwards : Mapping[datetime, ForwardQuote]
        Forward per expiry (read-only, sorted by expiry); every expiry after ``timestamp``.
    rate : float
        Continuously compounded discount rate of the quote currency, per year (Deribit prices
        its options with 0).
    funding_rates : Mapping[str, float]
        Perpetual name -> funding rate, fraction per 8 hours (positive: longs pay shorts).
    perp_prices : Mapping[str, float]
        Perpetual name -> price, quote currency per coin.
    surface : VolSurface or None
        Fitted implied volatility surface, if any.
    mark_ivs : Mapping[str, float]
        Option name -> the venue's mark implied volatility (fraction), for chain snapshots.
    mark_prices : Mapping[str, float]
        Option name -> the venue's mark price in the option's premium currency (BTC for Deribit
        inverse options).
    """

    timestamp: datetime
    underlying: str
    index_price: float
    forwards: Mapping[datetime, ForwardQuote] = field(default_factory=dict)
    rate: float = 0.0
    funding_rates: Mapping[str, float] = field(default_factory=dict)
    perp_prices: Mapping[str, float] = field(default_factory=dict)
    surface: VolSurface | None = None
    mark_ivs: Mapping[str, float] = field(default_factory=dict)
    mark_prices: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        timestamp = as_utc(self.timestamp, "timestamp")
        object.__setattr__(self, "timestamp", timestamp)
        if not isinstance(self.underlying, str) or not self.underlying.isalnum():
            raise ValueError(
                f"underlying must be a currency code such as 'BTC', got {self.underlying!r}"
            )
        object.__setattr__(
            self, "index_price", _finite("index_price", self.index_price, positive=True)
        )
        object.__setattr__(self, "rate", _finite("rate", self.rate, positive=False))
        if not isinstance(self.forwards, Mapping):
            raise ValueError(
                f"forwards must be a mapping of expiry to ForwardQuote, got {self.forwards!r}"
            )
        forwards: dict[datetime, ForwardQuote] = {}
        for expiry, quote in self.forwards.items():
            expiry_utc = as_utc(expiry, "forwards expiry")
            if not isinstance(quote, ForwardQuote):
                raise ValueError(
                    f"forwards[{expiry_utc.isoformat()}] must be a ForwardQuote, got {quote!r}"
                )
            if quote.expiry != expiry_utc:
                raise ValueError(
                    f"forwards[{expiry_utc.isoformat()}] holds the forward of another expiry "
                    f"{quote.expiry.isoformat()}"
                )
            if expiry_utc <= timestamp:
                raise ValueError(
                    f"forwards expiry {expiry_utc.isoformat()} is not after the snapshot timestamp "
                    f"{timestamp.isoformat()} (expiry in the past)"
                )
            forwards[expiry_utc] = quote
        object.__setattr__(self, "forwards", MappingProxyType(dict(sorted(forwards.items()))))
        object.__setattr__(
            self,
            "funding_rates",
            _frozen_floats("funding_rates", self.funding_rates, positive=False),
        )
        object.__setattr__(
            self, "perp_prices", _frozen_floats("perp_prices", self.perp_prices, positive=True)
        )
        object.__setattr__(
            self, "mark_ivs", _frozen_floats("mark_ivs", self.mark_ivs, positive=True)
        )
        object.__setattr__(
            self, "mark_prices", _frozen_floats("mark_prices", self.mark_prices, positive=False)
        )
        negative = [name for name, price in self.mark_prices.items() if price < 0.0]
        if negative:
            raise ValueError(f"mark_prices[{negative[0]!r}] must be non-negative")
        if self.surface is not None and not isinstance(self.surface, VolSurface):
            raise ValueError(f"surface must implement VolSurface.implied_vol, got {self.surface!r}")

    @property
    def expiries(self) -> tuple[datetime, ...]:
        """Expiries with a forward, ascending."""
        return tuple(self.forwards)

    def time_to_expiry(self, expiry: datetime) -> float:
        """Years from ``timestamp`` to ``expiry`` (ACT/365); ``ValueError`` unless it is later."""
        expiry_utc = as_utc(expiry, "expiry")
        if expiry_utc <= self.timestamp:
            raise ValueError(
                f"expiry {expiry_utc.isoformat()} is not after the snapshot timestamp "
                f"{self.timestamp.isoformat()} (expiry in the past)"
            )
        return (expiry_utc - self.timestamp).total_seconds() / SECONDS_PER_YEAR

    def times_to_expiry(self, expiries: DatetimeArray) -> FloatArray:
        """Years from ``timestamp`` to each ``expiries`` (``datetime64`` UTC), ACT/365.

        Raises ``ValueError`` if any expiry is not after the snapshot timestamp.
        """
        years = years_between(to_datetime64(self.timestamp), expiries)
        if np.any(~(years > 0.0)):
            first = np.asarray(expiries).ravel()[np.flatnonzero(~(years.ravel() > 0.0))[0]]
            raise ValueError(
                f"expiry {first} is not after the snapshot timestamp {self.timestamp.isoformat()}"
                " (expiry in the past)"
            )
        return years

    def forward_quote(self, expiry: datetime) -> ForwardQuote:
        """The forward of ``expiry``; ``ValueError`` naming the expiry if the snapshot has none."""
        expiry_utc = as_utc(expiry, "expiry")
        quote = self.forwards.get(expiry_utc)
        if quote is None:
            known = ", ".join(e.strftime("%Y-%m-%dT%H:%MZ") for e in self.forwards) or "none"
            raise ValueError(f"no forward for expiry {expiry_utc.isoformat()} (known: {known})")
        return quote

    def forward(self, expiry: datetime) -> float:
        """Forward price of ``expiry``, quote currency per coin."""
        return self.forward_quote(expiry).forward

    def forwards_at(self, expiries: DatetimeArray) -> FloatArray:
        """Forward per element of ``expiries`` (``datetime64`` UTC), vectorised lookup.

        Raises ``ValueError`` naming the first expiry without a forward.
        """
        wanted = np.asarray(expiries, dtype=f"datetime64[{DATETIME_UNIT}]")
        keys = np.array(
            [to_datetime64(e) for e in self.forwards], dtype=f"datetime64[{DATETIME_UNIT}]"
        )
        values = np.array([q.forward for q in self.forwards.values()], dtype=np.float64)
        if keys.size == 0:
            if wanted.size:
                raise ValueError(f"no forward for expiry {wanted.ravel()[0]} (snapshot has none)")
            return np.zeros(wanted.shape, dtype=np.float64)
        position = np.clip(np.searchsorted(keys, wanted), 0, keys.size - 1)
        found = keys[position] == wanted
        if not np.all(found):
            missing = wanted[~found].ravel()[0]
            raise ValueError(f"no forward for expiry {missing} in the snapshot")
        return values[position]

    def mark_ivs_of(self, names: tuple[str, ...] | list[str]) -> FloatArray:
        """Mark implied vols (fraction) of the named options, shape ``(len(names),)``."""
        try:
            return np.array([self.mark_ivs[name] for name in names], dtype=np.float64)
        except KeyError as exc:
            raise ValueError(f"no mark implied volatility for instrument {exc.args[0]!r}") from None

    def implied_vol(
        self, strike: FloatArray, expiry_t: FloatArray, forward: FloatArray
    ) -> FloatArray:
        """Volatility from ``surface``; ``ValueError`` if the snapshot has no surface."""
        if self.surface is None:
            raise ValueError("this MarketSnapshot has no volatility surface (surface is None)")
        return self.surface.implied_vol(strike, expiry_t, forward)
