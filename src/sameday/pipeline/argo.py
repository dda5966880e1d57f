"""Compile a pipeline to Argo Workflows v4: a WorkflowTemplate plus, when scheduled, a CronWorkflow.

The WorkflowTemplate holds everything; the CronWorkflow only names it (``workflowTemplateRef``)
and supplies the scheduled date, so a template can be re-applied without touching its schedule.
The output needs Argo Workflows v3.4 or later (v4 included): ``depends`` expressions, key-only
artifacts, ``podGC``/``ttlStrategy``, ``retryStrategy.backoff.cap``, and CronWorkflow
``schedules`` (a list: v3.6 or later; on v3.4 and v3.5 rename it ``schedule`` with one cron).

Choices that are not obvious from the Argo reference:

- **Parameters travel as inputs.** Argo records ``{{workflow.parameters.X}}`` from argument
  values as written, and resolves ``{{...}}`` inside them only in the ``spec.arguments`` it hands
  to the entry template. So the DAG template declares every param as an input and passes it to
  each task; jobs read ``{{inputs.parameters.X}}`` (as ``$X`` in the environment, and where a
  command writes ``{{params.X}}``). That is how the derived ``ds`` below reaches the commands.
  Argo parameter names cannot hold '.', so ``model.version`` is called ``model_version`` there.
- **``ds``** defaults to the run's creation date in UTC (``workflow.creationTimestamp`` parts); the
  CronWorkflow overrides it with ``{{=sprig.trunc(10, workflow.scheduledTime)}}``: the first ten
  characters (YYYY-MM-DD) of the RFC 3339 scheduled time, in the schedule's timezone.
- **Backoff.** Our ``max`` caps each wait, which is Argo's ``backoff.cap``; Argo's ``maxDuration``
  caps the total time spent retrying and has no counterpart, so it is never set. Argo's factor is
  an integer: a fractional factor is an error rather than a silent rounding.
- **Files between jobs** are artifacts or a workspace volume: see ``sameday.pipeline._argo_pod``.
  A ``publish-*`` task receives what its job read and the output it publishes.
- **Every run is recorded.** The exit handler runs ``sameday record-argo-run`` with the
  workflow's name, status and failed nodes, so ``sameday runs`` lists Argo runs too; the hidden
  parameter ``sameday-trigger`` (``manual``, set to ``schedule`` by the CronWorkflow) says how
  the run started. ``on_failure`` runs beside it when the run did not succeed.
- **Names** we derive are shortened to fit, names a person chose are checked: see
  ``sameday.pipeline._argo_names``.

(Past 500 lines: one builder per kind of template, kept in one module so the mapping from a
pipeline file to its manifests reads top to bottom; pods, checks and names live beside it.)
"""

from __future__ import annotations

import math
import os
import shlex
import tempfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sameday.config.dataflow import Artifact, Dataflow
from sameday.config.pipeline import (
    Backoff,
    EnvValue,
    Job,
    Output,
    Pipeline,
    Retries,
    Schedule,
    Workspace,
)
from sameday.config.project import ArgoOrchestrator
from sameday.config.project_files import normalise
from sameday.errors import TRY_AGAIN_EXIT_CODE, PipelineError
from sameday.pipeline._argo_checks import dataflow, images, workspace, workspace_folders
from sameday.pipeline._argo_names import (
    TRIGGER_PARAM,
    ParamNames,
    check_unique,
    k8s_name,
    manifest_labels,
    manifest_name,
    param_names,
)
from sameday.pipeline._argo_pod import (
    Pod,
    container,
    input_artifacts,
    output_artifacts,
    placement,
    storage_env,
    volume_claim,
)
from sameday.pipeline.params import DS, substitute

__all__ = ["Manifest", "compile_argo", "k8s_name", "manifest_name", "render", "write_manifests"]

Manifest = dict[str, Any]

API_VERSION = "argoproj.io/v1alpha1"
STARTING_DEADLINE_SECONDS = 3600  # a run missed by up to an hour (controller restart) still starts
DAG_TEMPLATE, EXIT_TEMPLATE, ON_FAILURE_TEMPLATE, RECORD_TEMPLATE = (
    "sameday-dag",
    "sameday-exit",
    "sameday-on-failure",
    "sameday-record-run",
)
RESERVED = (DAG_TEMPLATE, EXIT_TEMPLATE, ON_FAILURE_TEMPLATE, RECORD_TEMPLATE)
SHELL = ("sh", "-c")
JOB_LABEL = "sameday.dev/job"
PUBLISH_BACKOFF = Backoff(delay=30.0, factor=2.0, max=300.0)
RETRY_ON_OUTAGE = (
    f'lastRetry.status == "Error" || asInt(lastRetry.exitCode) == {TRY_AGAIN_EXIT_CODE}'
)
"""When sameday's own steps are retried: the pod never ran, or a store was down (not a failed
check: rerunning it only repeats the failure)."""
CREATION_DATE = (
    "{{workflow.creationTimestamp.Y}}-{{workflow.creationTimestamp.m}}"
    "-{{workflow.creationTimestamp.d}}"
)
SCHEDULED_DATE = "{{=sprig.trunc(10, workflow.scheduledTime)}}"


def compile_argo(
    pipeline: Pipeline,
    settings: ArgoOrchestrator,
    *,
    project_name: str,
    storage_env: Sequence[str] = (),
    project_files: Collection[str] | None = None,
) -> list[Manifest]:
    """The Argo manifests of ``pipeline``: a WorkflowTemplate, then a CronWorkflow if scheduled.

    Args:
        pipeline: the pipeline to compile.
        settings: ``orchestrator.argo`` of the project.
        project_name: the project's name (manifest names and labels).
        storage_env: the variables of the storage URLs; every container reads each from the key
            of the same name of ``settings.storage_secret``.
        project_files: the files of the project's image (see ``sameday.config.project_files``), to
            check that inputs not written upstream are in it and that a workspace volume hides
            none of them; ``None`` skips these checks.

    Raises:
        PipelineError: something written cannot be expressed in Argo (a job without an image,
            an invalid namespace, service account or label, a param no shell can read, a clash
            with a template name sameday reserves, a fractional backoff factor, a required param
            on a scheduled pipeline, a ``{{params.X}}`` with no such param, an input no upstream
            job writes); the message says what to change.
    """
    job_images = images(pipeline, settings)
    name = manifest_name(project_name, pipeline.name)
    labels = manifest_labels(settings, project_name, pipeline.name)
    params = param_names(pipeline)
    flow = dataflow(pipeline, project_files)
    claimed = workspace(pipeline, settings, flow, project_files)
    context = _Context(pipeline, settings, params, job_images, flow, claimed, storage_env)
    templates: list[Manifest] = [_dag_template(pipeline, params)]
    for job in pipeline.jobs:
        templates.append(_job_template(context, job))
        templates.extend(_publish_template(context, job, task) for task in _publish(job))
    templates.extend(_exit_templates(context))
    check_unique(pipeline, [t["name"] for t in templates], RESERVED)

    spec: Manifest = {"entrypoint": DAG_TEMPLATE, "onExit": EXIT_TEMPLATE}
    if settings.service_account is not None:
        spec["serviceAccountName"] = settings.service_account
    arguments = [_argument(pipeline, p) for p in params]
    arguments.append({"name": TRIGGER_PARAM, "value": "manual"})
    spec["arguments"] = {"parameters": arguments}
    spec["workflowMetadata"] = {"labels": dict(labels)}
    spec["podMetadata"] = {"labels": dict(labels)}
    if settings.pod_gc is not None:
        spec["podGC"] = {"strategy": settings.pod_gc}
    ttl = _ttl(settings)
    if ttl:
        spec["ttlStrategy"] = ttl
    if claimed is not None:
        spec["volumeClaimTemplates"] = [volume_claim(claimed)]
        spec["volumeClaimGC"] = {"strategy": "OnWorkflowSuccess"}
        if settings.fs_group is not None:
            spec["securityContext"] = {"fsGroup": settings.fs_group}
    elif settings.artifact_repository is not None:
        ref: Manifest = {"configMap": settings.artifact_repository.config_map}
        if settings.artifact_repository.key is not None:
            ref["key"] = settings.artifact_repository.key
        spec["artifactRepositoryRef"] = ref
    spec["templates"] = templates
    metadata = _metadata(name, settings, labels)
    if pipeline.description:
        metadata["annotations"] = {"workflows.argoproj.io/description": pipeline.description}
    template = {"apiVersion": API_VERSION, "kind": "WorkflowTemplate", "metadata": metadata}
    manifests: list[Manifest] = [{**template, "spec": spec}]
    if pipeline.schedule is not None:
        manifests.append(_cron_workflow(pipeline, pipeline.schedule, name, settings, labels))
    return manifests


def render(manifests: Iterable[Manifest]) -> str:
    """All manifests as one multi-document YAML stream, for stdout or ``kubectl apply -f -``."""
    return "".join("---\n" + _dump(manifest) for manifest in manifests)


def write_manifests(manifests: Iterable[Manifest], out_dir: Path | str) -> list[Path]:
    """Write each manifest to ``out_dir/<name>.<kind>.yaml`` (atomically) and return the paths."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for manifest in manifests:
        target = folder / f"{manifest['metadata']['name']}.{manifest['kind'].lower()}.yaml"
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(_dump(manifest))
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        written.append(target)
    return written


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line strings, so scripts in manifests read like scripts; no anchors
    (``&id001``) even where two fields hold the same labels: kubectl users read these files."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _dump(manifest: Manifest) -> str:
    return yaml.dump(manifest, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096)


def _argument(pipeline: Pipeline, param: ParamNames) -> Manifest:
    declared = pipeline.params[param.key]
    argument: Manifest = {"name": param.argo}
    if declared.default is not None:
        argument["value"] = declared.default
    elif param.key == DS:
        argument["value"] = CREATION_DATE
    if declared.description:
        argument["description"] = declared.description
    return argument


def _inputs(params: Sequence[ParamNames]) -> Manifest:
    return {"parameters": [{"name": p.argo} for p in params]}


def _input_ref(param: ParamNames) -> str:
    return f"{{{{inputs.parameters.{param.argo}}}}}"


def _pass_inputs(params: Sequence[ParamNames]) -> Manifest:
    return {"parameters": [{"name": p.argo, "value": _input_ref(p)} for p in params]}


def _command(text: str, params: Sequence[ParamNames], *, where: str) -> str:
    """``text`` with ``{{params.KEY}}`` turned into the Argo input that carries it."""
    return substitute(text, {p.key: _input_ref(p) for p in params}, where=where)


@dataclass(frozen=True)
class _Context:
    """What every template of one pipeline is built from."""

    pipeline: Pipeline
    settings: ArgoOrchestrator
    params: Sequence[ParamNames]
    images: Mapping[str, str]
    flow: Dataflow
    workspace: Workspace | None
    storage_env: Sequence[str]

    @property
    def mounts(self) -> list[str]:
        """Top-level folders mounted from the workspace (none without one)."""
        return workspace_folders(self.flow) if self.workspace is not None else []

    def env(self, *layers: Mapping[str, EnvValue]) -> dict[str, EnvValue]:
        """The storage variables from their Secret, then ``layers`` in order (later wins)."""
        env: dict[str, EnvValue] = dict(storage_env(self.settings, self.storage_env))
        for layer in layers:
            env.update(layer)
        return env


def _ttl(settings: ArgoOrchestrator) -> Manifest:
    ttl: Manifest = {}
    if settings.ttl.after_success is not None:
        ttl["secondsAfterSuccess"] = _deadline(settings.ttl.after_success)
    if settings.ttl.after_failure is not None:
        ttl["secondsAfterFailure"] = _deadline(settings.ttl.after_failure)
    return ttl


def _params_env(params: Sequence[ParamNames]) -> dict[str, EnvValue]:
    return {p.env: _input_ref(p) for p in params}


def _defaults_env(pipeline: Pipeline) -> dict[str, EnvValue]:
    return {**pipeline.defaults.env, "SAMEDAY_PIPELINE": pipeline.name}


def _publish(job: Job) -> list[tuple[str, Output]]:
    """(task name, output) of each output the job publishes."""
    return [(k8s_name("publish", o.publish), o) for o in job.outputs if o.publish]


def _dag_template(pipeline: Pipeline, params: Sequence[ParamNames]) -> Manifest:
    tasks: list[Manifest] = []
    for job in pipeline.jobs:
        task: Manifest = {"name": job.name, "template": job.name}
        if job.depends_on:
            task["depends"] = " && ".join(dict.fromkeys(job.depends_on))
        if params:
            task["arguments"] = _pass_inputs(params)
        tasks.append(task)
        tasks.extend({"name": t, "template": t, "depends": job.name} for t, _ in _publish(job))
    template: Manifest = {"name": DAG_TEMPLATE}
    if params:
        template["inputs"] = _inputs(params)
    template["dag"] = {"failFast": pipeline.fail_fast, "tasks": tasks}
    return template


def _job_labels(job: str) -> Manifest:
    return {"labels": {JOB_LABEL: job}}


def _job_template(context: _Context, job: Job) -> Manifest:
    pipeline, params = context.pipeline, context.params
    template: Manifest = {"name": job.name, "metadata": _job_labels(job.name)}
    inputs = _inputs(params) if params else {}
    outputs: Manifest = {}
    if context.workspace is None:
        artifacts = input_artifacts(context.flow.artifacts[job.name], context.settings.workdir)
        if artifacts:
            inputs["artifacts"] = artifacts
        stored = [context.flow.artifact_path(o) for o in context.flow.outputs[job.name]]
        produced = output_artifacts(job.name, list(dict.fromkeys(stored)), context.settings.workdir)
        if produced:
            outputs["artifacts"] = produced
    if inputs:
        template["inputs"] = inputs
    if outputs:
        template["outputs"] = outputs
    retries = job.retries or pipeline.defaults.retries
    if retries.limit:
        where = f"job {job.name!r} of pipeline {pipeline.name!r}"
        template["retryStrategy"] = _retry_strategy(pipeline, where, retries, job=job.name)
    timeout = job.timeout if job.timeout is not None else pipeline.defaults.timeout
    if timeout is not None:
        template["activeDeadlineSeconds"] = _deadline(timeout)
    node_selector = (
        job.node_selector if job.node_selector is not None else pipeline.defaults.node_selector
    )
    tolerations = job.tolerations if job.tolerations is not None else pipeline.defaults.tolerations
    template.update(placement(node_selector, tolerations))
    env = context.env(_params_env(params), _defaults_env(pipeline), job.env, _run_env(job.name))
    command = _command(job.command, params, where=f"job {job.name!r} command")
    resources = job.resources if job.resources is not None else pipeline.defaults.resources
    pod = Pod(
        context.images[job.name],
        env,
        [*pipeline.defaults.env_from, *job.env_from],
        resources,
        context.mounts,
    )
    template["container"] = container(context.settings, pod, SHELL, [command])
    return template


def _run_env(job: str) -> dict[str, EnvValue]:
    return {"SAMEDAY_RUN_ID": "{{workflow.name}}", "SAMEDAY_JOB": job}


def _publish_template(context: _Context, job: Job, task: tuple[str, Output]) -> Manifest:
    """Publishes one output, seeing what the job read (a catalogue, say) and the output itself."""
    name, output = task
    assert output.publish is not None
    pipeline, settings = context.pipeline, context.settings
    template: Manifest = {"name": name, "metadata": _job_labels(job.name)}
    if context.workspace is None:
        stored = context.flow.artifact_path(normalise(output.path))
        fetched = [*context.flow.artifacts[job.name], Artifact(job.name, stored)]
        template["inputs"] = {"artifacts": input_artifacts(fetched, settings.workdir)}
    publish = settings.publish
    retries = Retries(limit=publish.retries, backoff=PUBLISH_BACKOFF)
    if retries.limit:
        where = f"publishing {output.publish!r}"
        template["retryStrategy"] = _retry_strategy(
            pipeline, where, retries, job=job.name, outages_only=True
        )
    template["activeDeadlineSeconds"] = _deadline(publish.timeout)
    template.update(placement(pipeline.defaults.node_selector, pipeline.defaults.tolerations))
    command = (
        f"sameday publish {shlex.quote(output.publish)} --source {shlex.quote(output.path)} "
        "--run-id {{workflow.name}}"
    )
    env = context.env(_defaults_env(pipeline), job.env, _run_env(job.name))
    pod = Pod(
        context.images[job.name],
        env,
        [*pipeline.defaults.env_from, *job.env_from],
        None,
        context.mounts,
    )
    template["container"] = container(settings, pod, SHELL, [command])
    return template


def _exit_templates(context: _Context) -> list[Manifest]:
    """The exit handler: record the run's outcome; run ``on_failure`` if it did not succeed."""
    pipeline, settings, params = context.pipeline, context.settings, context.params
    record: Manifest = {"name": "record-run", "template": RECORD_TEMPLATE}
    steps = [record]
    if pipeline.on_failure is not None:
        steps.append({"name": "on-failure", "template": ON_FAILURE_TEMPLATE})
        steps[-1]["when"] = "{{workflow.status}} != Succeeded"
    handler: Manifest = {"name": EXIT_TEMPLATE}
    if params:
        handler["inputs"] = _inputs(params)
        for step in steps:
            step["arguments"] = _pass_inputs(params)
    handler["steps"] = [steps]
    image = pipeline.defaults.image or settings.image
    assert image is not None  # _images() refused a pipeline without one
    env_from = pipeline.defaults.env_from
    placed = placement(pipeline.defaults.node_selector, pipeline.defaults.tolerations)
    templates = [handler, _record_template(context, image, placed)]
    if pipeline.on_failure is not None:
        runner: Manifest = {"name": ON_FAILURE_TEMPLATE}
        if params:
            runner["inputs"] = _inputs(params)
        if pipeline.defaults.timeout is not None:
            runner["activeDeadlineSeconds"] = _deadline(pipeline.defaults.timeout)
        runner.update(placed)
        env = context.env(_params_env(params), _defaults_env(pipeline))
        env.update(
            {"SAMEDAY_RUN_ID": "{{workflow.name}}", "SAMEDAY_RUN_STATUS": "{{workflow.status}}"}
        )
        command = _command(pipeline.on_failure, params, where="on_failure")
        pod = Pod(image, env, env_from, pipeline.defaults.resources, context.mounts)
        runner["container"] = container(settings, pod, SHELL, [command])
        templates.append(runner)
    return templates


def _record_template(context: _Context, image: str, placed: Manifest) -> Manifest:
    """``sameday record-argo-run`` with the workflow's outcome, as separate arguments (no shell)."""
    pipeline, settings, params = context.pipeline, context.settings, context.params
    template: Manifest = {"name": RECORD_TEMPLATE}
    if params:
        template["inputs"] = _inputs(params)
    retries = Retries(limit=settings.publish.retries, backoff=PUBLISH_BACKOFF)
    if retries.limit:
        template["retryStrategy"] = _retry_strategy(
            pipeline, "recording the run", retries, outages_only=True
        )
    template["activeDeadlineSeconds"] = _deadline(settings.publish.timeout)
    template.update(placed)
    args = [
        *("--pipeline", pipeline.name),
        *("--run-id", "{{workflow.name}}"),
        *("--status", "{{workflow.status}}"),
        *("--started-at", "{{workflow.creationTimestamp}}"),
        *("--trigger", f"{{{{workflow.parameters.{TRIGGER_PARAM}}}}}"),
        *("--failures", "{{workflow.failures}}"),
    ]
    for param in params:
        args += ["--param", f"{param.key}={_input_ref(param)}"]
    env = context.env(_defaults_env(pipeline))
    pod = Pod(image, env, pipeline.defaults.env_from)
    template["container"] = container(settings, pod, ["sameday", "record-argo-run"], args)
    return template


def _deadline(timeout: float) -> int:
    return max(1, math.ceil(timeout))


def _retry_strategy(
    pipeline: Pipeline,
    where: str,
    retries: Retries,
    *,
    job: str | None = None,
    outages_only: bool = False,
) -> Manifest:
    """Argo's ``retryStrategy``; with ``outages_only``, a step that failed for good is not rerun.

    sameday's own steps (publish, record) exit with ``TRY_AGAIN_EXIT_CODE`` when a store is
    down, and 1 when the step itself is wrong (a check failed, a bad file): rerunning those only
    repeats the failure and delays the alert. A pod that never ran (``Error``) is always retried.
    """
    backoff = retries.backoff
    if not backoff.factor.is_integer():
        raise PipelineError(
            f"{where}: Argo's backoff factor is a whole number, got {backoff.factor}: use 1, "
            "2, 3, ...",
            pipeline=pipeline.name,
            job=job,
        )
    argo_backoff: Manifest = {
        "duration": _go_duration(backoff.delay),
        "factor": int(backoff.factor),
    }
    if backoff.max is not None:
        argo_backoff["cap"] = _go_duration(backoff.max)
    strategy: Manifest = {"limit": retries.limit, "retryPolicy": "Always", "backoff": argo_backoff}
    if outages_only:
        strategy["expression"] = RETRY_ON_OUTAGE
    return strategy


def _go_duration(seconds: float) -> str:
    """Seconds as a Go duration string ("90s", "1500ms"), the form Argo parses."""
    return f"{int(seconds)}s" if seconds.is_integer() else f"{round(seconds * 1000)}ms"


def _cron_workflow(
    pipeline: Pipeline,
    schedule: Schedule,
    name: str,
    settings: ArgoOrchestrator,
    labels: dict[str, str],
) -> Manifest:
    arguments = [{"name": TRIGGER_PARAM, "value": "schedule"}]
    if DS in pipeline.params:
        arguments.insert(0, {"name": DS, "value": SCHEDULED_DATE})
    workflow_spec: Manifest = {
        "workflowTemplateRef": {"name": name},
        "arguments": {"parameters": arguments},
    }
    spec: Manifest = {
        "schedules": [schedule.cron],
        "timezone": schedule.timezone,
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": STARTING_DEADLINE_SECONDS,
        "workflowSpec": workflow_spec,
    }
    metadata = _metadata(name, settings, labels)
    return {"apiVersion": API_VERSION, "kind": "CronWorkflow", "metadata": metadata, "spec": spec}


def _metadata(name: str, settings: ArgoOrchestrator, labels: dict[str, str]) -> Manifest:
    metadata: Manifest = {"name": name}
    if settings.namespace is not None:
        metadata["namespace"] = settings.namespace
    metadata["labels"] = dict(labels)
    return metadata
