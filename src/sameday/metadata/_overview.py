"""Reads across every result set or pipeline at once, for overviews (the dashboard).

The per-object methods of :class:`~sameday.metadata.store.MetadataStore` cost one query per
result set; a page about two hundred result sets cannot pay two hundred round trips. Each
function here is one query (or one per ``CHUNK`` versions), whatever the number of objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sameday.metadata._history import change_record
from sameday.metadata._profiles import ProfileRecord, ProfileRow, _record
from sameday.metadata._runs import run_record
from sameday.metadata._snapshots import snapshot_record
from sameday.metadata.models import LiveChangeRow, RunRow, SnapshotRow
from sameday.metadata.records import LiveChange, RunRecord, SnapshotRecord

CHUNK = 500
"""Versions per ``IN (...)`` list: well under every backend's limit of bound parameters."""


def live_snapshots(session: Session) -> list[SnapshotRecord]:
    """Every result set's live snapshot, by result set name."""
    rows = session.execute(
        sa.select(SnapshotRow).where(SnapshotRow.status == "live").order_by(SnapshotRow.result_set)
    ).scalars()
    return [snapshot_record(row) for row in rows]


def live_changes_since(session: Session, since: datetime, limit: int) -> list[LiveChange]:
    """Changes of any result set's live snapshot at or after ``since``, newest first."""
    rows = session.execute(
        sa.select(LiveChangeRow)
        .where(LiveChangeRow.at >= since)
        .order_by(LiveChangeRow.id.desc())
        .limit(limit)
    ).scalars()
    return [change_record(row) for row in rows]


def runs_since(session: Session, since: datetime, limit: int) -> list[RunRecord]:
    """Runs of any pipeline started at or after ``since``, newest first."""
    rows = session.execute(
        sa.select(RunRow)
        .where(RunRow.started_at >= since)
        .order_by(RunRow.started_at.desc(), RunRow.id.desc())
        .limit(limit)
    ).scalars()
    return [run_record(row) for row in rows]


def profiles_of(session: Session, versions: Sequence[str]) -> dict[str, ProfileRecord]:
    """The profiles of these snapshot versions, by version (versions without one are left out)."""
    found: dict[str, ProfileRecord] = {}
    unique = sorted(set(versions))
    for start in range(0, len(unique), CHUNK):
        rows = session.execute(
            sa.select(ProfileRow).where(ProfileRow.version.in_(unique[start : start + CHUNK]))
        ).scalars()
        found.update((row.version, _record(row)) for row in rows)
    return found
