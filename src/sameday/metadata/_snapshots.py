"""Snapshots of result sets and which one is live, as functions over an open session.

Going live is the one operation that must never be half-done, so :func:`set_live` does all of
it in the caller's single transaction, after locking the result set's row (``SELECT ... FOR
UPDATE`` on PostgreSQL; SQLite write transactions are already exclusive), and records the
change in the history of what was live (:mod:`sameday.metadata._history`) in the same
transaction. The partial unique index ``ux_snapshots_one_live`` backs this up inside the
database: two live snapshots of one result set cannot be committed, whatever the code above does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sameday.errors import MetadataError, NotFound
from sameday.metadata._checks import check_json
from sameday.metadata._history import record_change
from sameday.metadata.models import ResultSetRow, SnapshotRow
from sameday.metadata.records import SnapshotRecord, SnapshotStatus


def snapshot_record(row: SnapshotRow) -> SnapshotRecord:
    """The record of a snapshot row."""
    return SnapshotRecord(
        version=row.version,
        result_set=row.result_set,
        status=cast(SnapshotStatus, row.status),
        content_hash=row.content_hash,
        rows=row.rows,
        keys=row.keys,
        schema=dict(row.schema),
        source=row.source,
        run_id=row.run_id,
        created_at=row.created_at,
        published_at=row.published_at,
        store_url=row.store_url,
    )


def _ensure_result_set(session: Session, name: str, now: datetime) -> None:
    """Insert the result set's row unless it exists, without racing a concurrent inserter."""
    values = {"name": name, "live_version": None, "updated_at": now}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(ResultSetRow).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(ResultSetRow).values(**values).on_conflict_do_nothing())
    elif session.get(ResultSetRow, name) is None:
        session.add(ResultSetRow(**values))
        session.flush()


def create_snapshot(
    session: Session,
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
    now: datetime,
) -> SnapshotRecord:
    """Insert a staged snapshot, creating the result set's row on its first snapshot."""
    if rows < 0 or keys < 0:
        raise ValueError(f"snapshot {version!r}: rows and keys cannot be negative")
    check_json(schema, f"schema of snapshot {version!r}")
    existing = session.get(SnapshotRow, version)
    if existing is not None:
        raise MetadataError(
            f"snapshot version {version!r} already exists (result set {existing.result_set!r}); "
            "snapshots are immutable: publish under a new version"
        )
    _ensure_result_set(session, result_set, now)
    row = SnapshotRow(
        version=version,
        result_set=result_set,
        status="staged",
        content_hash=content_hash,
        rows=rows,
        keys=keys,
        schema=schema,
        source=source,
        run_id=run_id,
        created_at=now,
        published_at=None,
        store_url=store_url,
    )
    session.add(row)
    session.flush()
    return snapshot_record(row)


def get_snapshot(session: Session, version: str) -> SnapshotRow:
    """The snapshot row of ``version``, or ``NotFound``."""
    row = session.get(SnapshotRow, version)
    if row is None:
        raise NotFound(f"no snapshot with version {version!r}")
    return row


_AMBIGUOUS_SHOWN = 10
"""Candidates listed when a version prefix matches several snapshots."""


def find_snapshot(session: Session, result_set: str, version: str) -> SnapshotRow:
    """The snapshot of ``result_set`` named ``version``, or the only one whose version starts
    with it (with or without the leading ``RESULT_SET-``).

    Raises:
        NotFound: nothing matches, or several do (they are listed, newest first).
    """
    row = session.get(SnapshotRow, version)
    if row is not None:
        if row.result_set != result_set:
            raise NotFound(
                f"snapshot {version!r} belongs to result set {row.result_set!r}, not {result_set!r}"
            )
        return row
    starts = sa.or_(
        SnapshotRow.version.startswith(version, autoescape=True),
        SnapshotRow.version.startswith(f"{result_set}-{version}", autoescape=True),
    )
    matches = (
        session.execute(
            sa.select(SnapshotRow)
            .where(SnapshotRow.result_set == result_set, starts)
            .order_by(SnapshotRow.created_at.desc(), SnapshotRow.version.desc())
            .limit(_AMBIGUOUS_SHOWN + 1)
        )
        .scalars()
        .all()
    )
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFound(
            f"no snapshot of {result_set!r} with version or version prefix {version!r}: "
            f"run 'sameday snapshots {result_set}' to see them"
        )
    shown = "\n".join(f"  {m.version} ({m.status})" for m in matches[:_AMBIGUOUS_SHOWN])
    more = "\n  and more" if len(matches) > _AMBIGUOUS_SHOWN else ""
    raise NotFound(
        f"version prefix {version!r} matches several snapshots of {result_set!r}; give more "
        f"characters of one of:\n{shown}{more}"
    )


def _live_row(session: Session, result_set: str) -> SnapshotRow | None:
    return session.execute(
        sa.select(SnapshotRow).where(
            SnapshotRow.result_set == result_set, SnapshotRow.status == "live"
        )
    ).scalar_one_or_none()


def set_live(
    session: Session,
    result_set: str,
    version: str,
    now: datetime,
    *,
    action: str,
    actor: str | None,
    reason: str | None,
) -> SnapshotRecord | None:
    """Make ``version`` the live snapshot of ``result_set``; return the one it replaced.

    The change is added to the history of what was live, with ``action``, ``actor`` (``None``:
    this process's ``user@host``) and ``reason``. Making the live snapshot live again changes
    nothing, records nothing and returns its own record.
    """
    holder = session.execute(
        sa.select(ResultSetRow).where(ResultSetRow.name == result_set).with_for_update()
    ).scalar_one_or_none()
    if holder is None:
        raise NotFound(f"no result set {result_set!r} in the metadata database: publish it first")
    row = get_snapshot(session, version)
    if row.result_set != result_set:
        raise MetadataError(
            f"snapshot {version!r} belongs to result set {row.result_set!r}, not {result_set!r}"
        )
    if row.status == "deleted":
        raise MetadataError(
            f"snapshot {version!r} of {result_set!r} was deleted and its data may be gone; "
            "choose a staged or retired snapshot"
        )
    if row.status == "live":
        return snapshot_record(row)
    previous = _live_row(session, result_set)
    if previous is not None:
        previous.status = "retired"
        session.flush()  # retire first: the unique index never sees two live rows
    row.status = "live"
    row.published_at = now
    holder.live_version = version
    holder.updated_at = now
    session.flush()
    record_change(
        session,
        result_set,
        version,
        previous.version if previous is not None else None,
        action=action,
        actor=actor,
        reason=reason,
        now=now,
    )
    return snapshot_record(previous) if previous is not None else None


def live_snapshot(session: Session, result_set: str) -> SnapshotRecord | None:
    """The live snapshot of ``result_set``, or ``None`` when it has none."""
    row = _live_row(session, result_set)
    return snapshot_record(row) if row is not None else None


def list_snapshots(
    session: Session, result_set: str, include_deleted: bool
) -> list[SnapshotRecord]:
    """The snapshots of ``result_set``, newest first."""
    query = (
        sa.select(SnapshotRow)
        .where(SnapshotRow.result_set == result_set)
        .order_by(SnapshotRow.created_at.desc(), SnapshotRow.version.desc())
    )
    if not include_deleted:
        query = query.where(SnapshotRow.status != "deleted")
    return [snapshot_record(row) for row in session.execute(query).scalars()]


def mark_deleted(session: Session, version: str) -> SnapshotRecord:
    """Mark a snapshot deleted (its data is being removed); the live one is refused."""
    row = get_snapshot(session, version)
    if row.status == "live":
        raise MetadataError(
            f"snapshot {version!r} is live for result set {row.result_set!r}: make another "
            "snapshot live (roll back or publish) before deleting it"
        )
    row.status = "deleted"
    session.flush()
    return snapshot_record(row)


def delete_staged(
    session: Session, result_set: str, older_than: timedelta | None, now: datetime
) -> list[SnapshotRecord]:
    """Remove the staged (never published) snapshots of ``result_set`` and return them.

    ``older_than`` spares snapshots staged recently, which a publisher may still be writing.
    """
    query = sa.select(SnapshotRow).where(
        SnapshotRow.result_set == result_set, SnapshotRow.status == "staged"
    )
    if older_than is not None:
        query = query.where(SnapshotRow.created_at < now - older_than)
    rows = list(session.execute(query.order_by(SnapshotRow.created_at)).scalars())
    removed = [snapshot_record(row) for row in rows]
    for row in rows:
        session.delete(row)
    session.flush()
    return removed
