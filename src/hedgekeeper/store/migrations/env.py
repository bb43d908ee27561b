"""Alembic environment: migrates the connection handed over by ``store.database.upgrade``."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from hedgekeeper.store.models import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("the journal migrations run through hedgekeeper.store "
                       "(Journal.open or hedgekeeper.store.database.upgrade), not the alembic "
                       "command line")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
