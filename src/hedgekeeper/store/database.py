"""Engines for the journal's two databases, and the migrations that shape them.

SQLite (``sqlite:///path``) is the default. Every connection sets ``journal_mode=WAL``,
``synchronous=FULL`` and ``foreign_keys=ON``, and every transaction starts with
``BEGIN IMMEDIATE``:

* WAL lets readers (``journal export``, the status API) read while the keeper writes.
* ``synchronous=FULL`` makes each commit durable (the WAL is fsynced at every commit). With
  ``NORMAL`` a WAL database stays consistent, and survives a killed *process*, but the last
  commits before a power loss or OS crash can roll back; the journal's promise is that an
  intent is on disk *before* its order is sent, so a lost commit could mean an order the
  journal does not know about. One fsync per short transaction is the price (measured in
  ``bench/keeper.py``).
* ``BEGIN IMMEDIATE`` takes the write lock at the start, so two writers queue on the busy
  timeout instead of failing when a read transaction tries to become a write (SQLite's
  deferred-transaction deadlock). pysqlite's own implicit transactions are switched off for
  this (the SQLAlchemy documented recipe).

PostgreSQL (``postgresql+psycopg://user@host:port/db``; a plain ``postgresql://`` is taken to
mean psycopg 3) uses the server's defaults (READ COMMITTED, durable commits); the journal locks
the order row it changes (``SELECT ... FOR UPDATE``).

:func:`upgrade` runs the alembic migrations shipped in ``hedgekeeper/store/migrations`` up to
head inside one transaction, under a lock (SQLite's write lock, a PostgreSQL advisory lock), so
two processes opening a fresh journal at once do not race.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

__all__ = [
    "JournalOpenError",
    "current_revision",
    "head_revision",
    "make_engine",
    "parse_url",
    "upgrade",
]

_MIGRATIONS = "hedgekeeper.store:migrations"
_ADVISORY_LOCK_KEY = 0x68656467  # "hedg": serialises migrations of one PostgreSQL database
_SQLITE_BUSY_TIMEOUT_S = 30.0
_EXPECTED = "sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DBNAME"


class JournalOpenError(ValueError):
    """The journal URL is malformed, names no journal, or the database cannot be reached."""


def parse_url(url: str) -> URL:
    """Check and normalise a journal URL (``postgresql://`` becomes ``postgresql+psycopg://``).

    Raises
    ------
    JournalOpenError
        For a malformed URL, another database or driver, or an SQLite URL without a file path.
    """
    if not isinstance(url, str) or not url.strip():
        raise JournalOpenError(f"journal URL must be {_EXPECTED}, got {url!r}")
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        raise JournalOpenError(f"journal URL must be {_EXPECTED}, got {_redact(url)!r}") from None
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        if not parsed.database or parsed.database == ":memory:" or \
                parsed.database.startswith("file:"):
            raise JournalOpenError(f"journal URL must name a database file ({_EXPECTED}); an "
                                   f"in-memory journal does not survive a crash, got "
                                   f"{_redact(url)!r}")
        return parsed.set(drivername="sqlite")
    if parsed.drivername in ("postgresql", "postgresql+psycopg"):
        if not parsed.database:
            raise JournalOpenError(f"journal URL must name a database ({_EXPECTED}), got "
                                   f"{parsed.render_as_string(hide_password=True)!r}")
        return parsed.set(drivername="postgresql+psycopg")
    raise JournalOpenError(f"journal URL must be {_EXPECTED} (database "
                           f"{parsed.get_backend_name()!r} with driver "
                           f"{parsed.get_driver_name()!r} is not supported), got "
                           f"{parsed.render_as_string(hide_password=True)!r}")


def _redact(url: str) -> str:
    """A URL string safe to show: the password (``user:secret@``) replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def make_engine(url: str | URL, *, create: bool = True) -> Engine:
    """An engine for the journal at ``url`` (not yet migrated; see :func:`upgrade`).

    Parameters
    ----------
    url : ``sqlite:///PATH`` or ``postgresql+psycopg://...``.
    create : when False, an SQLite file that does not exist is an error instead of being
        created (a PostgreSQL database is never created here).

    Raises
    ------
    JournalOpenError
        For a bad URL, or (``create=False``) a missing SQLite file.
    """
    parsed = url if isinstance(url, URL) else parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(str(parsed.database))
        if not create and not path.is_file():
            raise JournalOpenError(f"no journal at {path} (the file does not exist)")
        if create and not path.parent.is_dir():
            raise JournalOpenError(f"cannot create the journal {path}: directory "
                                   f"{path.parent} does not exist")
        engine = create_engine(parsed, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    try:
        mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise JournalOpenError(f"the journal database refused WAL mode (got {mode!r}); is "
                                   "it on a filesystem without shared memory support?")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", _MIGRATIONS)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration shipped with the package."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships migrations
        raise RuntimeError("hedgekeeper.store ships no migrations")
    return head


def current_revision(connection: Connection) -> str | None:
    """The migration the database is at, or None for a database without the journal schema."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest schema (a no-op when already there).

    Raises
    ------
    JournalOpenError
        When the database cannot be reached or its schema is newer than this package knows.
    """
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK_KEY})")
            current = current_revision(connection)
            script = ScriptDirectory.from_config(_alembic_config())
            if current is not None and not _known(script, current):
                raise JournalOpenError(
                    f"the journal schema is at revision {current!r}, unknown to this version "
                    f"of hedgekeeper (newest known: {head_revision()!r}); upgrade hedgekeeper")
            command.upgrade(_alembic_config(connection), "head")
    except JournalOpenError:
        raise
    except SQLAlchemyError as exc:
        raise JournalOpenError(describe_failure(engine, exc)) from None


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except (CommandError, RevisionError):
        return False


def describe_failure(engine: Engine, exc: BaseException) -> str:
    """One line saying why the database at ``engine`` failed, without any password."""
    original = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    detail = lines[0] if lines else type(original).__name__
    password = engine.url.password
    if password:
        detail = detail.replace(str(password), "***")
    return (f"cannot use the journal at {engine.url.render_as_string(hide_password=True)}: "
            f"{detail}")
