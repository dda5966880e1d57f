"""What the Argo compiler checks before it writes anything: images, files between jobs, the
workspace. Each refusal is a ``PipelineError`` that says what to change."""

from __future__ import annotations

from collections.abc import Collection

from sameday.config.dataflow import Dataflow
from sameday.config.pipeline import Pipeline, Workspace
from sameday.config.project import ArgoOrchestrator
from sameday.errors import PipelineError


def images(pipeline: Pipeline, settings: ArgoOrchestrator) -> dict[str, str]:
    """Each job's image (its own, else ``defaults.image``, else ``orchestrator.argo.image``)."""
    images = {
        job.name: job.image or pipeline.defaults.image or settings.image for job in pipeline.jobs
    }
    missing = [name for name, image in images.items() if not image]
    if missing:
        raise PipelineError(
            f"pipeline {pipeline.name!r}: no container image for job(s) {', '.join(missing)}. "
            "On Argo every job runs in an image that holds sameday and the project's files: "
            "build one from the project's Dockerfile (docker build -t REGISTRY/NAME:TAG . && "
            "docker push REGISTRY/NAME:TAG) and set it as defaults.image in the pipeline file "
            "or orchestrator.argo.image in sameday.yaml",
            pipeline=pipeline.name,
        )
    return {name: image for name, image in images.items() if image}


def dataflow(pipeline: Pipeline, project_files: Collection[str] | None) -> Dataflow:
    flow = Dataflow(pipeline, (lambda: project_files) if project_files is not None else None)
    ignored = () if project_files is not None else ("nowhere",)
    problems = [f.message for f in flow.findings if f.kind not in ignored]
    if problems:
        raise PipelineError(
            f"pipeline {pipeline.name!r}: " + "; ".join(problems), pipeline=pipeline.name
        )
    return flow


def workspace_folders(flow: Dataflow) -> list[str]:
    folders = [
        flow.artifact_path(output).split("/", 1)[0]
        for outputs in flow.outputs.values()
        for output in outputs
    ]
    return sorted(set(folders))


def workspace(
    pipeline: Pipeline,
    settings: ArgoOrchestrator,
    flow: Dataflow,
    project_files: Collection[str] | None,
) -> Workspace | None:
    """The pipeline's workspace, its unset fields from ``orchestrator.argo.workspace``.

    Raises:
        PipelineError: an output is a file at the project's top level (only folders can be
            mounted from the volume), or a mounted folder would hide files of the image.
    """
    asked = pipeline.workspace
    if asked is None:
        return None
    for job, outputs in flow.outputs.items():
        for output in outputs:
            if "/" not in flow.artifact_path(output):
                raise PipelineError(
                    f"pipeline {pipeline.name!r}: job {job!r} writes {output!r} at the top of the "
                    "project; with a workspace, outputs must lie in folders (out/x.csv), which "
                    "are mounted from the volume",
                    pipeline=pipeline.name,
                    job=job,
                )
    hidden = sorted(
        path for path in project_files or () if path.split("/", 1)[0] in workspace_folders(flow)
    )
    if hidden:
        raise PipelineError(
            f"pipeline {pipeline.name!r}: the workspace volume is mounted over "
            f"{', '.join(sorted({p.split('/', 1)[0] for p in hidden}))}/ and would hide the "
            f"image's {', '.join(hidden[:3])}: write outputs to folders that hold no project "
            "files",
            pipeline=pipeline.name,
        )
    chosen = {field: getattr(asked, field) for field in asked.model_fields_set}
    return settings.workspace.model_copy(update=chosen)
