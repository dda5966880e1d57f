"""``sameday compile``: turn a pipeline into manifests for an orchestrator (Argo Workflows)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from sameday.cli._common import echo_json, json_option, project_option
from sameday.errors import NotFound, PipelineError


@click.command("compile")
@click.argument("pipeline")
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
@click.option(
    "--allow-local-storage",
    is_flag=True,
    help="Compile even though a storage URL is SQLite or a local folder, which pods cannot share "
    "(a cluster with one node and a hostPath, say).",
)
@json_option
@project_option
def compile_cmd(
    pipeline: str,
    target: str,
    output_dir: Path | None,
    schema_file: Path | None,
    allow_local_storage: bool,
    as_json: bool,
    project_dir: Path | None,
) -> None:
    """Compile PIPELINE to Argo Workflows: a WorkflowTemplate and, if scheduled, a CronWorkflow.

    Refuses storage the pods cannot share and secrets that would be written into the manifests,
    and warns about every ${VAR:-default} the manifests fall back to. Deploy with
    `kubectl apply -f DIR` (or pipe the printed stream to `kubectl apply -f -`).
    """
    from sameday.config import load_project
    from sameday.pipeline.argo import render, write_manifests
    from sameday.pipeline.argo_cluster import compile_project

    project = load_project(project_dir)
    if pipeline not in project.pipelines:
        available = ", ".join(sorted(project.pipelines)) or "none"
        raise NotFound(
            f"no pipeline {pipeline!r} in {project.root / 'pipelines'} (available: {available}); "
            "check the name, or add pipelines/<name>.yaml"
        )
    compiled = compile_project(project, pipeline, allow_local_storage=allow_local_storage)
    manifests = compiled.manifests
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
                f"the {target} manifests of {pipeline!r} do not match {schema_file}:\n"
                + "\n".join(problems),
                pipeline=pipeline,
            )
    written = write_manifests(manifests, output_dir) if output_dir is not None else []
    if as_json:
        report: dict[str, object] = {
            "pipeline": pipeline,
            "fallbacks": [dataclasses.asdict(f) for f in compiled.fallbacks],
            "storage_env": compiled.storage_env,
        }
        report.update({"files": written} if output_dir is not None else {"manifests": manifests})
        echo_json(report)
        return
    for fallback in compiled.fallbacks:
        click.secho(f"warning: {fallback}", fg="yellow", err=True)
    if output_dir is None:
        click.echo(render(manifests), nl=False)
        return
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"Deploy with: kubectl apply -f {output_dir}")


COMMANDS = [compile_cmd]
