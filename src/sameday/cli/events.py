"""``sameday events``: the event log itself; ``export`` copies it into Parquet files."""

from __future__ import annotations

from pathlib import Path

import click

from sameday.cli._common import echo_json, json_option, project_option, time_options
from sameday.urls import redact


@click.group("events")
def events() -> None:
    """The event log: exposures and outcomes."""


@events.command("export")
@click.option(
    "--to",
    "to",
    required=True,
    metavar="URL",
    help="The Parquet event log to write: parquet:///folder or s3://bucket/prefix.",
)
@click.option(
    "--from",
    "source",
    metavar="URL",
    help="The event log to read instead of storage.events (any sink's URL).",
)
@click.option("--since", metavar="TIME", help="Records from TIME on (ISO 8601, UTC by default).")
@click.option("--until", metavar="TIME", help="Records before TIME (ISO 8601, UTC by default).")
@click.option(
    "--experiment",
    help="Only this experiment's exposures, and the outcomes of the units exposed to it.",
)
@json_option
@project_option
def export(
    to: str,
    source: str | None,
    since: str | None,
    until: str | None,
    experiment: str | None,
    as_json: bool,
    project_dir: Path | None,
) -> None:
    """Write the event log's records to Parquet files, one folder per day, for reports over
    large logs (`sameday report --events URL`), DuckDB, Spark or a warehouse.

    Example: `sameday events export --to parquet:///exports/events --since 2026-11-01`.
    """
    from sameday import registry
    from sameday.config import load_project
    from sameday.events.export import export_events

    start, end = time_options(since, until)
    project = load_project(project_dir)
    problem = registry.check("source", to)
    if problem is not None or not to.lower().startswith(("parquet:", "s3:")):
        raise click.BadParameter(
            problem
            or f"{to!r} is not a Parquet event log: use parquet:///folder or s3://bucket/prefix",
            param_hint="--to",
        )
    if source is None:
        sink = project.open_event_sink()
    else:
        sink = registry.open_url("events", project.url(source), origin=registry.Origin())
    with sink:
        exported = export_events(
            sink, project.url(to), since=start, until=end, experiment=experiment
        )
    if as_json:
        echo_json(exported)
        return
    click.echo(
        f"Exported {exported.exposures:,} exposures and {exported.outcomes:,} outcomes to "
        f"{redact(to)} ({exported.files:,} files)"
    )


COMMANDS = [events]
