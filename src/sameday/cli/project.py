"""Commands about the project files themselves: ``init``, ``validate``, ``schema``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from sameday.cli._common import echo_json, json_option, project_option
from sameday.errors import ConfigError


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--name", help="Project name (default: the folder's name).")
def init(directory: Path, name: str | None) -> None:
    """Create a small, commented project in DIRECTORY that validates and runs as it is."""
    from sameday.scaffold import init_project

    written = init_project(directory, name=name)
    click.echo(f"Created a sameday project in {directory} ({len(written)} files).")
    click.echo("Next:")
    click.echo(f"  sameday validate --project {directory}")
    click.echo(f"  sameday run daily --project {directory}")
    click.echo(f"  sameday run daily --isolated --project {directory}   # each job as on Argo")
    click.echo(f"  docker build -t REGISTRY/NAME:TAG {directory}   # the jobs' image for Argo")


@click.command("validate")
@click.option(
    "--strict",
    is_flag=True,
    help="Also check what isolation would catch, where the files tell: a command naming a path "
    "another job writes that its job does not declare in inputs, a catalogue publishing cannot "
    "see.",
)
@project_option
@json_option
def validate(project_dir: Path | None, as_json: bool, strict: bool) -> None:
    """Check every project file and the references between them.

    Prints each problem as FILE:LINE:COLUMN: message and exits 1 if there is any, 0 otherwise.
    """
    from sameday.config import load_project

    try:
        loaded = load_project(project_dir)
        if strict:
            from sameday.config.dataflow import check_project

            problems = check_project(loaded, strict=True)
            if problems:
                raise ConfigError(problems)
    except ConfigError as exc:
        if as_json:
            echo_json({"valid": False, "problems": [dataclasses.asdict(p) for p in exc.problems]})
        else:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            count = len(exc.problems)
            click.secho(f"{count} problem{'s' if count != 1 else ''} found.", fg="red", err=True)
        raise SystemExit(1) from None
    counts = {
        "pipelines": len(loaded.pipelines),
        "result_sets": len(loaded.result_sets),
        "surfaces": len(loaded.surfaces),
        "experiments": len(loaded.experiments),
        "metrics": len(loaded.metrics),
    }
    if as_json:
        echo_json({"valid": True, "project": loaded.name, "root": str(loaded.root), **counts})
        return
    summary = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items())
    click.secho(f"Project {loaded.name!r} is valid: {summary}.", fg="green")


@click.command("schema")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write one <kind>.schema.json per file kind into (default: print them).",
)
def schema(output: Path | None) -> None:
    """Write the JSON Schema of every project file kind, for editors and CI.

    Point yaml-language-server at them with a first line such as
    `# yaml-language-server: $schema=../schemas/pipeline.schema.json`.
    """
    from sameday.config.schema import schemas, write_schemas

    if output is None:
        echo_json(schemas())
        return
    for path in write_schemas(output):
        click.echo(str(path))


COMMANDS = [init, validate, schema]
