"""The keeper: a crash-only loop that keeps a book on target through a venue.

Startup is recovery (:meth:`Keeper.recover`): the journal is loaded, every order it holds that
is not finished is looked up at the venue, the venue's reports since the last checkpoint (fills,
order changes, positions) are applied — the venue is the authority — and trading stays blocked
until the positions agree. Then, for each market update (:meth:`Keeper.process`):

1. the rails judge the data (stale, jump, sources disagreeing) and the venue's health;
2. the engine decides (:func:`hedgekeeper.engine.decide`, the one decision path);
3. the decision is journalled; if it trades and the order rails pass, the intents (and the
   keeper's state after the decision) are journalled **before** anything is sent;
4. each intent becomes one order whose client order id is derived from the intent
   (:func:`hedgekeeper.domain.orders.client_order_id`), journalled ``PENDING_SUBMIT`` then
   ``SUBMITTED`` before the request; a timeout or 5xx makes it ``UNKNOWN`` and it is looked up
   by client id — resubmitted with the *same* id only when the venue says it never saw it;
5. fills are applied once per trade id (also after a cancel); what has not filled after
   ``rails.fill_wait_s`` is cancelled; the update is checkpointed.

Keeper state needed across steps (feed position, venue cursor, rebalance history, rails) lives
in the journal's checkpoints, so a restart resumes exactly: an update whose intents were
journalled is finished, never decided again.

Routine holds (same outcome and reason as the last journalled decision) are journalled at most
once per ``hold_journal_interval_s`` of market time, with the feed checkpoint; a crash makes the
keeper replay those updates (the feed is deterministic), so nothing that traded is lost.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, TypeVar

from hedgekeeper.domain.book import Book
from hedgekeeper.domain.instruments import Instrument, Perpetual, expiry_of
from hedgekeeper.domain.orders import (
    CancelRequested,
    Fill,
    Intent,
    Order,
    OrderSide,
    OrderStatus,
    SubmitSent,
    SubmitTimedOut,
    VenueAccepted,
    VenueCancelled,
    VenueNotFound,
)
from hedgekeeper.domain.orders import VenueRejected as OrderRejected
from hedgekeeper.engine import Decision, EngineState, MarketInputs, Outcome, decide
from hedgekeeper.keeper.clock import Clock, ReplayClock
from hedgekeeper.keeper.config import KeeperConfig
from hedgekeeper.keeper.crash import CrashPoints
from hedgekeeper.keeper.feed import MarketFeed, MarketUpdate
from hedgekeeper.keeper.inputs import KeeperModel, contract_notional_usd, engine_quote
from hedgekeeper.keeper.logs import log_event, redact
from hedgekeeper.keeper.metrics import KeeperMetrics
from hedgekeeper.keeper.paper import FollowFeed
from hedgekeeper.keeper.rails import (
    RECONCILIATION,
    ProposedOrder,
    Rails,
    RailsState,
    Trip,
)
from hedgekeeper.store import Journal
from hedgekeeper.venues.base import (
    OrderAck,
    OrderReport,
    OrderRequest,
    OrderType,
    QuoteSnapshot,
    RateLimited,
    Side,
    TimeInForce,
    Venue,
    VenueError,
    VenueFill,
    VenueOrderStatus,
    VenueRejected,
    VenueReports,
    VenueTimeout,
)

_T = TypeVar("_T")
_POLL_S = 0.02
_CONTROL_POLL_S = 0.25
_LOOKUP_TRIES = 8
_NEVER = datetime.max.replace(tzinfo=UTC)


class KeeperHaltedError(RuntimeError):
    """The keeper cannot go on (reconciliation impossible, the venue unreachable)."""


@dataclass(slots=True)
class KeeperState:
    """What the keeper carries across steps and restarts (a checkpoint's details).

    Attributes
    ----------
    journal_id : random id of this journal (prefix of intent ids: a journal never reuses one).
    sequence : last feed update fully processed (-1: none).
    market_time : its time (ISO-8601), the replay's resume point.
    executing : feed sequence whose intents are journalled and not yet finished, or None.
    last_rebalance, last_rebalance_spot, recent : the engine's rebalance history.
    rails : :class:`~hedgekeeper.keeper.rails.RailsState` as JSON.
    control_seen : ``changed_at`` of the last kill-switch row acted on (ISO-8601) or None.
    last_held : outcome/reason key of the last journalled routine decision.
    last_held_time : market time it was journalled (ISO-8601) or None.
    """

    journal_id: str
    sequence: int = -1
    market_time: str | None = None
    executing: int | None = None
    last_rebalance: str | None = None
    last_rebalance_spot: float | None = None
    recent: list[str] = field(default_factory=list)
    rails: dict[str, Any] = field(default_factory=dict)
    control_seen: str | None = None
    last_held: str | None = None
    last_held_time: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready details of a checkpoint."""
        return {"journal_id": self.journal_id, "sequence": self.sequence,
                "market_time": self.market_time, "executing": self.executing,
                "last_rebalance": self.last_rebalance,
                "last_rebalance_spot": self.last_rebalance_spot, "recent": list(self.recent),
                "rails": self.rails, "control_seen": self.control_seen,
                "last_held": self.last_held, "last_held_time": self.last_held_time}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> KeeperState:
        """Read :meth:`to_json` output; a fresh state (new journal id) for None."""
        if not data or "journal_id" not in data:
            return cls(journal_id=secrets.token_hex(4))
        return cls(journal_id=str(data["journal_id"]), sequence=int(data.get("sequence", -1)),
                   market_time=data.get("market_time"), executing=data.get("executing"),
                   last_rebalance=data.get("last_rebalance"),
                   last_rebalance_spot=data.get("last_rebalance_spot"),
                   recent=[str(t) for t in data.get("recent", [])],
                   rails=dict(data.get("rails", {})), control_seen=data.get("control_seen"),
                   last_held=data.get("last_held"), last_held_time=data.get("last_held_time"))


class _Peekable:
    """An iterator of updates that can look one ahead."""

    def __init__(self, source: Iterator[MarketUpdate]) -> None:
        self._source = source
        self._head: MarketUpdate | None = None

    def __iter__(self) -> _Peekable:
        return self

    def __next__(self) -> MarketUpdate:
        if self._head is not None:
            head, self._head = self._head, None
            return head
        return next(self._source)

    def peek(self) -> MarketUpdate | None:
        """The next update without consuming it (None at the end)."""
        if self._head is None:
            self._head = next(self._source, None)
        return self._head


@dataclass(slots=True)
class RunSummary:
    """What one run of the keeper did (``conflated``: updates skipped for a fresher one)."""

    updates: int = 0
    conflated: int = 0
    decisions: int = 0
    orders: int = 0
    fills: int = 0
    stopped_by: str = ""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _side(side: OrderSide) -> Side:
    return Side.BUY if side is OrderSide.BUY else Side.SELL


def _to_lot(quantity: float, lot: float) -> Decimal:
    lot_text = Decimal(repr(lot))
    lots = (Decimal(repr(quantity)) / lot_text).to_integral_value(rounding=ROUND_HALF_EVEN)
    return (lots * lot_text).normalize()


class Keeper:
    """One keeper: a book, a feed, a venue, a journal, a clock.

    Parameters
    ----------
    config : validated configuration.
    model : book, hedge instruments and engine components (:func:`build_model`).
    feed : the market feed.
    venue : the venue (the in-process paper exchange, or an HTTP client).
    journal : the journal (opened and migrated).
    clock : market time.
    metrics : Prometheus metrics (a fresh registry when None).
    crash : crash-injection points (none when None).
    follow : the paper exchange's price feed to push market prices into (in-process paper).
    logger : where JSON logs go.
    """

    def __init__(self, *, config: KeeperConfig, model: KeeperModel, feed: MarketFeed,
                 venue: Venue, journal: Journal, clock: Clock,
                 metrics: KeeperMetrics | None = None, crash: CrashPoints | None = None,
                 follow: FollowFeed | None = None, logger: logging.Logger | None = None) -> None:
        self.config = config
        self.model = model
        self.feed = feed
        self.venue = venue
        self.journal = journal
        self.clock = clock
        self.metrics = metrics if metrics is not None else KeeperMetrics()
        self.crash = crash if crash is not None else CrashPoints()
        self.follow = follow
        self.log = logger if logger is not None else logging.getLogger("hedgekeeper.keeper")
        checkpoint = journal.last_checkpoint()
        self.state = KeeperState.from_json(None if checkpoint is None else checkpoint.details)
        self.cursor = int(checkpoint.venue_cursor) if checkpoint and checkpoint.venue_cursor \
            else 0
        self.rails = Rails(config.rails, RailsState.from_json(self.state.rails))
        self.positions: dict[str, Decimal] = {}
        self.venue_positions: dict[str, Decimal] = {}
        self.reconciled = False
        self.last_decision: Decision | None = None
        self.last_update: MarketUpdate | None = None
        self.summary = RunSummary()
        self._perpetuals = tuple(name for name, inst in model.hedges.items()
                                 if isinstance(inst, Perpetual))
        self._control_checked = -math.inf
        self._skip_rail: str | None = None
        self._control_lock = asyncio.Lock()
        self.stopping = asyncio.Event()
        self._book_cache: tuple[tuple[tuple[str, Decimal], ...], datetime, Book] | None = None
        self.decision_latencies: list[float] | None = None

    # ---- journal helpers ---------------------------------------------------------------------

    def _timed(self, work: Callable[[], _T]) -> _T:
        start = time.perf_counter()
        result = work()
        self.metrics.commit_seconds.observe(time.perf_counter() - start)
        return result

    def _save_state(self) -> None:
        self.state.rails = self.rails.state.to_json()
        details = self.state.to_json()
        self._timed(lambda: self.journal.checkpoint(venue_cursor=str(self.cursor),
                                                    details=details, at=self.clock.now()))

    def _trip(self, trip: Trip) -> None:
        self.metrics.rail_trips.labels(trip.rail).inc()
        self.journal.record_rail_trip(trip.rail, redact(trip.reason), at=self.clock.now())
        log_event(self.log, "rail_tripped", logging.WARNING, rail=trip.rail,
                  reason=redact(trip.reason))
        self._refresh_gauges()

    def _record_intent(self, intent: Intent, at: datetime) -> None:
        self._timed(lambda: self.journal.record_intent(intent, at=at))

    def _record_positions(self) -> None:
        """Snapshots of the venue's positions (its last report) and the journal's."""
        at = self.clock.now()
        self.journal.record_positions(dict(self.venue_positions), source="venue", at=at)
        self.journal.record_positions(dict(self.positions), source="journal", at=at)

    def _refresh_gauges(self) -> None:
        self.metrics.trading_blocked.set(1.0 if self.rails.blocking or not self.reconciled
                                         else 0.0)
        self.metrics.killed.set(1.0 if self.rails.killed else 0.0)
        self.metrics.reconciled.set(1.0 if self.reconciled else 0.0)
        for name, quantity in self.positions.items():
            self.metrics.position.labels(name).set(float(quantity))

    # ---- venue calls -------------------------------------------------------------------------

    async def _venue(self, what: str, call: Callable[[], Awaitable[_T]]) -> _T:
        """One venue call with the configured timeout; failures count towards the halt rail."""
        try:
            result = await asyncio.wait_for(call(), timeout=self.config.rails.order_timeout_s)
        except TimeoutError:
            self._venue_failed(what, "timeout")
            raise VenueTimeout(what) from None
        except VenueRejected:
            self.rails.venue_ok()
            raise
        except VenueError as exc:
            self._venue_failed(what, type(exc).__name__)
            raise
        self.rails.venue_ok()
        return result

    def _venue_failed(self, what: str, kind: str) -> None:
        self.metrics.venue_errors.labels(kind).inc()
        log_event(self.log, "venue_error", logging.WARNING, operation=what, kind=kind)
        trip = self.rails.venue_error(f"{what}: {kind}")
        if trip is not None:
            self._trip(trip)

    async def _retrying(self, what: str, call: Callable[[], Awaitable[_T]]) -> _T:
        """Retry a read-only venue call (lookups, reports) with backoff until it answers."""
        delay = 0.05
        for attempt in range(_LOOKUP_TRIES):
            try:
                return await self._venue(what, call)
            except RateLimited as exc:
                await asyncio.sleep(min(exc.retry_after, 2.0))
            except VenueError:
                if attempt == _LOOKUP_TRIES - 1:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2.0, 1.0)
        raise VenueTimeout(what)

    # ---- applying venue reports --------------------------------------------------------------

    def _apply_report(self, order: Order, report: OrderReport) -> Order:
        """Move a journalled order to what the venue reports (fills are applied separately;
        the state machine accepts fills after a cancel)."""
        cid = order.client_order_id
        at = self.clock.now()
        if report.status is VenueOrderStatus.REJECTED:
            if order.status is not OrderStatus.REJECTED:
                reason = report.reject_reason.value if report.reject_reason else "rejected"
                order = self.journal.apply_event(cid, OrderRejected(reason), at=at)
                self.metrics.orders.labels(order.status.value).inc()
            return order
        if order.venue_order_id != report.venue_order_id or order.status in (
                OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED, OrderStatus.UNKNOWN):
            order = self.journal.apply_event(cid, VenueAccepted(report.venue_order_id), at=at)
        if report.status is VenueOrderStatus.CANCELLED and order.is_open:
            order = self.journal.apply_event(cid, VenueCancelled("cancelled at the venue"),
                                             at=at)
            self.metrics.orders.labels(order.status.value).inc()
        return order

    def _apply_fill(self, fill: VenueFill) -> bool:
        record = Fill(trade_id=fill.trade_id, client_order_id=fill.client_order_id,
                      quantity=fill.quantity, price=fill.price, fee=fill.fee,
                      timestamp=fill.timestamp)
        new = self._timed(lambda: self.journal.apply_fill(record, at=self.clock.now()))
        if new:
            self.positions[fill.instrument] = self.positions.get(fill.instrument, Decimal(0)) \
                + fill.signed_quantity
            self.metrics.fills.inc()
            self.summary.fills += 1
            log_event(self.log, "fill", trade_id=fill.trade_id,
                      client_order_id=fill.client_order_id, instrument=fill.instrument,
                      side=fill.side.value, quantity=str(fill.quantity), price=str(fill.price))
            self.crash.reached("fill_saved")
        return new

    async def sync_reports(self, *, during_recovery: bool = False) -> VenueReports:
        """Apply the venue's order changes and fills since the cursor; advance the cursor.

        Raises :class:`KeeperHaltedError` when the venue reports an order the journal does not
        know (every order is journalled before it is sent, so that is another writer).
        """
        reports = await self._retrying("reports", lambda: self.venue.reports(self.cursor))
        known: dict[str, Order] = {}
        orphans: list[str] = []
        for report in reports.orders:
            order = self.journal.order(report.client_order_id)
            if order is None:
                raise KeeperHaltedError(f"the venue reports order {report.client_order_id} "
                                        f"(intent {report.intent_id}) that the journal does "
                                        "not know")
            if order.is_open:
                order = self._apply_report(order, report)
                if during_recovery:
                    self.crash.reached("reconciling")
            elif not report.status.is_terminal:
                # The venue is the authority: an order live there that the journal has closed
                # (a submit that arrived after a lookup found nothing and the order was
                # cancelled locally) must not keep working. Cancel it; its fills, if any, are
                # applied below like any fill after a cancel.
                orphans.append(order.client_order_id)
            known[order.client_order_id] = order
        for cid in orphans:
            log_event(self.log, "orphan_order_cancelled", logging.WARNING, client_order_id=cid)
            # Retrying is safe: a cancel is idempotent at the venue.
            await self._retrying("cancel", functools.partial(self.venue.cancel, cid))
        by_order: dict[str, list[VenueFill]] = {}
        for fill in reports.fills:
            by_order.setdefault(fill.client_order_id, []).append(fill)
        for cid, fills in by_order.items():
            order = known.get(cid) or self.journal.order(cid)
            if order is None:
                raise KeeperHaltedError(f"the venue reports fill(s) of order {cid} that the "
                                        "journal does not know")
            pending = sum((f.quantity for f in fills if f.trade_id not in order.trade_ids),
                          Decimal(0))
            if pending and order.filled_quantity + pending < order.quantity:
                self.crash.reached("partially_filled")
            for fill in fills:
                self._apply_fill(fill)
                if during_recovery:
                    self.crash.reached("reconciling")
        self.cursor = reports.cursor
        self.venue_positions = dict(reports.positions)
        return reports

    # ---- orders ------------------------------------------------------------------------------

    def _request(self, order: Order) -> OrderRequest:
        return OrderRequest(client_order_id=order.client_order_id, intent_id=order.intent_id,
                            instrument=order.instrument, side=_side(order.side),
                            quantity=order.quantity, order_type=OrderType.LIMIT,
                            limit_price=order.limit_price, time_in_force=TimeInForce.GTC)

    async def _resolve(self, order: Order) -> Order:
        """Look an UNKNOWN/SUBMITTED/PENDING order up; back to PENDING_SUBMIT if never seen."""
        cid = order.client_order_id
        report = await self._retrying("order", lambda: self.venue.order(cid))
        if report is None:
            return self.journal.apply_event(cid, VenueNotFound(), at=self.clock.now())
        return self._apply_report(order, report)

    async def _send(self, request: OrderRequest) -> OrderAck:
        return await self._venue("submit", lambda: self.venue.submit(request))

    async def submit(self, order: Order) -> Order:
        """Send a ``PENDING_SUBMIT`` order until the venue has answered about it.

        A timeout or 5xx makes the order UNKNOWN; it is then looked up by client order id and
        sent again (same id) only if the venue never saw it. Never a second client id.
        """
        cid = order.client_order_id
        for _ in range(_LOOKUP_TRIES):
            if order.status is not OrderStatus.PENDING_SUBMIT:
                return order
            order = self._timed(lambda: self.journal.apply_event(cid, SubmitSent(),
                                                                 at=self.clock.now()))
            self.crash.reached("sent")
            request = self._request(order)
            try:
                ack = await self._send(request)
            except VenueRejected as exc:
                log_event(self.log, "order_rejected", logging.WARNING, client_order_id=cid,
                          reason=str(exc.reason.value))
                if exc.report is None or exc.report.client_order_id != cid:
                    return self.journal.apply_event(cid, OrderRejected(exc.reason.value),
                                                    at=self.clock.now())
                return self._apply_report(order, exc.report)
            except VenueError as exc:
                if isinstance(exc, RateLimited):
                    await asyncio.sleep(min(exc.retry_after, 2.0))
                order = self.journal.apply_event(cid, SubmitTimedOut(), at=self.clock.now())
                log_event(self.log, "order_unknown", logging.WARNING, client_order_id=cid,
                          error=type(exc).__name__)
                order = await self._resolve(order)
                continue
            self.crash.reached("ack_lost")
            order = self._apply_report(order, ack.report)
            log_event(self.log, "order_acknowledged", client_order_id=cid,
                      venue_order_id=ack.report.venue_order_id, status=ack.report.status.value,
                      duplicate=ack.duplicate)
        return order

    async def cancel(self, order: Order) -> Order:
        """Cancel what is left of an open order; record the venue's answer and late fills."""
        cid = order.client_order_id
        if order.status in (OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED,
                            OrderStatus.UNKNOWN):
            order = await self._resolve(order)
            if order.status is OrderStatus.PENDING_SUBMIT:
                order = self.journal.apply_event(cid, CancelRequested(), at=self.clock.now())
                return self.journal.apply_event(cid, VenueNotFound(), at=self.clock.now())
        if not order.is_open:
            return order
        if order.status is not OrderStatus.CANCEL_PENDING:
            order = self.journal.apply_event(cid, CancelRequested(), at=self.clock.now())
        report: OrderReport | None = None
        for _ in range(_LOOKUP_TRIES):
            # A cancel is idempotent at the venue: repeat it until the order is terminal there.
            try:
                report = await self._venue("cancel", lambda: self.venue.cancel(cid))
            except VenueError:
                report = await self._retrying("order", lambda: self.venue.order(cid))
            if report is None or report.status.is_terminal:
                break
            await asyncio.sleep(_POLL_S)
        self.crash.reached("cancel_sent")
        if report is None:
            return self.journal.apply_event(cid, VenueNotFound(), at=self.clock.now())
        if report.filled_quantity > order.filled_quantity:
            self.crash.reached("cancel_race")
        await self.sync_reports()
        latest = self.journal.order(cid)
        assert latest is not None
        if latest.is_open:
            latest = self._apply_report(latest, report)
        if latest.is_open:
            raise KeeperHaltedError(f"order {cid} is still {report.status.value} at the venue "
                                    "after repeated cancels")
        return latest

    async def work_orders(self, orders: Sequence[Order]) -> list[Order]:
        """Send, wait for fills up to ``fill_wait_s`` (wall), cancel the rest."""
        working = [await self.submit(order) for order in orders]
        deadline = time.monotonic() + self.config.rails.fill_wait_s
        while True:
            await self.sync_reports()
            working = [self.journal.order(o.client_order_id) or o for o in working]
            if all(not o.is_open for o in working) or time.monotonic() >= deadline:
                break
            await self.apply_control()  # a kill cancels at once, not after the wait
            if self.rails.killed or self.stopping.is_set():
                break
            await asyncio.sleep(_POLL_S)
        finished = []
        for order in working:
            order = self.journal.order(order.client_order_id) or order
            if order.is_open:
                order = await self.cancel(order)
            finished.append(order)
            log_event(self.log, "order_finished", client_order_id=order.client_order_id,
                      status=order.status.value, filled=str(order.filled_quantity),
                      quantity=str(order.quantity))
        self.metrics.open_orders.set(len(self.journal.open_orders()))
        return finished

    # ---- recovery ----------------------------------------------------------------------------

    async def recover(self) -> None:
        """Crash-only startup: reconcile with the venue; block trading until it succeeds."""
        self.reconciled = False
        self._refresh_gauges()
        log_event(self.log, "recovery_started", journal=self.journal.url, cursor=self.cursor,
                  sequence=self.state.sequence)
        self.positions = dict(self.journal.positions())
        await self.apply_control(force=True)
        for order in self.journal.open_orders():
            if order.status in (OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED,
                                OrderStatus.UNKNOWN):
                await self._resolve(order)
                self.crash.reached("reconciling")
        try:
            reports = await self.sync_reports(during_recovery=True)
        except KeeperHaltedError as exc:
            self._trip(self.rails.trip(RECONCILIATION, str(exc)))
            self._save_state()
            raise
        mismatch = self._position_mismatch(reports.positions)
        if mismatch:
            log_event(self.log, "reconciliation_resync", logging.WARNING, mismatch=mismatch)
            self.cursor = 0
            reports = await self.sync_reports(during_recovery=True)
            self.positions = dict(self.journal.positions())
            mismatch = self._position_mismatch(reports.positions)
        self._record_positions()
        if mismatch:
            self._trip(self.rails.trip(RECONCILIATION, f"positions differ from the venue's "
                                                       f"after a full resync: {mismatch}"))
            self._save_state()
            raise KeeperHaltedError(f"reconciliation failed: {mismatch}")
        if self.rails.clear(RECONCILIATION):
            log_event(self.log, "reconciliation_cleared")
        if self.state.executing is None:
            self.state.executing = self._interrupted_sequence()
        if self.state.executing is not None:
            await self._finish_executing()
        if self.rails.killed:
            await self._cancel_all("kill switch on at startup")
        self.reconciled = True
        self._save_state()
        self._refresh_gauges()
        log_event(self.log, "recovery_finished", cursor=self.cursor, sequence=self.state.sequence,
                  positions={k: str(v) for k, v in self.positions.items()},
                  blocked=self.rails.blocking)

    def _position_mismatch(self, venue: Mapping[str, Decimal]) -> str:
        names = sorted(set(venue) | set(self.positions))
        problems = [f"{name}: journal {self.positions.get(name, Decimal(0))} vs venue "
                    f"{venue.get(name, Decimal(0))}" for name in names
                    if self.positions.get(name, Decimal(0)) != venue.get(name, Decimal(0))]
        return "; ".join(problems)

    def _interrupted_sequence(self) -> int | None:
        """A feed update whose intents were journalled but whose checkpoint was not (a crash
        between the intents of a multi-leg decision and its checkpoint)."""
        head = f"{self.state.journal_id}-"
        for intent in self.journal.unexecuted_intents():
            parts = intent.intent_id[len(head):].split("-")
            if intent.intent_id.startswith(head) and parts[0].isdigit() and \
                    int(parts[0]) > self.state.sequence:
                return int(parts[0])
        return None

    async def _finish_executing(self) -> None:
        """Finish the update whose intents were journalled before a crash."""
        sequence = self.state.executing
        assert sequence is not None
        prefix = self._intent_prefix(sequence)
        found: dict[str, Order] = {o.client_order_id: o for o in self.journal.open_orders()
                                   if o.intent_id.startswith(prefix)}
        for intent in self.journal.unexecuted_intents():
            if intent.intent_id.startswith(prefix):
                order = self.journal.new_order(intent.intent_id, at=self.clock.now())
                found[order.client_order_id] = order
        orders = list(found.values())
        if self.rails.blocking:
            for order in orders:
                await self.cancel(order)
        else:
            await self.work_orders(orders)
        log_event(self.log, "update_finished_after_restart", sequence=sequence,
                  orders=len(orders))
        self.state.sequence = sequence
        self.state.executing = None
        self._save_state()

    def _intent_prefix(self, sequence: int) -> str:
        return f"{self.state.journal_id}-{sequence}-"

    # ---- control (kill switch) -----------------------------------------------------------------

    async def apply_control(self, force: bool = False) -> None:
        """Act on a kill/resume written to the journal by ``hedgekeeper kill/resume``.

        The journal is read at most every quarter second of wall time unless ``force``.
        """
        now_wall = time.monotonic()
        if not force and now_wall - self._control_checked < _CONTROL_POLL_S:
            return
        self._control_checked = now_wall
        switch = self.journal.kill_switch()
        changed = _iso(switch.changed_at)
        if changed is None or changed == self.state.control_seen:
            return
        async with self._control_lock:
            self.state.control_seen = changed
            if switch.engaged:
                if not self.rails.killed:
                    self._trip(self.rails.kill(switch.reason))
                    if self.reconciled:
                        await self._cancel_all(switch.reason)
            else:
                cleared = self.rails.resume(self.clock.now())
                log_event(self.log, "resumed", cleared=cleared, reason=switch.reason)
            self._save_state()
            self._refresh_gauges()

    async def _cancel_all(self, reason: str) -> None:
        for order in self.journal.open_orders():
            await self.cancel(order)
        log_event(self.log, "open_orders_cancelled", reason=redact(reason))

    async def request_kill(self, reason: str) -> Mapping[str, Any]:
        """Kill switch on (journalled), open orders cancelled; the status after."""
        self.journal.set_kill_switch(True, reason or "kill requested", at=self.clock.now())
        await self.apply_control(force=True)
        return self.status()

    async def request_resume(self) -> Mapping[str, Any]:
        """Kill switch off and every latched rail cleared (journalled); the status after."""
        self.journal.set_kill_switch(False, "resumed by operator", at=self.clock.now())
        await self.apply_control(force=True)
        return self.status()

    # ---- one update ----------------------------------------------------------------------------

    def _sources(self, update: MarketUpdate, quotes: QuoteSnapshot | None) -> dict[str, float]:
        sources = dict(update.sources)
        if quotes is not None:
            for name in self._perpetuals:
                quote = quotes.quotes.get(name)
                if quote is not None:
                    sources[f"venue:{name}"] = float(quote.mid)
        return sources

    async def process(self, update: MarketUpdate, arrived: float | None = None) -> Decision | None:
        """Handle one market update; returns the decision (None when a rail skipped it).

        Parameters
        ----------
        update : the update.
        arrived : ``time.perf_counter()`` when the update was due (the latency origin).
        """
        arrived = time.perf_counter() if arrived is None else arrived
        self.summary.updates += 1
        self.metrics.updates.labels(update.origin).inc()
        self.metrics.spot.set(update.index_price)
        self.last_update = update
        await self.apply_control()
        now = self.clock.now()
        self.metrics.data_age.set((now - update.time).total_seconds() / self.clock.speed)
        if self.follow is not None:
            for name in self._perpetuals:
                self.follow.push(name, update.perp_price)
        if self.rails.new_day(now):
            log_event(self.log, "rail_cleared", rail="daily_turnover")
        quotes: QuoteSnapshot | None = None
        try:
            quotes = await self._venue("snapshot",
                                       lambda: self.venue.snapshot(list(self.model.hedges)))
        except VenueError as exc:
            self._skip(update, Trip("venue_quotes", f"no quotes from the venue: "
                                                    f"{type(exc).__name__}"), latched=False)
            return None
        trip = self.rails.check_market(now, update.time, self._sources(update, quotes),
                                       self.clock.speed)
        if trip is not None:
            self._skip(update, trip, latched=False)
            return None
        if self.rails.blocking or not self.reconciled:
            rail, reason = next(iter(self.rails.blocking.items()), ("reconciliation",
                                                                     "not reconciled"))
            self._skip(update, Trip(rail, reason), latched=True)
            return None
        state = self._engine_state(update.time)
        try:
            market = MarketInputs(
                snapshot=update.snapshot(self.model.option_names),
                quotes={name: engine_quote(q.bid, q.ask) for name, q in quotes.quotes.items()},
                realised_vol=self.config.hedge.realised_vol)
            decision = decide(state, market, self.model.components)
        except ValueError as exc:
            self._skip(update, Trip("decision_error", str(exc)), latched=False)
            return None
        latency = time.perf_counter() - arrived
        self.metrics.decision_seconds.observe(latency)
        if self.decision_latencies is not None:
            self.decision_latencies.append(latency)
        self.metrics.decisions.labels(decision.outcome.value).inc()
        self.metrics.net_delta.set(decision.exposure_after.delta)
        self.summary.decisions += 1
        self.last_decision = decision
        self._skip_rail = None
        if decision.outcome is not Outcome.TRADE:
            self._hold(update, decision)
            return decision
        await self._trade(update, decision)
        return decision

    def _engine_state(self, now: datetime) -> EngineState:
        """The engine's state; the live book is rebuilt only when positions change or an
        instrument of the book expires."""
        key = tuple(sorted(self.positions.items()))
        cached = self._book_cache
        if cached is None or cached[0] != key or now >= cached[1]:
            book = self.model.live_book(self.positions, now)
            expiries = [expiry for p in book.positions
                        if (expiry := expiry_of(p.instrument)) is not None]
            self._book_cache = cached = (key, min(expiries, default=_NEVER), book)
        return EngineState(book=cached[2], last_rebalance=_time(self.state.last_rebalance),
                           last_rebalance_spot=self.state.last_rebalance_spot,
                           recent_rebalances=tuple(datetime.fromisoformat(t)
                                                   for t in self.state.recent))

    def _skip(self, update: MarketUpdate, trip: Trip, *, latched: bool) -> None:
        """No decision on this update: say why once per rail and reason, journal new trips."""
        self.metrics.skipped.labels(trip.rail).inc()
        new = trip.rail != self._skip_rail
        self._skip_rail = trip.rail
        if new:
            if latched:
                log_event(self.log, "update_skipped", logging.WARNING, rail=trip.rail,
                          reason=redact(trip.reason), sequence=update.sequence)
            else:
                self._trip(trip)
        self.state.sequence = update.sequence
        self.state.market_time = _iso(update.time)
        if new:
            self._save_state()
        self._refresh_gauges()
        return None

    def _hold(self, update: MarketUpdate, decision: Decision) -> None:
        key = f"{decision.outcome.value}:{decision.policy_reason}"
        last = _time(self.state.last_held_time)
        interval = self.config.hold_journal_interval_s
        due = last is None or (update.time - last).total_seconds() >= interval
        if key != self.state.last_held or due:
            self._timed(lambda: self.journal.record_decision(decision, at=self.clock.now()))
            self.state.last_held = key
            self.state.last_held_time = _iso(update.time)
        self.state.sequence = update.sequence
        self.state.market_time = _iso(update.time)
        if due:
            self._save_state()

    async def _trade(self, update: MarketUpdate, decision: Decision) -> None:
        now = self.clock.now()
        decision_id = self._timed(lambda: self.journal.record_decision(decision, at=now))
        self.state.last_held = None
        log_event(self.log, "decision", decision_id=decision_id, outcome=decision.outcome.value,
                  reason=redact(decision.reason), delta_before=decision.exposure_before.delta,
                  delta_after=decision.exposure_after.delta, sequence=update.sequence)
        self.crash.reached("decided")
        proposed = []
        intents = []
        for leg, order in enumerate(decision.orders):
            instrument: Instrument = self.model.hedges[order.instrument]
            quantity = _to_lot(order.quantity, instrument.lot_size)
            if quantity <= 0:
                continue
            notional = contract_notional_usd(instrument, order.reference_price,
                                              update.index_price) * float(quantity)
            proposed.append(ProposedOrder(order.instrument, order.side, float(quantity),
                                          notional))
            intents.append(Intent(
                intent_id=f"{self._intent_prefix(update.sequence)}{leg}",
                instrument=order.instrument, side=OrderSide(order.side), quantity=quantity,
                limit_price=_to_tick(order.limit_price, instrument, order.side),
                decision_id=decision_id))
        trip = self.rails.check_orders(now, proposed) if proposed else None
        if trip is not None or not intents:
            if trip is not None:
                self._trip(trip)
            self.state.sequence = update.sequence
            self.state.market_time = _iso(update.time)
            self._save_state()
            return
        for intent in intents:
            self._record_intent(intent, now)
        self.rails.record_sent(now, proposed)
        after = self._engine_state(update.time).after(decision)
        self.state.last_rebalance = _iso(after.last_rebalance)
        self.state.last_rebalance_spot = after.last_rebalance_spot
        self.state.recent = [t.isoformat() for t in after.recent_rebalances]
        self.state.executing = update.sequence
        self._save_state()
        self.crash.reached("intent_saved")
        orders = [self.journal.new_order(intent.intent_id, at=now) for intent in intents]
        self.summary.orders += len(orders)
        await self.work_orders(orders)
        self.state.sequence = update.sequence
        self.state.market_time = _iso(update.time)
        self.state.executing = None
        self._save_state()
        self._record_positions()
        self._refresh_gauges()

    # ---- running -----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, *, speed_wait: bool = True) -> RunSummary:
        """Recover, then process the feed from the checkpoint until it ends or ``stop`` is set.

        Each update is handled when the clock reaches its time (``speed_wait``); a stop request
        is honoured between updates (an update in progress is finished first).
        """
        self.stopping = stop
        await self.recover()
        pending = self.feed.updates(after=self.state.sequence)
        first = next(pending, None)
        if first is not None and isinstance(self.clock, ReplayClock):
            self.clock.restart_at(first.time)
        stream = _Peekable(itertools.chain([] if first is None else [first], pending))
        for update in stream:
            if stop.is_set():
                self.summary.stopped_by = "stop"
                break
            if speed_wait:
                delay = self.clock.wall_seconds_until(update.time)
                due = time.perf_counter() + delay
                if delay > 0.0:
                    try:
                        await asyncio.wait_for(stop.wait(), timeout=delay)
                        self.summary.stopped_by = "stop"
                        break
                    except TimeoutError:
                        pass
                # Conflation: when later updates are already due, decide on the freshest.
                now = self.clock.now()
                while (later := stream.peek()) is not None and later.time <= now:
                    self.metrics.skipped.labels("conflated").inc()
                    self.summary.conflated += 1
                    update = next(stream)
                    due = time.perf_counter() - (now - update.time).total_seconds() \
                        / self.clock.speed
                arrived = min(due, time.perf_counter())
            else:
                arrived = time.perf_counter()
            try:
                await self.process(update, arrived)
            except VenueError as exc:
                self._save_state()
                raise KeeperHaltedError(f"venue unreachable while working orders ({exc}); "
                                        "restart to reconcile") from None
        else:
            self.summary.stopped_by = "feed_exhausted"
        self._save_state()
        log_event(self.log, "keeper_stopped", stopped_by=self.summary.stopped_by,
                  updates=self.summary.updates, conflated=self.summary.conflated,
                  decisions=self.summary.decisions,
                  orders=self.summary.orders, fills=self.summary.fills)
        return self.summary

    # ---- status ------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """A JSON-ready description of the running keeper."""
        decision = self.last_decision
        update = self.last_update
        return {
            "name": self.config.name,
            "reconciled": self.reconciled,
            "trading": self.reconciled and not self.rails.blocking,
            "kill_switch": self.rails.killed,
            "rails": self.rails.blocking,
            "positions": {k: str(v) for k, v in sorted(self.positions.items())},
            "venue_cursor": self.cursor,
            "feed_sequence": self.state.sequence,
            "market_time": self.state.market_time,
            "last_update": None if update is None else {
                "sequence": update.sequence, "time": update.time.isoformat(),
                "index_price": update.index_price, "origin": update.origin},
            "last_decision": None if decision is None else {
                "outcome": decision.outcome.value, "reason": redact(decision.reason),
                "timestamp": decision.timestamp.isoformat(),
                "net_delta_before": decision.exposure_before.delta,
                "net_delta_after": decision.exposure_after.delta},
            "last_rebalance": self.state.last_rebalance,
            "summary": {"updates": self.summary.updates, "decisions": self.summary.decisions,
                        "orders": self.summary.orders, "fills": self.summary.fills},
        }


def _to_tick(price: float, instrument: Instrument, side: str) -> Decimal:
    """A limit price on the instrument's tick grid, never more aggressive than given."""
    tick = Decimal(repr(instrument.tick_size))
    ticks = Decimal(repr(price)) / tick
    rounded = ticks.to_integral_value(rounding="ROUND_FLOOR" if side == "buy" else "ROUND_CEILING")
    return (rounded * tick).normalize()

