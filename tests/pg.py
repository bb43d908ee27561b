"""A throwaway PostgreSQL cluster for tests (Debian's ``postgresql`` binaries).

``postgres_cluster()`` runs ``initdb`` into a fresh temporary directory, starts the server on
127.0.0.1 with a free port (its unix socket in that directory, ``fsync=off``: nothing here must
survive a crash), and yields a :class:`Cluster`; it always stops the server and deletes the
directory on exit. ``Cluster.new_database()`` creates an empty database and returns its
``postgresql+psycopg://`` URL.

Finding the binaries: ``$HEDGEKEEPER_PG_BIN`` if set (and only there), else the newest
``/usr/lib/postgresql/*/bin`` with ``initdb`` and ``pg_ctl``, else ``initdb`` on ``PATH``.
When none is found the test is skipped with a clear message, except under ``CI=true`` where it
fails (``make test`` installs Debian's ``postgresql`` package when absent).

Running as root: ``initdb`` and ``postgres`` refuse to run as root, so the cluster then runs as
the ``postgres`` OS user (created by the Debian package) through ``runuser -u postgres --``;
the temporary directory is created in ``/tmp`` (not under pytest's root-only ``tmp_path``) and
handed to that user. Authentication is ``trust`` for the cluster's own superuser ``hk``, on the
loopback address only.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import NoReturn

import pytest

_SUPERUSER = "hk"
_START_TIMEOUT_S = 60


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(message: str) -> NoReturn:
    if _in_ci():
        pytest.fail(message + "; CI=true requires the PostgreSQL tests to run", pytrace=False)
    pytest.skip(message)


def find_pg_bin() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or None."""
    override = os.environ.get("HEDGEKEEPER_PG_BIN")

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    if override:
        candidates = [Path(override)]
    else:
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version,
                            reverse=True)
        on_path = shutil.which("initdb")
        if on_path:
            candidates.append(Path(on_path).parent)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    return None


@dataclass
class Cluster:
    """A running throwaway PostgreSQL server."""

    host: str
    port: int
    socket_dir: Path
    _names: Iterator[int] = field(default_factory=lambda: count(1))

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+psycopg://{_SUPERUSER}@{self.host}:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        name = f"hk_test_{next(self._names)}"
        with psycopg.connect(host=self.host, port=self.port, user=_SUPERUSER,
                             dbname="postgres", autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _runner() -> tuple[list[str], int | None, int | None]:
    """Command prefix to run the server's programs, and the uid/gid owning its directory."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        _unavailable("running as root and there is no 'postgres' OS user to run a throwaway "
                     "PostgreSQL cluster as (install Debian's postgresql package)")
    runuser = shutil.which("runuser")
    if runuser is None:
        _unavailable("running as root and runuser is missing: cannot start PostgreSQL as the "
                     "'postgres' user")
    return [str(runuser), "-u", "postgres", "--"], user.pw_uid, user.pw_gid


@contextmanager
def postgres_cluster() -> Iterator[Cluster]:
    """Start a throwaway PostgreSQL cluster; stop it and delete its files on exit."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        _unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found in "
                     "/usr/lib/postgresql/*/bin or on PATH (apt-get install postgresql)")
    prefix, uid, gid = _runner()
    root = Path(tempfile.mkdtemp(prefix="hedgekeeper-pg-"))
    data, sockets, log = root / "data", root / "run", root / "server.log"
    sockets.mkdir()
    if uid is not None and gid is not None:
        for path in (root, sockets):
            os.chown(path, uid, gid)
    port = _free_port()
    started = False
    try:
        subprocess.run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", _SUPERUSER,
                        "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
                       check=True, capture_output=True, timeout=_START_TIMEOUT_S)
        options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        result = subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-l",
                                 str(log), "-o", options, "-w", "-t", str(_START_TIMEOUT_S),
                                 "start"], capture_output=True, timeout=_START_TIMEOUT_S + 10)
        started = True
        if result.returncode != 0:
            server_log = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed ({result.returncode}): "
                               f"{result.stderr.decode(errors='replace')}\n{server_log}")
        yield Cluster(host="127.0.0.1", port=port, socket_dir=sockets)
    finally:
        if started:
            subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m",
                            "immediate", "-w", "stop"], capture_output=True, timeout=60,
                           check=False)
        shutil.rmtree(root, ignore_errors=True)
