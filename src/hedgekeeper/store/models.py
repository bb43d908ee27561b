"""The journal's tables (SQLAlchemy 2 typed ORM).

Amounts are stored exactly as decimal strings (:class:`DecimalText`), never as floats: SQLite
has no decimal type and would round ``0.1 + 0.2``. Times are stored in UTC
(:class:`UtcDateTime`) and come back timezone-aware. The schema itself is created and changed
only by the alembic migrations in ``hedgekeeper/store/migrations`` (``Journal.open`` runs them);
these classes must match the latest migration (a test compares them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class DecimalText(TypeDecorator[Decimal]):
    """A ``Decimal`` stored as its exact string (``str(Decimal)``); floats are refused."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"amounts are stored exactly: expected a finite Decimal, got "
                             f"{value!r}")
        return str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC (naive on SQLite, ``timestamptz`` on PG)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"times are stored in UTC: expected a timezone-aware datetime, "
                             f"got {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None,
                             dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention (stable constraint names for migrations)."""

    metadata = MetaData(naming_convention=_NAMING)


class DecisionRow(Base):
    """One engine decision with its full explanation (JSON text)."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)


class IntentRow(Base):
    """What the keeper decided to trade; written before anything is sent."""

    __tablename__ = "intents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    intent_id: Mapped[str] = mapped_column(String(128), unique=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(128))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal] = mapped_column(DecimalText)
    limit_price: Mapped[Decimal | None] = mapped_column(DecimalText)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OrderRow(Base):
    """An order executing an intent; its status follows the order state machine."""

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("intent_id", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    intent_id: Mapped[str] = mapped_column(ForeignKey("intents.intent_id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    venue_order_id: Mapped[str | None] = mapped_column(String(128))
    instrument: Mapped[str] = mapped_column(String(128))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal] = mapped_column(DecimalText)
    limit_price: Mapped[Decimal | None] = mapped_column(DecimalText)
    status: Mapped[str] = mapped_column(String(32), index=True)
    filled_quantity: Mapped[Decimal] = mapped_column(DecimalText)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FillRow(Base):
    """A venue trade against an order; one row per venue trade id."""

    __tablename__ = "fills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trade_id: Mapped[str] = mapped_column(String(128), unique=True)
    client_order_id: Mapped[str] = mapped_column(ForeignKey("orders.client_order_id"),
                                                 index=True)
    quantity: Mapped[Decimal] = mapped_column(DecimalText)
    price: Mapped[Decimal] = mapped_column(DecimalText)
    fee: Mapped[Decimal] = mapped_column(DecimalText)
    traded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PositionSnapshotRow(Base):
    """A snapshot of positions: when and from where (its rows are :class:`SnapshotPositionRow`)."""

    __tablename__ = "position_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(String(32), index=True)


class SnapshotPositionRow(Base):
    """One instrument's signed position in a snapshot, contracts."""

    __tablename__ = "snapshot_positions"
    __table_args__ = (UniqueConstraint("snapshot_id", "instrument"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("position_snapshots.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(128))
    quantity: Mapped[Decimal] = mapped_column(DecimalText)


class KillSwitchRow(Base):
    """A change of the kill switch (the latest row is the current state)."""

    __tablename__ = "kill_switch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    engaged: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CheckpointRow(Base):
    """A point the keeper reconciled up to (venue cursor and details are opaque to the store)."""

    __tablename__ = "checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    venue_cursor: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)


class RailTripRow(Base):
    """A safety rail that tripped, with its reason."""

    __tablename__ = "rail_trips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rail: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
