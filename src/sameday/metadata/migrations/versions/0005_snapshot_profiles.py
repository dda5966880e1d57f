"""Monitoring: the profile of every published snapshot, for drift gates and the status board.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Written by hand to match ``sameday.metadata._profiles.ProfileRow`` (tests compare the two on
SQLite and PostgreSQL). Constraint names follow ``models.NAMING``. Snapshots published before
this revision have no profile: the drift checks treat them as missing history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``snapshot_profiles``."""
    op.create_table(
        "snapshot_profiles",
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("result_set", sa.String(100), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("keys", sa.BigInteger(), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_snapshot_profiles")),
        sa.ForeignKeyConstraint(
            ["version"],
            ["snapshots.version"],
            name=op.f("fk_snapshot_profiles_version_snapshots"),
        ),
        sa.CheckConstraint(
            "rows >= 0 AND keys >= 0", name=op.f("ck_snapshot_profiles_counts_not_negative")
        ),
    )
    op.create_index(op.f("ix_snapshot_profiles_result_set"), "snapshot_profiles", ["result_set"])
    op.create_index(op.f("ix_snapshot_profiles_created_at"), "snapshot_profiles", ["created_at"])


def downgrade() -> None:
    """Drop ``snapshot_profiles``."""
    op.drop_index(op.f("ix_snapshot_profiles_created_at"), table_name="snapshot_profiles")
    op.drop_index(op.f("ix_snapshot_profiles_result_set"), table_name="snapshot_profiles")
    op.drop_table("snapshot_profiles")
