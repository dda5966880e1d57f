"""``sameday db``: manage the schema of the metadata database (upgrade, downgrade, current).

The embedded SQLite database upgrades itself when opened; these commands are for a shared
PostgreSQL, where an operator upgrades once before servers with a newer sameday start.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from sameday.cli._common import echo_json, json_option, project_option

_URL = click.option(
    "--url",
    default=None,
    metavar="URL",
    help="Metadata database URL (default: storage.metadata of the project's sameday.yaml).",
)


def _metadata_url(project_dir: Path | None, url: str | None) -> str:
    """``url`` if given, else the project's ``storage.metadata`` resolved against its root."""
    if url:
        return url
    from sameday.config import load_project

    project = load_project(project_dir)
    return project.url(project.settings.storage.metadata)


def _revision(name: str | None) -> str:
    return name or "empty (no sameday schema)"


@click.group("db")
def db() -> None:
    """Manage the schema of the metadata database (runs, snapshots, applied objects)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Revision to upgrade to.")
@project_option
@_URL
@json_option
def upgrade(revision: str, project_dir: Path | None, url: str | None, as_json: bool) -> None:
    """Upgrade the metadata database schema, in one transaction (all or nothing)."""
    from sameday.metadata.migrate import upgrade as run_upgrade

    outcome = run_upgrade(_metadata_url(project_dir, url), revision)
    if as_json:
        echo_json({**dataclasses.asdict(outcome), "changed": outcome.changed})
    elif outcome.changed:
        click.echo(f"Upgraded {outcome.url} from {_revision(outcome.before)} to {outcome.after}.")
    else:
        click.echo(f"{outcome.url} is already at revision {_revision(outcome.after)}.")


@db.command("downgrade")
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@project_option
@_URL
@json_option
def downgrade(
    revision: str, yes: bool, project_dir: Path | None, url: str | None, as_json: bool
) -> None:
    """Downgrade the metadata database schema to REVISION ('base' drops every table).

    Tables and columns added after REVISION are dropped with their data, so this asks first
    unless --yes is given.
    """
    from sameday.metadata.migrate import downgrade as run_downgrade

    target = _metadata_url(project_dir, url)
    if not yes:
        click.confirm(
            f"Downgrade the metadata database to {revision!r}? Data in tables and columns "
            "added after it is deleted.",
            abort=True,
            err=True,
        )
    outcome = run_downgrade(target, revision)
    if as_json:
        echo_json({**dataclasses.asdict(outcome), "changed": outcome.changed})
    elif outcome.changed:
        click.echo(
            f"Downgraded {outcome.url} from {_revision(outcome.before)} to "
            f"{_revision(outcome.after)}."
        )
    else:
        click.echo(f"{outcome.url} is already at revision {_revision(outcome.after)}.")


@db.command("current")
@project_option
@_URL
@json_option
def current(project_dir: Path | None, url: str | None, as_json: bool) -> None:
    """Show the schema revision of the metadata database and whether it is up to date."""
    from sameday.metadata.migrate import schema_status

    status = schema_status(_metadata_url(project_dir, url))
    if as_json:
        echo_json({**dataclasses.asdict(status), "up_to_date": status.up_to_date})
        return
    if status.up_to_date:
        click.echo(f"{status.url}: revision {status.revision} (head, up to date).")
    elif not status.known:
        click.echo(
            f"{status.url}: revision {status.revision}, unknown to this sameday (head "
            f"{status.head}): a newer sameday migrated it; upgrade sameday."
        )
    else:
        click.echo(
            f"{status.url}: revision {_revision(status.revision)}, head is {status.head}: "
            "run 'sameday db upgrade'."
        )


COMMANDS = [db]
