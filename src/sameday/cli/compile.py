"""``sameday compile``: a pipeline into Argo Workflows manifests, or the server into Kubernetes
ones (``--target k8s``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sameday.cli._common import echo_json, json_option, project_option
from sameday.errors import NotFound, PipelineError

if TYPE_CHECKING:
    from sameday.pipeline.argo import Manifest
    from sameday.pipeline.argo_cluster import Fallback


@click.command("compile")
@click.argument("pipeline", required=False)
@click.option(
    "--monitors",
    is_flag=True,
    help="Compile the project's monitors instead: one CronWorkflow per monitor.",
)
@click.option(
    "--target",
    type=click.Choice(["argo", "k8s"]),
    default="argo",
    show_default=True,
    help="argo: PIPELINE for Argo Workflows; k8s: the server (no PIPELINE) for Kubernetes.",
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
    "(argo: a cluster with one node and a hostPath, say; k8s: one replica on a volume you mount).",
)
@json_option
@project_option
def compile_cmd(
    pipeline: str | None,
    monitors: bool,
    target: str,
    output_dir: Path | None,
    schema_file: Path | None,
    allow_local_storage: bool,
    as_json: bool,
    project_dir: Path | None,
) -> None:
    """Compile PIPELINE to Argo Workflows: a WorkflowTemplate and, if scheduled, a CronWorkflow;
    or, with --target k8s, the server to a ConfigMap, Deployment, Service, HorizontalPodAutoscaler
    and PodDisruptionBudget (settings: serve.kubernetes in sameday.yaml).

    Refuses storage the pods cannot share and secrets that would be written into the manifests,
    and warns about every ${VAR:-default} the manifests fall back to. Deploy with

    With --monitors (and no PIPELINE), compile the monitors instead: one CronWorkflow per
    monitor, running `sameday monitor run --monitor NAME` on its schedule.


    Deploy with `kubectl apply -f DIR` (or pipe the printed stream to `kubectl apply -f -`).
    """
    from sameday.config import load_project
    from sameday.pipeline.argo_cluster import compile_project

    if target == "k8s":
        if pipeline is not None or schema_file is not None:
            raise click.UsageError("--target k8s compiles the server: no PIPELINE, no --schema")
        from sameday.deploy.k8s import compile_k8s, load_server_project

        project = load_server_project(project_dir)
        manifests = compile_k8s(project, allow_local_storage=allow_local_storage)
        _output(manifests, output_dir, as_json=as_json, extra={"target": "k8s"})
        return
    if pipeline is None and not monitors:
        raise click.UsageError(
            "missing PIPELINE: the pipeline to compile for Argo (or --monitors, for the monitors)"
        )
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
        fallbacks: list[Fallback] = []
        storage_env: list[str] = []
    elif pipeline not in project.pipelines:
        available = ", ".join(sorted(project.pipelines)) or "none"
        raise NotFound(
            f"no pipeline {pipeline!r} in {project.root / 'pipelines'} (available: {available}); "
            "check the name, or add pipelines/<name>.yaml"
        )
    else:
        what = repr(pipeline)
        compiled = compile_project(project, pipeline, allow_local_storage=allow_local_storage)
        manifests, fallbacks, storage_env = (
            compiled.manifests,
            compiled.fallbacks,
            compiled.storage_env,
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
    _output(
        manifests,
        output_dir,
        as_json=as_json,
        fallbacks=fallbacks,
        extra={"pipeline": pipeline, "storage_env": storage_env},
    )


def _output(
    manifests: list[Manifest],
    output_dir: Path | None,
    *,
    as_json: bool,
    fallbacks: Sequence[Fallback] = (),
    extra: dict[str, object] | None = None,
) -> None:
    """Write or print ``manifests``; with ``--json``, what was written and every fallback."""
    from sameday.pipeline.argo import render, write_manifests

    written = write_manifests(manifests, output_dir) if output_dir is not None else []
    if as_json:
        report: dict[str, object] = dict(extra or {})
        report["fallbacks"] = [dataclasses.asdict(f) for f in fallbacks]
        report.update({"files": written} if output_dir is not None else {"manifests": manifests})
        echo_json(report)
        return
    for fallback in fallbacks:
        click.secho(f"warning: {fallback}", fg="yellow", err=True)
    if output_dir is None:
        click.echo(render(manifests), nl=False)
        return
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"Deploy with: kubectl apply -f {output_dir}")


COMMANDS = [compile_cmd]
