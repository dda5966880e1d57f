"""Bandit parameter snapshots: one immutable row per (experiment, version).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Written by hand to match ``sameday.metadata.models.BanditParamsRow`` (tests compare the two on
SQLite and PostgreSQL). Constraint names follow ``models.NAMING``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "bandit_params",
        sa.Column("experiment", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("experiment", "version", name=op.f("pk_bandit_params")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_bandit_params_version_positive")),
    )


def downgrade() -> None:
    op.drop_table("bandit_params")
