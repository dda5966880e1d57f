"""``sameday compile``: turn a pipeline into manifests for an orchestrator (Argo Workflows)."""

from __future__ import annotations

from pathlib import Path

import click

from sameday.cli._common import project_option
from sameday.errors import NotFound, PipelineError


@click.command("compile")
@click.argument("pipeline", required=False)
@click.option(
    "--monitors",
    is_flag=True,
    help="Compile the project's monitors instead: one CronWorkflow per monitor.",
)
@click.option(
    "--target",
    type=click.Choice(["argo"]),
    default="argo",
    show_default=True,
    help="Orchestrator to compile for.",
)
@click.option(
    "-o",
    "--output",
    "output_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write one YAML file per manifest into (default: print them as one stream).",
)
@click.option(
    "--schema",
    "schema_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Check the manifests strictly against this Argo JSON Schema (api/jsonschema/schema.json "
    "of your Argo release) before writing them; needs sameday[argo].",
)
@project_option
def compile_cmd(
    pipeline: str | None,
    monitors: bool,
    target: str,
    output_dir: Path | None,
    schema_file: Path | None,
    project_dir: Path | None,
) -> None:
    """Compile PIPELINE to Argo Workflows: a WorkflowTemplate and, if scheduled, a CronWorkflow.

    With --monitors (and no PIPELINE), compile the monitors instead: one CronWorkflow per
    monitor, running `sameday monitor run --monitor NAME` on its schedule.

    Deploy with `kubectl apply -f DIR` (or pipe the printed stream to `kubectl apply -f -`).
    """
    from sameday.config import load_project
    from sameday.pipeline.argo import compile_argo, render, write_manifests

    if pipeline is None and not monitors:
        raise click.UsageError("Missing argument 'PIPELINE' (or --monitors, to compile monitors)")
    if pipeline is not None and monitors:
        raise click.UsageError("give a PIPELINE or --monitors, not both")
    project = load_project(project_dir)
    if pipeline is None:
        from sameday.monitor.run import monitors_of
        from sameday.pipeline.monitor_argo import compile_monitors

        what = "the monitors"
        manifests = compile_monitors(
            monitors_of(project), project.settings.orchestrator.argo, project_name=project.name
        )
    elif pipeline not in project.pipelines:
        available = ", ".join(sorted(project.pipelines)) or "none"
        raise NotFound(
            f"no pipeline {pipeline!r} in {project.root / 'pipelines'} (available: {available}); "
            "check the name, or add pipelines/<name>.yaml"
        )
    else:
        what = repr(pipeline)
        manifests = compile_argo(
            project.pipelines[pipeline],
            project.settings.orchestrator.argo,
            project_name=project.name,
        )
    if schema_file is not None:
        from sameday.pipeline.argo_schema import load_schema

        schema = load_schema(schema_file.resolve())
        problems = [
            f"{manifest['kind']} {manifest['metadata']['name']}: {problem}"
            for manifest in manifests
            for problem in schema.validate(manifest)
        ]
        if problems:
            raise PipelineError(
                f"the {target} manifests of {what} do not match {schema_file}:\n"
                + "\n".join(problems),
                pipeline=pipeline,
            )
    if output_dir is None:
        click.echo(render(manifests), nl=False)
        return
    for path in write_manifests(manifests, output_dir):
        click.echo(f"wrote {path}")
    click.echo(f"Deploy with: kubectl apply -f {output_dir}")


COMMANDS = [compile_cmd]
