"""Runs by pipeline, newest first, from one index: ``pipeline_runs (pipeline, started_at, id)``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

The newest runs of a pipeline (the morning page, ``sameday status``, the runs page filtered by
pipeline) were read through the index on ``pipeline`` alone, then sorted by start time: every
run of the pipeline read and sorted to keep thirty. The composite index hands them over in
order and the read stops at the limit; it also serves every lookup by pipeline, so it replaces
the single-column index.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

INDEX = "ix_pipeline_runs_pipeline_started_at"


def upgrade() -> None:
    op.create_index(INDEX, "pipeline_runs", ["pipeline", "started_at", "id"])
    op.drop_index(op.f("ix_pipeline_runs_pipeline"), table_name="pipeline_runs")


def downgrade() -> None:
    op.create_index(op.f("ix_pipeline_runs_pipeline"), "pipeline_runs", ["pipeline"])
    op.drop_index(INDEX, table_name="pipeline_runs")
