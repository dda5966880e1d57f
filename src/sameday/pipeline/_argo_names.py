"""Names and labels for the Argo compiler: derived ones are made to fit, chosen ones are checked.

Kubernetes limits object names and label values to 63 characters of ``[a-z0-9-]``; Argo appends
``-<10-digit unix time>`` to the Workflows a CronWorkflow starts, and those names become pod label
values, so a CronWorkflow name must stay within 52 characters. Names sameday derives (the
``<project>-<pipeline>`` manifest name, ``publish-<result set>`` tasks) are shortened with a hash;
names a person chose (namespace, service account, labels) are only checked, because renaming
them silently would deploy something other than what was written.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sameday.config.pipeline import Pipeline
from sameday.config.project import ArgoOrchestrator
from sameday.errors import PipelineError
from sameday.pipeline.params import DS, env_name

MAX_NAME = 63
MAX_CRON_NAME = 52
TRIGGER_PARAM = "sameday-trigger"
"""The workflow parameter telling the exit handler how a run started (``manual``, ``schedule``)."""

_LABEL_PART = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def k8s_name(*parts: str, limit: int = MAX_NAME) -> str:
    """``parts`` joined by ``-`` as a Kubernetes name of at most ``limit`` characters.

    Characters outside ``[a-z0-9-]`` become ``-``. A name that is too long keeps a readable prefix
    and ends with 8 hex digits of its SHA-256, so two long names stay distinct and stable.

    Raises:
        PipelineError: nothing usable is left (no letter or digit in ``parts``).
    """
    name = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", "-".join(parts).lower())).strip("-")
    if not name:
        raise PipelineError(f"cannot make a Kubernetes name from {parts!r}: use letters or digits")
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - len(digest) - 1].rstrip('-')}-{digest}"


def manifest_name(project_name: str, pipeline_name: str) -> str:
    """The name of a pipeline's WorkflowTemplate and CronWorkflow: ``<project>-<pipeline>``.

    The project prefix keeps pipelines of two projects apart in a shared namespace; both
    manifests share the name so ``kubectl get workflowtemplate,cronworkflow NAME`` finds them.
    """
    return k8s_name(project_name, pipeline_name, limit=MAX_CRON_NAME)


@dataclass(frozen=True)
class ParamNames:
    """How one pipeline param is called in Argo and in a command's environment."""

    key: str
    """The name in the pipeline file (and in ``{{params.KEY}}``)."""
    argo: str
    """The Argo parameter name: ``key`` with '.' as '_' (Argo allows letters, digits, '_', '-')."""
    env: str
    """The environment variable, named as the local runner names it (``ds`` -> ``DS``)."""


def param_names(pipeline: Pipeline) -> list[ParamNames]:
    """The Argo and environment names of every param, in declaration order.

    Raises:
        PipelineError: a param whose variable would start with a digit, two params that would
            share an Argo or environment name, or a param without a default on a scheduled
            pipeline (a CronWorkflow has nobody to ask for a value).
    """
    names: list[ParamNames] = []
    for key, param in pipeline.params.items():
        entry = ParamNames(key, key.replace(".", "_"), env_name(key))
        if not _ENV_NAME.match(entry.env):
            _fail(
                pipeline,
                f"param {key!r} would be ${entry.env}, which no shell can read: "
                "rename it so it starts with a letter",
            )
        if entry.argo == TRIGGER_PARAM:
            _fail(pipeline, f"param {key!r} is a name sameday uses on Argo: rename it")
        for other in names:
            if entry.argo == other.argo or entry.env == other.env:
                _fail(
                    pipeline,
                    f"params {other.key!r} and {key!r} would share the Argo "
                    f"parameter {entry.argo!r} or the variable ${entry.env}: rename one",
                )
        if pipeline.schedule is not None and key != DS and param.default is None:
            _fail(
                pipeline,
                f"param {key!r} has no default, and a scheduled run has nobody to "
                "ask for it: add 'default:' to the param",
            )
        names.append(entry)
    return names


def manifest_labels(
    settings: ArgoOrchestrator, project_name: str, pipeline_name: str
) -> dict[str, str]:
    """The recommended ``app.kubernetes.io/*`` labels, ``orchestrator.argo.labels``, then
    sameday's own (which win), all checked.

    ``name`` (sameday), ``instance`` (the manifest name), ``component`` (pipeline) and ``part-of``
    (the project) can be overridden in ``orchestrator.argo.labels``; ``managed-by`` and the
    ``sameday.dev/*`` labels cannot, since sameday finds its objects by them.

    Raises:
        PipelineError: a label key or value, the namespace or the service account is not valid
            in Kubernetes; the message names the setting to fix.
    """
    check_settings(settings)
    labels = {
        "app.kubernetes.io/name": "sameday",
        "app.kubernetes.io/instance": manifest_name(project_name, pipeline_name),
        "app.kubernetes.io/component": "pipeline",
        "app.kubernetes.io/part-of": project_name,
    }
    labels.update(settings.labels)
    labels["app.kubernetes.io/managed-by"] = "sameday"
    labels["sameday.dev/project"] = project_name
    labels["sameday.dev/pipeline"] = pipeline_name
    for key, value in labels.items():
        prefix, _, short = key.rpartition("/")
        key_ok = 0 < len(short) <= MAX_NAME and bool(_LABEL_PART.match(short))
        if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
            key_ok = False
        if not key_ok or len(value) > MAX_NAME or not _LABEL_PART.match(value):
            raise PipelineError(
                f"label {key}={value!r} is not valid in Kubernetes: a key is [prefix/]name and "
                "a value at most 63 letters, digits, '-', '_' or '.', starting and ending with a "
                "letter or digit; fix orchestrator.argo.labels in sameday.yaml"
            )
    return labels


def check_settings(settings: ArgoOrchestrator) -> None:
    """Check the namespace and service account, which are used as written.

    Raises:
        PipelineError: either is not a valid Kubernetes name.
    """
    namespace, account = settings.namespace, settings.service_account
    if namespace is not None and (len(namespace) > MAX_NAME or not _DNS_LABEL.match(namespace)):
        raise PipelineError(
            f"orchestrator.argo.namespace {namespace!r} is not a Kubernetes namespace name: use "
            "at most 63 lower-case letters, digits and '-', starting and ending with a letter "
            "or digit"
        )
    if account is not None and (len(account) > 253 or not _DNS_SUBDOMAIN.match(account)):
        raise PipelineError(
            f"orchestrator.argo.service_account {account!r} is not a Kubernetes name: use "
            "lower-case letters, digits, '-' and '.'"
        )


def check_unique(pipeline: Pipeline, names: Iterable[str], reserved: Iterable[str]) -> None:
    """Fail if two templates share a name (a job named like one of sameday's own templates).

    Raises:
        PipelineError: naming the clash and how to resolve it.
    """
    seen: set[str] = set()
    for name in names:
        if name in seen:
            _fail(
                pipeline,
                f"two Argo templates would be called {name!r}. sameday uses "
                f"{', '.join(repr(r) for r in reserved)} and 'publish-<result set>' (each result "
                "set is published once per run): rename the job, or publish the result set "
                "from one output only",
            )
        seen.add(name)


def _fail(pipeline: Pipeline, message: str) -> None:
    raise PipelineError(f"pipeline {pipeline.name!r}: {message}", pipeline=pipeline.name)
