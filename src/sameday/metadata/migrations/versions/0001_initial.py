"""The initial metadata schema: runs, job attempts, result sets, snapshots, applied objects.

Revision ID: 0001
Revises:
Create Date: 2026-01-01

Written by hand to match ``sameday.metadata.models`` exactly (tests compare the two on SQLite
and PostgreSQL). Constraint names follow ``models.NAMING``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
LIVE = sa.text("status = 'live'")


def _one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(name))


def upgrade() -> None:
    op.create_table(
        "pipeline_runs",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("resumed_from", sa.String(200), nullable=True),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("ended_at", UTC_DATETIME, nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_runs")),
        _one_of(
            "status",
            ("queued", "running", "succeeded", "failed", "cancelled"),
            "ck_pipeline_runs_status",
        ),
        _one_of(
            "trigger", ("manual", "backfill", "resume", "schedule"), "ck_pipeline_runs_trigger"
        ),
    )
    op.create_index(op.f("ix_pipeline_runs_pipeline"), "pipeline_runs", ["pipeline"])
    op.create_index(op.f("ix_pipeline_runs_started_at"), "pipeline_runs", ["started_at"])

    op.create_table(
        "job_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(200), nullable=False),
        sa.Column("job", sa.String(100), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("ended_at", UTC_DATETIME, nullable=True),
        sa.Column("log_path", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_attempts")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["pipeline_runs.id"],
            name=op.f("fk_job_attempts_run_id_pipeline_runs"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "run_id", "job", "attempt", name=op.f("uq_job_attempts_run_id_job_attempt")
        ),
        _one_of(
            "status",
            ("running", "succeeded", "failed", "timed_out", "cancelled", "skipped"),
            "ck_job_attempts_status",
        ),
        sa.CheckConstraint("attempt >= 1", name=op.f("ck_job_attempts_attempt_positive")),
    )

    op.create_table(
        "result_sets",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("live_version", sa.String(200), nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_result_sets")),
    )

    op.create_table(
        "snapshots",
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("result_set", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("keys", sa.BigInteger(), nullable=False),
        sa.Column("schema", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(200), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("published_at", UTC_DATETIME, nullable=True),
        sa.Column("store_url", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_snapshots")),
        sa.ForeignKeyConstraint(
            ["result_set"], ["result_sets.name"], name=op.f("fk_snapshots_result_set_result_sets")
        ),
        _one_of("status", ("staged", "live", "retired", "deleted"), "ck_snapshots_status"),
        sa.CheckConstraint(
            "rows >= 0 AND keys >= 0", name=op.f("ck_snapshots_counts_not_negative")
        ),
    )
    op.create_index(op.f("ix_snapshots_result_set"), "snapshots", ["result_set"])
    op.create_index(
        "ux_snapshots_one_live",
        "snapshots",
        ["result_set"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )

    op.create_table(
        "applied_objects",
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("applied_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("kind", "name", name=op.f("pk_applied_objects")),
    )


def downgrade() -> None:
    op.drop_table("applied_objects")
    op.drop_index("ux_snapshots_one_live", table_name="snapshots")
    op.drop_index(op.f("ix_snapshots_result_set"), table_name="snapshots")
    op.drop_table("snapshots")
    op.drop_table("result_sets")
    op.drop_table("job_attempts")
    op.drop_index(op.f("ix_pipeline_runs_started_at"), table_name="pipeline_runs")
    op.drop_index(op.f("ix_pipeline_runs_pipeline"), table_name="pipeline_runs")
    op.drop_table("pipeline_runs")
