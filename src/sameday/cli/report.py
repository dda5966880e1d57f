"""``sameday report``: an experiment's analysis and its one-line verdict."""

from __future__ import annotations

from pathlib import Path

import click

from sameday.cli._common import collection_paused, echo_json, project_option, time_options


@click.command("report")
@click.argument("experiment")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "html"]),
    default="table",
    show_default=True,
    help="table: the terminal view; json: every number, for scripts; html: a self-contained "
    "page with interactive charts that works offline.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output (html defaults to EXPERIMENT.html).",
)
@click.option(
    "--events",
    help="Event log to read instead of storage.events: sqlite:///path.db, "
    "postgresql://user@host/db, parquet:///folder or s3://bucket/prefix.",
)
@click.option(
    "--dimension",
    "dimensions",
    multiple=True,
    help="Break metrics down by this key of the exposures' 'extra' (repeatable).",
)
@click.option(
    "--by",
    multiple=True,
    metavar="DIMENSION",
    help="Each segment's lift along this dimension (one the experiment declares, or surface), "
    "corrected for the number of segments, with a test of whether segments differ "
    "(repeatable; A/B tests).",
)
@click.option(
    "--phase",
    type=click.IntRange(min=0),
    help="Analyse this phase (its hashing.bucket_version) instead of the current one.",
)
@click.option(
    "--since",
    metavar="TIME",
    help="Leave out units first exposed before TIME (ISO 8601, UTC unless an offset is given).",
)
@click.option(
    "--until",
    metavar="TIME",
    help="Leave out exposures and outcomes from TIME on (ISO 8601, UTC unless an offset is given).",
)
@project_option
def report(
    experiment: str,
    fmt: str,
    output: Path | None,
    events: str | None,
    dimensions: tuple[str, ...],
    by: tuple[str, ...],
    phase: int | None,
    since: str | None,
    until: str | None,
    project_dir: Path | None,
) -> None:
    """Analyse EXPERIMENT: sample-ratio check, lifts with always-valid intervals, verdict.

    The current phase (hashing.bucket_version) is analysed unless --phase says otherwise.

    Example: `sameday report home-personal`, or `sameday report home-personal --format html`
    for a page to share; `sameday report home-personal --by platform` adds who benefits.
    """
    # One report, then the process exits: no collections meanwhile (see collection_paused).
    with collection_paused():
        from sameday.analysis.source import connect_ahead

        connect_ahead()  # DuckDB starts its database on a thread while the project loads
        from sameday.analysis.phases import Selection
        from sameday.analysis.report import build_report
        from sameday.config import load_project

        start, end = time_options(since, until)
        selection = Selection(phase=phase, since=start, until=end)
        result = build_report(
            load_project(project_dir),
            experiment,
            events_url=events,
            dimensions=dimensions,
            selection=selection,
            by=by,
        )
        # Each renderer is imported once the report is built, and only the one asked for: they
        # import the statistics modules, which build_report imports in a thread while DuckDB works
        # (analysis.preload), and the text one rich.
        if fmt == "json":
            from sameday.reports.data import to_dict

            if output is None:
                echo_json(to_dict(result))
                return
            import orjson

            output.write_bytes(orjson.dumps(to_dict(result), option=orjson.OPT_INDENT_2))
        elif fmt == "html":
            from sameday.reports.html import to_html

            target = output or Path(f"{experiment}.html")
            target.write_text(to_html(result), encoding="utf-8")
            click.echo(result.decision.line)
            click.echo(f"Wrote {target}")
            return
        else:
            from sameday.reports.text import to_text

            text = to_text(result)
            if output is None:
                click.echo(text, nl=False)
                return
            output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}", err=True)


COMMANDS = [report]
