"""The model registry: immutable versions, aliases pointing at them, and every decision.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

Written by hand to match the models in ``sameday.metadata._models_registry`` (tests compare the
two on SQLite and PostgreSQL). Constraint names follow ``models.NAMING``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

ACTIONS = ("register", "alias", "unalias", "promote", "rollback", "gate-blessed", "gate-refused")


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("bundle_url", sa.Text(), nullable=False),
        sa.Column("flavor", sa.String(100), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("lineage", sa.JSON(), nullable=False),
        sa.Column("run_id", sa.String(200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_model_versions")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_model_versions_version_positive")),
        sa.UniqueConstraint(
            "name", "content_hash", name=op.f("uq_model_versions_name_content_hash")
        ),
    )
    op.create_table(
        "model_aliases",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("alias", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "alias", name=op.f("pk_model_aliases")),
        sa.ForeignKeyConstraint(
            ["name", "version"],
            ["model_versions.name", "model_versions.version"],
            name=op.f("fk_model_aliases_name_model_versions"),
        ),
    )
    allowed = ", ".join(f"'{action}'" for action in ACTIONS)
    op.create_table(
        "model_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("alias", sa.String(100), nullable=True),
        sa.Column("previous", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_events")),
        sa.CheckConstraint(f"action IN ({allowed})", name=op.f("ck_model_events_action")),
    )
    op.create_index(op.f("ix_model_events_name"), "model_events", ["name"])


def downgrade() -> None:
    op.drop_index(op.f("ix_model_events_name"), table_name="model_events")
    op.drop_table("model_events")
    op.drop_table("model_aliases")
    op.drop_table("model_versions")
