"""Persistence for the keeper: the journal in SQLite (WAL, default) or PostgreSQL.

``Journal.open(url)`` opens a journal and migrates it to the newest schema (alembic migrations
shipped in ``hedgekeeper/store/migrations``). See :mod:`hedgekeeper.store.journal` for the order
of writes the keeper follows and :mod:`hedgekeeper.store.database` for the durability settings.
"""

from hedgekeeper.store.database import JournalOpenError
from hedgekeeper.store.journal import (
    Checkpoint,
    DecisionLike,
    DecisionRecord,
    Journal,
    KillSwitch,
    PositionSnapshot,
    RailTrip,
    plain_decimal,
)

__all__ = [
    "Checkpoint",
    "DecisionLike",
    "DecisionRecord",
    "Journal",
    "JournalOpenError",
    "KillSwitch",
    "PositionSnapshot",
    "RailTrip",
    "plain_decimal",
]
