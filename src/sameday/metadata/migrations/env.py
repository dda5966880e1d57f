"""Alembic environment of the metadata schema, driven by ``sameday.metadata.migrate``.

Only "online" migrations on a connection handed over in ``config.attributes["connection"]`` are
supported: the caller opens the transaction (one for the whole upgrade) and commits it, so
Alembic sees an external transaction and neither begins nor commits one itself. SQLite gets
``render_as_batch`` because it can alter a table only by rebuilding it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

import sameday.metadata.store  # noqa: F401  (every table module, so Base.metadata is whole)
from sameday.errors import MigrationError
from sameday.metadata.models import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, sa.Connection):
    raise MigrationError(
        "sameday migrations run only through sameday.metadata.migrate (or 'sameday db upgrade'), "
        "which passes an open connection; offline SQL generation is not supported"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
