"""Snapshot profiles: what each published snapshot looked like, for drift gates and the board.

One row per snapshot that went live, written by the publish that made it live, never updated.
The profile itself is JSON (its fields grow with the checks that read it; see
:mod:`sameday.monitor.profile`); ``rows`` and ``keys`` are columns too, so the status board can
list them without reading the JSON. ``findings`` holds what the drift checks said about the
snapshot when it was published, warnings included (a blocked snapshot is never recorded: nothing
of it changed anything).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from sameday.errors import MetadataError
from sameday.metadata._checks import check_json
from sameday.metadata.models import ID, NAME, Base
from sameday.metadata.records import ProfileRecord


class ProfileRow(Base):
    """``snapshot_profiles``: the profile of one snapshot, recorded when it went live."""

    __tablename__ = "snapshot_profiles"
    __table_args__ = (sa.CheckConstraint("rows >= 0 AND keys >= 0", name="counts_not_negative"),)

    version: Mapped[str] = mapped_column(
        sa.String(ID), sa.ForeignKey("snapshots.version"), primary_key=True
    )
    result_set: Mapped[str] = mapped_column(sa.String(NAME), index=True)
    rows: Mapped[int] = mapped_column(sa.BigInteger)
    keys: Mapped[int] = mapped_column(sa.BigInteger)
    profile: Mapped[dict[str, Any]]
    findings: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(index=True)


def _record(row: ProfileRow) -> ProfileRecord:
    return ProfileRecord(
        row.version,
        row.result_set,
        row.rows,
        row.keys,
        dict(row.profile),
        list(row.findings),
        row.created_at,
    )


def record_profile(
    session: Session,
    version: str,
    result_set: str,
    profile: dict[str, Any],
    findings: list[dict[str, Any]],
    now: datetime,
) -> ProfileRecord:
    """Insert the profile of snapshot ``version`` (which must exist), once.

    Raises:
        MetadataError: the snapshot already has a profile (profiles are immutable).
        TypeError: the profile or findings are not JSON (a NaN included).
    """
    check_json(profile, f"profile of snapshot {version!r}")
    check_json(findings, f"drift findings of snapshot {version!r}")
    if session.get(ProfileRow, version) is not None:
        raise MetadataError(f"snapshot {version!r} already has a profile; profiles are immutable")
    row = ProfileRow(
        version=version,
        result_set=result_set,
        rows=int(profile["rows"]),
        keys=int(profile["keys"]),
        profile=profile,
        findings=findings,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return _record(row)


def profiles(session: Session, result_set: str, limit: int) -> list[ProfileRecord]:
    """The newest ``limit`` profiles of ``result_set``, newest first."""
    rows = session.execute(
        sa.select(ProfileRow)
        .where(ProfileRow.result_set == result_set)
        .order_by(ProfileRow.created_at.desc(), ProfileRow.version.desc())
        .limit(limit)
    ).scalars()
    return [_record(row) for row in rows]


def profile(session: Session, version: str) -> ProfileRecord | None:
    """The profile of snapshot ``version``, or ``None`` (published before profiles existed)."""
    row = session.get(ProfileRow, version)
    return None if row is None else _record(row)
