"""The history of what was live: one row per change of a result set's live snapshot.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

Written by hand to match ``sameday.metadata.models.LiveChangeRow`` (tests compare the two on
SQLite and PostgreSQL). Constraint names follow ``models.NAMING``.

Databases that already hold snapshots get a history recorded from what they know: each
snapshot that was ever live, in the order of the last time it went live (``published_at``),
each replacing the one before. That order is exactly what rollback needs: the snapshot live
most recently before the live one comes right below it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

ACTIONS = ("publish", "rollback", "rollback-to", "repair")

_BACKFILL = """
INSERT INTO live_changes (result_set, version, previous, action, actor, reason, at)
SELECT result_set, version,
       LAG(version) OVER (PARTITION BY result_set ORDER BY published_at, version),
       'publish', 'sameday upgrade', 'recorded by migration 0003 from publication times',
       published_at
FROM snapshots
WHERE published_at IS NOT NULL
ORDER BY result_set, published_at, version
"""


def upgrade() -> None:
    allowed = ", ".join(f"'{action}'" for action in ACTIONS)
    op.create_table(
        "live_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("result_set", sa.String(100), nullable=False),
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("previous", sa.String(200), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_changes")),
        sa.ForeignKeyConstraint(
            ["result_set"],
            ["result_sets.name"],
            name=op.f("fk_live_changes_result_set_result_sets"),
        ),
        sa.CheckConstraint(f"action IN ({allowed})", name=op.f("ck_live_changes_action")),
    )
    op.create_index(op.f("ix_live_changes_result_set"), "live_changes", ["result_set"])
    op.execute(_BACKFILL)


def downgrade() -> None:
    op.drop_index(op.f("ix_live_changes_result_set"), table_name="live_changes")
    op.drop_table("live_changes")
