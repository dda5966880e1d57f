"""Monitoring: alert incidents, their notification outbox (retried until delivered) and mutes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Written by hand to match the models in ``sameday.metadata._alerts`` (tests compare the two on
SQLite and PostgreSQL). Constraint names follow ``models.NAMING``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=name)


def upgrade() -> None:
    """Create ``alert_incidents``, ``alert_notifications`` and ``alert_mutes``."""
    op.create_table(
        "alert_incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("monitor", sa.String(100), nullable=False),
        sa.Column("check_name", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("finding_status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_incidents")),
        _one_of("status", ("open", "resolved"), op.f("ck_alert_incidents_status")),
        _one_of(
            "finding_status", ("warn", "fail", "error"), op.f("ck_alert_incidents_finding_status")
        ),
        _one_of("severity", ("info", "warning", "critical"), op.f("ck_alert_incidents_severity")),
    )
    op.create_index(op.f("ix_alert_incidents_status"), "alert_incidents", ["status"])
    op.create_index(
        "ux_alert_incidents_one_open",
        "alert_incidents",
        ["monitor", "check_name", "subject"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "alert_notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("notifier", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notifications")),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["alert_incidents.id"],
            name=op.f("fk_alert_notifications_incident_id_alert_incidents"),
            ondelete="CASCADE",
        ),
        _one_of("kind", ("opened", "reminder", "resolved"), op.f("ck_alert_notifications_kind")),
        _one_of("status", ("pending", "sent"), op.f("ck_alert_notifications_status")),
        sa.CheckConstraint(
            "attempts >= 0", name=op.f("ck_alert_notifications_attempts_not_negative")
        ),
    )
    op.create_index(
        op.f("ix_alert_notifications_incident_id"), "alert_notifications", ["incident_id"]
    )
    op.create_index(op.f("ix_alert_notifications_status"), "alert_notifications", ["status"])
    op.create_table(
        "alert_mutes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("monitor", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_mutes")),
    )


def downgrade() -> None:
    """Drop the three tables, notifications first (they refer to incidents)."""
    op.drop_table("alert_mutes")
    op.drop_index(op.f("ix_alert_notifications_status"), table_name="alert_notifications")
    op.drop_index(op.f("ix_alert_notifications_incident_id"), table_name="alert_notifications")
    op.drop_table("alert_notifications")
    op.drop_index("ux_alert_incidents_one_open", table_name="alert_incidents")
    op.drop_index(op.f("ix_alert_incidents_status"), table_name="alert_incidents")
    op.drop_table("alert_incidents")
