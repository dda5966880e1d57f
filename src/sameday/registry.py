"""The storage registry: every URL scheme of every kind of storage, and the backend behind it.

One table, :data:`BACKENDS`, maps ``kind → scheme → backend``. A backend is named by a
``"module:attr"`` string and imported only when a URL of its scheme is opened (as fsspec's
``known_implementations`` does), so this module sits low in the layers — just above
:mod:`sameday.urls` — without importing the packages that implement the backends, and opening a
SQLite store never loads redis-py. ``open_store``, ``open_sink``, ``open_source``,
``MetadataStore.open``, the ``Project.open_*`` methods and the URL checks of ``sameday validate``
all read it, so they accept and refuse the same URLs with the same words.

Kinds, and the ``sameday.yaml`` key each is written under:

============  =====================  ================================================
kind          key                    backend
============  =====================  ================================================
metadata      ``storage.metadata``   :class:`~sameday.metadata.store.MetadataStore`
serving       ``storage.serving``    a :class:`~sameday.store.base.ServingStore`
events        ``storage.events``     an :class:`~sameday.events.sink.EventSink` (writing)
source        ``storage.events``     an :class:`~sameday.events.source.EventSource` (reading)
artifacts     ``storage.artifacts``  a local folder (:class:`pathlib.Path`)
============  =====================  ================================================

``storage.artifacts`` is not checked at validate yet: nothing opens artifacts today, and the
setting's description promises fsspec URLs that have no backend here.

Adding a backend is one line here plus its module: e.g. ``"gs": Backend("mypkg.gcs:GCSSink",
"gcs")`` under ``events``.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sameday._extras import extra
from sameday.errors import ConfigError, Problem, SamedayError
from sameday.urls import redact, scrub


@dataclass(frozen=True)
class Backend:
    """Where a scheme's backend lives: ``target`` is ``"module:attr"`` (``attr`` may be dotted,
    e.g. ``"sameday.store.sqlite:SQLiteStore.from_url"``), a callable that takes the URL;
    ``extra`` is the ``pip install 'sameday[extra]'`` that provides its driver, if any."""

    target: str
    extra: str | None = None

    def load(self, purpose: str) -> Any:
        """Import and return the target; a missing driver is ``MissingDependency`` naming the
        extra (``purpose`` starts that message, e.g. ``"storage.serving redis://cache/0"``)."""
        module_name, _, attr = self.target.partition(":")
        if self.extra is None:
            found: Any = importlib.import_module(module_name)
        else:
            with extra(self.extra, purpose):
                found = importlib.import_module(module_name)
        for part in attr.split("."):
            found = getattr(found, part)
        return found


POSTGRES = ("postgresql", "postgresql+psycopg", "postgres")
"""Every spelling of a PostgreSQL URL: libpq's two and SQLAlchemy's driver-qualified one.
The metadata store takes the first two only: SQLAlchemy does not know ``postgres://``."""

_METADATA = Backend("sameday.metadata.store:MetadataStore.open")
_PG_METADATA = Backend(_METADATA.target, "postgres")  # SQLAlchemy loads psycopg on connect
_PG_SINK = Backend("sameday.events.postgres:PostgresSink", "postgres")
_PG_SOURCE = Backend("sameday.events.postgres:PostgresSource", "postgres")
_REDIS = Backend("sameday.store.redis:RedisStore", "redis")
_REDIS_CLUSTER = Backend("sameday.store.redis_cluster:RedisClusterStore", "redis")
REDIS = ("redis", "rediss", "unix", "redis+cluster", "rediss+cluster")
"""Every scheme of a Redis serving store, one server or a cluster."""
_PARQUET_SINK = Backend("sameday.events.parquet:ParquetSink.from_url")
_PARQUET_SOURCE = Backend("sameday.events.parquet:ParquetSource.from_url")

BACKENDS: dict[str, dict[str, Backend]] = {
    "metadata": {"sqlite": _METADATA, **dict.fromkeys(POSTGRES[:2], _PG_METADATA)},
    "serving": {
        "sqlite": Backend("sameday.store.sqlite:SQLiteStore.from_url"),
        "redis": _REDIS,
        "rediss": _REDIS,
        "unix": _REDIS,
        "redis+cluster": _REDIS_CLUSTER,
        "rediss+cluster": _REDIS_CLUSTER,
        "memory": Backend("sameday.store.memory:MemoryStore.from_url"),
    },
    "events": {
        "sqlite": Backend("sameday.events.sqlite:SQLiteSink.from_url"),
        **dict.fromkeys(POSTGRES, _PG_SINK),
        "memory": Backend("sameday.events.memory:MemorySink.from_url"),
        "parquet": _PARQUET_SINK,
        "s3": Backend(_PARQUET_SINK.target, "s3"),
    },
    "source": {
        "sqlite": Backend("sameday.events.sqlite:SQLiteSource.from_url"),
        **dict.fromkeys(POSTGRES, _PG_SOURCE),
        "memory": Backend("sameday.events.memory:MemorySource.from_url"),
        "parquet": _PARQUET_SOURCE,
        "s3": Backend(_PARQUET_SOURCE.target, "s3"),
    },
    "artifacts": {"file": Backend("pathlib:Path")},
}
"""kind → scheme → backend: the one place a storage URL's scheme is looked up."""

WHAT: dict[str, str] = {
    "metadata": "metadata database URL",
    "serving": "serving store URL",
    "events": "event log URL",
    "source": "event log URL",
    "artifacts": "artifacts folder",
}
"""What each kind's URL is called in messages: ``unsupported serving store URL: ...``."""

KEYS: dict[str, str] = {
    "metadata": "storage.metadata",
    "serving": "storage.serving",
    "events": "storage.events",
    "source": "storage.events",
    "artifacts": "storage.artifacts",
}
"""The ``sameday.yaml`` key under which each kind's URL is written."""

EXAMPLES: dict[str, str] = {
    "metadata": "sqlite:///path/to/file.db or postgresql+psycopg://user:${PGPASSWORD}@host/db",
    "serving": "sqlite:///.sameday/serving.db, redis://:${REDIS_PASSWORD}@host:6379/0 or "
    "redis+cluster://host:6379",
    "events": "sqlite:///.sameday/events.db, postgresql+psycopg://user:${PGPASSWORD}@host/db, "
    "parquet:///folder or s3://bucket/prefix",
    "source": "sqlite:///.sameday/events.db, postgresql://user@host/db, parquet:///folder or "
    "s3://bucket/prefix",
    "artifacts": ".sameday/artifacts or file:///abs/folder",
}


def schemes(kind: str) -> tuple[str, ...]:
    """The URL schemes ``kind`` accepts, in the order they are suggested."""
    return tuple(BACKENDS[kind])


@dataclass(frozen=True)
class Origin:
    """Where a URL was written, for the error that refuses it: ``sameday.yaml:12:3``."""

    path: Path | None = None
    line: int | None = None
    column: int | None = None


DEFERRED = "\x00"
"""Stands for a URL known only where the program runs (a Kubernetes Secret read by the pod):
:func:`check` accepts it, so compiling for a cluster needs none of the cluster's secrets."""


def check(kind: str, url: str) -> str | None:
    """Why ``url`` cannot be the ``kind`` URL, or ``None`` when it can.

    Checks the scheme against :data:`BACKENDS` (suggesting the closest one for a typo, and
    listing those that exist) and that the URL parses: a numeric port, a numeric Redis database,
    a SQLite path. The message shows the URL redacted. Reachability is not checked here: that
    needs the server, and validate runs in CI.
    """
    if url == DEFERRED:
        return None
    allowed = schemes(kind)
    shown = redact(url)
    expected = f"expected {EXAMPLES[kind]}"
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        return None if kind == "artifacts" else f"{shown!r} is not a URL: {expected}"
    if scheme not in allowed:
        close = difflib.get_close_matches(scheme, allowed, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}://?)" if close else ""
        known = ", ".join(f"{s}://" for s in allowed)
        return f"unsupported scheme {scheme}:// in {shown!r}{hint}: use {known}; {expected}"
    if scheme == "sqlite" and (not rest.startswith("/") or len(rest) < 2):
        return f"{shown!r} names no file: write sqlite:///relative/path.db or sqlite:////abs.db"
    if scheme in {"parquet", "file"} and (not rest.startswith("/") or len(rest) < 2):
        return f"{shown!r} names no folder: write {scheme}:///relative/folder or {scheme}:////abs"
    if scheme in {"sqlite", "parquet", "file", "memory"}:
        return None
    if scheme == "s3" and not rest.split("/", 1)[0].split("?", 1)[0]:
        return f"{shown!r} names no bucket: write s3://bucket/prefix"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError as exc:
        return f"cannot parse {shown!r}: {scrub(str(exc), _password(url))}; {expected}"
    if scheme in {"redis", "rediss"}:
        database = parts.path.strip("/") or dict(parse_qsl(parts.query)).get("db", "0")
        if not database.isdigit():
            return f"the Redis database in {shown!r} must be a number (redis://host:6379/0)"
    if scheme in {"redis+cluster", "rediss+cluster"}:
        database = parts.path.strip("/") or dict(parse_qsl(parts.query)).get("db", "0")
        if database != "0":
            return f"{shown!r} names database {database}: a Redis Cluster has database 0 only"
    if scheme == "unix" and not parts.path:
        return f"{shown!r} names no socket: write unix:///path/to/redis.sock"
    return None


def refusal(kind: str, problem: str, origin: Origin | None = None) -> ConfigError:
    """The ``ConfigError`` that refuses a ``kind`` URL, located at ``origin`` when known."""
    where = origin or Origin()
    message = f"unsupported {WHAT[kind]}: {problem}"
    return ConfigError([Problem(where.path, where.line, where.column, message, field=KEYS[kind])])


def resolve(kind: str, url: str, *, origin: Origin | None = None) -> Any:
    """The backend factory for ``url``: a callable that takes ``url`` and opens it.

    Args:
        kind: one of :data:`BACKENDS`' kinds.
        url: the storage URL (relative SQLite paths already resolved, see ``Project.url``).
        origin: where the URL was written, so a refusal names ``file:line:column``.

    Raises:
        ConfigError: the scheme is unknown (the message lists those that exist) or the URL does
            not parse; the URL is shown without its password.
        MissingDependency: the backend's driver is not installed (the message names the extra).
    """
    problem = check(kind, url)
    if problem is not None:
        raise refusal(kind, problem, origin)
    scheme = url.partition("://")[0].lower()
    return BACKENDS[kind][scheme].load(f"{KEYS[kind]} {redact(url)}")


def open_url(kind: str, url: str, *, origin: Origin | None = None, **options: Any) -> Any:
    """Open ``url`` with the backend :func:`resolve` finds, passing ``options`` along
    (``migrate=False`` for the metadata store, say).

    A driver that refuses an option of the URL (redis-py and ``?socket_timeout=soon``) raises
    ``ValueError``; that is the URL's fault, so it becomes the same ``ConfigError`` as a bad
    scheme, scrubbed of passwords.

    Raises:
        ConfigError, MissingDependency: as for :func:`resolve`.
        StoreUnavailable: the backend cannot reach or open the storage.
    """
    factory = resolve(kind, url, origin=origin)
    try:
        return factory(url, **options)
    except SamedayError:
        raise
    except ValueError as exc:
        raise refusal(kind, f"{redact(url)!r}: {scrub(str(exc))}", origin) from exc


def _password(url: str) -> tuple[str, ...]:
    userinfo = url.partition("://")[2].split("/", 1)[0].rpartition("@")[0]
    password = userinfo.partition(":")[2]
    return (password,) if password else ()
