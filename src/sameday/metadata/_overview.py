"""Reads across every result set, pipeline or applied object at once, for overviews (the
dashboard).

The per-object methods of :class:`~sameday.metadata.store.MetadataStore` cost one query per
result set, and return whole records: a page about two hundred result sets can afford neither
two hundred round trips nor decoding two hundred profiles of a few thousand numbers each to
show three of them. Each function here is one query (or one per ``CHUNK`` versions), and reads
only the columns, or the JSON fields, it returns; JSON fields are read in SQL (``json_extract``
on SQLite, ``->`` on PostgreSQL) so the rest of a document is never decoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sameday.metadata._alerts import IncidentRow
from sameday.metadata._applied import applied_record
from sameday.metadata._history import change_record
from sameday.metadata._profiles import ProfileRow
from sameday.metadata._runs import run_record
from sameday.metadata._snapshots import snapshot_record
from sameday.metadata.models import AppliedObjectRow, LiveChangeRow, RunRow, SnapshotRow
from sameday.metadata.records import AppliedObject, LiveChange, RunRecord, SnapshotRecord

CHUNK = 500
"""Versions per ``IN (...)`` list: well under every backend's limit of bound parameters."""


@dataclass(frozen=True)
class ProfileSummary:
    """The few numbers of a snapshot's profile an overview shows, and its drift findings.

    ``items``: distinct items recommended; ``mean_length``: mean items per key; ``overlap``:
    mean Jaccard index of the top items against the snapshot live before it (``None`` for the
    first, or a profile without one).
    """

    version: str
    items: int | None
    mean_length: float | None
    overlap: float | None
    findings: list[dict[str, Any]]


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


def run_counts_since(session: Session, since: datetime) -> dict[str, int]:
    """How many runs of any pipeline started at or after ``since``, by status."""
    rows = session.execute(
        sa.select(RunRow.status, sa.func.count())
        .where(RunRow.started_at >= since)
        .group_by(RunRow.status)
    )
    return {str(status): int(count) for status, count in rows}


def find_runs(
    session: Session, pipeline: str | None, status: str | None, limit: int
) -> list[RunRecord]:
    """The newest ``limit`` runs, of one pipeline and in one status when given."""
    query = sa.select(RunRow).order_by(RunRow.started_at.desc(), RunRow.id.desc()).limit(limit)
    if pipeline is not None:
        query = query.where(RunRow.pipeline == pipeline)
    if status is not None:
        query = query.where(RunRow.status == status)
    return [run_record(row) for row in session.execute(query).scalars()]


def latest_runs(session: Session, pipelines: Sequence[str], per: int) -> dict[str, list[RunRecord]]:
    """The newest ``per`` runs of each pipeline, newest first: one statement, a ``UNION ALL``
    of one indexed, limited select per pipeline."""
    if not pipelines:
        return {}
    parts = [
        sa.select(RunRow.id)
        .where(RunRow.pipeline == name)
        .order_by(RunRow.started_at.desc(), RunRow.id.desc())
        .limit(per)
        .subquery()
        .select()
        for name in sorted(set(pipelines))
    ]
    ids = sa.union_all(*parts).subquery()
    rows = session.execute(
        sa.select(RunRow)
        .where(RunRow.id.in_(sa.select(ids.c.id)))
        .order_by(RunRow.started_at.desc(), RunRow.id.desc())
    ).scalars()
    found: dict[str, list[RunRecord]] = {name: [] for name in pipelines}
    for row in rows:
        found[row.pipeline].append(run_record(row))
    return found


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def profile_summaries(session: Session, versions: Sequence[str]) -> dict[str, ProfileSummary]:
    """The summaries of these snapshot versions' profiles, by version (those without a profile
    are left out)."""
    profile = ProfileRow.profile
    columns = (
        ProfileRow.version,
        profile["items"],
        profile[("list_length", "mean")],
        profile[("overlap", "jaccard")],
        ProfileRow.findings,
    )
    found: dict[str, ProfileSummary] = {}
    unique = sorted(set(versions))
    for start in range(0, len(unique), CHUNK):
        rows = session.execute(
            sa.select(*columns).where(ProfileRow.version.in_(unique[start : start + CHUNK]))
        )
        for version, items, length, overlap, findings in rows:
            counted = _number(items)
            found[version] = ProfileSummary(
                version,
                None if counted is None else int(counted),
                _number(length),
                _number(overlap),
                list(findings or []),
            )
    return found


def incident_counts_since(session: Session, since: datetime) -> tuple[int, int]:
    """How many incidents opened, and how many were resolved, at or after ``since``: counted in
    SQL, no incident read."""
    opened = session.execute(
        sa.select(sa.func.count()).where(IncidentRow.opened_at >= since)
    ).scalar_one()
    resolved = session.execute(
        sa.select(sa.func.count()).where(IncidentRow.resolved_at >= since)
    ).scalar_one()
    return int(opened), int(resolved)


def profile_findings(session: Session, versions: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The drift findings of these snapshot versions' profiles, by version (those without a
    profile are left out): what a freshness overview needs, with no JSON field of the profile
    itself read."""
    found: dict[str, list[dict[str, Any]]] = {}
    unique = sorted(set(versions))
    for start in range(0, len(unique), CHUNK):
        rows = session.execute(
            sa.select(ProfileRow.version, ProfileRow.findings).where(
                ProfileRow.version.in_(unique[start : start + CHUNK])
            )
        )
        found.update((version, list(findings or [])) for version, findings in rows)
    return found


def applied_since(session: Session, since: datetime, limit: int) -> list[AppliedObject]:
    """The newest ``limit`` applied objects whose spec was applied at or after ``since``."""
    rows = session.execute(
        sa.select(AppliedObjectRow)
        .where(AppliedObjectRow.applied_at >= since)
        .order_by(AppliedObjectRow.applied_at.desc(), AppliedObjectRow.kind, AppliedObjectRow.name)
        .limit(limit)
    ).scalars()
    return [applied_record(row) for row in rows]


def applied_field(session: Session, kind: str, field: str) -> dict[str, str | None]:
    """One top-level text field of every applied object of ``kind``, by name."""
    rows = session.execute(
        sa.select(AppliedObjectRow.name, AppliedObjectRow.spec[field].as_string()).where(
            AppliedObjectRow.kind == kind
        )
    )
    return {str(name): None if value is None else str(value) for name, value in rows}


def applied_object(session: Session, kind: str, name: str) -> AppliedObject | None:
    """The applied object ``kind`` ``name``, or ``None`` if it is not applied."""
    row = session.execute(
        sa.select(AppliedObjectRow).where(
            AppliedObjectRow.kind == kind, AppliedObjectRow.name == name
        )
    ).scalar_one_or_none()
    return None if row is None else applied_record(row)
