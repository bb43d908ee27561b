"""Alembic migrations of the journal schema (run by ``Journal.open``; no alembic.ini needed)."""
