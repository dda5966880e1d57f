"""The snapshot records a publish reads and writes, over ``sqlite3``, for a SQLite metadata file.

A publish of a small result set is over in about a second, and importing SQLAlchemy and the
metadata models took half of it (0.5 s of CPU for about twenty short statements).
:class:`SnapshotLedger` runs the same statements on the same tables with the standard library,
writing exactly what :class:`~sameday.metadata.store.MetadataStore` writes (datetimes as
SQLAlchemy stores them in SQLite, JSON as ``json.dumps`` gives it, the same checks before any
SQL, the same errors), so either can read what the other wrote;
``tests/metadata/test_snapshot_ledger.py`` runs both through one publish cycle and compares
every record.

It only opens a file already at :data:`~sameday.metadata.records.SCHEMA_REVISION`
(:meth:`SnapshotLedger.open` answers ``None`` otherwise): creating and upgrading the schema stay
with Alembic and the full store. PostgreSQL is always opened through the full store.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, cast

from sameday._closing import Closing
from sameday._sqlite import use_wal
from sameday.errors import MetadataError, NotFound, StoreUnavailable
from sameday.metadata._actor import ACTOR_LENGTH, current_actor
from sameday.metadata._checks import check_json
from sameday.metadata.records import (
    LIVE_ACTIONS,
    SCHEMA_REVISION,
    ProfileRecord,
    SnapshotRecord,
    SnapshotStatus,
)

BUSY_TIMEOUT = 30.0
"""Seconds a writer waits for another writer, as the full store's engine does."""
_SNAPSHOT = (
    "SELECT version, result_set, status, content_hash, rows, keys, schema, source, run_id, "
    "created_at, published_at, store_url FROM snapshots"
)
_PROFILE = (
    "SELECT version, result_set, rows, keys, profile, findings, created_at FROM snapshot_profiles"
)


class SnapshotBook(Protocol):
    """What publishing, repair and retention need of the metadata database: met by
    :class:`~sameday.metadata.store.MetadataStore` and by :class:`SnapshotLedger`."""

    def get_snapshot(self, version: str) -> SnapshotRecord: ...
    def live_snapshot(self, result_set: str) -> SnapshotRecord | None: ...
    def list_snapshots(
        self, result_set: str, *, include_deleted: bool = False
    ) -> list[SnapshotRecord]: ...
    def create_snapshot(
        self,
        result_set: str,
        version: str,
        *,
        content_hash: str,
        rows: int,
        keys: int,
        schema: dict[str, Any],
        source: str,
        run_id: str | None,
        store_url: str,
    ) -> SnapshotRecord: ...
    def set_live(
        self,
        result_set: str,
        version: str,
        *,
        action: str = "publish",
        actor: str | None = None,
        reason: str | None = None,
    ) -> SnapshotRecord | None: ...
    def mark_deleted(self, version: str) -> SnapshotRecord: ...
    def delete_staged(
        self, result_set: str, *, older_than: timedelta | None = None
    ) -> list[SnapshotRecord]: ...
    def record_profile(
        self,
        version: str,
        result_set: str,
        profile: dict[str, Any],
        findings: list[dict[str, Any]],
    ) -> ProfileRecord: ...
    def profiles(self, result_set: str, limit: int = 20) -> list[ProfileRecord]: ...
    def profile(self, version: str) -> ProfileRecord | None: ...
    def close(self) -> None: ...


def _stored(moment: datetime) -> str:
    """``moment`` as SQLAlchemy writes a timezone-aware datetime to SQLite: UTC, no zone."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: pass a timezone-aware one")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _read(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def _snapshot(row: tuple[Any, ...]) -> SnapshotRecord:
    created = _read(row[9])
    assert created is not None
    return SnapshotRecord(
        version=row[0],
        result_set=row[1],
        status=cast(SnapshotStatus, row[2]),
        content_hash=row[3],
        rows=int(row[4]),
        keys=int(row[5]),
        schema=dict(json.loads(row[6])),
        source=row[7],
        run_id=row[8],
        created_at=created,
        published_at=_read(row[10]),
        store_url=row[11],
    )


def _profile(row: tuple[Any, ...]) -> ProfileRecord:
    created = _read(row[6])
    assert created is not None
    return ProfileRecord(
        row[0], row[1], int(row[2]), int(row[3]), json.loads(row[4]), json.loads(row[5]), created
    )


class SnapshotLedger(Closing):
    """The snapshot tables of a SQLite metadata file, read and written with ``sqlite3``.

    Every method runs in its own transaction, as the full store's do; writes take the write
    lock up front (``BEGIN IMMEDIATE``), so two publishers queue instead of failing halfway.
    """

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        """Wrap an open connection to a file at ``SCHEMA_REVISION``; use :meth:`open`."""
        self._db = db
        self._path = path

    @classmethod
    def open(cls, path: Path) -> SnapshotLedger | None:
        """The ledger of the metadata file at ``path``, or ``None`` when the file is missing or
        not at ``SCHEMA_REVISION`` (the full store creates and upgrades schemas).

        Raises:
            StoreUnavailable: the file cannot be opened.
        """
        if not path.is_file():
            return None
        try:
            db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"metadata database {path} is unavailable: {exc}") from exc
        try:
            use_wal(db, timeout=BUSY_TIMEOUT)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            found = db.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.Error:
            db.close()
            return None
        if [row[0] for row in found] != [SCHEMA_REVISION]:
            db.close()
            return None
        return cls(db, path)

    def __repr__(self) -> str:
        return f"SnapshotLedger({str(self._path)!r})"

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    @contextmanager
    def _transaction(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction, committed when the block ends; errors as the full store's."""
        try:
            self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            reason = str(exc).strip().splitlines()[0]
            if isinstance(exc, sqlite3.OperationalError) and any(
                marker in reason for marker in ("locked", "unable to open")
            ):
                raise StoreUnavailable(
                    f"metadata database {self._path} is unavailable: {reason}; check that the "
                    "file's folder is writable and no other process holds a long write lock"
                ) from exc
            if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                raise MetadataError(
                    f"metadata database {self._path} is full ({reason}): free space on the disk "
                    "that holds it, then try again; the refused change was not written"
                ) from exc
            raise MetadataError(f"metadata database {self._path} refused: {reason}") from exc

    def get_snapshot(self, version: str) -> SnapshotRecord:
        """The snapshot with this version (``NotFound`` else)."""
        with self._transaction() as db:
            return self._get(db, version)

    def _get(self, db: sqlite3.Connection, version: str) -> SnapshotRecord:
        row = db.execute(f"{_SNAPSHOT} WHERE version = ?", (version,)).fetchone()
        if row is None:
            raise NotFound(f"no snapshot with version {version!r}")
        return _snapshot(row)

    def live_snapshot(self, result_set: str) -> SnapshotRecord | None:
        """The snapshot served for ``result_set``, or ``None``."""
        with self._transaction() as db:
            return self._live(db, result_set)

    def _live(self, db: sqlite3.Connection, result_set: str) -> SnapshotRecord | None:
        sql = f"{_SNAPSHOT} WHERE result_set = ? AND status = 'live'"
        row = db.execute(sql, (result_set,)).fetchone()
        return None if row is None else _snapshot(row)

    def list_snapshots(
        self, result_set: str, *, include_deleted: bool = False
    ) -> list[SnapshotRecord]:
        """The snapshots of ``result_set``, newest first."""
        where = "" if include_deleted else " AND status != 'deleted'"
        sql = f"{_SNAPSHOT} WHERE result_set = ?{where} ORDER BY created_at DESC, version DESC"
        with self._transaction() as db:
            return [_snapshot(row) for row in db.execute(sql, (result_set,))]

    def create_snapshot(
        self,
        result_set: str,
        version: str,
        *,
        content_hash: str,
        rows: int,
        keys: int,
        schema: dict[str, Any],
        source: str,
        run_id: str | None,
        store_url: str,
    ) -> SnapshotRecord:
        """Record a staged snapshot (not served until :meth:`set_live`)."""
        if rows < 0 or keys < 0:
            raise ValueError(f"snapshot {version!r}: rows and keys cannot be negative")
        check_json(schema, f"schema of snapshot {version!r}")
        now = _stored(datetime.now(UTC))
        with self._transaction(write=True) as db:
            found = db.execute(
                "SELECT result_set FROM snapshots WHERE version = ?", (version,)
            ).fetchone()
            if found is not None:
                raise MetadataError(
                    f"snapshot version {version!r} already exists (result set {found[0]!r}); "
                    "snapshots are immutable: publish under a new version"
                )
            db.execute(
                "INSERT INTO result_sets (name, live_version, updated_at) VALUES (?, NULL, ?) "
                "ON CONFLICT DO NOTHING",
                (result_set, now),
            )
            db.execute(
                "INSERT INTO snapshots (version, result_set, status, content_hash, rows, keys, "
                "schema, source, run_id, created_at, published_at, store_url) "
                "VALUES (?, ?, 'staged', ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                (
                    version,
                    result_set,
                    content_hash,
                    rows,
                    keys,
                    json.dumps(schema),
                    source,
                    run_id,
                    now,
                    store_url,
                ),
            )
            return self._get(db, version)

    def set_live(
        self,
        result_set: str,
        version: str,
        *,
        action: str = "publish",
        actor: str | None = None,
        reason: str | None = None,
    ) -> SnapshotRecord | None:
        """Make ``version`` live and retire the previous live one, returned; the change joins
        the history of what was live in the same transaction (see
        :meth:`MetadataStore.set_live <sameday.metadata.store.MetadataStore.set_live>`)."""
        if action not in LIVE_ACTIONS:
            raise ValueError(f"unknown live action {action!r}: one of {', '.join(LIVE_ACTIONS)}")
        now = _stored(datetime.now(UTC))
        with self._transaction(write=True) as db:
            held = db.execute("SELECT 1 FROM result_sets WHERE name = ?", (result_set,))
            if held.fetchone() is None:
                raise NotFound(
                    f"no result set {result_set!r} in the metadata database: publish it first"
                )
            record = self._get(db, version)
            if record.result_set != result_set:
                raise MetadataError(
                    f"snapshot {version!r} belongs to result set {record.result_set!r}, not "
                    f"{result_set!r}"
                )
            if record.status == "deleted":
                raise MetadataError(
                    f"snapshot {version!r} of {result_set!r} was deleted and its data may be "
                    "gone; choose a staged or retired snapshot"
                )
            if record.status == "live":
                return record
            previous = self._live(db, result_set)
            if previous is not None:  # retire first: the unique index never sees two live rows
                db.execute(
                    "UPDATE snapshots SET status = 'retired' WHERE version = ?",
                    (previous.version,),
                )
            db.execute(
                "UPDATE snapshots SET status = 'live', published_at = ? WHERE version = ?",
                (now, version),
            )
            db.execute(
                "UPDATE result_sets SET live_version = ?, updated_at = ? WHERE name = ?",
                (version, now, result_set),
            )
            db.execute(
                "INSERT INTO live_changes (result_set, version, previous, action, actor, reason, "
                "at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    result_set,
                    version,
                    previous.version if previous is not None else None,
                    action,
                    (actor or current_actor())[:ACTOR_LENGTH],
                    reason,
                    now,
                ),
            )
        return None if previous is None else self.get_snapshot(previous.version)

    def mark_deleted(self, version: str) -> SnapshotRecord:
        """Mark a non-live snapshot deleted (call before removing its data)."""
        with self._transaction(write=True) as db:
            record = self._get(db, version)
            if record.status == "live":
                raise MetadataError(
                    f"snapshot {version!r} is live for result set {record.result_set!r}: make "
                    "another snapshot live (roll back or publish) before deleting it"
                )
            db.execute("UPDATE snapshots SET status = 'deleted' WHERE version = ?", (version,))
            return self._get(db, version)

    def delete_staged(
        self, result_set: str, *, older_than: timedelta | None = None
    ) -> list[SnapshotRecord]:
        """Forget staged snapshots never made live; returns them so their data can be removed."""
        sql = f"{_SNAPSHOT} WHERE result_set = ? AND status = 'staged'"
        params: tuple[Any, ...] = (result_set,)
        if older_than is not None:
            sql += " AND created_at < ?"
            params += (_stored(datetime.now(UTC) - older_than),)
        with self._transaction(write=True) as db:
            removed = [_snapshot(row) for row in db.execute(f"{sql} ORDER BY created_at", params)]
            db.executemany(
                "DELETE FROM snapshots WHERE version = ?", [(r.version,) for r in removed]
            )
        return removed

    def record_profile(
        self,
        version: str,
        result_set: str,
        profile: dict[str, Any],
        findings: list[dict[str, Any]],
    ) -> ProfileRecord:
        """Record the profile of snapshot ``version`` and its drift findings, once."""
        check_json(profile, f"profile of snapshot {version!r}")
        check_json(findings, f"drift findings of snapshot {version!r}")
        now = _stored(datetime.now(UTC))
        with self._transaction(write=True) as db:
            found = db.execute("SELECT 1 FROM snapshot_profiles WHERE version = ?", (version,))
            if found.fetchone() is not None:
                raise MetadataError(
                    f"snapshot {version!r} already has a profile; profiles are immutable"
                )
            db.execute(
                "INSERT INTO snapshot_profiles (version, result_set, rows, keys, profile, "
                "findings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    version,
                    result_set,
                    int(profile["rows"]),
                    int(profile["keys"]),
                    json.dumps(profile),
                    json.dumps(findings),
                    now,
                ),
            )
            row = db.execute(f"{_PROFILE} WHERE version = ?", (version,)).fetchone()
        return _profile(row)

    def profiles(self, result_set: str, limit: int = 20) -> list[ProfileRecord]:
        """The newest ``limit`` profiles of ``result_set``'s published snapshots, newest first."""
        sql = f"{_PROFILE} WHERE result_set = ? ORDER BY created_at DESC, version DESC LIMIT ?"
        with self._transaction() as db:
            return [_profile(row) for row in db.execute(sql, (result_set, limit))]

    def profile(self, version: str) -> ProfileRecord | None:
        """The profile of snapshot ``version``, or ``None`` if it has none."""
        with self._transaction() as db:
            row = db.execute(f"{_PROFILE} WHERE version = ?", (version,)).fetchone()
        return None if row is None else _profile(row)
