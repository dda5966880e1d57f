"""Pipeline runs and job attempts, as functions over an open session or connection.

``MetadataStore`` owns sessions and transactions; these functions only read and write rows and
turn them into records, so each stays a few lines and is testable through the store.

:func:`record_attempts` is the runner's hot write and takes a bare connection: one Core upsert
executed over many rows costs a fraction of the ORM round trips of ``start_attempt`` and
``finish_attempt`` (see ``benchmarks/runner_bench.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sameday.errors import MetadataError, NotFound
from sameday.metadata._checks import check_choice, check_json
from sameday.metadata.ids import new_run_id
from sameday.metadata.models import AttemptRow, RunRow
from sameday.metadata.records import (
    ATTEMPT_STATUSES,
    RUN_STATUSES,
    RUN_TRIGGERS,
    AttemptEntry,
    AttemptRecord,
    AttemptStatus,
    RunRecord,
    RunStatus,
    RunTrigger,
)

FINAL_RUN_STATUSES = tuple(s for s in RUN_STATUSES if s not in ("queued", "running"))
FINAL_ATTEMPT_STATUSES = tuple(s for s in ATTEMPT_STATUSES if s != "running")
_AMBIGUOUS_SHOWN = 5


def run_record(row: RunRow) -> RunRecord:
    """The record of a run row."""
    return RunRecord(
        id=row.id,
        pipeline=row.pipeline,
        status=cast(RunStatus, row.status),
        params=dict(row.params),
        trigger=cast(RunTrigger, row.trigger),
        resumed_from=row.resumed_from,
        started_at=row.started_at,
        ended_at=row.ended_at,
        message=row.message,
    )


def attempt_record(row: AttemptRow) -> AttemptRecord:
    """The record of an attempt row."""
    return AttemptRecord(
        id=row.id,
        run_id=row.run_id,
        job=row.job,
        attempt=row.attempt,
        status=cast(AttemptStatus, row.status),
        exit_code=row.exit_code,
        started_at=row.started_at,
        ended_at=row.ended_at,
        log_path=row.log_path,
        reason=row.reason,
    )


def create_run(
    session: Session,
    pipeline: str,
    params: dict[str, Any],
    trigger: str,
    resumed_from: str | None,
    now: datetime,
) -> RunRecord:
    """Insert a running run with a fresh id (drawn again on the rare same-second collision)."""
    check_choice(trigger, RUN_TRIGGERS, "run trigger")
    check_json(params, "run params")
    run_id = new_run_id(pipeline, now)
    while session.get(RunRow, run_id) is not None:
        run_id = new_run_id(pipeline, now)
    row = RunRow(
        id=run_id,
        pipeline=pipeline,
        status="running",
        params=params,
        trigger=trigger,
        resumed_from=resumed_from,
        started_at=now,
        ended_at=None,
        message=None,
    )
    session.add(row)
    session.flush()
    return run_record(row)


def find_run(session: Session, run_id: str) -> RunRow:
    """The run with id ``run_id``, or else the only run whose id starts with it.

    Raises:
        NotFound: no run matches, or the prefix matches several (they are listed).
    """
    row = session.get(RunRow, run_id)
    if row is not None:
        return row
    matches = (
        session.execute(
            sa.select(RunRow)
            .where(RunRow.id.startswith(run_id, autoescape=True))
            .order_by(RunRow.started_at.desc(), RunRow.id.desc())
            .limit(_AMBIGUOUS_SHOWN + 1)
        )
        .scalars()
        .all()
    )
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFound(f"no run with id or id prefix {run_id!r}: list runs to see their ids")
    shown = ", ".join(m.id for m in matches[:_AMBIGUOUS_SHOWN])
    more = " and more" if len(matches) > _AMBIGUOUS_SHOWN else ""
    raise NotFound(
        f"run id prefix {run_id!r} is ambiguous: it matches {shown}{more}; give more characters"
    )


def finish_run(
    session: Session, run_id: str, status: str, message: str | None, now: datetime
) -> RunRecord:
    """Mark a run finished with a final status."""
    check_choice(status, FINAL_RUN_STATUSES, "final run status")
    row = find_run(session, run_id)
    row.status = status
    row.message = message
    row.ended_at = now
    session.flush()
    return run_record(row)


def record_run(
    session: Session,
    run_id: str,
    pipeline: str,
    params: dict[str, Any],
    trigger: str,
    status: str,
    message: str | None,
    started_at: datetime,
    ended_at: datetime,
) -> RunRecord:
    """Insert or update a finished run whose id another system chose (an Argo workflow name)."""
    check_choice(trigger, RUN_TRIGGERS, "run trigger")
    check_choice(status, FINAL_RUN_STATUSES, "final run status")
    check_json(params, "run params")
    row = session.get(RunRow, run_id)
    if row is None:
        row = RunRow(id=run_id, resumed_from=None)
        session.add(row)
    row.pipeline = pipeline
    row.params = params
    row.trigger = trigger
    row.status = status
    row.message = message
    row.started_at = started_at
    row.ended_at = ended_at
    session.flush()
    return run_record(row)


def list_runs(session: Session, pipeline: str | None, limit: int) -> list[RunRecord]:
    """Runs, newest first, optionally of one pipeline."""
    query = sa.select(RunRow).order_by(RunRow.started_at.desc(), RunRow.id.desc()).limit(limit)
    if pipeline is not None:
        query = query.where(RunRow.pipeline == pipeline)
    return [run_record(row) for row in session.execute(query).scalars()]


def start_attempt(
    session: Session, run_id: str, job: str, attempt: int, log_path: str, now: datetime
) -> AttemptRecord:
    """Insert a running attempt of ``job`` in the run ``run_id`` (an exact id)."""
    if attempt < 1:
        raise ValueError(f"attempt numbers start at 1, got {attempt}")
    if session.get(RunRow, run_id) is None:
        raise NotFound(f"no run with id {run_id!r} to record an attempt of job {job!r} in")
    taken = session.execute(
        sa.select(AttemptRow.id).where(
            AttemptRow.run_id == run_id, AttemptRow.job == job, AttemptRow.attempt == attempt
        )
    ).first()
    if taken is not None:
        raise MetadataError(
            f"attempt {attempt} of job {job!r} in run {run_id} is already recorded; "
            "a retry must use the next attempt number"
        )
    row = AttemptRow(
        run_id=run_id,
        job=job,
        attempt=attempt,
        status="running",
        exit_code=None,
        started_at=now,
        ended_at=None,
        log_path=log_path,
        reason=None,
    )
    session.add(row)
    session.flush()
    return attempt_record(row)


def finish_attempt(
    session: Session,
    attempt_id: int,
    status: str,
    exit_code: int | None,
    reason: str | None,
    now: datetime,
) -> AttemptRecord:
    """Mark an attempt finished with a final status, exit code and reason."""
    check_choice(status, FINAL_ATTEMPT_STATUSES, "final attempt status")
    row = session.get(AttemptRow, attempt_id)
    if row is None:
        raise NotFound(f"no job attempt with id {attempt_id}")
    row.status = status
    row.exit_code = exit_code
    row.reason = reason
    row.ended_at = now
    session.flush()
    return attempt_record(row)


def record_attempts(
    connection: sa.Connection, run_id: str, entries: Sequence[AttemptEntry]
) -> None:
    """Upsert ``entries`` into the run ``run_id`` (an exact id), keyed by job and attempt.

    A new attempt is inserted whole. An attempt already recorded ``running`` takes the entry's
    status, exit code, end time and reason (its start and log stay as first recorded). An
    attempt already recorded with a final status is left as it is: retries add attempts, they
    never rewrite one that ended.

    Raises:
        ValueError: an entry is malformed, or an attempt is listed twice.
        NotFound: there is no run ``run_id``.
    """
    rows = [_attempt_values(run_id, entry) for entry in entries]
    if len({(row["job"], row["attempt"]) for row in rows}) < len(rows):
        raise ValueError(f"an attempt is listed twice in the entries for run {run_id}")
    runs = RunRow.__table__
    if connection.execute(sa.select(runs.c.id).where(runs.c.id == run_id)).first() is None:
        raise NotFound(f"no run with id {run_id!r} to record attempts of jobs in")
    connection.execute(_upsert(connection.dialect.name), rows)


def _attempt_values(run_id: str, entry: AttemptEntry) -> dict[str, Any]:
    """The column values of ``entry``, checked before any SQL runs."""
    where = f"attempt {entry.attempt} of job {entry.job!r}"
    if entry.attempt < 1:
        raise ValueError(f"attempt numbers start at 1, got {where}")
    check_choice(entry.status, ATTEMPT_STATUSES, f"status of {where}")
    if (entry.status == "running") != (entry.ended_at is None):
        raise ValueError(f"{where} is {entry.status}: only a running attempt has no ended_at")
    if entry.started_at.tzinfo is None or (entry.ended_at and entry.ended_at.tzinfo is None):
        raise ValueError(f"{where} has a naive datetime: pass timezone-aware ones")
    return {
        "run_id": run_id,
        "job": entry.job,
        "attempt": entry.attempt,
        "status": entry.status,
        "exit_code": entry.exit_code,
        "started_at": entry.started_at,
        "ended_at": entry.ended_at,
        "log_path": entry.log_path,
        "reason": entry.reason,
    }


@cache
def _upsert(dialect: str) -> sa.Insert:
    """``INSERT ... ON CONFLICT (run_id, job, attempt) DO UPDATE`` of running attempts only."""
    table = cast(sa.Table, AttemptRow.__table__)
    if dialect == "postgresql":
        insert: postgresql.Insert | sqlite.Insert = postgresql.insert(table)
    elif dialect == "sqlite":
        insert = sqlite.insert(table)
    else:
        raise MetadataError(f"recording attempts needs SQLite or PostgreSQL, not {dialect}")
    ended = ("status", "exit_code", "ended_at", "reason")
    return insert.on_conflict_do_update(
        index_elements=[table.c.run_id, table.c.job, table.c.attempt],
        set_={name: insert.excluded[name] for name in ended},
        where=table.c.status == "running",
    )


def attempts(session: Session, run_id: str, job: str | None) -> list[AttemptRecord]:
    """The attempts of a run (id or unique prefix), in the order they started."""
    run = find_run(session, run_id)
    query = sa.select(AttemptRow).where(AttemptRow.run_id == run.id).order_by(AttemptRow.id)
    if job is not None:
        query = query.where(AttemptRow.job == job)
    return [attempt_record(row) for row in session.execute(query).scalars()]


def job_statuses(session: Session, run_id: str) -> dict[str, str]:
    """The status of each job's latest attempt in a run (id or unique prefix)."""
    run = find_run(session, run_id)
    rows = session.execute(
        sa.select(AttemptRow.job, AttemptRow.status)
        .where(AttemptRow.run_id == run.id)
        .order_by(AttemptRow.job, AttemptRow.attempt)
    )
    return {job: status for job, status in rows}
