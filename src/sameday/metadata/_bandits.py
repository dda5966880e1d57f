"""Bandit parameter snapshots: immutable, versioned per experiment; the latest one is live.

An update never edits a snapshot: it inserts version ``previous + 1``. ``(experiment, version)``
is the primary key, so two updaters racing from the same previous version cannot both win: the
second insert violates the key and its transaction rolls back (:class:`BanditParamsConflict`),
and servers only ever see a whole snapshot. Swapping is therefore one atomic insert, and the
history stays for audits (which allocation served which exposure: ``extra["params_version"]``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sameday.errors import BanditParamsConflict
from sameday.metadata._checks import check_json
from sameday.metadata.models import BanditParamsRow
from sameday.metadata.records import BanditParamsRecord


def _record(row: BanditParamsRow) -> BanditParamsRecord:
    return BanditParamsRecord(row.experiment, row.version, dict(row.params), row.created_at)


def latest(session: Session, experiment: str) -> BanditParamsRecord | None:
    """The live (newest) snapshot of ``experiment``, or ``None`` before the first update."""
    row = session.execute(
        sa.select(BanditParamsRow)
        .where(BanditParamsRow.experiment == experiment)
        .order_by(BanditParamsRow.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if row is None else _record(row)


def latest_versions(session: Session) -> dict[str, int]:
    """Every experiment's live version: what a server polls to know when to reload."""
    rows = session.execute(
        sa.select(BanditParamsRow.experiment, sa.func.max(BanditParamsRow.version)).group_by(
            BanditParamsRow.experiment
        )
    )
    return {str(name): int(version) for name, version in rows}


def history(session: Session, experiment: str, limit: int) -> list[BanditParamsRecord]:
    """The newest ``limit`` snapshots of ``experiment``, newest first."""
    rows = session.execute(
        sa.select(BanditParamsRow)
        .where(BanditParamsRow.experiment == experiment)
        .order_by(BanditParamsRow.version.desc())
        .limit(limit)
    ).scalars()
    return [_record(row) for row in rows]


def save(
    session: Session,
    experiment: str,
    params: dict[str, Any],
    expected_version: int | None,
    now: datetime,
) -> BanditParamsRecord:
    """Insert the snapshot after ``expected_version`` (``None``: the first one).

    Raises:
        BanditParamsConflict: the live version is not ``expected_version`` (someone else
            updated in between).
    """
    check_json(params, f"bandit parameters of {experiment!r}")
    current = latest(session, experiment)
    found = None if current is None else current.version
    if found != expected_version:
        raise BanditParamsConflict(
            f"bandit {experiment!r} is at parameter version {found}, not {expected_version}: "
            "another update won; run the update again"
        )
    row = BanditParamsRow(
        experiment=experiment, version=(found or 0) + 1, params=params, created_at=now
    )
    session.add(row)
    try:
        session.flush()
    except sa.exc.IntegrityError as exc:
        raise BanditParamsConflict(
            f"bandit {experiment!r} got parameter version {row.version} from another update "
            "at the same time; run the update again"
        ) from exc
    return _record(row)
