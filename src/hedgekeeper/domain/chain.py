"""An option chain snapshot as column arrays (the pure container; loaders live in ``marketdata``).

Units follow Deribit's inverse options: prices (bid/ask/mark) in coin per option, strikes and
forwards in USD per coin, ``mark_iv`` as a fraction, ``delta`` the Black-76 forward delta,
``vega`` USD per vol point, ``t`` in years ACT/365 from ``timestamp`` to ``expiry``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from hedgekeeper.domain.instruments import Option, as_utc
from hedgekeeper.domain.market import DATETIME_UNIT, from_datetime64

FloatArray = npt.NDArray[np.float64]
KindArray = npt.NDArray[np.int8]
IntArray = npt.NDArray[np.int64]
DatetimeArray = npt.NDArray[np.datetime64]
StrArray = npt.NDArray[np.str_]

_FLOAT_COLUMNS = (
    "index",
    "strike",
    "t",
    "t_listed",
    "forward",
    "bid",
    "ask",
    "mark",
    "mark_iv",
    "delta",
    "vega",
    "open_interest",
    "volume",
)


def _readonly(array: npt.NDArray[np.generic]) -> None:
    array.setflags(write=False)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class OptionChain:
    """All options of one underlying at one snapshot time, one row per option.

    Every array has shape ``(n,)`` and is read-only.

    Attributes
    ----------
    timestamp : datetime
        Snapshot time (UTC).
    underlying : str
        The coin, e.g. ``"BTC"``.
    index : ndarray of float64
        Deribit's index price recorded with each row, USD per coin (rows of one snapshot are
        collected over a few seconds, so it varies slightly; see ``index_price``).
    names : ndarray of str
        Instrument names, e.g. ``BTC-27MAR26-80000-C``.
    options : tuple of Option
        The instruments, aligned with ``names``.
    kind : ndarray of int8
        +1 call, -1 put.
    strike : ndarray of float64
        USD per coin.
    expiry : ndarray of datetime64[us]
        UTC expiry (08:00 on Deribit).
    t : ndarray of float64
        Years to expiry, ACT/365 from ``timestamp`` (what reproduces Deribit's mark prices).
    t_listed : ndarray of float64
        The file's own ``time_to_maturity`` column, kept as given (in the bundled Deribit data
        it is ACT/365.25, not the ACT/365 its README states).
    forward : ndarray of float64
        Deribit's ``underlying``: the forward (future or synthetic) of the row's expiry, USD.
    futures_name : ndarray of str
        Deribit's ``futures_instrument_name``; ``SYN.`` prefix for a synthetic forward.
    bid, ask, mark : ndarray of float64
        Coin per option; NaN where there is no bid or ask.
    mark_iv : ndarray of float64
        Deribit mark implied volatility, fraction.
    delta : ndarray of float64
        Deribit's Black forward delta.
    vega : ndarray of float64
        Deribit's vega, USD per vol point.
    open_interest, volume : ndarray of float64
        Contracts.
    """

    timestamp: datetime
    underlying: str
    index: FloatArray
    names: StrArray
    options: tuple[Option, ...]
    kind: KindArray
    strike: FloatArray
    expiry: DatetimeArray
    t: FloatArray
    t_listed: FloatArray
    forward: FloatArray
    futures_name: StrArray
    bid: FloatArray
    ask: FloatArray
    mark: FloatArray
    mark_iv: FloatArray
    delta: FloatArray
    vega: FloatArray
    open_interest: FloatArray
    volume: FloatArray

    def __post_init__(self) -> None:
        object.__setattr__(self, "timestamp", as_utc(self.timestamp, "timestamp"))
        n = len(self.options)
        if self.names.shape != (n,):
            raise ValueError(f"names must have shape ({n},) like options, got {self.names.shape}")
        for row, (name, option) in enumerate(zip(self.names, self.options, strict=True)):
            if not isinstance(option, Option):
                raise ValueError(f"options[{row}] must be an Option, got {option!r}")
            if option.name != name:
                raise ValueError(f"options[{row}] is {option.name!r} but names[{row}] is {name!r}")
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "kind": self.kind,
            "expiry": self.expiry,
            "futures_name": self.futures_name,
        }
        arrays.update({column: getattr(self, column) for column in _FLOAT_COLUMNS})
        for column, array in arrays.items():
            if not isinstance(array, np.ndarray) or array.shape != (n,):
                shape = getattr(array, "shape", None)
                raise ValueError(f"{column} must be an array of shape ({n},), got shape {shape}")
        if self.kind.dtype != np.int8 or not np.all(np.abs(self.kind) == 1):
            raise ValueError("kind must be an int8 array of +1 (call) / -1 (put)")
        if self.expiry.dtype != np.dtype(f"datetime64[{DATETIME_UNIT}]"):
            raise ValueError(f"expiry must be datetime64[{DATETIME_UNIT}], got {self.expiry.dtype}")
        for column in _FLOAT_COLUMNS:
            if getattr(self, column).dtype != np.float64:
                raise ValueError(f"{column} must be float64, got {getattr(self, column).dtype}")
        if not np.all(self.strike > 0.0):
            raise ValueError("strike must be positive")
        if not np.all(self.forward > 0.0):
            raise ValueError("forward must be positive")
        if not np.all(self.t > 0.0):
            bad = self.names[~(self.t > 0.0)][0]
            raise ValueError(f"expiry of {bad!r} is not after the snapshot timestamp (t <= 0)")
        for array in arrays.values():
            _readonly(array)
        _readonly(self.names)

    def __len__(self) -> int:
        return len(self.options)

    @property
    def index_price(self) -> float:
        """Median of the rows' index prices, USD per coin (the snapshot's spot index)."""
        return float(np.median(self.index))

    @property
    def mid(self) -> FloatArray:
        """``(bid + ask) / 2`` in coin; NaN where either side is missing."""
        return 0.5 * (self.bid + self.ask)

    def expiries(self) -> tuple[datetime, ...]:
        """Distinct expiries, ascending."""
        return tuple(from_datetime64(e) for e in np.unique(self.expiry))

    def take(self, rows: IntArray | npt.NDArray[np.bool_]) -> OptionChain:
        """A chain of the selected rows (integer indices or a boolean mask)."""
        picked = np.flatnonzero(rows) if np.asarray(rows).dtype == np.bool_ else np.asarray(rows)
        values = {column: getattr(self, column)[picked].copy() for column in _FLOAT_COLUMNS}
        return OptionChain(
            timestamp=self.timestamp,
            underlying=self.underlying,
            names=self.names[picked].copy(),
            options=tuple(self.options[int(i)] for i in picked),
            kind=self.kind[picked].copy(),
            expiry=self.expiry[picked].copy(),
            futures_name=self.futures_name[picked].copy(),
            **values,
        )

    def locate(self, names: list[str] | tuple[str, ...] | StrArray) -> IntArray:
        """Row index of each name; ``ValueError`` naming the first one not in the chain."""
        lookup = {str(name): row for row, name in enumerate(self.names)}
        rows = np.empty(len(names), dtype=np.int64)
        for i, name in enumerate(names):
            row = lookup.get(str(name))
            if row is None:
                raise ValueError(
                    f"instrument {str(name)!r} is not in the {self.underlying} option chain at "
                    f"{self.timestamp.isoformat()}"
                )
            rows[i] = row
        return rows
