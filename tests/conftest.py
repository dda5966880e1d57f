"""Shared fixtures: temporary projects, SQLite, and the real PostgreSQL and Redis servers.

A test that needs a server it cannot reach is skipped with the reason, unless
``SAMEDAY_REQUIRE_SERVICES=1`` (CI), where it fails instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REQUIRE_SERVICES = os.environ.get("SAMEDAY_REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get(
    "SAMEDAY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("SAMEDAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def unavailable(reason: str) -> None:
    """Skip the calling test, or fail it when services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"SAMEDAY_REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def runner() -> CliRunner:
    """A click test runner."""
    return CliRunner()


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A freshly scaffolded, valid project in a temporary folder."""
    from sameday.scaffold import init_project

    target = tmp_path / "proj"
    init_project(target)
    return target


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL for an empty SQLite database file."""
    return f"sqlite:///{tmp_path / 'meta.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL for a fresh, empty PostgreSQL database on the local server, dropped afterwards."""
    try:
        import sqlalchemy as sa
    except ImportError:  # pragma: no cover - sqlalchemy is a core dependency
        unavailable("sqlalchemy is not installed")
        raise
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed: pip install 'sameday[postgres]'")
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"sameday_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        unavailable(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc.orig}")
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A URL for the local Redis server, on a database flushed before and after the test."""
    try:
        import redis
    except ImportError:
        unavailable("redis-py is not installed: pip install 'sameday[redis]'")
        raise
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        client.close()
        unavailable(f"Redis is not reachable at {REDIS_URL}: {exc}")
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def cap_sqlite(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, int], None]:
    """``cap_sqlite(name, pages)``: SQLite files named ``name`` opened from now on may grow
    by ``pages`` pages at most; past that SQLite fails with SQLITE_FULL ("database or disk is
    full"), as on a full disk, without filling one (``PRAGMA max_page_count``)."""
    import sqlite3
    import sqlite3.dbapi2

    real = sqlite3.connect

    def cap(name: str, pages: int) -> None:
        def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
            connection = real(database, *args, **kwargs)
            if Path(str(database)).name == name:
                (size,) = connection.execute("PRAGMA page_count").fetchone()
                connection.execute(f"PRAGMA max_page_count = {size + pages}")
            return connection

        monkeypatch.setattr(sqlite3, "connect", connect)
        monkeypatch.setattr(sqlite3.dbapi2, "connect", connect)  # what SQLAlchemy calls

    return cap
