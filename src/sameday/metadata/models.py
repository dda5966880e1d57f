"""The metadata schema as SQLAlchemy 2 typed models, portable between SQLite and PostgreSQL.

The Alembic migrations under ``migrations/versions`` create exactly this schema (a test compares
them), and ``SCHEMA_REVISION`` names the revision these models match, so the store can check a
database without loading Alembic. Every constraint has a fixed name (``NAMING``) because SQLite
batch migrations and downgrades find constraints by name.

Statuses are plain strings with CHECK constraints rather than database enums: adding a status is a
one-line migration on both backends, with no ``ALTER TYPE``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sameday.metadata.records import (
    ATTEMPT_STATUSES,
    LIVE_ACTIONS,
    RUN_STATUSES,
    RUN_TRIGGERS,
    SNAPSHOT_STATUSES,
)
from sameday.metadata.records import SCHEMA_REVISION as SCHEMA_REVISION  # read from here too

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = 200
"""Length of identifiers (run ids, snapshot versions): a 63-character name plus a suffix."""
NAME = 100


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL keeps the zone (``timestamptz``); SQLite stores the UTC wall-clock time without
    one, so values are converted to UTC before writing and marked UTC after reading. Naive
    datetimes are refused: guessing their zone is how timestamps silently shift by hours.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}: pass a timezone-aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=name)


class Base(DeclarativeBase):
    """Base of the metadata models, with the constraint naming convention."""

    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: sa.JSON(),
    }


class RunRow(Base):
    """``pipeline_runs``: one run of a pipeline."""

    __tablename__ = "pipeline_runs"
    __table_args__ = (
        _one_of("status", RUN_STATUSES, "status"),
        _one_of("trigger", RUN_TRIGGERS, "trigger"),
        # A pipeline's newest runs in order, read up to a limit (migration 0008).
        sa.Index("ix_pipeline_runs_pipeline_started_at", "pipeline", "started_at", "id"),
    )

    id: Mapped[str] = mapped_column(sa.String(ID), primary_key=True)
    pipeline: Mapped[str] = mapped_column(sa.String(NAME))
    status: Mapped[str] = mapped_column(sa.String(16))
    params: Mapped[dict[str, Any]]
    trigger: Mapped[str] = mapped_column(sa.String(16))
    resumed_from: Mapped[str | None] = mapped_column(sa.String(ID))
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    message: Mapped[str | None] = mapped_column(sa.Text)


class AttemptRow(Base):
    """``job_attempts``: one attempt of one job in a run; deleted with its run."""

    __tablename__ = "job_attempts"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "job", "attempt"),
        _one_of("status", ATTEMPT_STATUSES, "status"),
        sa.CheckConstraint("attempt >= 1", name="attempt_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(
        sa.String(ID), sa.ForeignKey("pipeline_runs.id", ondelete="CASCADE")
    )
    job: Mapped[str] = mapped_column(sa.String(NAME))
    attempt: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(16))
    exit_code: Mapped[int | None]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    log_path: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)


class ResultSetRow(Base):
    """``result_sets``: one row per result set that has ever had a snapshot.

    ``live_version`` is deliberately not a foreign key to ``snapshots``: that would make the two
    tables reference each other, and the partial unique index on ``snapshots`` already guards
    the rule that matters (at most one live snapshot per result set).
    """

    __tablename__ = "result_sets"

    name: Mapped[str] = mapped_column(sa.String(NAME), primary_key=True)
    live_version: Mapped[str | None] = mapped_column(sa.String(ID))
    updated_at: Mapped[datetime]


class SnapshotRow(Base):
    """``snapshots``: one publication of a result set, and where its data lives."""

    __tablename__ = "snapshots"
    __table_args__ = (
        _one_of("status", SNAPSHOT_STATUSES, "status"),
        sa.CheckConstraint("rows >= 0 AND keys >= 0", name="counts_not_negative"),
        # At most one live snapshot per result set, enforced by the database itself so that no
        # interleaving of writers (or a bug above) can ever serve two versions at once.
        sa.Index(
            "ux_snapshots_one_live",
            "result_set",
            unique=True,
            sqlite_where=sa.text("status = 'live'"),
            postgresql_where=sa.text("status = 'live'"),
        ),
    )

    version: Mapped[str] = mapped_column(sa.String(ID), primary_key=True)
    result_set: Mapped[str] = mapped_column(
        sa.String(NAME), sa.ForeignKey("result_sets.name"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(16))
    content_hash: Mapped[str] = mapped_column(sa.String(128))
    rows: Mapped[int] = mapped_column(sa.BigInteger)
    keys: Mapped[int] = mapped_column(sa.BigInteger)
    schema: Mapped[dict[str, Any]]
    source: Mapped[str] = mapped_column(sa.Text)
    run_id: Mapped[str | None] = mapped_column(sa.String(ID))
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    store_url: Mapped[str] = mapped_column(sa.Text)


class LiveChangeRow(Base):
    """``live_changes``: every change of a result set's live snapshot, in order; never updated.

    Rollback reads this history, not creation times: what was live before is what the history
    says was live before. ``id`` orders the changes (times can tie or step back).
    """

    __tablename__ = "live_changes"
    __table_args__ = (_one_of("action", LIVE_ACTIONS, "action"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    result_set: Mapped[str] = mapped_column(
        sa.String(NAME), sa.ForeignKey("result_sets.name"), index=True
    )
    version: Mapped[str] = mapped_column(sa.String(ID))
    previous: Mapped[str | None] = mapped_column(sa.String(ID))
    action: Mapped[str] = mapped_column(sa.String(16))
    actor: Mapped[str] = mapped_column(sa.String(NAME * 2))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    at: Mapped[datetime]


class AppliedObjectRow(Base):
    """``applied_objects``: what ``sameday apply`` registered, as a whole set replaced at once."""

    __tablename__ = "applied_objects"

    kind: Mapped[str] = mapped_column(sa.String(NAME), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(NAME), primary_key=True)
    spec: Mapped[dict[str, Any]]
    spec_hash: Mapped[str] = mapped_column(sa.String(64))
    applied_at: Mapped[datetime]


class BanditParamsRow(Base):
    """``bandit_params``: immutable parameter snapshots of bandit experiments; newest is live."""

    __tablename__ = "bandit_params"
    __table_args__ = (sa.CheckConstraint("version >= 1", name="version_positive"),)

    experiment: Mapped[str] = mapped_column(sa.String(NAME), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    params: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


# the monitoring, model-registry and experiment-stop tables live in their own modules; importing
# them registers them on Base (they import Base from here, hence at the end)
from sameday.metadata import _alerts, _datasets, _models_registry, _profiles, _stops  # noqa: E402,F401
