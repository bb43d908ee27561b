"""Reference price feeds of the paper exchange: a seeded random walk, or a price file replay.

A feed answers ``price(instrument, elapsed_seconds)``: the reference price (quote currency per
coin) ``elapsed_seconds`` of venue time after the venue's epoch (fixed when its ledger is
created, so a restarted venue continues the same path rather than starting it again).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import pandas as pd

from hedgekeeper.domain.instruments import as_utc

__all__ = ["PriceFeed", "ReplayFeed", "SyntheticFeed", "epoch_seconds"]

FloatArray = npt.NDArray[np.float64]

_SECONDS_PER_YEAR = 365.0 * 86400.0
_CHUNK = 4096


@runtime_checkable
class PriceFeed(Protocol):
    """Where the paper exchange's reference prices come from."""

    def has(self, instrument: str) -> bool:
        """``True`` if the feed prices ``instrument``."""
        ...

    def price(self, instrument: str, elapsed_seconds: float) -> float:
        """Reference price of ``instrument`` at ``elapsed_seconds`` after the epoch (> 0)."""
        ...


class SyntheticFeed:
    """Seeded geometric random walk per instrument, one step per ``step_seconds``.

    Log-price increments are ``N(-sigma^2 dt / 2, sigma^2 dt)`` with ``dt = step_seconds`` in
    years (ACT/365), so the price is a martingale; the path of each instrument depends only on
    ``seed`` and its name, never on the order in which it is queried. Before the epoch the price
    is the initial price; between steps it holds. The path is kept in memory up to the latest
    time asked for (8 bytes a step: about 2.6 MB a month per instrument at one-second steps).

    Parameters
    ----------
    initial_prices : Mapping[str, float]
        Instrument -> price at the epoch (quote currency per coin).
    volatilities : Mapping[str, float]
        Instrument -> annualised volatility (fraction).
    seed : int
        Non-negative seed.
    step_seconds : float
        Seconds per step.
    """

    def __init__(
        self,
        initial_prices: Mapping[str, float],
        volatilities: Mapping[str, float],
        seed: int,
        step_seconds: float = 1.0,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        if not math.isfinite(step_seconds) or step_seconds <= 0:
            raise ValueError(f"step_seconds must be a positive number, got {step_seconds!r}")
        if set(initial_prices) != set(volatilities):
            raise ValueError("initial_prices and volatilities must name the same instruments")
        for name, price in initial_prices.items():
            if not math.isfinite(price) or price <= 0:
                raise ValueError(f"initial_prices[{name!r}] must be positive, got {price!r}")
            if not math.isfinite(volatilities[name]) or volatilities[name] < 0:
                raise ValueError(f"volatilities[{name!r}] must be >= 0, got {volatilities[name]!r}")
        self.seed = seed
        self.step_seconds = float(step_seconds)
        self._initial = {name: float(price) for name, price in initial_prices.items()}
        self._sigma = {name: float(vol) for name, vol in volatilities.items()}
        self._rngs = {
            name: np.random.default_rng([seed, zlib.crc32(name.encode())])
            for name in initial_prices
        }
        # Cumulative log return after step k (k = 1..len); grows in chunks as time is asked for.
        self._paths: dict[str, FloatArray] = {
            name: np.zeros(0, dtype=np.float64) for name in initial_prices
        }

    def has(self, instrument: str) -> bool:
        """``True`` if the feed prices ``instrument``."""
        return instrument in self._initial

    def price(self, instrument: str, elapsed_seconds: float) -> float:
        """Reference price at ``elapsed_seconds`` after the epoch (quote currency per coin)."""
        if instrument not in self._initial:
            raise ValueError(f"instrument {instrument!r} is not in the synthetic feed")
        step = math.floor(elapsed_seconds / self.step_seconds) if elapsed_seconds > 0 else 0
        if step == 0:
            return self._initial[instrument]
        path = self._paths[instrument]
        if step > path.size:
            sigma = self._sigma[instrument]
            dt = self.step_seconds / _SECONDS_PER_YEAR
            need = step - path.size
            chunks = math.ceil(need / _CHUNK) * _CHUNK
            normals = self._rngs[instrument].standard_normal(chunks)
            increments = -0.5 * sigma * sigma * dt + sigma * math.sqrt(dt) * normals
            last = path[-1] if path.size else 0.0
            path = np.concatenate([path, last + np.cumsum(increments)])
            self._paths[instrument] = path
        return self._initial[instrument] * math.exp(float(path[step - 1]))


@dataclass(frozen=True, slots=True, eq=False)
class _Series:
    seconds: FloatArray
    prices: FloatArray


class ReplayFeed:
    """Replay recorded prices at ``speed`` times real time, holding the last price between rows.

    Venue time ``epoch + s`` maps to data time ``first_timestamp + speed * s``; the price is the
    last recorded one at or before it (the first before the data starts, the last after it ends).

    Parameters
    ----------
    series : Mapping[str, tuple[ndarray, ndarray]]
        Instrument -> (seconds since the data's first timestamp, ascending; prices).
    speed : float
        Data seconds per venue second (> 0).
    """

    def __init__(
        self, series: Mapping[str, tuple[FloatArray, FloatArray]], speed: float = 1.0
    ) -> None:
        if not math.isfinite(speed) or speed <= 0:
            raise ValueError(f"speed must be a positive number, got {speed!r}")
        if not series:
            raise ValueError("series must name at least one instrument")
        self.speed = float(speed)
        self._series: dict[str, _Series] = {}
        for name, (seconds, prices) in series.items():
            seconds_array = np.asarray(seconds, dtype=np.float64)
            price_array = np.asarray(prices, dtype=np.float64)
            if seconds_array.shape != price_array.shape or seconds_array.ndim != 1:
                raise ValueError(f"series[{name!r}]: seconds and prices must be equal 1-D arrays")
            if seconds_array.size == 0:
                raise ValueError(f"series[{name!r}] is empty")
            if np.any(np.diff(seconds_array) < 0):
                raise ValueError(f"series[{name!r}]: timestamps must be ascending")
            if not np.all(np.isfinite(price_array) & (price_array > 0)):
                raise ValueError(f"series[{name!r}]: prices must be positive and finite")
            self._series[name] = _Series(seconds_array, price_array)

    @property
    def instruments(self) -> tuple[str, ...]:
        """Instruments in the file."""
        return tuple(self._series)

    def has(self, instrument: str) -> bool:
        """``True`` if the file prices ``instrument``."""
        return instrument in self._series

    def first_price(self, instrument: str) -> float:
        """The first recorded price of ``instrument``."""
        return float(self._series[instrument].prices[0])

    def price(self, instrument: str, elapsed_seconds: float) -> float:
        """Last recorded price at data time ``speed * elapsed_seconds`` after the first row."""
        series = self._series.get(instrument)
        if series is None:
            raise ValueError(f"instrument {instrument!r} is not in the replayed file")
        data_seconds = self.speed * max(elapsed_seconds, 0.0) + series.seconds[0]
        index = int(np.searchsorted(series.seconds, data_seconds, side="right")) - 1
        return float(series.prices[max(index, 0)])

    @classmethod
    def from_csv(
        cls, path: str | Path, *, instrument: str | None = None, speed: float = 1.0
    ) -> ReplayFeed:
        """Read a price file.

        Recognised layouts (ISO-8601 UTC timestamps): a ``timestamp`` or ``snapshot_timestamp``
        column; an ``instrument_name``, ``instrument`` or ``symbol`` column (optional: absent,
        every row prices ``instrument``); a price column, the first of ``price``,
        ``perp_price``, ``close``, ``mark_price``. This reads the Binance hourly bars and the
        Deribit perpetual files of ``../shared/data`` and the bundled perpetual sample. All
        instruments share the first timestamp of the file as their time origin.

        Parameters
        ----------
        path : str or Path
            CSV file, optionally gzip-compressed.
        instrument : str or None
            Name for a file without an instrument column; with one, keeps only that instrument.
        speed : float
            Data seconds per venue second.
        """
        file = Path(path)
        if not file.is_file():
            raise ValueError(f"price file {str(file)!r} does not exist or is not a file")
        try:
            frame = pd.read_csv(file)
        except (OSError, ValueError) as error:
            raise ValueError(f"price file {str(file)!r}: cannot read it as CSV ({error})") from None
        time_column = _first(frame, ("timestamp", "snapshot_timestamp"))
        price_column = _first(frame, ("price", "perp_price", "close", "mark_price"))
        name_column = _first(frame, ("instrument_name", "instrument", "symbol"))
        if time_column is None or price_column is None:
            raise ValueError(
                f"price file {str(file)!r} needs a timestamp column (timestamp or "
                f"snapshot_timestamp) and a price column (price, perp_price, close or "
                f"mark_price); it has {', '.join(map(str, frame.columns))}"
            )
        times = pd.to_datetime(frame[time_column], utc=True, errors="coerce")
        prices = pd.to_numeric(frame[price_column], errors="coerce")
        bad = times.isna() | prices.isna() | ~(prices > 0)
        if bool(bad.any()):
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
            raise ValueError(
                f"price file {str(file)!r}: data row {row} has no valid {time_column!r} or "
                f"positive {price_column!r}"
            )
        if name_column is None:
            if instrument is None:
                raise ValueError(
                    f"price file {str(file)!r} has no instrument column: name the instrument"
                )
            names = pd.Series([instrument] * len(frame))
        else:
            names = frame[name_column].astype(str)
            if instrument is not None:
                keep = (names == instrument).to_numpy()
                if not keep.any():
                    raise ValueError(
                        f"price file {str(file)!r} has no rows for instrument {instrument!r}"
                    )
                times, prices, names = times[keep], prices[keep], names[keep]
        origin = times.min()
        seconds = ((times - origin).dt.total_seconds()).to_numpy(dtype=np.float64)
        price_values = prices.to_numpy(dtype=np.float64)
        name_values = names.to_numpy()
        series: dict[str, tuple[FloatArray, FloatArray]] = {}
        for name in dict.fromkeys(name_values.tolist()):
            mask = name_values == name
            order = np.argsort(seconds[mask], kind="stable")
            series[str(name)] = (seconds[mask][order], price_values[mask][order])
        return cls(series, speed=speed)


def _first(frame: pd.DataFrame, candidates: tuple[str, ...]) -> str | None:
    for name in candidates:
        if name in frame.columns:
            return name
    return None


def epoch_seconds(epoch: datetime, at: datetime) -> float:
    """Seconds of venue time from ``epoch`` to ``at`` (both timezone-aware)."""
    return (as_utc(at, "at") - as_utc(epoch, "epoch")).total_seconds()
