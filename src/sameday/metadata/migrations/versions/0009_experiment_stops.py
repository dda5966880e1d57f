"""Experiments a health check stopped, with the evidence, until a person acknowledges it.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03

Written by hand to match the model in ``sameday.metadata._stops`` (tests compare the two on
SQLite and PostgreSQL). Constraint names follow ``models.NAMING``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "experiment_stops",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("experiment", sa.String(100), nullable=False),
        sa.Column("cause", sa.String(100), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_stops")),
    )
    op.create_index(op.f("ix_experiment_stops_experiment"), "experiment_stops", ["experiment"])


def downgrade() -> None:
    op.drop_index(op.f("ix_experiment_stops_experiment"), table_name="experiment_stops")
    op.drop_table("experiment_stops")
