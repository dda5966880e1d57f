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
