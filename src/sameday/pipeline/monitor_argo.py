"""Compile a project's monitors to Argo CronWorkflows: one per monitor, on its schedule.

Each CronWorkflow runs ``sameday monitor run --monitor NAME`` once in the project's image
(``orchestrator.argo.image``, which must hold sameday and the project files, as for the
pipelines' publish steps). The command exits 1 when a check fails, so a failing monitor shows
as a failed workflow in Argo, besides its alerts. ``concurrencyPolicy: Forbid`` keeps two passes
of one monitor from overlapping; the outbox would keep them from double-sending anyway.

Names and labels follow the pipeline compiler (``sameday.pipeline._argo_names``): the
CronWorkflow is ``<project>-monitor-<monitor>``, shortened with a hash to 52 characters.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from sameday.config.monitor import Monitor
from sameday.config.project import ArgoOrchestrator
from sameday.errors import PipelineError
from sameday.pipeline._argo_names import MAX_CRON_NAME, k8s_name, manifest_labels
from sameday.pipeline.argo import API_VERSION, STARTING_DEADLINE_SECONDS, Manifest

TEMPLATE = "sameday-monitor"
DEADLINE_SECONDS = 900
"""A monitor pass that takes longer than this is stopped: it is stuck, not slow."""
HISTORY = 3
"""Finished workflows of each outcome kept per CronWorkflow, to look at recent passes."""


def monitor_manifest_name(project_name: str, monitor_name: str) -> str:
    """``<project>-monitor-<monitor>``, at most 52 characters (a CronWorkflow's limit)."""
    return k8s_name(project_name, "monitor", monitor_name, limit=MAX_CRON_NAME)


def compile_monitors(
    monitors: Mapping[str, Monitor], settings: ArgoOrchestrator, *, project_name: str
) -> list[Manifest]:
    """One CronWorkflow per monitor, in name order.

    Raises:
        PipelineError: no ``orchestrator.argo.image`` to run them in, or a namespace, service
            account or label in ``orchestrator.argo`` is not valid in Kubernetes.
    """
    if settings.image is None:
        raise PipelineError(
            "the monitors run in the project's image: build one from the project's Dockerfile "
            "(docker build -t REGISTRY/NAME:TAG . && docker push REGISTRY/NAME:TAG) and set it "
            "as orchestrator.argo.image in sameday.yaml"
        )
    return [_cron_workflow(monitors[name], settings, project_name) for name in sorted(monitors)]


def _cron_workflow(monitor: Monitor, settings: ArgoOrchestrator, project_name: str) -> Manifest:
    name = monitor_manifest_name(project_name, monitor.name)
    labels = manifest_labels(settings, project_name, monitor.name)
    labels.pop("sameday.dev/pipeline")
    labels["sameday.dev/monitor"] = monitor.name
    container: Manifest = {"image": settings.image}
    if settings.image_pull_policy is not None:
        container["imagePullPolicy"] = settings.image_pull_policy
    container["command"] = ["sh", "-c"]
    container["args"] = [f"sameday monitor run --monitor {shlex.quote(monitor.name)}"]
    template: Manifest = {
        "name": TEMPLATE,
        "activeDeadlineSeconds": DEADLINE_SECONDS,
        "container": container,
    }
    workflow: Manifest = {"entrypoint": TEMPLATE}
    if settings.service_account is not None:
        workflow["serviceAccountName"] = settings.service_account
    workflow["workflowMetadata"] = {"labels": dict(labels)}
    workflow["templates"] = [template]
    metadata: Manifest = {"name": name}
    if settings.namespace is not None:
        metadata["namespace"] = settings.namespace
    metadata["labels"] = labels
    if monitor.description:
        metadata["annotations"] = {"workflows.argoproj.io/description": monitor.description}
    spec: Manifest = {
        "schedules": [monitor.schedule.cron],
        "timezone": monitor.schedule.timezone,
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": STARTING_DEADLINE_SECONDS,
        "successfulJobsHistoryLimit": HISTORY,
        "failedJobsHistoryLimit": HISTORY,
        "workflowSpec": workflow,
    }
    return {"apiVersion": API_VERSION, "kind": "CronWorkflow", "metadata": metadata, "spec": spec}
