"""Commands about result sets: ``publish``, ``snapshots``, ``rollback``."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sameday.cli._common import echo_json, json_option, project_option

if TYPE_CHECKING:
    from rich.table import Table

    from sameday.metadata import LiveChange, SnapshotRecord
    from sameday.results.publish import Progress


@click.command("publish")
@click.argument("result_set")
@click.option(
    "--source",
    type=click.Path(path_type=Path),
    default=None,
    help="Read this file or glob instead of the declared source.",
)
@click.option("--dry-run", is_flag=True, help="Read and check only; change nothing.")
@click.option(
    "--force", is_flag=True, help="Publish even if quality checks fail (never structural ones)."
)
@click.option("--run-id", default=None, help="The pipeline run that produced the rows.")
@click.option("--reason", default=None, help="Why, kept in the history of what was live.")
@project_option
@json_option
def publish(
    result_set: str,
    source: Path | None,
    dry_run: bool,
    force: bool,
    run_id: str | None,
    reason: str | None,
    project_dir: Path | None,
    as_json: bool,
) -> None:
    """Check RESULT_SET's rows and make them live as a new snapshot, in one atomic step.

    A failed check changes nothing and prints each failed check with example rows.
    """
    from sameday.config import load_project
    from sameday.results import publish as publish_rows

    project = load_project(project_dir)
    with _progress_bar(result_set, shown=not as_json and sys.stdout.isatty()) as progress:
        result = publish_rows(
            project,
            result_set,
            source=source.resolve() if source is not None else None,
            dry_run=dry_run,
            force=force,
            run_id=run_id,
            reason=reason,
            progress=progress,
        )
    if as_json:
        echo_json(dataclasses.asdict(result))
        return
    counts = f"{result.rows:,} rows, {result.keys:,} keys"
    if result.forced:
        click.secho(f"Forced past failed checks: {', '.join(result.forced)}", fg="yellow")
    for warning in result.warnings:
        click.secho(f"Drift warning: {warning}", fg="yellow")
    same = f" (the same lists as the live snapshot {result.previous})" if result.unchanged else ""
    if result.version is None:
        click.secho(f"Dry run: {result_set} passes its checks ({counts}){same}; nothing changed.")
        return
    click.secho(
        f"Published {result_set} {result.version} ({counts}) in {result.seconds['total']:.1f}s.",
        fg="green",
    )
    if result.unchanged:
        click.echo(f"It holds the same lists as {result.previous}: readers see no change.")
    if result.previous:
        click.echo(
            f"Previous snapshot {result.previous} retired; roll back with "
            f"'sameday rollback {result_set}'."
        )
    if result.deleted:
        click.echo(f"Retention deleted {', '.join(result.deleted)}.")


@contextmanager
def _progress_bar(result_set: str, *, shown: bool) -> Iterator[Progress | None]:
    """A bar that follows the load when ``shown`` (a terminal), else nothing to report to.

    Off a terminal a bar draws nothing, and rich's progress display costs a tenth of a second
    of CPU to import (a publish of 200,000 rows takes about 1.3 s): it is imported only when
    shown.
    """
    if not shown:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    bar = Bar(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    )
    with bar:
        task = bar.add_task(f"loading {result_set}", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


HISTORY_SHOWN = 10
"""Changes of what was live listed under the snapshots (``--history`` lists them all)."""


@click.command("snapshots")
@click.argument("result_set")
@click.option("--all", "include_deleted", is_flag=True, help="Include deleted snapshots.")
@click.option(
    "--history", "only_history", is_flag=True, help="List every change of what was live, only."
)
@project_option
@json_option
def snapshots(
    result_set: str,
    include_deleted: bool,
    only_history: bool,
    project_dir: Path | None,
    as_json: bool,
) -> None:
    """List RESULT_SET's snapshots, newest first, then what was live when.

    Rollback follows that history: it undoes the newest change still in force. With --json,
    the snapshots are printed (with --history, the changes).
    """
    from rich.console import Console

    from sameday.config import load_project
    from sameday.results import history
    from sameday.results import snapshots as list_snapshots

    project = load_project(project_dir)
    if only_history:
        changes = history(project, result_set)
        if as_json:
            echo_json([dataclasses.asdict(c) for c in changes])
        elif not changes:
            click.echo(f"{result_set} has never been live: run 'sameday publish {result_set}'.")
        else:
            Console().print(_history_table(changes, "What was live, newest first"))
        return
    records = list_snapshots(project, result_set, include_deleted=include_deleted)
    if as_json:
        echo_json([dataclasses.asdict(r) for r in records])
        return
    if not records:
        click.echo(f"{result_set} has no snapshots yet: run 'sameday publish {result_set}'.")
        return
    console = Console()
    console.print(_snapshot_table(records))
    changes = history(project, result_set, limit=HISTORY_SHOWN + 1)
    if changes:
        more = len(changes) > HISTORY_SHOWN
        title = "What was live, newest first" + (" (latest; --history for all)" if more else "")
        console.print(_history_table(changes[:HISTORY_SHOWN], title))


def _version_column(table: Table, header: str, versions: list[str]) -> None:
    """Add a column that holds versions a person may type: never wrapped, never cut (rich
    shrinks the other columns first)."""
    widest = max([len(header), *map(len, versions)])
    table.add_column(header, no_wrap=True, min_width=widest)


def _snapshot_table(records: list[SnapshotRecord]) -> Table:
    from rich.table import Table

    table = Table(title="Snapshots, newest first")
    _version_column(table, "version", [r.version for r in records])
    for header in ("status", "rows", "keys", "last live", "run", "hash"):
        table.add_column(header, overflow="fold")
    for r in records:
        table.add_row(
            r.version,
            r.status,
            f"{r.rows:,}",
            f"{r.keys:,}",
            f"{r.published_at:%Y-%m-%d %H:%M:%S}" if r.published_at else "-",
            r.run_id or "-",
            r.content_hash.removeprefix("sha256:")[:12],
        )
    return table


def _history_table(changes: list[LiveChange], title: str) -> Table:
    """The changes as rows; what each replaced is the row below it (``--json`` says it too)."""
    from rich.table import Table

    table = Table(title=title)
    table.add_column("when", overflow="fold")
    _version_column(table, "live", [c.version for c in changes])
    for header in ("action", "by", "reason"):
        table.add_column(header, overflow="fold")
    for c in changes:
        table.add_row(
            f"{c.at:%Y-%m-%d %H:%M:%S}",
            c.version,
            c.action,
            c.actor,
            c.reason or "",
        )
    return table


@click.command("rollback")
@click.argument("result_set")
@click.option(
    "--to",
    "version",
    default=None,
    help="Version (or any unique prefix of one) to make live; default: the one live before.",
)
@click.option("--reason", default=None, help="Why, kept in the history of what was live.")
@project_option
@json_option
def rollback(
    result_set: str,
    version: str | None,
    reason: str | None,
    project_dir: Path | None,
    as_json: bool,
) -> None:
    """Make an earlier snapshot of RESULT_SET live again, atomically.

    Without --to, undo the newest change of what is live that is still in force (see
    'sameday snapshots RESULT_SET'): publish A, publish B, rollback serves A again.
    """
    from sameday.config import load_project
    from sameday.results import rollback as roll_back

    result = roll_back(load_project(project_dir), result_set, to=version, reason=reason)
    if as_json:
        echo_json(dataclasses.asdict(result))
        return
    click.secho(
        f"{result_set} now serves {result.version} (was {result.previous or 'nothing'}).",
        fg="green",
    )


COMMANDS = [publish, snapshots, rollback]
