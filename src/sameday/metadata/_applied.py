"""Objects registered by ``sameday apply``, replaced as a whole set in one transaction.

Apply is declarative: the project files say what should exist, so the stored set is replaced,
not patched. Replacing it in one transaction means servers polling the table see the old set or
the new one, never a mixture. On PostgreSQL the table is locked against other writers for that
transaction, so two concurrent applies cannot interleave their inserts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sameday.metadata._checks import check_json
from sameday.metadata.models import AppliedObjectRow
from sameday.metadata.records import AppliedObject


def spec_hash(spec: dict[str, Any]) -> str:
    """The SHA-256 of the canonical JSON of ``spec`` (sorted keys, no spaces)."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def applied_record(row: AppliedObjectRow) -> AppliedObject:
    """The record of an applied-object row."""
    return AppliedObject(
        kind=row.kind,
        name=row.name,
        spec=dict(row.spec),
        spec_hash=row.spec_hash,
        applied_at=row.applied_at,
    )


def lock_applied(session: Session) -> None:
    """Hold the applied set against other writers until the transaction ends (PostgreSQL;
    SQLite write transactions hold the whole file from their start)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("LOCK TABLE applied_objects IN SHARE ROW EXCLUSIVE MODE"))


def applied(session: Session, kind: str | None) -> list[AppliedObject]:
    """The applied objects, by kind then name, optionally of one kind."""
    query = sa.select(AppliedObjectRow).order_by(AppliedObjectRow.kind, AppliedObjectRow.name)
    if kind is not None:
        query = query.where(AppliedObjectRow.kind == kind)
    return [applied_record(row) for row in session.execute(query).scalars()]


def replace_applied(
    session: Session, objects: Iterable[tuple[str, str, dict[str, Any]]], now: datetime
) -> list[AppliedObject]:
    """Make the stored set exactly ``objects``; unchanged specs keep their ``applied_at``."""
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, name, spec in objects:
        if (kind, name) in wanted:
            raise ValueError(f"{kind} {name!r} is listed twice in the objects to apply")
        check_json(spec, f"spec of {kind} {name!r}")
        wanted[(kind, name)] = spec
    lock_applied(session)
    current = {
        (row.kind, row.name): row for row in session.execute(sa.select(AppliedObjectRow)).scalars()
    }
    for key, stale in current.items():
        if key not in wanted:
            session.delete(stale)
    for (kind, name), spec in wanted.items():
        digest = spec_hash(spec)
        row = current.get((kind, name))
        if row is None:
            session.add(
                AppliedObjectRow(kind=kind, name=name, spec=spec, spec_hash=digest, applied_at=now)
            )
        elif row.spec_hash != digest:
            row.spec = spec
            row.spec_hash = digest
            row.applied_at = now
    session.flush()
    return applied(session, None)
