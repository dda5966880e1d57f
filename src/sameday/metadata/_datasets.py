"""Datasets as observed by runs: their schema history, and rows, nulls and freshness per run.

Two tables (revision 0006). ``dataset_schemas`` keeps one row per *change* of a dataset's
columns — revision 1 is the first schema seen, each later revision differs from the one before
— so "when did this column appear?" is one query, and a schema that flips back and forth shows
every flip. ``dataset_observations`` keeps one row per look at a dataset (a job reading or
writing it, or ``sameday datasets --observe``) pointing at the schema revision it saw; checks
compare the newest with the ones before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from sameday.metadata._checks import check_choice, check_json
from sameday.metadata.dataset_records import (
    ROLES,
    Columns,
    DatasetObservation,
    Observed,
    SchemaRevision,
)
from sameday.metadata.models import ID, NAME, Base, _one_of

DATASET_NAME = 128
"""Longest dataset name (the project files' ``Key``)."""


class DatasetSchemaRow(Base):
    """``dataset_schemas``: each distinct schema a dataset went through, in order."""

    __tablename__ = "dataset_schemas"
    __table_args__ = (
        sa.UniqueConstraint("dataset", "revision"),
        sa.CheckConstraint("revision >= 1", name="revision_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    dataset: Mapped[str] = mapped_column(sa.String(DATASET_NAME))
    revision: Mapped[int]
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    columns: Mapped[dict[str, Any]]
    first_seen_at: Mapped[datetime]
    run_id: Mapped[str | None] = mapped_column(sa.String(ID))


class DatasetObservationRow(Base):
    """``dataset_observations``: one look at a dataset; never updated."""

    __tablename__ = "dataset_observations"
    __table_args__ = (
        _one_of("role", ROLES, "role"),
        sa.CheckConstraint("row_count IS NULL OR row_count >= 0", name="rows_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    dataset: Mapped[str] = mapped_column(sa.String(DATASET_NAME), index=True)
    run_id: Mapped[str | None] = mapped_column(sa.String(ID), index=True)
    job: Mapped[str | None] = mapped_column(sa.String(NAME))
    role: Mapped[str] = mapped_column(sa.String(16))
    observed_at: Mapped[datetime]
    schema_revision: Mapped[int | None]
    row_count: Mapped[int | None] = mapped_column(sa.BigInteger)
    bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    files: Mapped[int | None]
    null_shares: Mapped[dict[str, Any]]
    freshness: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(sa.Text)


def fingerprint(columns: Columns) -> str:
    """A stable hash of a schema: the same columns in the same order hash the same."""
    return hashlib.sha256(json.dumps([list(c) for c in columns]).encode()).hexdigest()


def _columns(value: Mapping[str, Any]) -> Columns:
    return tuple((str(name), str(kind)) for name, kind in value["columns"])


def _revision(row: DatasetSchemaRow) -> SchemaRevision:
    return SchemaRevision(
        row.dataset, row.revision, _columns(row.columns), row.first_seen_at, row.run_id
    )


def _observation(row: DatasetObservationRow, columns: Columns | None) -> DatasetObservation:
    return DatasetObservation(
        id=row.id,
        dataset=row.dataset,
        run_id=row.run_id,
        job=row.job,
        role=row.role,  # type: ignore[arg-type]  # the CHECK constraint keeps it a Role
        observed_at=row.observed_at,
        schema_revision=row.schema_revision,
        columns=columns,
        row_count=row.row_count,
        null_shares={str(k): float(v) for k, v in row.null_shares.items()},
        freshness=row.freshness,
        bytes=row.bytes,
        files=row.files,
        error=row.error,
    )


def _latest_schema(session: Session, dataset: str) -> DatasetSchemaRow | None:
    return session.execute(
        sa.select(DatasetSchemaRow)
        .where(DatasetSchemaRow.dataset == dataset)
        .order_by(DatasetSchemaRow.revision.desc())
        .limit(1)
    ).scalar_one_or_none()


def record(
    session: Session,
    dataset: str,
    observed: Observed,
    *,
    run_id: str | None,
    job: str | None,
    role: str,
    now: datetime,
) -> DatasetObservation:
    """Insert an observation, and a new schema revision when its columns differ from the last."""
    check_choice(role, ROLES, "observation role")
    shares = dict(observed.null_shares)
    check_json(shares, f"null shares of dataset {dataset!r}")
    revision: int | None = None
    if observed.columns is not None:
        latest = _latest_schema(session, dataset)
        mark = fingerprint(observed.columns)
        if latest is not None and latest.fingerprint == mark:
            revision = latest.revision
        else:
            revision = 1 if latest is None else latest.revision + 1
            session.add(
                DatasetSchemaRow(
                    dataset=dataset,
                    revision=revision,
                    fingerprint=mark,
                    columns={"columns": [list(c) for c in observed.columns]},
                    first_seen_at=now,
                    run_id=run_id,
                )
            )
    row = DatasetObservationRow(
        dataset=dataset,
        run_id=run_id,
        job=job,
        role=role,
        observed_at=now,
        schema_revision=revision,
        row_count=observed.row_count,
        bytes=observed.bytes,
        files=observed.files,
        null_shares=shares,
        freshness=observed.freshness,
        error=observed.error,
    )
    session.add(row)
    session.flush()
    return _observation(row, observed.columns)


def _with_columns(session: Session, rows: list[DatasetObservationRow]) -> list[DatasetObservation]:
    """Observations with their schema's columns, fetched in one query."""
    wanted = {(r.dataset, r.schema_revision) for r in rows if r.schema_revision is not None}
    schemas: dict[tuple[str, int], Columns] = {}
    if wanted:
        found = session.execute(
            sa.select(DatasetSchemaRow).where(
                sa.tuple_(DatasetSchemaRow.dataset, DatasetSchemaRow.revision).in_(list(wanted))
            )
        ).scalars()
        schemas = {(s.dataset, s.revision): _columns(s.columns) for s in found}
    return [
        _observation(
            row,
            None if row.schema_revision is None else schemas[(row.dataset, row.schema_revision)],
        )
        for row in rows
    ]


def observations(session: Session, dataset: str, limit: int) -> list[DatasetObservation]:
    """The newest ``limit`` observations of ``dataset``, newest first."""
    rows = session.execute(
        sa.select(DatasetObservationRow)
        .where(DatasetObservationRow.dataset == dataset)
        .order_by(DatasetObservationRow.id.desc())
        .limit(limit)
    ).scalars()
    return _with_columns(session, list(rows))


def latest(session: Session) -> dict[str, DatasetObservation]:
    """Every observed dataset's newest observation, by name."""
    newest = (
        sa.select(sa.func.max(DatasetObservationRow.id))
        .group_by(DatasetObservationRow.dataset)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(DatasetObservationRow).where(DatasetObservationRow.id.in_(newest))
    ).scalars()
    return {o.dataset: o for o in _with_columns(session, list(rows))}


def schema_history(session: Session, dataset: str, limit: int | None) -> list[SchemaRevision]:
    """The schema revisions of ``dataset``, newest first."""
    query = (
        sa.select(DatasetSchemaRow)
        .where(DatasetSchemaRow.dataset == dataset)
        .order_by(DatasetSchemaRow.revision.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return [_revision(row) for row in session.execute(query).scalars()]
