"""Compile a pipeline to Argo Workflows v4: a WorkflowTemplate plus, when scheduled, a CronWorkflow.

The WorkflowTemplate holds everything; the CronWorkflow only names it (``workflowTemplateRef``)
and supplies the scheduled date, so a template can be re-applied without touching its schedule.

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
- **Names** we derive are shortened to fit, names a person chose are checked: see
  ``sameday.pipeline._argo_names``.
"""

from __future__ import annotations

import math
import os
import shlex
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from sameday.config.pipeline import Job, Pipeline, Resources, Retries, Schedule
from sameday.config.project import ArgoOrchestrator
from sameday.errors import PipelineError
from sameday.pipeline._argo_names import (
    ParamNames,
    check_unique,
    k8s_name,
    manifest_labels,
    manifest_name,
    param_names,
)
from sameday.pipeline.params import DS, substitute

__all__ = ["Manifest", "compile_argo", "k8s_name", "manifest_name", "render", "write_manifests"]

Manifest = dict[str, Any]

API_VERSION = "argoproj.io/v1alpha1"
STARTING_DEADLINE_SECONDS = 3600  # a run missed by up to an hour (controller restart) still starts
DAG_TEMPLATE, EXIT_TEMPLATE, ON_FAILURE_TEMPLATE = (
    "sameday-dag",
    "sameday-exit",
    "sameday-on-failure",
)
CREATION_DATE = (
    "{{workflow.creationTimestamp.Y}}-{{workflow.creationTimestamp.m}}"
    "-{{workflow.creationTimestamp.d}}"
)
SCHEDULED_DATE = "{{=sprig.trunc(10, workflow.scheduledTime)}}"


def compile_argo(
    pipeline: Pipeline, settings: ArgoOrchestrator, *, project_name: str
) -> list[Manifest]:
    """The Argo manifests of ``pipeline``: a WorkflowTemplate, then a CronWorkflow if scheduled.

    Raises:
        PipelineError: something written cannot be expressed in Argo (an invalid namespace,
            service account or label, a param no shell can read, a clash with a template name
            sameday reserves, a fractional backoff factor, a required param on a scheduled
            pipeline, a ``{{params.X}}`` with no such param); the message says what to change.
    """
    name = manifest_name(project_name, pipeline.name)
    labels = manifest_labels(settings, project_name, pipeline.name)
    params = param_names(pipeline)
    templates: list[Manifest] = [_dag_template(pipeline, params)]
    for job in pipeline.jobs:
        templates.append(_job_template(pipeline, job, settings, params))
        templates.extend(_publish_template(pipeline, job, task, settings) for task in _publish(job))
    if pipeline.on_failure is not None:
        templates.extend(_exit_templates(pipeline, pipeline.on_failure, settings, params))
    reserved = (DAG_TEMPLATE, EXIT_TEMPLATE, ON_FAILURE_TEMPLATE)
    check_unique(pipeline, [t["name"] for t in templates], reserved)

    spec: Manifest = {"entrypoint": DAG_TEMPLATE}
    if settings.service_account is not None:
        spec["serviceAccountName"] = settings.service_account
    if pipeline.on_failure is not None:
        spec["onExit"] = EXIT_TEMPLATE
    if params:
        spec["arguments"] = {"parameters": [_argument(pipeline, p) for p in params]}
    spec["workflowMetadata"] = {"labels": labels}
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
    """Block style for multi-line strings, so scripts in manifests read like scripts."""


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


def _shared_env(pipeline: Pipeline, params: Sequence[ParamNames]) -> dict[str, str]:
    """What every command sees, in the local runner's order: params, defaults.env, pipeline."""
    env = {p.env: _input_ref(p) for p in params}
    return {**env, **pipeline.defaults.env, "SAMEDAY_PIPELINE": pipeline.name}


def _publish(job: Job) -> list[tuple[str, str, str]]:
    """(task name, result set, path) of each output the job publishes."""
    return [(k8s_name("publish", o.publish), o.publish, o.path) for o in job.outputs if o.publish]


def _dag_template(pipeline: Pipeline, params: Sequence[ParamNames]) -> Manifest:
    tasks: list[Manifest] = []
    for job in pipeline.jobs:
        task: Manifest = {"name": job.name, "template": job.name}
        if job.depends_on:
            task["depends"] = " && ".join(dict.fromkeys(job.depends_on))
        if params:
            task["arguments"] = _pass_inputs(params)
        tasks.append(task)
        tasks.extend({"name": t, "template": t, "depends": job.name} for t, _, _ in _publish(job))
    template: Manifest = {"name": DAG_TEMPLATE}
    if params:
        template["inputs"] = _inputs(params)
    template["dag"] = {"failFast": pipeline.fail_fast, "tasks": tasks}
    return template


def _job_template(
    pipeline: Pipeline, job: Job, settings: ArgoOrchestrator, params: Sequence[ParamNames]
) -> Manifest:
    template: Manifest = {"name": job.name}
    if params:
        template["inputs"] = _inputs(params)
    retries = job.retries or pipeline.defaults.retries
    if retries.limit:
        template["retryStrategy"] = _retry_strategy(pipeline, job, retries)
    timeout = job.timeout if job.timeout is not None else pipeline.defaults.timeout
    if timeout is not None:
        template["activeDeadlineSeconds"] = _deadline(timeout)
    env = {**_shared_env(pipeline, params), **job.env}
    env.update({"SAMEDAY_RUN_ID": "{{workflow.name}}", "SAMEDAY_JOB": job.name})
    command = _command(job.command, params, where=f"job {job.name!r} command")
    resources = job.resources if job.resources is not None else pipeline.defaults.resources
    image = job.image or pipeline.defaults.image or settings.image
    template["container"] = _container(settings, image, command, env, resources)
    return template


def _publish_template(
    pipeline: Pipeline, job: Job, task: tuple[str, str, str], settings: ArgoOrchestrator
) -> Manifest:
    name, result_set, path = task
    command = (
        f"sameday publish {shlex.quote(result_set)} --source {shlex.quote(path)} "
        "--run-id {{workflow.name}}"
    )
    env = {**pipeline.defaults.env, "SAMEDAY_PIPELINE": pipeline.name, **job.env}
    env.update({"SAMEDAY_RUN_ID": "{{workflow.name}}", "SAMEDAY_JOB": job.name})
    image = job.image or pipeline.defaults.image or settings.image
    return {"name": name, "container": _container(settings, image, command, env, Resources())}


def _exit_templates(
    pipeline: Pipeline, command: str, settings: ArgoOrchestrator, params: Sequence[ParamNames]
) -> list[Manifest]:
    """A steps template that runs ``on_failure`` only when the run did not succeed."""
    step: Manifest = {"name": "on-failure", "template": ON_FAILURE_TEMPLATE}
    step["when"] = "{{workflow.status}} != Succeeded"
    handler: Manifest = {"name": EXIT_TEMPLATE}
    runner: Manifest = {"name": ON_FAILURE_TEMPLATE}
    if params:
        step["arguments"] = _pass_inputs(params)
        handler["inputs"] = _inputs(params)
        runner["inputs"] = _inputs(params)
    handler["steps"] = [[step]]
    if pipeline.defaults.timeout is not None:
        runner["activeDeadlineSeconds"] = _deadline(pipeline.defaults.timeout)
    env = _shared_env(pipeline, params)
    env.update({"SAMEDAY_RUN_ID": "{{workflow.name}}", "SAMEDAY_RUN_STATUS": "{{workflow.status}}"})
    image = pipeline.defaults.image or settings.image
    command = _command(command, params, where="on_failure")
    runner["container"] = _container(settings, image, command, env, pipeline.defaults.resources)
    return [handler, runner]


def _deadline(timeout: float) -> int:
    return max(1, math.ceil(timeout))


def _container(
    settings: ArgoOrchestrator,
    image: str,
    command: str,
    env: Mapping[str, str],
    resources: Resources,
) -> Manifest:
    container: Manifest = {"image": image}
    if settings.image_pull_policy is not None:
        container["imagePullPolicy"] = settings.image_pull_policy
    # One argument to `sh -c`: quotes, pipes and `&&` reach the shell exactly as written.
    container["command"] = ["sh", "-c"]
    container["args"] = [command]
    container["env"] = [{"name": key, "value": value} for key, value in env.items()]
    quantities = {
        kind: {key: _quantity(value) for key, value in values.items()}
        for kind, values in (("requests", resources.requests), ("limits", resources.limits))
        if values
    }
    if quantities:
        container["resources"] = quantities
    return container


def _quantity(value: str | int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _retry_strategy(pipeline: Pipeline, job: Job, retries: Retries) -> Manifest:
    backoff = retries.backoff
    if not backoff.factor.is_integer():
        raise PipelineError(
            f"job {job.name!r} of pipeline {pipeline.name!r}: Argo's backoff factor is a whole "
            f"number, got {backoff.factor}: use 1, 2, 3, ...",
            pipeline=pipeline.name,
            job=job.name,
        )
    argo_backoff: Manifest = {
        "duration": _go_duration(backoff.delay),
        "factor": int(backoff.factor),
    }
    if backoff.max is not None:
        argo_backoff["cap"] = _go_duration(backoff.max)
    return {"limit": retries.limit, "retryPolicy": "Always", "backoff": argo_backoff}


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
    workflow_spec: Manifest = {"workflowTemplateRef": {"name": name}}
    if DS in pipeline.params:
        workflow_spec["arguments"] = {"parameters": [{"name": DS, "value": SCHEDULED_DATE}]}
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
