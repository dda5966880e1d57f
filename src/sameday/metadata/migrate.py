"""Schema migrations of the metadata database, run from code.

The Alembic scripts ship inside the package (``sameday/metadata/migrations``), so users need no
``alembic.ini``: :func:`alembic_config` builds the configuration and hands Alembic an open
connection through ``config.attributes["connection"]``.

A whole upgrade or downgrade runs in ONE transaction, committed only when every step succeeded,
so a failure leaves the database exactly as it was. PostgreSQL DDL is transactional; SQLite's is
too once SQLAlchemy, not the ``sqlite3`` module, emits ``BEGIN`` (see ``_engine``), and
``BEGIN IMMEDIATE`` makes concurrent upgraders queue instead of racing. On PostgreSQL an
advisory lock does the same. SQLite foreign keys are off while migrating (batch migrations
rebuild tables) and checked with ``PRAGMA foreign_key_check`` before the commit.

Alembic is imported inside the functions: ``import sameday.metadata`` stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import sqlalchemy as sa

from sameday.errors import MigrationError
from sameday.metadata._engine import (
    WRITE,
    create_engine,
    is_disconnect,
    is_sqlite,
    parse_url,
    redact,
    sqlite_file,
    translate_errors,
)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
"""The Alembic script folder inside the installed package."""
BASE = "base"
"""The revision name of the empty schema."""
_PG_LOCK_KEY = 0x5A4D_ED01
"""Advisory lock taken by every migration on PostgreSQL, so upgraders run one at a time."""


@dataclass(frozen=True)
class MigrationOutcome:
    """Where a migration started and ended (``None`` is the empty schema)."""

    url: str
    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        """Whether the migration moved the database to another revision."""
        return self.before != self.after


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database's schema stands against the newest revision this sameday knows."""

    url: str
    revision: str | None
    head: str
    known: bool
    """Whether this sameday knows ``revision``; a newer sameday may have migrated past it."""

    @property
    def up_to_date(self) -> bool:
        """Whether the database is at the head revision."""
        return self.revision == self.head


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic configuration for the packaged scripts, optionally bound to ``connection``.

    Developers add a migration with it, e.g.
    ``alembic.command.revision(alembic_config(conn), "add x", autogenerate=True)`` on a
    connection to a database at head, then review and rename the generated file.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the installed sameday knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its initial revision
        raise MigrationError(f"no migration scripts found in {MIGRATIONS}")
    return head


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, or ``None`` when it has no sameday schema.

    A SQLite file that does not exist yet is reported as ``None`` and is not created.

    Raises:
        StoreUnavailable: the database cannot be reached.
    """
    parsed = parse_url(url)
    if is_sqlite(parsed):
        path = sqlite_file(parsed)
        if path is not None and not path.exists():
            return None
    engine = create_engine(parsed)
    try:
        with translate_errors(parsed), engine.connect() as connection:
            return _current(connection)
    finally:
        engine.dispose()


def schema_status(url: str) -> SchemaStatus:
    """The current and head revisions of the database at ``url`` (password hidden in ``url``).

    Raises:
        StoreUnavailable: the database cannot be reached.
    """
    revision = current_revision(url)
    known = revision is None or revision in _known_revisions()
    return SchemaStatus(url=redact(url), revision=revision, head=head_revision(), known=known)


def upgrade(url: str, revision: str = "head") -> MigrationOutcome:
    """Upgrade the database at ``url`` to ``revision`` (default: the newest), in one transaction.

    SQLite files and their folders are created when missing.

    Raises:
        MigrationError: the revision is unknown or a step failed; nothing was changed.
        StoreUnavailable: the database cannot be reached.
    """
    return _migrate(url, revision, "upgrade")


def downgrade(url: str, revision: str) -> MigrationOutcome:
    """Downgrade the database at ``url`` to ``revision`` (``"base"``: drop every table).

    Raises:
        MigrationError: the revision is unknown or above the current one, or a step failed;
            nothing was changed.
        StoreUnavailable: the database cannot be reached.
    """
    return _migrate(url, revision, "downgrade")


def _current(connection: sa.Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade_engine(engine: sa.Engine, revision: str = "head") -> MigrationOutcome:
    """Upgrade the database behind an engine the caller owns (and keeps open).

    For in-memory SQLite, where only the caller's engine can see the database; elsewhere
    prefer :func:`upgrade`, which also turns SQLite foreign keys off while it migrates.
    """
    return _migrate_engine(engine, revision, "upgrade")


def _migrate(
    url: str, revision: str, direction: Literal["upgrade", "downgrade"]
) -> MigrationOutcome:
    engine = create_engine(parse_url(url), foreign_keys=False)
    try:
        return _migrate_engine(engine, revision, direction)
    finally:
        engine.dispose()


def _migrate_engine(
    engine: sa.Engine, revision: str, direction: Literal["upgrade", "downgrade"]
) -> MigrationOutcome:
    from alembic import command
    from alembic.script.revision import RevisionError
    from alembic.util.exc import CommandError

    url = engine.url
    with translate_errors(url), engine.connect() as connection:
        connection.execution_options(**{WRITE: True})
        with connection.begin():
            if url.get_backend_name() == "postgresql":
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY}
                )
            before = _current(connection)
            config = alembic_config(connection)
            try:
                if direction == "upgrade":
                    command.upgrade(config, revision)
                else:
                    command.downgrade(config, revision)
            except (CommandError, RevisionError) as exc:
                raise MigrationError(_explain(url, direction, revision, before, exc)) from exc
            except sa.exc.DBAPIError as exc:
                if is_disconnect(exc):
                    raise
                raise MigrationError(
                    f"{direction} of {redact(url)} to {revision!r} failed at the database "
                    f"({exc.orig}); it was rolled back and the database is unchanged"
                ) from exc
            if is_sqlite(url):
                _check_foreign_keys(connection, url)
            after = _current(connection)
    return MigrationOutcome(url=redact(url), before=before, after=after)


def _explain(url: sa.URL, direction: str, revision: str, before: str | None, exc: Exception) -> str:
    known = _known_revisions()
    head = f"cannot {direction} {redact(url)} from {before or BASE!r} to {revision!r}: {exc}."
    if before is not None and before not in known:
        return (
            f"{head} The database is at revision {before!r}, which this sameday does not know: "
            "a newer sameday migrated it, so upgrade sameday. Nothing was changed."
        )
    rule = (
        " A downgrade target must be below the current revision."
        if direction == "downgrade"
        else ""
    )
    return (
        f"{head} Known revisions: {', '.join(known)} ('{BASE}' is the empty schema, 'head' the "
        f"newest).{rule} Nothing was changed."
    )


def _known_revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _check_foreign_keys(connection: sa.Connection, url: sa.URL) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise MigrationError(
            f"migrating {redact(url)} would break foreign keys in {', '.join(tables)}; "
            "it was rolled back and the database is unchanged"
        )
