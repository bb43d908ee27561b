"""Safety rails: checks around the engine that stop the keeper trading, each saying why.

Two kinds:

* **Latched** rails trip and stay tripped until an operator resumes (``hedgekeeper resume``):
  the kill switch, a price jump, repeated venue errors, the cap on consecutive same-side
  orders, and the daily turnover (which also clears at the next UTC day of market time).
* **Momentary** rails refuse one update or one decision and clear by themselves: stale data,
  two price sources that disagree (clears when they agree again), order notional, orders per
  minute per instrument.

:class:`Rails` is plain logic over a :class:`RailsState` (JSON-serialisable, persisted by the
keeper in its journal after every change), so a restarted keeper enforces exactly the limits
it was enforcing. Every check returns a :class:`Trip` (rail name and one-line reason) or None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hedgekeeper.keeper.config import RailsConfig

KILL = "kill_switch"
PRICE_JUMP = "price_jump"
SOURCE_DISAGREEMENT = "source_disagreement"
STALE_DATA = "stale_data"
VENUE_ERRORS = "venue_errors"
SAME_SIDE = "consecutive_same_side"
DAILY_TURNOVER = "daily_turnover"
ORDER_NOTIONAL = "order_notional"
ORDER_RATE = "orders_per_minute"
RECONCILIATION = "reconciliation"

LATCHED = (KILL, PRICE_JUMP, VENUE_ERRORS, SAME_SIDE, DAILY_TURNOVER, RECONCILIATION)
"""Rails that stay tripped until resumed (turnover also clears on a new day)."""


@dataclass(frozen=True, slots=True)
class Trip:
    """A rail that refused: its name and why."""

    rail: str
    reason: str


@dataclass(frozen=True, slots=True)
class ProposedOrder:
    """An order the engine wants to send, as the rails judge it.

    Attributes
    ----------
    instrument : name.
    side : ``"buy"`` or ``"sell"``.
    quantity : contracts.
    notional_usd : underlying notional of the whole order, USD.
    """

    instrument: str
    side: str
    quantity: float
    notional_usd: float


@dataclass(slots=True)
class RailsState:
    """What the rails remember (persisted in the journal).

    Attributes
    ----------
    tripped : rail -> reason, for the rails tripped now (latched and momentary).
    last_price : last accepted index price, USD per coin (the jump rail's reference).
    venue_errors : consecutive venue errors.
    sent : recent orders ``(market time ISO, instrument, side, notional USD)``, oldest first,
        kept for one day (rate, turnover and same-side rails).
    since_resume : market time of the last resume (orders before it do not count towards the
        same-side cap), ISO-8601 or None.
    """

    tripped: dict[str, str] = field(default_factory=dict)
    last_price: float | None = None
    venue_errors: int = 0
    sent: list[tuple[str, str, str, float]] = field(default_factory=list)
    since_resume: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"tripped": dict(self.tripped), "last_price": self.last_price,
                "venue_errors": self.venue_errors, "sent": [list(s) for s in self.sent],
                "since_resume": self.since_resume}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> RailsState:
        """Read :meth:`to_json` output (None: a fresh state)."""
        if not data:
            return cls()
        return cls(tripped={str(k): str(v) for k, v in dict(data.get("tripped", {})).items()},
                   last_price=data.get("last_price"),
                   venue_errors=int(data.get("venue_errors", 0)),
                   sent=[(str(a), str(b), str(c), float(d)) for a, b, c, d in
                         data.get("sent", [])],
                   since_resume=data.get("since_resume"))


class Rails:
    """The rails of one keeper.

    Parameters
    ----------
    config : the limits.
    state : what they remember (mutated in place; persist it after each call that changes it).
    """

    def __init__(self, config: RailsConfig, state: RailsState | None = None) -> None:
        self.config = config
        self.state = state if state is not None else RailsState()

    # -- status -----------------------------------------------------------------------------
    @property
    def blocking(self) -> dict[str, str]:
        """Rails that block trading now: rail -> reason (empty when trading may go on)."""
        return dict(self.state.tripped)

    @property
    def killed(self) -> bool:
        """True while the kill switch is on."""
        return KILL in self.state.tripped

    def trip(self, rail: str, reason: str) -> Trip:
        """Trip ``rail`` (latched or momentary) with ``reason``."""
        self.state.tripped[rail] = reason
        return Trip(rail, reason)

    def clear(self, rail: str) -> bool:
        """Clear one rail; True if it was tripped."""
        return self.state.tripped.pop(rail, None) is not None

    def kill(self, reason: str) -> Trip:
        """Turn the kill switch on."""
        return self.trip(KILL, reason or "kill switch")

    def resume(self, now: datetime) -> list[str]:
        """Clear every rail (operator resume): returns the rails cleared.

        The jump reference is forgotten (the next price is accepted as the new reference), the
        venue error count and the same-side run restart.
        """
        cleared = sorted(self.state.tripped)
        self.state.tripped.clear()
        self.state.last_price = None
        self.state.venue_errors = 0
        self.state.since_resume = now.isoformat()
        return cleared

    # -- market data ------------------------------------------------------------------------
    def check_market(self, now: datetime, data_time: datetime,
                     sources: Mapping[str, float], speed: float = 1.0) -> Trip | None:
        """Stale data, price jump, source disagreement, for one update (``index`` first).

        The data's age is measured in real time: market seconds divided by the replay
        ``speed`` (1 live), so a replay at 3,600x is not stale after 0.1 s of processing.

        Stale data refuses this update only. A jump latches (``last_price`` is kept, so every
        later update is judged against the last accepted price until a resume). Disagreement
        trips while it lasts and clears when the sources agree again.
        """
        age = (now - data_time).total_seconds() / speed
        if age > self.config.max_data_age_s:
            return Trip(STALE_DATA, f"market data from {data_time.isoformat()} is {age:.1f} s "
                                    f"old (limit {self.config.max_data_age_s:g} s)")
        index = sources["index"]
        if not (math.isfinite(index) and index > 0.0):
            return self.trip(PRICE_JUMP, f"index price {index!r} is not a positive number")
        disagreement = self._disagreement(sources)
        if disagreement is not None:
            return self.trip(SOURCE_DISAGREEMENT, disagreement)
        self.clear(SOURCE_DISAGREEMENT)
        last = self.state.last_price
        if PRICE_JUMP in self.state.tripped:
            return Trip(PRICE_JUMP, self.state.tripped[PRICE_JUMP])
        if last is not None:
            move = abs(index / last - 1.0)
            if move > self.config.max_price_jump:
                return self.trip(PRICE_JUMP, f"index moved {move:.2%} in one update "
                                             f"({last:.2f} -> {index:.2f} USD; limit "
                                             f"{self.config.max_price_jump:.2%}) at "
                                             f"{data_time.isoformat()}")
        self.state.last_price = index
        return None

    def _disagreement(self, sources: Mapping[str, float]) -> str | None:
        names = sorted(sources)
        for i, first in enumerate(names):
            for second in names[i + 1:]:
                a, b = sources[first], sources[second]
                if not (math.isfinite(b) and b > 0.0):
                    return f"price source {second} gives {b!r}"
                gap = abs(a / b - 1.0)
                if gap > self.config.max_source_disagreement:
                    return (f"price sources disagree: {first} {a:.2f} vs {second} {b:.2f} USD "
                            f"({gap:.2%} apart; limit {self.config.max_source_disagreement:.2%})")
        return None

    # -- venue health -----------------------------------------------------------------------
    def venue_ok(self) -> None:
        """A venue call succeeded: the error run restarts."""
        self.state.venue_errors = 0

    def venue_error(self, what: str) -> Trip | None:
        """A venue call failed; the ``max_venue_errors``-th in a row halts trading."""
        self.state.venue_errors += 1
        if VENUE_ERRORS in self.state.tripped:
            return None
        if self.state.venue_errors >= self.config.max_venue_errors:
            return self.trip(VENUE_ERRORS, f"{self.state.venue_errors} venue errors in a row "
                                           f"(limit {self.config.max_venue_errors}); last: {what}")
        return None

    # -- orders -----------------------------------------------------------------------------
    def check_orders(self, now: datetime, orders: Sequence[ProposedOrder]) -> Trip | None:
        """Order notional, rate per instrument, daily turnover, same-side cap, before sending.

        Returns the first refusal (the whole decision is refused); latches turnover and
        same-side trips.
        """
        self._expire(now)
        cap = self.config.max_order_notional_usd
        for order in orders:
            if order.notional_usd > cap:
                return Trip(ORDER_NOTIONAL, f"{order.instrument} {order.side} {order.quantity:g} "
                                            f"has notional {order.notional_usd:,.0f} USD "
                                            f"(limit {cap:,.0f} USD)")
        minute_ago = now - timedelta(seconds=60)
        for order in orders:
            recent = sum(1 for when, name, _, _ in self.state.sent
                         if name == order.instrument and datetime.fromisoformat(when) > minute_ago)
            if recent + 1 > self.config.max_orders_per_minute:
                return Trip(ORDER_RATE, f"{order.instrument}: {recent} orders in the last minute "
                                        f"(limit {self.config.max_orders_per_minute})")
        day = now.date()
        turnover = sum(notional for when, _, _, notional in self.state.sent
                       if datetime.fromisoformat(when).date() == day)
        added = sum(order.notional_usd for order in orders)
        if turnover + added > self.config.max_daily_turnover_usd:
            return self.trip(DAILY_TURNOVER, f"turnover on {day.isoformat()} would reach "
                                             f"{turnover + added:,.0f} USD (limit "
                                             f"{self.config.max_daily_turnover_usd:,.0f} USD)")
        for order in orders:
            run = self._same_side_run(order.instrument, order.side)
            if run + 1 > self.config.max_consecutive_same_side:
                return self.trip(SAME_SIDE, f"{order.instrument}: {run} {order.side} orders in "
                                            f"a row (limit "
                                            f"{self.config.max_consecutive_same_side})")
        return None

    def record_sent(self, now: datetime, orders: Sequence[ProposedOrder]) -> None:
        """Count orders about to be sent (call after :meth:`check_orders` passed)."""
        for order in orders:
            self.state.sent.append((now.isoformat(), order.instrument, order.side,
                                    float(order.notional_usd)))

    def new_day(self, now: datetime) -> bool:
        """Clear the turnover rail when market time has reached a later UTC day."""
        reason = self.state.tripped.get(DAILY_TURNOVER)
        if reason is None:
            return False
        if not any(datetime.fromisoformat(when).date() == now.date()
                   for when, _, _, _ in self.state.sent):
            return self.clear(DAILY_TURNOVER)
        return False

    def _expire(self, now: datetime) -> None:
        horizon = now - timedelta(days=1)
        self.state.sent = [s for s in self.state.sent
                           if datetime.fromisoformat(s[0]) > horizon
                           or datetime.fromisoformat(s[0]).date() == now.date()]

    def _same_side_run(self, instrument: str, side: str) -> int:
        since = (datetime.fromisoformat(self.state.since_resume)
                 if self.state.since_resume else None)
        run = 0
        for when, name, order_side, _ in reversed(self.state.sent):
            if name != instrument:
                continue
            if since is not None and datetime.fromisoformat(when) < since:
                break
            if order_side != side:
                break
            run += 1
        return run
