"""tests/pg.py: without PostgreSQL binaries the tests skip, except under CI=true (they fail)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pg import Cluster, find_pg_bin, postgres_cluster


def test_missing_binaries_skip_outside_ci(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.setenv("HEDGEKEEPER_PG_BIN", str(tmp_path / "no-postgres"))
    monkeypatch.delenv("CI", raising=False)
    assert find_pg_bin() is None
    with pytest.raises(pytest.skip.Exception, match=r"binaries .* not found"), \
            postgres_cluster():
        pass


def test_missing_binaries_fail_under_ci(monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    monkeypatch.setenv("HEDGEKEEPER_PG_BIN", str(tmp_path / "no-postgres"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true requires the PostgreSQL tests"), \
            postgres_cluster():
        pass


def test_cluster_serves_databases(pg_cluster: Cluster) -> None:
    import psycopg

    url = pg_cluster.new_database()
    assert url.startswith(f"postgresql+psycopg://hk@127.0.0.1:{pg_cluster.port}/hk_test_")
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as connection:
        assert connection.execute("SELECT 1 + 1").fetchone() == (2,)
