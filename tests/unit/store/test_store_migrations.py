"""Migrations (fresh database, idempotent, models match), SQLite pragmas, URL checks."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from hedgekeeper.store import Journal, JournalOpenError
from hedgekeeper.store.database import (
    current_revision,
    head_revision,
    make_engine,
    parse_url,
    upgrade,
)
from hedgekeeper.store.models import Base

TABLES = {"alembic_version", "checkpoints", "decisions", "fills", "intents", "kill_switch",
          "orders", "position_snapshots", "rail_trips", "snapshot_positions"}


def test_fresh_database_is_migrated_to_head(journal_url: str) -> None:
    engine = make_engine(journal_url)
    try:
        with engine.connect() as connection:
            assert current_revision(connection) is None
        Journal.open(journal_url).close()
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
            assert set(inspect(connection).get_table_names()) == TABLES
    finally:
        engine.dispose()


def test_migrations_are_idempotent(journal_url: str) -> None:
    with Journal.open(journal_url) as journal:
        journal.set_kill_switch(True, "kept across reopen")
    engine = make_engine(journal_url)
    try:
        upgrade(engine)  # again: a no-op
        upgrade(engine)
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
            assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()
    with Journal.open(journal_url) as journal:
        assert journal.kill_switch().reason == "kept across reopen"


def test_models_match_the_migrations(journal_url: str) -> None:
    Journal.open(journal_url).close()
    engine = make_engine(journal_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_concurrent_first_opens(journal_url: str) -> None:
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            Journal.open(journal_url).close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_newer_schema_is_refused(journal_url: str) -> None:
    Journal.open(journal_url).close()
    engine = make_engine(journal_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    with pytest.raises(JournalOpenError, match="revision '9999', unknown to this version"):
        Journal.open(journal_url)


def test_sqlite_connections_use_wal_full_sync_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    url = f"sqlite:///{path}"
    Journal.open(url).close()
    # journal_mode=WAL is a property of the file.
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_sqlite_writes_go_through_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with Journal.open(f"sqlite:///{path}") as journal:
        journal.set_kill_switch(True, "x")
        assert (tmp_path / "journal.db-wal").exists()


@pytest.mark.parametrize(("url", "message"), [
    ("", "journal URL must be sqlite:///PATH or postgresql"),
    ("not a url", "journal URL must be"),
    ("sqlite://", "must name a database file"),
    ("sqlite:///:memory:", "in-memory journal does not survive a crash"),
    ("mysql://root:hunter2@localhost/j", "database 'mysql'"),
    ("postgresql+asyncpg://u@h/db", "driver 'asyncpg' is not supported"),
    ("postgresql+psycopg://u@h", "must name a database"),
])
def test_bad_urls_are_refused_clearly(url: str, message: str) -> None:
    with pytest.raises(JournalOpenError, match=message) as raised:
        parse_url(url)
    assert "hunter2" not in str(raised.value)


def test_plain_postgresql_url_means_psycopg() -> None:
    assert parse_url("postgresql://u@h:5/db").drivername == "postgresql+psycopg"


def test_sqlite_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(JournalOpenError, match="does not exist"):
        Journal.open(f"sqlite:///{tmp_path / 'absent.db'}", create=False)
    assert not (tmp_path / "absent.db").exists()
    with pytest.raises(JournalOpenError, match=r"directory .* does not exist"):
        Journal.open(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")


def test_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("this is not a database\n" * 100)
    with pytest.raises(JournalOpenError, match="cannot use the journal at"):
        Journal.open(f"sqlite:///{path}", create=False)
