"""Injectable faults of the paper exchange, random (seeded) or scripted.

Fault kinds and what the client sees (:mod:`hedgekeeper.venues.base` errors):

============  =========================================  ==========================  ==========
kind          at the venue                               client sees                 applies to
============  =========================================  ==========================  ==========
timeout       request lost, NOT processed                ``VenueTimeout``            every op
ack_lost      request processed and recorded, answer     ``VenueTimeout``            submit,
              lost                                                                   cancel
unavailable   5xx, NOT processed                         ``VenueUnavailable``        every op
rate_limit    429, NOT processed                         ``RateLimited``             every op
feed_silent   the quote feed goes quiet for              ``FeedSilent``              snapshot
              ``feed_silent_seconds`` of venue time
============  =========================================  ==========================  ==========

Spec grammar (``--faults``), comma-separated items:

- ``KIND=P``: probability ``P`` of ``KIND`` on every call it applies to;
- ``OP.KIND=P``: probability for one operation (overrides ``KIND=P`` there);
- ``OP#N=KIND``: the ``N``-th call (1-based, counted per operation) gets ``KIND``;
- ``seed=S`` (random draws), ``retry_after=SECONDS`` (rate limits), ``hang=SECONDS`` (how long
  the HTTP server holds a timed-out request before dropping it).

Example: ``"ack_lost=0.05,timeout=0.02,submit#3=ack_lost,seed=7"``.
"""

from __future__ import annotations

import enum
import math
import random
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["OPERATIONS", "Fault", "FaultInjector", "FaultSpec"]

OPERATIONS = ("snapshot", "account", "submit", "cancel", "order", "reports")
"""Operations of the Venue port, as faults name them."""


class Fault(enum.Enum):
    """A fault kind (see the module docstring)."""

    TIMEOUT = "timeout"
    ACK_LOST = "ack_lost"
    UNAVAILABLE = "unavailable"
    RATE_LIMIT = "rate_limit"
    FEED_SILENT = "feed_silent"

    def applies_to(self, operation: str) -> bool:
        """``True`` if this fault can happen on ``operation``."""
        if self is Fault.ACK_LOST:
            return operation in ("submit", "cancel")
        if self is Fault.FEED_SILENT:
            return operation == "snapshot"
        return operation in OPERATIONS


def _fault(value: str, item: str) -> Fault:
    try:
        return Fault(value)
    except ValueError:
        kinds = ", ".join(kind.value for kind in Fault)
        raise ValueError(
            f"faults: {item!r}: unknown fault {value!r}; expected one of {kinds}"
        ) from None


def _operation(value: str, item: str) -> str:
    if value not in OPERATIONS:
        raise ValueError(
            f"faults: {item!r}: unknown operation {value!r}; expected one of "
            f"{', '.join(OPERATIONS)}"
        )
    return value


def _float(value: str, item: str, *, probability: bool = False) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"faults: {item!r}: {value!r} is not a number") from None
    if not math.isfinite(number) or number < 0 or (probability and number > 1):
        expected = "a probability in [0, 1]" if probability else "a number >= 0"
        raise ValueError(f"faults: {item!r}: expected {expected}, got {value!r}")
    return number


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultSpec:
    """Which faults happen, and when.

    Attributes
    ----------
    probabilities : Mapping[tuple[str, Fault], float]
        (operation, fault) -> probability per call; per operation they sum to at most 1.
    script : Mapping[tuple[str, int], Fault]
        (operation, 1-based call number) -> the fault that call gets.
    seed : int
        Seed of the random draws.
    retry_after : float
        Seconds a ``rate_limit`` asks the client to wait.
    hang : float
        Seconds the HTTP server holds a timed-out or ack-lost request before dropping it (make
        it longer than the client's timeout).
    """

    probabilities: Mapping[tuple[str, Fault], float] = field(default_factory=dict)
    script: Mapping[tuple[str, int], Fault] = field(default_factory=dict)
    seed: int = 0
    retry_after: float = 1.0
    hang: float = 30.0

    def __post_init__(self) -> None:
        totals: dict[str, float] = defaultdict(float)
        for (operation, fault), probability in self.probabilities.items():
            _operation(operation, f"{operation}.{fault.value}")
            if not fault.applies_to(operation):
                raise ValueError(f"faults: {fault.value} cannot happen on {operation}")
            if not 0.0 <= probability <= 1.0:
                raise ValueError(
                    f"faults: {operation}.{fault.value} must be in [0, 1], got {probability!r}"
                )
            totals[operation] += probability
        for operation, total in totals.items():
            if total > 1.0 + 1e-12:
                raise ValueError(
                    f"faults: probabilities on {operation} add up to {total:g}, more than 1"
                )
        for (operation, number), fault in self.script.items():
            _operation(operation, f"{operation}#{number}")
            if number < 1:
                raise ValueError(f"faults: {operation}#{number}: calls are numbered from 1")
            if not fault.applies_to(operation):
                raise ValueError(f"faults: {fault.value} cannot happen on {operation}")
        object.__setattr__(self, "probabilities", MappingProxyType(dict(self.probabilities)))
        object.__setattr__(self, "script", MappingProxyType(dict(self.script)))

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """Parse the ``--faults`` grammar (see the module docstring); ``""`` means no faults."""
        global_probabilities: dict[Fault, float] = {}
        per_operation: dict[tuple[str, Fault], float] = {}
        script: dict[tuple[str, int], Fault] = {}
        options: dict[str, float] = {}
        for raw in text.split(","):
            item = raw.strip()
            if not item:
                continue
            key, sep, value = item.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not key or not value:
                raise ValueError(f"faults: {item!r} is not KEY=VALUE")
            if key in ("seed", "retry_after", "hang"):
                options[key] = _float(value, item)
            elif "#" in key:
                operation, _, number = key.partition("#")
                if not number.isdigit():
                    raise ValueError(f"faults: {item!r}: call number {number!r} is not an integer")
                script[(_operation(operation, item), int(number))] = _fault(value, item)
            elif "." in key:
                operation, _, kind = key.partition(".")
                per_operation[(_operation(operation, item), _fault(kind, item))] = _float(
                    value, item, probability=True
                )
            else:
                global_probabilities[_fault(key, item)] = _float(value, item, probability=True)
        probabilities: dict[tuple[str, Fault], float] = {}
        for fault, probability in global_probabilities.items():
            for operation in OPERATIONS:
                if fault.applies_to(operation):
                    probabilities[(operation, fault)] = probability
        probabilities.update(per_operation)
        seed = options.get("seed", 0.0)
        if seed != int(seed):
            raise ValueError(f"faults: seed must be an integer, got {seed!r}")
        return cls(
            probabilities={key: p for key, p in probabilities.items() if p > 0},
            script=script,
            seed=int(seed),
            retry_after=options.get("retry_after", 1.0),
            hang=options.get("hang", 30.0),
        )


class FaultInjector:
    """Draws the fault (or none) for each call, from a :class:`FaultSpec` and a runtime queue.

    ``inject(operation, fault)`` queues a fault for the next call of ``operation`` (tests and
    crash scripts use it); queued faults come before scripted ones, scripted before random.
    """

    def __init__(self, spec: FaultSpec | None = None) -> None:
        self.spec = spec if spec is not None else FaultSpec()
        self._random = random.Random(self.spec.seed)
        self._calls: dict[str, int] = defaultdict(int)
        self._queued: dict[str, deque[Fault]] = defaultdict(deque)

    def inject(self, operation: str, fault: Fault) -> None:
        """Make the next call of ``operation`` suffer ``fault``."""
        _operation(operation, operation)
        if not fault.applies_to(operation):
            raise ValueError(f"faults: {fault.value} cannot happen on {operation}")
        self._queued[operation].append(fault)

    def draw(self, operation: str) -> Fault | None:
        """The fault this call of ``operation`` suffers, or ``None``."""
        self._calls[operation] += 1
        if self._queued[operation]:
            return self._queued[operation].popleft()
        scripted = self.spec.script.get((operation, self._calls[operation]))
        if scripted is not None:
            return scripted
        candidates = [
            (fault, self.spec.probabilities.get((operation, fault), 0.0)) for fault in Fault
        ]
        if not any(probability > 0 for _, probability in candidates):
            return None
        uniform = self._random.random()
        for fault, probability in candidates:
            if uniform < probability:
                return fault
            uniform -= probability
        return None

    @property
    def calls(self) -> Mapping[str, int]:
        """Calls seen so far per operation."""
        return MappingProxyType(dict(self._calls))
