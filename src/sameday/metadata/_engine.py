"""The connection edge of the metadata store: engines, URLs, and error translation.

SQLite is made fit for many processes at once: write-ahead logging (readers never block the
writer), a busy timeout (writers wait instead of failing), foreign keys on, and SQLAlchemy —
not the ``sqlite3`` module — emitting ``BEGIN``, so reads are repeatable, DDL is transactional
and write transactions can take the write lock up front (``BEGIN IMMEDIATE``) instead of failing
halfway when two writers race to upgrade a read lock.

Driver errors become sameday errors here and nowhere deeper: a server or file that cannot be
reached is ``StoreUnavailable``; anything else the database refuses is ``MetadataError``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import StaticPool

from sameday import registry, urls
from sameday._extras import extra
from sameday._sqlite import use_wal
from sameday.errors import MetadataError, StoreUnavailable

BUSY_TIMEOUT = 30.0
"""Seconds a SQLite writer waits for another writer before giving up."""
CONNECT_TIMEOUT = 10
"""Seconds to wait for a PostgreSQL server before reporting it unreachable."""
WRITE = "sameday_write"
"""Execution option that makes a SQLite transaction start with ``BEGIN IMMEDIATE``."""


def parse_url(url: str) -> sa.URL:
    """The SQLAlchemy URL of ``url``, or ``ConfigError`` saying what a valid one looks like.

    ``sqlite://`` (in memory) is accepted here though not in ``sameday.yaml``: tests use it.
    """
    problem = None if url == "sqlite://" else registry.check("metadata", url)
    if problem is None:
        try:
            return sa.make_url(url)
        except sa.exc.ArgumentError:
            problem = (
                f"{urls.redact(url)!r} does not parse: expected {registry.EXAMPLES['metadata']}"
            )
    raise registry.refusal("metadata", problem)


def redact(url: str | sa.URL) -> str:
    """``url`` with its password replaced by ``***``, fit for messages and logs."""
    if isinstance(url, sa.URL):
        return url.render_as_string(hide_password=True)
    return urls.redact(url)


def is_sqlite(url: sa.URL) -> bool:
    """Whether ``url`` points at SQLite."""
    return url.get_backend_name() == "sqlite"


def sqlite_file(url: sa.URL) -> Path | None:
    """The database file of a SQLite URL; ``None`` for in-memory and ``file:`` URI databases.

    Those get one shared connection and no folder creation: only the caller's engine sees them.
    """
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_engine(url: sa.URL, *, foreign_keys: bool = True) -> sa.Engine:
    """An engine for ``url`` with the settings described in the module docstring.

    Args:
        url: the database URL.
        foreign_keys: enforce SQLite foreign keys (off while migrating: SQLite batch migrations
            rebuild tables, and the migration checks the keys itself before committing).

    Raises:
        StoreUnavailable: the folder of a SQLite file cannot be created.
        MissingDependency: the URL names a driver that is not installed.
    """
    kwargs: dict[str, Any] = {}
    if is_sqlite(url):
        path = sqlite_file(url)
        if path is None:
            kwargs["poolclass"] = StaticPool  # one shared connection, or every one is a new db
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(
                    f"cannot create the folder of the metadata database {path}: {exc}"
                ) from exc
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT, "check_same_thread": False}
    elif url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    with extra("postgres", f"the metadata database {redact(url)}"):
        engine = sa.create_engine(url, **kwargs)
    if is_sqlite(url):
        _tune_sqlite(engine, foreign_keys=foreign_keys, memory=sqlite_file(url) is None)
    return engine


def _tune_sqlite(engine: sa.Engine, *, foreign_keys: bool, memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN, see _on_begin
        cursor = dbapi_connection.cursor()
        try:
            if not memory:
                use_wal(cursor, timeout=BUSY_TIMEOUT)
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_disconnect(exc: sa.exc.DBAPIError) -> bool:
    """Whether ``exc`` means the database could not be reached (rather than a refused query)."""
    if exc.connection_invalidated:
        return True
    text = str(exc.orig).lower()
    markers = (
        "connection refused",
        "could not connect",
        "connection failed",
        "timeout expired",
        "could not translate host name",
        "server closed the connection",
        "unable to open database file",
        "database is locked",
        "no route to host",
        "does not exist",
        "authentication failed",
    )
    return isinstance(exc, sa.exc.OperationalError) and any(m in text for m in markers)


def unavailable(url: sa.URL, exc: sa.exc.DBAPIError) -> StoreUnavailable:
    """A ``StoreUnavailable`` for ``url`` that says what to check."""
    hint = (
        "check that the file's folder is writable and no other process holds a long write lock"
        if is_sqlite(url)
        else "check that the server is running, and the host, port, user and database name"
    )
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    return StoreUnavailable(f"metadata database {redact(url)} is unavailable: {reason}; {hint}")


@contextmanager
def translate_errors(url: sa.URL) -> Iterator[None]:
    """Turn driver errors raised inside the block into sameday errors."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        if is_disconnect(exc):
            raise unavailable(url, exc) from exc
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
            raise MetadataError(
                f"metadata database {redact(url)} has no sameday schema ({reason}): "
                "run 'sameday db upgrade'"
            ) from exc
        if getattr(exc.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            raise MetadataError(
                f"metadata database {redact(url)} is full ({reason}): free space on the disk "
                "that holds it, then try again; the refused change was not written"
            ) from exc
        raise MetadataError(f"metadata database {redact(url)} refused: {reason}") from exc
