"""The history of what was live, as functions over an open session.

:func:`sameday.metadata._snapshots.set_live` records a change here in the same transaction as
the status flip, so the history and the statuses can never disagree. Changes are only ever
added: the history is the record rollback follows and people read to learn what users saw.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sameday.metadata._actor import current_actor
from sameday.metadata.models import NAME, LiveChangeRow
from sameday.metadata.records import LIVE_ACTIONS, LiveAction, LiveChange


def change_record(row: LiveChangeRow) -> LiveChange:
    """The record of a history row."""
    return LiveChange(
        id=row.id,
        result_set=row.result_set,
        version=row.version,
        previous=row.previous,
        action=cast(LiveAction, row.action),
        actor=row.actor,
        reason=row.reason,
        at=row.at,
    )


def record_change(
    session: Session,
    result_set: str,
    version: str,
    previous: str | None,
    *,
    action: str,
    actor: str | None,
    reason: str | None,
    now: datetime,
) -> None:
    """Add one change to the history of ``result_set``."""
    if action not in LIVE_ACTIONS:
        raise ValueError(f"unknown live action {action!r}: one of {', '.join(LIVE_ACTIONS)}")
    session.add(
        LiveChangeRow(
            result_set=result_set,
            version=version,
            previous=previous,
            action=action,
            actor=(actor or current_actor())[: NAME * 2],
            reason=reason,
            at=now,
        )
    )
    session.flush()


def history(session: Session, result_set: str, limit: int | None) -> list[LiveChange]:
    """The changes of ``result_set``'s live snapshot, newest first, at most ``limit``."""
    query = (
        sa.select(LiveChangeRow)
        .where(LiveChangeRow.result_set == result_set)
        .order_by(LiveChangeRow.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return [change_record(row) for row in session.execute(query).scalars()]
