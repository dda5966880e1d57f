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


class PostgresDatabases:
    """Empty PostgreSQL databases for the tests, each emptied after its test and handed to the
    next one rather than dropped.

    ``CREATE DATABASE`` copies a template and waits for its WAL on disk: close to a second on
    a busy host, and two hundred tests ask for a database. Emptying one is dropping its
    schemas (what a test creates lives in them: tables, sequences, types, functions) and
    putting back ``public`` as PostgreSQL 15 makes it, which takes milliseconds.
    """

    def __init__(self) -> None:
        import sqlalchemy as sa

        self._sa = sa
        self._engine: Any = None  # made on first use: psycopg may be missing
        self._free: list[str] = []
        self._made: list[str] = []

    @property
    def _admin(self) -> Any:
        if self._engine is None:
            self._engine = self._sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        return self._engine

    def url(self, name: str) -> str:
        """The URL of the database ``name`` on the server of ``SAMEDAY_TEST_POSTGRES_URL``."""
        return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name

    def take(self) -> str:
        """An empty database's name (made now when none is free)."""
        if self._free:
            return self._free.pop()
        sa = self._sa
        name = f"sameday_test_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            self._made.append(name)
            # A commit returns before its WAL reaches the disk: what a client sees is the
            # same (only a crash of the server itself could lose the last commits), and the
            # many small transactions of a test no longer each wait for an fsync.
            conn.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        return name

    def give_back(self, name: str) -> None:
        """Empty ``name`` for the next test; a database that cannot be emptied (a test
        dropped it, say) is dropped and not handed out again."""
        sa = self._sa
        try:
            with self._admin.connect() as conn:
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
            engine = sa.create_engine(
                self.url(name), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
            )
            try:
                with engine.connect() as conn:
                    schemas = conn.execute(
                        sa.text(
                            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                            "AND nspname <> 'information_schema'"
                        )
                    ).scalars()
                    for schema in list(schemas):
                        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                    conn.execute(sa.text("CREATE SCHEMA public AUTHORIZATION pg_database_owner"))
                    conn.execute(sa.text("GRANT USAGE ON SCHEMA public TO PUBLIC"))
            finally:
                engine.dispose()
        except sa.exc.SQLAlchemyError:
            self._drop(name)
            return
        self._free.append(name)

    def close(self) -> None:
        """Drop every database made (a shared server must not fill up with them)."""
        if self._engine is None:
            return
        for name in self._made:
            self._drop(name)
        self._engine.dispose()

    def _drop(self, name: str) -> None:
        with self._admin.connect() as conn:
            conn.execute(self._sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def _postgres_databases() -> Iterator[PostgresDatabases]:
    """The session's :class:`PostgresDatabases`; it connects to nothing until asked."""
    databases = PostgresDatabases()
    try:
        yield databases
    finally:
        databases.close()


@pytest.fixture
def postgres_url(_postgres_databases: PostgresDatabases) -> Iterator[str]:
    """A URL for an empty PostgreSQL database on the local server, emptied afterwards."""
    try:
        import sqlalchemy as sa
    except ImportError:  # pragma: no cover - sqlalchemy is a core dependency
        unavailable("sqlalchemy is not installed")
        raise
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed: pip install 'sameday[postgres]'")
    try:
        name = _postgres_databases.take()
    except sa.exc.OperationalError as exc:
        unavailable(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc.orig}")
        raise
    try:
        yield _postgres_databases.url(name)
    finally:
        _postgres_databases.give_back(name)


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


PORTS = range(
    int(os.environ.get("SAMEDAY_TEST_PORTS", "18100-18199").split("-")[0]),
    int(os.environ.get("SAMEDAY_TEST_PORTS", "18100-18199").split("-")[1]) + 1,
)
"""Ports the tests' own servers listen on (``SAMEDAY_TEST_PORTS=LOW-HIGH``): a range, so that
engineers sharing a machine each keep to theirs."""


def free_ports(count: int, start: int | None = None) -> list[int]:
    """``count`` ports of :data:`PORTS` nothing listens on now, tried from a random point (two
    test processes rarely pick the same), each checked by binding it."""
    import random
    import socket

    ports: list[int] = []
    offset = random.randrange(len(PORTS)) if start is None else start
    for step in range(len(PORTS)):
        port = PORTS[(offset + step) % len(PORTS)]
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    pytest.fail(f"fewer than {count} free ports in {PORTS.start}-{PORTS.stop - 1}")


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ``redis+cluster://`` URL of a three-master Redis Cluster started from ``redis-server``
    for this test session, on ports of :data:`PORTS`, stopped afterwards.

    Each node gets a third of the slots (``CLUSTER ADDSLOTSRANGE``) and meets the others, as
    ``redis-cli --cluster create`` does, without the second-long waits between its steps.
    """
    import shutil
    import subprocess
    import time

    try:
        import redis
    except ImportError:
        unavailable("redis-py is not installed: pip install 'sameday[redis]'")
        raise
    server = shutil.which("redis-server")
    if server is None:
        unavailable("redis-server is not installed: the Redis Cluster tests start their own")
        raise AssertionError("unreachable")
    folder = tmp_path_factory.mktemp("redis-cluster")
    ports = free_ports(3)
    processes = [
        subprocess.Popen(
            [
                server,
                *("--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)),
                *("--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf"),
                *("--save", "", "--appendonly", "no", "--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    nodes = [redis.Redis(host="127.0.0.1", port=port) for port in ports]
    try:
        deadline = time.monotonic() + 20
        for node in nodes:
            while True:
                try:
                    node.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        pytest.fail("the Redis Cluster nodes did not start")
                    time.sleep(0.02)
        share = 16384 // len(nodes)
        for index, node in enumerate(nodes):
            last = 16383 if index == len(nodes) - 1 else (index + 1) * share - 1
            node.execute_command("CLUSTER ADDSLOTSRANGE", index * share, last)
        for port in ports[1:]:
            nodes[0].execute_command("CLUSTER MEET", "127.0.0.1", port)
        while not all(
            node.cluster("INFO").get("cluster_state") == "ok"
            and len(node.cluster("NODES")) == len(nodes)
            for node in nodes
        ):
            if time.monotonic() > deadline:
                pytest.fail("the Redis Cluster did not form")
            time.sleep(0.02)
        yield f"redis+cluster://127.0.0.1:{ports[0]}"
    finally:
        for node in nodes:
            node.close()
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def _redis_cluster_client(redis_cluster: str) -> Iterator[Any]:
    """One cluster client for the session's clean-ups (building one asks the cluster for its
    slots and commands: a fraction of a second each time)."""
    from redis.cluster import RedisCluster

    client = RedisCluster.from_url("redis://" + redis_cluster.partition("://")[2])
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def redis_cluster_url(redis_cluster: str, _redis_cluster_client: Any) -> Iterator[str]:
    """:func:`redis_cluster`, with every ``sameday:*`` key deleted before and after the test."""

    def clear() -> None:
        for node in _redis_cluster_client.get_primaries():
            connection = node.redis_connection
            for key in list(connection.scan_iter(match="sameday:*", count=1000)):
                connection.unlink(key)

    clear()
    try:
        yield redis_cluster
    finally:
        clear()
