"""The paper exchange's own ledger: every accepted (or rejected) order and every fill, durably.

Storage: one SQLite file in WAL mode with ``synchronous=FULL``. Chosen over an append-only JSON
lines file because (1) one request's effects (the order, the fills it crossed, its new state)
commit as one transaction, all or nothing, so a SIGKILL between two writes leaves no half-done
order; (2) the WAL is fsynced at each commit (``FULL``), so what a client was told survives the
death of the host process and of the machine; (3) ``UNIQUE`` constraints on ``client_order_id``
and ``trade_id`` make a duplicate order or fill impossible at the storage level, not only by
code; (4) reload is a query, with no torn last line to repair; (5) it is in the standard library.
The ledger is independent of the keeper's journal: it is the exchange's word.

Positions and balances are not stored: they are the sums of the fills, recomputed on load.

A ledger file has one writer: :meth:`Ledger.open` takes an exclusive ``flock`` on
``PATH.lock`` (released by the kernel when the holder dies, even by SIGKILL) and refuses a
second writer. Readers (``paper-venue export``) open it read-only at any time.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Self

from hedgekeeper.venues.base import (
    Liquidity,
    OrderReport,
    OrderType,
    RejectReason,
    Side,
    TimeInForce,
    VenueFill,
    VenueOrderStatus,
)

__all__ = ["Ledger", "LedgerError", "LedgerMeta", "LedgerReader"]

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    venue_order_id TEXT PRIMARY KEY,
    client_order_id TEXT NOT NULL UNIQUE,
    intent_id TEXT NOT NULL,
    instrument TEXT NOT NULL,
    side TEXT NOT NULL,
    order_type TEXT NOT NULL,
    time_in_force TEXT NOT NULL,
    quantity TEXT NOT NULL,
    limit_price TEXT,
    filled_quantity TEXT NOT NULL,
    filled_notional TEXT NOT NULL,
    status TEXT NOT NULL,
    reject_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_sequence INTEGER NOT NULL UNIQUE,
    sequence INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_sequence ON orders (sequence);
CREATE INDEX IF NOT EXISTS orders_by_status ON orders (status);
CREATE TABLE IF NOT EXISTS fills (
    trade_id TEXT PRIMARY KEY,
    sequence INTEGER NOT NULL UNIQUE,
    client_order_id TEXT NOT NULL REFERENCES orders (client_order_id),
    venue_order_id TEXT NOT NULL REFERENCES orders (venue_order_id),
    instrument TEXT NOT NULL,
    side TEXT NOT NULL,
    quantity TEXT NOT NULL,
    price TEXT NOT NULL,
    fee TEXT NOT NULL,
    liquidity TEXT NOT NULL,
    timestamp TEXT NOT NULL
);
"""

_ORDER_COLUMNS = (
    "venue_order_id, client_order_id, intent_id, instrument, side, order_type, time_in_force, "
    "quantity, limit_price, filled_quantity, filled_notional, status, reject_reason, "
    "created_at, updated_at, created_sequence, sequence"
)
_FILL_COLUMNS = (
    "trade_id, sequence, client_order_id, venue_order_id, instrument, side, quantity, price, "
    "fee, liquidity, timestamp"
)


class LedgerError(RuntimeError):
    """The ledger file cannot be used (held by another process, unreadable, wrong schema)."""


@dataclass(frozen=True, slots=True)
class LedgerMeta:
    """Facts fixed when the ledger was created.

    Attributes
    ----------
    venue_id : str
        Random id of this ledger, the prefix of its order and trade ids.
    epoch : datetime
        Venue time origin of the price feed (UTC).
    currency : str
    initial_balance : Decimal
    """

    venue_id: str
    epoch: datetime
    currency: str
    initial_balance: Decimal


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _optional_decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@dataclass(slots=True)
class StoredOrder:
    """An order row, with the running fill notional the report's average price comes from."""

    report: OrderReport
    filled_notional: Decimal
    created_sequence: int


def _order_from_row(row: sqlite3.Row) -> StoredOrder:
    filled = Decimal(row["filled_quantity"])
    notional = Decimal(row["filled_notional"])
    report = OrderReport(
        client_order_id=row["client_order_id"],
        venue_order_id=row["venue_order_id"],
        intent_id=row["intent_id"],
        instrument=row["instrument"],
        side=Side(row["side"]),
        order_type=OrderType(row["order_type"]),
        time_in_force=TimeInForce(row["time_in_force"]),
        quantity=Decimal(row["quantity"]),
        limit_price=_optional_decimal(row["limit_price"]),
        filled_quantity=filled,
        average_price=notional / filled if filled else None,
        status=VenueOrderStatus(row["status"]),
        reject_reason=None if row["reject_reason"] is None else RejectReason(row["reject_reason"]),
        created_at=_parse_time(row["created_at"]),
        updated_at=_parse_time(row["updated_at"]),
        sequence=int(row["sequence"]),
    )
    return StoredOrder(report, notional, int(row["created_sequence"]))


def _fill_from_row(row: sqlite3.Row) -> VenueFill:
    return VenueFill(
        trade_id=row["trade_id"],
        client_order_id=row["client_order_id"],
        venue_order_id=row["venue_order_id"],
        instrument=row["instrument"],
        side=Side(row["side"]),
        quantity=Decimal(row["quantity"]),
        price=Decimal(row["price"]),
        fee=Decimal(row["fee"]),
        liquidity=Liquidity(row["liquidity"]),
        timestamp=_parse_time(row["timestamp"]),
        sequence=int(row["sequence"]),
    )


class LedgerReader:
    """Read access to a ledger file (any number of readers, alongside its one writer)."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self._db.row_factory = sqlite3.Row
        self.path = path

    @classmethod
    def open(cls, path: str | Path) -> LedgerReader:
        """Open ``path`` read-only; ``LedgerError`` if it is not a paper-venue ledger."""
        file = Path(path)
        if not file.is_file():
            raise LedgerError(f"venue state {str(file)!r} does not exist")
        try:
            connection = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
            reader = cls(connection, file)
            reader.meta()
        except sqlite3.DatabaseError as error:
            raise LedgerError(
                f"venue state {str(file)!r} is not a paper-venue ledger ({error})"
            ) from None
        return reader

    def meta(self) -> LedgerMeta:
        """The ledger's creation facts."""
        rows = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if rows.get("schema_version") != SCHEMA_VERSION:
            raise LedgerError(
                f"venue state {str(self.path)!r} has schema version "
                f"{rows.get('schema_version')!r}, expected {SCHEMA_VERSION!r}"
            )
        return LedgerMeta(
            venue_id=rows["venue_id"],
            epoch=_parse_time(rows["epoch"]),
            currency=rows["currency"],
            initial_balance=Decimal(rows["initial_balance"]),
        )

    def last_sequence(self) -> int:
        """Highest sequence written (0 for an empty ledger)."""
        row = self._db.execute(
            "SELECT MAX(s) FROM (SELECT MAX(sequence) AS s FROM orders "
            "UNION ALL SELECT MAX(sequence) FROM fills)"
        ).fetchone()
        return int(row[0] or 0)

    def order(self, client_order_id: str) -> StoredOrder | None:
        """The order with this client id, or ``None``."""
        row = self._db.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE client_order_id = ?", (client_order_id,)
        ).fetchone()
        return None if row is None else _order_from_row(row)

    def orders(self, since: int = 0) -> list[StoredOrder]:
        """Orders whose last change has ``sequence > since``, in creation order."""
        rows = self._db.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE sequence > ? ORDER BY created_sequence",
            (since,),
        ).fetchall()
        return [_order_from_row(row) for row in rows]

    def open_orders(self) -> list[StoredOrder]:
        """Orders not terminal, in creation order."""
        rows = self._db.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE status IN (?, ?) ORDER BY created_sequence",
            (VenueOrderStatus.OPEN.value, VenueOrderStatus.PARTIALLY_FILLED.value),
        ).fetchall()
        return [_order_from_row(row) for row in rows]

    def fills(self, since: int = 0) -> list[VenueFill]:
        """Fills with ``sequence > since``, ascending."""
        rows = self._db.execute(
            f"SELECT {_FILL_COLUMNS} FROM fills WHERE sequence > ? ORDER BY sequence", (since,)
        ).fetchall()
        return [_fill_from_row(row) for row in rows]

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class Ledger(LedgerReader):
    """The one writer of a ledger file.

    Writes happen inside :meth:`transaction`; each transaction is durable when it returns.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path, lock_fd: int) -> None:
        super().__init__(connection, path)
        self._lock_fd = lock_fd
        self._sequence = self.last_sequence()
        self._in_transaction = False

    @classmethod
    def open_or_create(
        cls,
        path: str | Path,
        *,
        epoch: datetime,
        currency: str,
        initial_balance: Decimal,
    ) -> Ledger:
        """Open the ledger at ``path`` for writing, creating it (with these facts) if absent.

        An existing ledger keeps the facts it was created with. ``LedgerError`` if another
        process holds it, or it is not a paper-venue ledger.
        """
        file = Path(path)
        if file.parent and not file.parent.is_dir():
            raise LedgerError(f"venue state directory {str(file.parent)!r} does not exist")
        lock_fd = os.open(f"{file}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise LedgerError(
                f"venue state {str(file)!r} is in use by another process (lock {file}.lock)"
            ) from None
        try:
            connection = sqlite3.connect(
                file, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA foreign_keys=ON")
            connection.executescript(_SCHEMA)
            connection.execute("BEGIN IMMEDIATE")
            existing = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            if not existing:
                facts = {
                    "schema_version": SCHEMA_VERSION,
                    "venue_id": secrets.token_hex(4),
                    "epoch": _time(epoch),
                    "currency": currency,
                    "initial_balance": str(initial_balance),
                }
                connection.executemany("INSERT INTO meta VALUES (?, ?)", facts.items())
            connection.execute("COMMIT")
            ledger = cls(connection, file, lock_fd)
            ledger.meta()
        except sqlite3.DatabaseError as error:
            os.close(lock_fd)
            raise LedgerError(
                f"venue state {str(file)!r} is not a paper-venue ledger ({error})"
            ) from None
        except LedgerError:
            os.close(lock_fd)
            raise
        return ledger

    @property
    def sequence(self) -> int:
        """Last sequence allocated."""
        return self._sequence

    def next_sequence(self) -> int:
        """Allocate the next sequence (inside a transaction)."""
        if not self._in_transaction:
            raise LedgerError("sequences are allocated inside a transaction")
        self._sequence += 1
        return self._sequence

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together, durably (fsync), or not at all."""
        if self._in_transaction:
            raise LedgerError("transactions do not nest")
        start = self._sequence
        self._db.execute("BEGIN IMMEDIATE")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            self._sequence = start
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            self._in_transaction = False

    def insert_order(self, stored: StoredOrder) -> None:
        """Record a new order."""
        self._write_order("INSERT INTO orders", stored)

    def update_order(self, stored: StoredOrder) -> None:
        """Record an order's new state (fill progress, status, last change)."""
        report = stored.report
        self._require_transaction()
        cursor = self._db.execute(
            "UPDATE orders SET filled_quantity = ?, filled_notional = ?, status = ?, "
            "updated_at = ?, sequence = ? WHERE client_order_id = ?",
            (
                str(report.filled_quantity),
                str(stored.filled_notional),
                report.status.value,
                _time(report.updated_at),
                report.sequence,
                report.client_order_id,
            ),
        )
        if cursor.rowcount != 1:
            raise LedgerError(f"no order {report.client_order_id!r} to update")

    def _write_order(self, verb: str, stored: StoredOrder) -> None:
        report = stored.report
        self._require_transaction()
        self._db.execute(
            f"{verb} ({_ORDER_COLUMNS}) VALUES ({', '.join('?' * 17)})",
            (
                report.venue_order_id,
                report.client_order_id,
                report.intent_id,
                report.instrument,
                report.side.value,
                report.order_type.value,
                report.time_in_force.value,
                str(report.quantity),
                None if report.limit_price is None else str(report.limit_price),
                str(report.filled_quantity),
                str(stored.filled_notional),
                report.status.value,
                None if report.reject_reason is None else report.reject_reason.value,
                _time(report.created_at),
                _time(report.updated_at),
                stored.created_sequence,
                report.sequence,
            ),
        )

    def insert_fill(self, fill: VenueFill) -> None:
        """Record a fill (``trade_id`` unique)."""
        self._require_transaction()
        self._db.execute(
            f"INSERT INTO fills ({_FILL_COLUMNS}) VALUES ({', '.join('?' * 11)})",
            (
                fill.trade_id,
                fill.sequence,
                fill.client_order_id,
                fill.venue_order_id,
                fill.instrument,
                fill.side.value,
                str(fill.quantity),
                str(fill.price),
                str(fill.fee),
                fill.liquidity.value,
                _time(fill.timestamp),
            ),
        )

    def _require_transaction(self) -> None:
        if not self._in_transaction:
            raise LedgerError("ledger writes happen inside a transaction")

    def close(self) -> None:
        """Close the database and release the writer lock."""
        try:
            super().close()
        finally:
            if self._lock_fd >= 0:
                os.close(self._lock_fd)
                self._lock_fd = -1
