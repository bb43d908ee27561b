"""The initial journal: decisions, intents, orders, fills, position snapshots, keeper state.

Amounts are decimal strings (``String(64)``), times UTC (``DateTime(timezone=True)``).

Revision ID: 0001
Revises:
Create Date: 2026-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_AMOUNT = sa.String(64)


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("decided_at", _time(), nullable=False),
        sa.Column("recorded_at", _time(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
    )
    op.create_index("ix_decisions_decided_at", "decisions", ["decided_at"])
    op.create_table(
        "intents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("intent_id", sa.String(128), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("instrument", sa.String(128), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("quantity", _AMOUNT, nullable=False),
        sa.Column("limit_price", _AMOUNT, nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_intents"),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"],
                                name="fk_intents_decision_id_decisions"),
        sa.UniqueConstraint("intent_id", name="uq_intents_intent_id"),
    )
    op.create_index("ix_intents_decision_id", "intents", ["decision_id"])
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("intent_id", sa.String(128), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("venue_order_id", sa.String(128), nullable=True),
        sa.Column("instrument", sa.String(128), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("quantity", _AMOUNT, nullable=False),
        sa.Column("limit_price", _AMOUNT, nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("filled_quantity", _AMOUNT, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.ForeignKeyConstraint(["intent_id"], ["intents.intent_id"],
                                name="fk_orders_intent_id_intents"),
        sa.UniqueConstraint("client_order_id", name="uq_orders_client_order_id"),
        sa.UniqueConstraint("intent_id", "attempt", name="uq_orders_intent_id_attempt"),
    )
    op.create_index("ix_orders_intent_id", "orders", ["intent_id"])
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_table(
        "fills",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trade_id", sa.String(128), nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("quantity", _AMOUNT, nullable=False),
        sa.Column("price", _AMOUNT, nullable=False),
        sa.Column("fee", _AMOUNT, nullable=False),
        sa.Column("traded_at", _time(), nullable=False),
        sa.Column("recorded_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fills"),
        sa.ForeignKeyConstraint(["client_order_id"], ["orders.client_order_id"],
                                name="fk_fills_client_order_id_orders"),
        sa.UniqueConstraint("trade_id", name="uq_fills_trade_id"),
    )
    op.create_index("ix_fills_client_order_id", "fills", ["client_order_id"])
    op.create_table(
        "position_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("taken_at", _time(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_position_snapshots"),
    )
    op.create_index("ix_position_snapshots_source", "position_snapshots", ["source"])
    op.create_table(
        "snapshot_positions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("instrument", sa.String(128), nullable=False),
        sa.Column("quantity", _AMOUNT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_snapshot_positions"),
        sa.ForeignKeyConstraint(["snapshot_id"], ["position_snapshots.id"],
                                name="fk_snapshot_positions_snapshot_id_position_snapshots"),
        sa.UniqueConstraint("snapshot_id", "instrument",
                            name="uq_snapshot_positions_snapshot_id_instrument"),
    )
    op.create_index("ix_snapshot_positions_snapshot_id", "snapshot_positions", ["snapshot_id"])
    op.create_table(
        "kill_switch",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("engaged", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kill_switch"),
    )
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.Column("venue_cursor", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_checkpoints"),
    )
    op.create_table(
        "rail_trips",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rail", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rail_trips"),
    )
    op.create_index("ix_rail_trips_rail", "rail_trips", ["rail"])


def downgrade() -> None:
    for table in ("rail_trips", "checkpoints", "kill_switch", "snapshot_positions",
                  "position_snapshots", "fills",
                  "orders", "intents", "decisions"):
        op.drop_table(table)
