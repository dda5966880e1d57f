"""Monitoring: datasets that pipeline jobs read and write, their schema, volume and freshness.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

Written by hand to match the models in ``sameday.metadata._datasets`` (tests compare the two on
SQLite and PostgreSQL). Constraint names follow ``models.NAMING``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

ROLES = ("read", "write", "observe")


def upgrade() -> None:
    """Create ``dataset_schemas`` and ``dataset_observations``."""
    op.create_table(
        "dataset_schemas",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset", sa.String(128), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_schemas")),
        sa.UniqueConstraint(
            "dataset", "revision", name=op.f("uq_dataset_schemas_dataset_revision")
        ),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_dataset_schemas_revision_positive")),
    )
    allowed = ", ".join(f"'{role}'" for role in ROLES)
    op.create_table(
        "dataset_observations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset", sa.String(128), nullable=False),
        sa.Column("run_id", sa.String(200), nullable=True),
        sa.Column("job", sa.String(100), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("schema_revision", sa.Integer(), nullable=True),
        sa.Column("row_count", sa.BigInteger(), nullable=True),
        sa.Column("bytes", sa.BigInteger(), nullable=True),
        sa.Column("files", sa.Integer(), nullable=True),
        sa.Column("null_shares", sa.JSON(), nullable=False),
        sa.Column("freshness", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_observations")),
        sa.CheckConstraint(f"role IN ({allowed})", name=op.f("ck_dataset_observations_role")),
        sa.CheckConstraint(
            "row_count IS NULL OR row_count >= 0",
            name=op.f("ck_dataset_observations_rows_not_negative"),
        ),
    )
    op.create_index(op.f("ix_dataset_observations_dataset"), "dataset_observations", ["dataset"])
    op.create_index(op.f("ix_dataset_observations_run_id"), "dataset_observations", ["run_id"])


def downgrade() -> None:
    """Drop both tables."""
    op.drop_index(op.f("ix_dataset_observations_run_id"), table_name="dataset_observations")
    op.drop_index(op.f("ix_dataset_observations_dataset"), table_name="dataset_observations")
    op.drop_table("dataset_observations")
    op.drop_table("dataset_schemas")
