"""Commands about result sets: ``publish``, ``snapshots``, ``rollback``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from sameday.cli._common import echo_json, json_option, project_option


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
@project_option
@json_option
def publish(
    result_set: str,
    source: Path | None,
    dry_run: bool,
    force: bool,
    run_id: str | None,
    project_dir: Path | None,
    as_json: bool,
) -> None:
    """Check RESULT_SET's rows and make them live as a new snapshot, in one atomic step.

    A failed check changes nothing and prints each failed check with example rows.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from sameday.config import load_project
    from sameday.results import publish as publish_rows

    project = load_project(project_dir)
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=as_json,
        transient=True,
    )
    with bar:
        task = bar.add_task(f"loading {result_set}", total=None)
        result = publish_rows(
            project,
            result_set,
            source=source.resolve() if source is not None else None,
            dry_run=dry_run,
            force=force,
            run_id=run_id,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        echo_json(dataclasses.asdict(result))
        return
    counts = f"{result.rows:,} rows, {result.keys:,} keys"
    if result.forced:
        click.secho(f"Forced past failed checks: {', '.join(result.forced)}", fg="yellow")
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


@click.command("snapshots")
@click.argument("result_set")
@click.option("--all", "include_deleted", is_flag=True, help="Include deleted snapshots.")
@project_option
@json_option
def snapshots(
    result_set: str, include_deleted: bool, project_dir: Path | None, as_json: bool
) -> None:
    """List RESULT_SET's snapshots, newest first."""
    from rich.console import Console
    from rich.table import Table

    from sameday.config import load_project
    from sameday.results import snapshots as list_snapshots

    records = list_snapshots(load_project(project_dir), result_set, include_deleted=include_deleted)
    if as_json:
        echo_json([dataclasses.asdict(r) for r in records])
        return
    if not records:
        click.echo(f"{result_set} has no snapshots yet: run 'sameday publish {result_set}'.")
        return
    table = Table("version", "status", "rows", "keys", "published", "run", "hash")
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
    Console().print(table)


@click.command("rollback")
@click.argument("result_set")
@click.option("--to", "version", default=None, help="Version to make live (default: previous).")
@project_option
@json_option
def rollback(result_set: str, version: str | None, project_dir: Path | None, as_json: bool) -> None:
    """Make an earlier snapshot of RESULT_SET live again, atomically."""
    from sameday.config import load_project
    from sameday.results import rollback as roll_back

    result = roll_back(load_project(project_dir), result_set, to=version)
    if as_json:
        echo_json(dataclasses.asdict(result))
        return
    click.secho(
        f"{result_set} now serves {result.version} (was {result.previous or 'nothing'}).",
        fg="green",
    )


COMMANDS = [publish, snapshots, rollback]
