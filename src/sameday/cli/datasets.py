"""Commands over datasets and lineage: ``sameday datasets`` and ``sameday lineage``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sameday.cli._common import echo_json, json_option, project_option

if TYPE_CHECKING:  # rich is imported where a table is drawn: `sameday --help` stays fast
    from rich.console import Console

_COLOURS = {"ok": "green", "learning": "dim", "warn": "yellow", "fail": "red", "error": "magenta"}


def _console() -> Console:
    from rich.console import Console

    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=200)


@click.command("datasets")
@click.option(
    "--observe", is_flag=True, help="Observe every dataset now (and record it) before listing."
)
@json_option
@project_option
def datasets(observe: bool, as_json: bool, project_dir: Path | None) -> None:
    """List the datasets the pipelines declare: newest observation, schema changes, checks.

    Runs record datasets as their jobs read and write them; --observe looks at each one now,
    e.g. for a table no job of this project writes.
    """
    from sameday.config import load_project
    from sameday.metadata.store import MetadataStore
    from sameday.monitor.catalog import observe_all, summaries

    project = load_project(project_dir)
    url = project.url(project.settings.storage.metadata)
    with MetadataStore.open(url, migrate=True) as store:
        if observe:
            observe_all(project, store)
        found = summaries(project, store, datetime.now(UTC))
    if as_json:
        echo_json([summary.as_dict() for summary in found])
        return
    if not found:
        click.echo("no datasets: declare them under 'datasets:' in a pipeline file")
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in (
        "dataset",
        "pipeline",
        "where",
        "observed",
        "rows",
        "columns",
        "schema",
        "status",
    ):
        table.add_column(column)
    for summary in found:
        latest = summary.latest
        observed = rows = columns = "-"
        if latest is not None:
            observed = latest.observed_at.astimezone().strftime("%Y-%m-%d %H:%M")
            rows = f"{latest.row_count:,}" if latest.row_count is not None else "-"
            columns = str(len(latest.columns)) if latest.columns is not None else "-"
        schema = f"rev {summary.revisions}" if summary.revisions else "-"
        if summary.last_change is not None:
            schema += f": {summary.last_change.describe()}"
        colour = _COLOURS.get(summary.status, "")
        table.add_row(
            summary.name,
            summary.pipeline,
            summary.location,
            observed,
            rows,
            columns,
            schema,
            f"[{colour}]{summary.status}[/]",
        )
    console = _console()
    console.print(table)
    for summary in found:
        for finding in summary.findings:
            if not finding.healthy:
                colour = _COLOURS.get(finding.status, "")
                console.print(f"[{colour}]{finding.status}[/] {finding.monitor}: {finding.summary}")


@click.command("lineage")
@click.argument("name")
@click.option("--upstream", "direction", flag_value="upstream", help="Only what NAME comes from.")
@click.option("--downstream", "direction", flag_value="downstream", help="Only what NAME feeds.")
@click.option(
    "--depth", type=click.IntRange(1), default=None, help="Steps to follow (default: all)."
)
@json_option
@project_option
def lineage(
    name: str, direction: str | None, depth: int | None, as_json: bool, project_dir: Path | None
) -> None:
    """Print the lineage of NAME (a dataset, job, result set, surface or experiment).

    The graph comes from the project files: datasets jobs read and write, result sets their
    outputs publish, the surfaces and experiments that serve them. Name a node as KIND:NAME
    (dataset:events, job:daily.train) when a bare name is ambiguous.
    """
    from sameday.config import load_project
    from sameday.monitor.lineage import Direction, build_graph

    graph = build_graph(load_project(project_dir))
    root = graph.find(name)
    directions: list[Direction] = (
        ["upstream", "downstream"] if direction is None else [direction]  # type: ignore[list-item]
    )
    trees = {d: graph.walk(root, d, depth) for d in directions}
    if as_json:
        nodes = sorted({node for tree in trees.values() for node in tree.nodes()})
        edges = sorted({edge for d, tree in trees.items() for edge in tree.edges(d)})
        echo_json(
            {
                "root": root,
                "depth": depth,
                **{d: tree.as_dict() for d, tree in trees.items()},
                "nodes": [
                    {"id": n, "kind": n.split(":", 1)[0], "name": n.split(":", 1)[1]} for n in nodes
                ],
                "edges": [{"from": a, "to": b} for a, b in edges],
            }
        )
        return
    for index, (d, tree) in enumerate(trees.items()):
        if index:
            click.echo()
        click.echo(f"{d} of {root}:" if tree.children else f"{d} of {root}: nothing")
        if tree.children:
            for line in tree.lines():
                click.echo(line)


COMMANDS = [datasets, lineage]
