"""The keeper's journal: decisions, intents, orders, fills, positions and keeper state.

Every method is one short transaction, committed before it returns, so whatever a method
returned is on disk (see :mod:`hedgekeeper.store.database` for the durability settings). The
keeper's order of work is::

    decision_id = journal.record_decision(decision)
    journal.record_intent(Intent(f"d{decision_id}-{leg}", ...))   # before anything is sent
    order = journal.new_order(intent_id)                          # PENDING_SUBMIT, client id
    journal.apply_event(order.client_order_id, SubmitSent())       # then send it
    ...  venue reports -> journal.apply_event / journal.apply_fill (duplicates are no-ops)

Order status changes go through the pure state machine
(:func:`hedgekeeper.domain.orders.transition`), inside the transaction that stores them, with
the order row locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write lock), so
concurrent writers cannot lose an update. Amounts are exact ``Decimal`` throughout.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from types import MappingProxyType, TracebackType
from typing import Any, Protocol, Self

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hedgekeeper.domain.orders import (
    EXACT,
    Fill,
    Intent,
    Order,
    OrderEvent,
    OrderSide,
    OrderStatus,
    VenueFill,
    exact_sum,
    transition,
)
from hedgekeeper.store.database import (
    JournalOpenError,
    current_revision,
    describe_failure,
    make_engine,
    parse_url,
    upgrade,
)
from hedgekeeper.store.models import (
    CheckpointRow,
    DecisionRow,
    FillRow,
    IntentRow,
    KillSwitchRow,
    OrderRow,
    PositionSnapshotRow,
    RailTripRow,
    SnapshotPositionRow,
)

__all__ = [
    "Checkpoint",
    "DecisionLike",
    "DecisionRecord",
    "Journal",
    "KillSwitch",
    "PositionSnapshot",
    "RailTrip",
    "plain_decimal",
]

_OPEN_STATUSES = tuple(s.value for s in OrderStatus if s.is_open)


class DecisionLike(Protocol):
    """What the journal needs of a decision (``hedgekeeper.engine.Decision`` is one).

    The whole object (a dataclass) is stored as JSON: numpy arrays become lists, datetimes
    ISO 8601 strings, enums their values, non-finite floats the strings ``"nan"``, ``"inf"``,
    ``"-inf"``.
    """

    @property
    def timestamp(self) -> datetime: ...

    @property
    def outcome(self) -> str: ...

    @property
    def reason(self) -> str: ...


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """A journalled decision: its id, time, outcome, reason and full JSON payload."""

    id: int
    decided_at: datetime
    recorded_at: datetime
    outcome: str
    reason: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class KillSwitch:
    """The kill switch: engaged (no new orders) or not, why, and since when (None: never set)."""

    engaged: bool
    reason: str
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A point the keeper reconciled up to: time, the venue's cursor (opaque), details (JSON)."""

    id: int
    at: datetime
    venue_cursor: str | None
    details: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RailTrip:
    """A safety rail that tripped: which, why, when."""

    id: int
    rail: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PositionSnapshot:
    """Positions (instrument -> signed contracts, exact) from ``source`` at ``taken_at``."""

    snapshot_id: int
    taken_at: datetime
    source: str
    positions: Mapping[str, Decimal]


def plain_decimal(value: Decimal) -> str:
    """The canonical text of an amount: no exponent, no trailing zeros (``"0.1"``, ``"100"``).

    Exports write amounts this way so two sides' records compare as strings.
    """
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _now() -> datetime:
    return datetime.now(UTC)


def _when(at: datetime | None, name: str) -> datetime:
    if at is None:
        return _now()
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {at!r}")
    return at.astimezone(UTC)


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _jsonable(value: Any) -> Any:
    """``value`` as JSON-ready data (see :class:`DecisionLike` for the conventions)."""
    if value is None or (isinstance(value, bool | int) and not isinstance(value, Enum)):
        return value
    if isinstance(value, Enum):
        return _jsonable(value.value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return plain_decimal(value) if value.is_finite() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(item) for item in value]
    return repr(value)


def _dumps(value: Any) -> str:
    return json.dumps(_jsonable(value), allow_nan=False, separators=(",", ":"))


class Journal:
    """The keeper's journal in SQLite or PostgreSQL; open it with :meth:`Journal.open`.

    Thread-safe in the way SQLAlchemy engines are: each method uses its own session.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # ---- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> Journal:
        """Open (and migrate to the newest schema) the journal at ``url``.

        Parameters
        ----------
        url : ``sqlite:///PATH`` (default kind; WAL mode) or
            ``postgresql+psycopg://USER[:PASSWORD]@HOST:PORT/DBNAME``.
        create : when True (the keeper), a missing SQLite file or an empty database gets a new
            journal; when False (``journal export``), they are errors.

        Raises
        ------
        JournalOpenError
            (a ``ValueError``) for a bad URL, a missing journal with ``create=False``, an
            unreachable database or a schema newer than this package. Messages never contain
            the password.
        """
        engine = make_engine(parse_url(url), create=create)
        try:
            if not create:
                try:
                    with engine.connect() as connection:
                        revision = current_revision(connection)
                except SQLAlchemyError as exc:
                    raise JournalOpenError(describe_failure(engine, exc)) from None
                if revision is None:
                    raise JournalOpenError(
                        f"no journal at {engine.url.render_as_string(hide_password=True)} "
                        "(the database has no journal schema)")
            upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def __repr__(self) -> str:
        return f"Journal({self.url!r})"

    # ---- decisions and intents ----------------------------------------------------------------

    def record_decision(self, decision: DecisionLike, *, at: datetime | None = None) -> int:
        """Store ``decision`` with its full explanation; returns its id.

        Parameters
        ----------
        decision : a dataclass with ``timestamp`` (aware datetime), ``outcome`` and ``reason``
            (``hedgekeeper.engine.Decision``).
        at : recording time (default now, UTC).
        """
        candidate: object = decision
        if not dataclasses.is_dataclass(candidate) or isinstance(candidate, type):
            raise ValueError(f"decision must be a dataclass instance such as "
                             f"hedgekeeper.engine.Decision, got {decision!r}")
        decided_at = _when(decision.timestamp, "decision.timestamp")
        row = DecisionRow(decided_at=decided_at, recorded_at=_when(at, "at"),
                          outcome=str(_jsonable(decision.outcome)),
                          reason=str(decision.reason), payload=_dumps(decision))
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            return row.id

    def decision(self, decision_id: int) -> DecisionRecord | None:
        """The decision with id ``decision_id``, or None."""
        with self._sessions.begin() as session:
            row = session.get(DecisionRow, decision_id)
            if row is None:
                return None
            return DecisionRecord(id=row.id, decided_at=row.decided_at,
                                  recorded_at=row.recorded_at, outcome=row.outcome,
                                  reason=row.reason,
                                  payload=MappingProxyType(json.loads(row.payload)))

    def record_intent(self, intent: Intent, *, at: datetime | None = None) -> bool:
        """Store ``intent`` (before any order for it is sent).

        Returns
        -------
        bool
            True if stored now, False if the same intent was already stored (a retry).

        Raises
        ------
        ValueError
            If another intent with the same id is stored, or ``intent.decision_id`` names no
            journalled decision.
        """
        if not isinstance(intent, Intent):
            raise ValueError(f"intent must be an Intent, got {intent!r}")
        created_at = _when(at, "at")
        with self._sessions.begin() as session:
            existing = session.scalar(
                select(IntentRow).where(IntentRow.intent_id == intent.intent_id))
            if existing is not None:
                if _intent(existing) != intent:
                    raise ValueError(f"intent {intent.intent_id} is already journalled with "
                                     f"different content: {_intent(existing)} vs {intent}")
                return False
            if intent.decision_id is not None and \
                    session.get(DecisionRow, intent.decision_id) is None:
                raise ValueError(f"intent {intent.intent_id} names decision "
                                 f"{intent.decision_id}, which is not journalled")
            session.add(IntentRow(intent_id=intent.intent_id, decision_id=intent.decision_id,
                                  instrument=intent.instrument, side=intent.side.value,
                                  quantity=intent.quantity, limit_price=intent.limit_price,
                                  created_at=created_at))
        return True

    def intent(self, intent_id: str) -> Intent | None:
        """The intent with id ``intent_id``, or None."""
        with self._sessions.begin() as session:
            row = session.scalar(select(IntentRow).where(IntentRow.intent_id == intent_id))
            return None if row is None else _intent(row)

    def unexecuted_intents(self) -> list[Intent]:
        """Intents without any order yet (a crash between the two writes), oldest first."""
        with self._sessions.begin() as session:
            rows = session.scalars(
                select(IntentRow)
                .where(~select(OrderRow.id).where(OrderRow.intent_id == IntentRow.intent_id)
                       .exists())
                .order_by(IntentRow.id)).all()
            return [_intent(row) for row in rows]

    # ---- orders and fills ----------------------------------------------------------------------

    def new_order(self, intent_id: str, *, at: datetime | None = None) -> Order:
        """Record the next order executing ``intent_id`` and return it (``PENDING_SUBMIT``).

        The order's attempt number is the count of the intent's earlier orders, its client
        order id :func:`~hedgekeeper.domain.orders.client_order_id` of (intent, attempt), and
        its quantity what the intent still needs (intent quantity minus everything filled).

        Raises
        ------
        ValueError
            If the intent is not journalled, one of its orders is still open (resolve it
            first), or it is already completely filled.
        """
        created_at = _when(at, "at")
        with self._sessions.begin() as session:
            intent_row = session.scalar(
                select(IntentRow).where(IntentRow.intent_id == intent_id).with_for_update())
            if intent_row is None:
                raise ValueError(f"intent {intent_id!r} is not journalled: record_intent first")
            intent = _intent(intent_row)
            earlier = session.scalars(
                select(OrderRow).where(OrderRow.intent_id == intent_id)).all()
            filled = exact_sum(row.filled_quantity for row in earlier)
            remaining = EXACT.subtract(intent.quantity, filled)
            if remaining <= 0:
                raise ValueError(f"intent {intent_id} is already filled ({filled} of "
                                 f"{intent.quantity})")
            order = dataclasses.replace(Order.for_intent(intent, attempt=len(earlier)),
                                        quantity=remaining)
            self._insert_order(session, order, intent, earlier, created_at)
            return order

    def record_order(self, order: Order, *, at: datetime | None = None) -> Order:
        """Record ``order`` (normally ``PENDING_SUBMIT``) for its journalled intent.

        Idempotent: recording the same client order id again returns the stored order.
        :meth:`new_order` is the usual way; this one takes an order built by the caller.

        Raises
        ------
        ValueError
            If the intent is not journalled, the order's instrument or side differ from the
            intent's, the quantity exceeds what the intent still needs, another order of the
            intent is still open, or the client order id is taken with different content.
        """
        if not isinstance(order, Order):
            raise ValueError(f"order must be an Order, got {order!r}")
        created_at = _when(at, "at")
        with self._sessions.begin() as session:
            stored = self._order_row(session, order.client_order_id)
            if stored is not None:
                existing = self._order(session, stored)
                if (existing.intent_id, existing.instrument, existing.side,
                        existing.quantity, existing.limit_price) != (
                        order.intent_id, order.instrument, order.side, order.quantity,
                        order.limit_price):
                    raise ValueError(f"client order id {order.client_order_id} is already "
                                     f"journalled for a different order: {existing}")
                return existing
            intent_row = session.scalar(
                select(IntentRow).where(IntentRow.intent_id == order.intent_id)
                .with_for_update())
            if intent_row is None:
                raise ValueError(f"order {order.client_order_id} names intent "
                                 f"{order.intent_id!r}, which is not journalled: "
                                 "record_intent first")
            earlier = session.scalars(
                select(OrderRow).where(OrderRow.intent_id == order.intent_id)).all()
            self._insert_order(session, order, _intent(intent_row), earlier, created_at)
            return order

    @staticmethod
    def _insert_order(session: Session, order: Order, intent: Intent,
                      earlier: Any, created_at: datetime) -> None:
        if (order.instrument, order.side) != (intent.instrument, intent.side):
            raise ValueError(f"order {order.client_order_id} ({order.side.value} "
                             f"{order.instrument}) does not match intent {intent.intent_id} "
                             f"({intent.side.value} {intent.instrument})")
        still_open = [row.client_order_id for row in earlier
                      if OrderStatus(row.status).is_open]
        if still_open:
            raise ValueError(f"intent {intent.intent_id} already has open order(s) "
                             f"{still_open}: resolve them before another order")
        filled = exact_sum(row.filled_quantity for row in earlier)
        if EXACT.add(filled, order.quantity) > intent.quantity:
            raise ValueError(f"order {order.client_order_id} of {order.quantity} exceeds what "
                             f"intent {intent.intent_id} still needs "
                             f"({EXACT.subtract(intent.quantity, filled)})")
        if order.filled_quantity or order.trade_ids:
            raise ValueError(f"order {order.client_order_id} must be recorded before its "
                             "fills (apply them with apply_fill)")
        session.add(OrderRow(
            client_order_id=order.client_order_id, intent_id=order.intent_id,
            attempt=len(earlier), venue_order_id=order.venue_order_id,
            instrument=order.instrument, side=order.side.value, quantity=order.quantity,
            limit_price=order.limit_price, status=order.status.value,
            filled_quantity=order.filled_quantity, reason=order.reason,
            created_at=created_at, updated_at=created_at))
        try:
            session.flush()
        except IntegrityError:
            raise ValueError(f"order {order.client_order_id} could not be recorded: its client "
                             f"order id or attempt for intent {order.intent_id} is taken "
                             "(a concurrent writer)") from None

    def apply_event(self, client_order_id: str, event: OrderEvent, *,
                    at: datetime | None = None) -> Order:
        """Apply a keeper action or venue report to the order and store the result.

        Parameters
        ----------
        client_order_id : the order.
        event : see :func:`hedgekeeper.domain.orders.transition`; a :class:`VenueFill` is
            stored as a fill (once per trade id).
        at : time of the change (default now, UTC).

        Returns
        -------
        Order
            The order after the event (unchanged for a duplicate).

        Raises
        ------
        InvalidTransitionError
            For an impossible event (nothing is stored).
        ValueError
            For an unknown order, or a trade id already stored with different figures or for
            another order.
        """
        return self._apply(client_order_id, event, _when(at, "at"))[0]

    def apply_fill(self, fill: Fill, *, at: datetime | None = None) -> bool:
        """Apply a venue fill to its order; True if new, False for a duplicate trade id.

        Fills arriving after a cancel are applied (see the state machine). Raises as
        :meth:`apply_event`.
        """
        if not isinstance(fill, Fill):
            raise ValueError(f"fill must be a Fill, got {fill!r}")
        return self._apply(fill.client_order_id, VenueFill(fill), _when(at, "at"))[1]

    def _apply(self, client_order_id: str, event: OrderEvent,
               at: datetime) -> tuple[Order, bool]:
        with self._sessions.begin() as session:
            row = self._order_row(session, client_order_id, lock=True)
            if row is None:
                raise ValueError(f"order {client_order_id!r} is not journalled")
            order = self._order(session, row)
            if isinstance(event, VenueFill):
                fill = event.fill
                known = session.scalar(select(FillRow).where(FillRow.trade_id == fill.trade_id))
                if known is not None:
                    if (known.client_order_id, known.quantity, known.price) != (
                            fill.client_order_id, fill.quantity, fill.price):
                        raise ValueError(f"trade {fill.trade_id} is already journalled with "
                                         f"different figures: {_fill(known)} vs {fill}")
                    return order, False
            after = transition(order, event)
            if after is order:
                return order, False
            row.status = after.status.value
            row.venue_order_id = after.venue_order_id
            row.filled_quantity = after.filled_quantity
            row.reason = after.reason
            row.updated_at = at
            if isinstance(event, VenueFill):
                fill = event.fill
                session.add(FillRow(trade_id=fill.trade_id, client_order_id=fill.client_order_id,
                                    quantity=fill.quantity, price=fill.price, fee=fill.fee,
                                    traded_at=fill.timestamp, recorded_at=at))
            try:
                session.flush()
            except IntegrityError:
                raise ValueError(f"{type(event).__name__} for order {client_order_id} could not "
                                 "be stored (a concurrent writer stored the same trade)") from None
            return after, True

    @staticmethod
    def _order_row(session: Session, client_order_id: str, *,
                   lock: bool = False) -> OrderRow | None:
        query = select(OrderRow).where(OrderRow.client_order_id == client_order_id)
        if lock:
            query = query.with_for_update()
        return session.scalar(query)

    @staticmethod
    def _order(session: Session, row: OrderRow,
               trade_ids: frozenset[str] | None = None) -> Order:
        if trade_ids is None:
            trade_ids = frozenset(session.scalars(
                select(FillRow.trade_id).where(FillRow.client_order_id == row.client_order_id)))
        return Order(client_order_id=row.client_order_id, intent_id=row.intent_id,
                     instrument=row.instrument, side=OrderSide(row.side),
                     quantity=row.quantity, limit_price=row.limit_price,
                     status=OrderStatus(row.status), venue_order_id=row.venue_order_id,
                     filled_quantity=row.filled_quantity, trade_ids=trade_ids,
                     reason=row.reason)

    def _orders(self, session: Session, rows: Any) -> list[Order]:
        rows = list(rows)
        ids: dict[str, set[str]] = {row.client_order_id: set() for row in rows}
        if ids:
            pairs = session.execute(select(FillRow.client_order_id, FillRow.trade_id)
                                    .where(FillRow.client_order_id.in_(list(ids))))
            for order_id, trade_id in pairs:
                ids[order_id].add(trade_id)
        return [self._order(session, row, frozenset(ids[row.client_order_id])) for row in rows]

    def order(self, client_order_id: str) -> Order | None:
        """The order with ``client_order_id``, or None."""
        with self._sessions.begin() as session:
            row = self._order_row(session, client_order_id)
            return None if row is None else self._order(session, row)

    def orders(self, intent_id: str | None = None) -> list[Order]:
        """All orders (of one intent if given), in the order they were recorded."""
        with self._sessions.begin() as session:
            query = select(OrderRow).order_by(OrderRow.id)
            if intent_id is not None:
                query = query.where(OrderRow.intent_id == intent_id)
            return self._orders(session, session.scalars(query))

    def open_orders(self) -> list[Order]:
        """Orders not in a terminal status (including ``PENDING_SUBMIT``/``UNKNOWN`` ones to
        resolve), in the order they were recorded."""
        with self._sessions.begin() as session:
            query = select(OrderRow).where(OrderRow.status.in_(_OPEN_STATUSES)) \
                .order_by(OrderRow.id)
            return self._orders(session, session.scalars(query))

    def fills(self, client_order_id: str | None = None) -> list[Fill]:
        """All fills (of one order if given), in the order they were applied."""
        with self._sessions.begin() as session:
            query = select(FillRow).order_by(FillRow.id)
            if client_order_id is not None:
                query = query.where(FillRow.client_order_id == client_order_id)
            return [_fill(row) for row in session.scalars(query)]

    def positions(self) -> dict[str, Decimal]:
        """Net position per instrument from the journalled fills (buys +, sells -), contracts.

        Only what the keeper traded: a book held before it started is not included. Every
        instrument ever filled appears, with ``Decimal(0)`` once flat.
        """
        with self._sessions.begin() as session:
            rows = session.execute(
                select(OrderRow.instrument, OrderRow.side, FillRow.quantity)
                .join(FillRow, FillRow.client_order_id == OrderRow.client_order_id))
            net: dict[str, Decimal] = {}
            for instrument, side, quantity in rows:
                change = quantity if OrderSide(side) is OrderSide.BUY else -quantity
                net[instrument] = EXACT.add(net.get(instrument, Decimal(0)), change)
            return dict(sorted(net.items()))

    def record_positions(self, positions: Mapping[str, Decimal], *, source: str,
                         at: datetime | None = None) -> int:
        """Store a snapshot of positions (e.g. the venue's, ``source="venue"``); returns its id.

        ``positions`` maps instrument name -> signed contracts (exact ``Decimal``); an empty
        mapping records a flat book.
        """
        _text(source, "source")
        taken_at = _when(at, "at")
        for instrument, quantity in positions.items():
            _text(instrument, "positions key")
            if not isinstance(quantity, Decimal) or not quantity.is_finite():
                raise ValueError(f"positions[{instrument!r}] must be a finite Decimal, got "
                                 f"{quantity!r}")
        with self._sessions.begin() as session:
            snapshot = PositionSnapshotRow(taken_at=taken_at, source=source)
            session.add(snapshot)
            session.flush()
            session.add_all(SnapshotPositionRow(snapshot_id=snapshot.id, instrument=instrument,
                                                quantity=quantity)
                            for instrument, quantity in positions.items())
            return snapshot.id

    def position_snapshot(self, source: str | None = None) -> PositionSnapshot | None:
        """The latest position snapshot (from ``source`` if given), or None."""
        with self._sessions.begin() as session:
            query = select(PositionSnapshotRow).order_by(PositionSnapshotRow.id.desc()).limit(1)
            if source is not None:
                query = query.where(PositionSnapshotRow.source == source)
            snapshot = session.scalar(query)
            if snapshot is None:
                return None
            rows = session.scalars(select(SnapshotPositionRow)
                                   .where(SnapshotPositionRow.snapshot_id == snapshot.id)
                                   .order_by(SnapshotPositionRow.instrument))
            return PositionSnapshot(
                snapshot_id=snapshot.id, taken_at=snapshot.taken_at, source=snapshot.source,
                positions=MappingProxyType({r.instrument: r.quantity for r in rows}))

    # ---- keeper state --------------------------------------------------------------------------

    def set_kill_switch(self, engaged: bool, reason: str, *,
                        at: datetime | None = None) -> KillSwitch:
        """Engage (True) or release (False) the kill switch, saying why."""
        if not isinstance(engaged, bool):
            raise ValueError(f"engaged must be True or False, got {engaged!r}")
        _text(reason, "reason")
        changed_at = _when(at, "at")
        with self._sessions.begin() as session:
            session.add(KillSwitchRow(engaged=engaged, reason=reason, changed_at=changed_at))
        return KillSwitch(engaged=engaged, reason=reason, changed_at=changed_at)

    def kill_switch(self) -> KillSwitch:
        """The kill switch now (released, reason ``""``, when it was never set)."""
        with self._sessions.begin() as session:
            row = session.scalar(select(KillSwitchRow).order_by(KillSwitchRow.id.desc())
                                 .limit(1))
            if row is None:
                return KillSwitch(engaged=False, reason="", changed_at=None)
            return KillSwitch(engaged=row.engaged, reason=row.reason, changed_at=row.changed_at)

    def checkpoint(self, *, venue_cursor: str | None = None,
                   details: Mapping[str, Any] | None = None,
                   at: datetime | None = None) -> Checkpoint:
        """Record that the keeper reconciled up to ``venue_cursor`` (opaque to the journal)."""
        when = _when(at, "at")
        payload = _dumps(dict(details or {}))
        with self._sessions.begin() as session:
            row = CheckpointRow(at=when, venue_cursor=venue_cursor, details=payload)
            session.add(row)
            session.flush()
            return Checkpoint(id=row.id, at=when, venue_cursor=venue_cursor,
                              details=MappingProxyType(json.loads(payload)))

    def last_checkpoint(self) -> Checkpoint | None:
        """The latest checkpoint, or None."""
        with self._sessions.begin() as session:
            row = session.scalar(select(CheckpointRow).order_by(CheckpointRow.id.desc())
                                 .limit(1))
            if row is None:
                return None
            return Checkpoint(id=row.id, at=row.at, venue_cursor=row.venue_cursor,
                              details=MappingProxyType(json.loads(row.details)))

    def record_rail_trip(self, rail: str, reason: str, *,
                         at: datetime | None = None) -> RailTrip:
        """Record that safety rail ``rail`` tripped, and why."""
        _text(rail, "rail")
        _text(reason, "reason")
        when = _when(at, "at")
        with self._sessions.begin() as session:
            row = RailTripRow(rail=rail, reason=reason, at=when)
            session.add(row)
            session.flush()
            return RailTrip(id=row.id, rail=rail, reason=reason, at=when)

    def rail_trips(self, limit: int | None = None) -> list[RailTrip]:
        """Safety rail trips, newest first (at most ``limit``)."""
        with self._sessions.begin() as session:
            query = select(RailTripRow).order_by(RailTripRow.id.desc())
            if limit is not None:
                query = query.limit(limit)
            return [RailTrip(id=r.id, rail=r.rail, reason=r.reason, at=r.at)
                    for r in session.scalars(query)]

    # ---- export --------------------------------------------------------------------------------

    def export(self) -> Iterator[dict[str, str | None]]:
        """Every order, then every fill, as JSON-ready dicts (amounts as :func:`plain_decimal`).

        Orders: ``{"type": "order", "client_order_id", "venue_order_id", "intent_id",
        "instrument", "side", "quantity", "status"}``; fills: ``{"type": "fill", "trade_id",
        "client_order_id", "quantity", "price"}``; each in the order recorded.
        """
        with self._sessions.begin() as session:
            for row in session.scalars(select(OrderRow).order_by(OrderRow.id)):
                yield {"type": "order", "client_order_id": row.client_order_id,
                       "venue_order_id": row.venue_order_id, "intent_id": row.intent_id,
                       "instrument": row.instrument, "side": row.side,
                       "quantity": plain_decimal(row.quantity), "status": row.status}
            for fill_row in session.scalars(select(FillRow).order_by(FillRow.id)):
                yield {"type": "fill", "trade_id": fill_row.trade_id,
                       "client_order_id": fill_row.client_order_id,
                       "quantity": plain_decimal(fill_row.quantity),
                       "price": plain_decimal(fill_row.price)}


def _intent(row: IntentRow) -> Intent:
    return Intent(intent_id=row.intent_id, instrument=row.instrument, side=OrderSide(row.side),
                  quantity=row.quantity, limit_price=row.limit_price,
                  decision_id=row.decision_id)


def _fill(row: FillRow) -> Fill:
    return Fill(trade_id=row.trade_id, client_order_id=row.client_order_id,
                quantity=row.quantity, price=row.price, fee=row.fee, timestamp=row.traded_at)

