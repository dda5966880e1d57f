"""Monitoring: datasets that pipeline jobs read and write, their schema, volume and freshness.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

Written by hand to match the models in ``sameday.metadata.models`` (tests compare the two on
SQLite and PostgreSQL). Constraint names follow ``models.NAMING``.
"""

from __future__ import annotations

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the tables (issue 16 fills this revision in)."""


def downgrade() -> None:
    """Drop the tables (issue 16 fills this revision in)."""
