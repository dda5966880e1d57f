"""Monitoring: alert incidents, their notifications (an outbox retried until delivered), mutes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Written by hand to match the models in ``sameday.metadata.models`` (tests compare the two on
SQLite and PostgreSQL). Constraint names follow ``models.NAMING``.
"""

from __future__ import annotations

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the tables (issue 16 fills this revision in)."""


def downgrade() -> None:
    """Drop the tables (issue 16 fills this revision in)."""
