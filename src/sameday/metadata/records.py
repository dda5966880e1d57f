"""What the metadata store hands out: small frozen records, never ORM objects.

Callers get plain values they can keep after the session is gone, compare, print and turn into
JSON with ``dataclasses.asdict``. The ``*_STATUSES`` tuples are the vocabulary the database
enforces with CHECK constraints; the ``Literal`` types let mypy catch a misspelt status.
Datetimes are always timezone-aware UTC, whichever database they came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

SCHEMA_REVISION = "0009"
"""The Alembic revision the models (:mod:`sameday.metadata.models`) match; the store needs the
database at this revision. Here, not beside the models, so that checking it needs no
SQLAlchemy (:mod:`sameday.metadata.snapshot_ledger`)."""

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
RunTrigger = Literal["manual", "backfill", "resume", "schedule"]
AttemptStatus = Literal["running", "succeeded", "failed", "timed_out", "cancelled", "skipped"]
SnapshotStatus = Literal["staged", "live", "retired", "deleted"]
LiveAction = Literal["publish", "rollback", "rollback-to", "repair"]

RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)
RUN_TRIGGERS: tuple[str, ...] = get_args(RunTrigger)
ATTEMPT_STATUSES: tuple[str, ...] = get_args(AttemptStatus)
SNAPSHOT_STATUSES: tuple[str, ...] = get_args(SnapshotStatus)
LIVE_ACTIONS: tuple[str, ...] = get_args(LiveAction)


@dataclass(frozen=True)
class RunRecord:
    """One run of a pipeline. ``ended_at`` is ``None`` while it runs."""

    id: str
    pipeline: str
    status: RunStatus
    params: dict[str, Any]
    trigger: RunTrigger
    resumed_from: str | None
    started_at: datetime
    ended_at: datetime | None
    message: str | None

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, or ``None`` while the run is still going."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt (1-based) of one job in a run; retries add attempts, never overwrite them."""

    id: int
    run_id: str
    job: str
    attempt: int
    status: AttemptStatus
    exit_code: int | None
    started_at: datetime
    ended_at: datetime | None
    log_path: str
    reason: str | None


@dataclass(frozen=True)
class AttemptEntry:
    """What a writer knows of one attempt, for ``MetadataStore.record_attempts``.

    It has no ``id``: an attempt is known by its run, ``job`` and ``attempt`` number, so a
    writer can queue entries and write them later without waiting for the database to number
    them. Times are stamped by the writer when things happen, so writing late does not shift
    them. A ``running`` entry has no ``ended_at``; an entry with any other status has one.
    """

    job: str
    attempt: int
    status: AttemptStatus
    started_at: datetime
    log_path: str
    exit_code: int | None = None
    ended_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SnapshotRecord:
    """One immutable publication of a result set; ``store_url`` says where its rows live."""

    version: str
    result_set: str
    status: SnapshotStatus
    content_hash: str
    rows: int
    keys: int
    schema: dict[str, Any]
    source: str
    run_id: str | None
    created_at: datetime
    published_at: datetime | None
    store_url: str


@dataclass(frozen=True)
class LiveChange:
    """One change of a result set's live snapshot: what went live, what it replaced, and why.

    ``action`` says what moved the pointer: ``publish`` (a new snapshot), ``rollback`` (undo the
    latest change still in force), ``rollback-to`` (a chosen snapshot) or ``repair`` (finishing
    a publish or rollback killed between the serving store's switch and the record of it).
    ``actor`` is who did it (``user@host`` unless the caller says otherwise).
    """

    id: int
    result_set: str
    version: str
    previous: str | None
    action: LiveAction
    actor: str
    reason: str | None
    at: datetime


@dataclass(frozen=True)
class AppliedObject:
    """One object registered by ``sameday apply`` (an experiment, a surface, ...).

    ``spec_hash`` is a hash of the canonical JSON of ``spec``; ``applied_at`` is when this exact
    spec was first applied, so re-applying an unchanged object keeps its time.
    """

    kind: str
    name: str
    spec: dict[str, Any]
    spec_hash: str
    applied_at: datetime


@dataclass(frozen=True)
class BanditParamsRecord:
    """One snapshot of a bandit's parameters (``params`` as saved)."""

    experiment: str
    version: int
    params: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class ProfileRecord:
    """The profile of one snapshot and what the drift checks found when it was published."""

    version: str
    result_set: str
    rows: int
    keys: int
    profile: dict[str, Any]
    findings: list[dict[str, Any]]
    created_at: datetime
