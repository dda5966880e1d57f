"""The pod side of the Argo compiler: containers, environment, artifacts, volumes, placement.

Everything here builds plain dictionaries in Argo's (and Kubernetes') field names. How a job's
files travel between pods:

- **artifacts** (the default): a job's ``outputs`` are output artifacts stored uncompressed
  (``archive: none``) under the key ``{{workflow.name}}/<job>/<path>`` of the configured
  S3-compatible artifact repository ("key-only" artifacts: bucket, endpoint and credentials come
  from the repository, never from the manifest). An input is an input artifact with the key of
  the output that holds it; Argo places it at ``<workdir>/<path>`` before the job starts. A file
  inside a stored folder is fetched alone: without an archive, a folder is stored file by file.
- **workspace**: one volume claimed per run (``volumeClaimTemplates``), mounted in every pod at
  each top-level folder the jobs write (``<workdir>/data`` from the claim's ``data``), so the
  image's own files stay visible and the jobs share files as they do on one machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sameday.config.dataflow import Artifact
from sameday.config.pipeline import EnvValue, Resources, SecretValue, Toleration, Workspace
from sameday.config.project import ArgoOrchestrator
from sameday.pipeline._argo_names import k8s_name

Manifest = dict[str, Any]

WORKSPACE_VOLUME = "sameday-workspace"


def artifact_key(job: str, path: str) -> str:
    """Where ``job`` stores ``path`` in the artifact repository, for this run."""
    return f"{{{{workflow.name}}}}/{job}/{path}"


def artifact_names(paths: Iterable[tuple[str, str]]) -> list[str]:
    """A distinct Argo artifact name per (job, path): the path as a name, the job when needed."""
    names: list[str] = []
    for job, path in paths:
        name = k8s_name(path)
        if name in names:
            name = k8s_name(job, path)
        names.append(name)
    return names


def input_artifacts(artifacts: Sequence[Artifact], workdir: str) -> list[Manifest]:
    """Input artifacts fetching each file or folder from the job that stored it."""
    names = artifact_names((a.job, a.path) for a in artifacts)
    return [
        {"name": name, "path": f"{workdir}/{a.path}", "s3": {"key": artifact_key(a.job, a.path)}}
        for name, a in zip(names, artifacts, strict=True)
    ]


def output_artifacts(job: str, paths: Sequence[str], workdir: str) -> list[Manifest]:
    """Output artifacts storing each path the job writes, uncompressed, under the run's key."""
    names = artifact_names((job, path) for path in paths)
    return [
        {
            "name": name,
            "path": f"{workdir}/{path}",
            "archive": {"none": {}},
            "s3": {"key": artifact_key(job, path)},
        }
        for name, path in zip(names, paths, strict=True)
    ]


def env_entries(env: Mapping[str, EnvValue]) -> list[Manifest]:
    """Container ``env``: literal values, and ``secretKeyRef`` for values from a Secret."""
    entries: list[Manifest] = []
    for name, value in env.items():
        if isinstance(value, SecretValue):
            ref = {"name": value.secret, "key": value.key}
            entries.append({"name": name, "valueFrom": {"secretKeyRef": ref}})
        else:
            entries.append({"name": name, "value": value})
    return entries


def storage_env(settings: ArgoOrchestrator, variables: Sequence[str]) -> dict[str, EnvValue]:
    """Each variable of the storage URLs, read from the storage Secret's key of the same name."""
    return {name: SecretValue(secret=settings.storage_secret, key=name) for name in variables}


@dataclass(frozen=True)
class Pod:
    """What a container gets besides its command: image, env, secrets, files, placement."""

    image: str
    env: Mapping[str, EnvValue]
    env_from: Sequence[str] = ()
    resources: Resources | None = None
    mounts: Sequence[str] = ()
    """Top-level folders mounted from the workspace volume."""


def container(
    settings: ArgoOrchestrator, pod: Pod, command: Sequence[str], args: Sequence[str]
) -> Manifest:
    """A container running ``command`` with ``args`` in the project's folder."""
    body: Manifest = {"image": pod.image}
    if settings.image_pull_policy is not None:
        body["imagePullPolicy"] = settings.image_pull_policy
    body["command"] = list(command)
    body["args"] = list(args)
    body["workingDir"] = settings.workdir
    body["env"] = env_entries(pod.env)
    if pod.env_from:
        body["envFrom"] = [{"secretRef": {"name": name}} for name in dict.fromkeys(pod.env_from)]
    quantities = _quantities(pod.resources)
    if quantities:
        body["resources"] = quantities
    if pod.mounts:
        body["volumeMounts"] = [
            {
                "name": WORKSPACE_VOLUME,
                "mountPath": f"{settings.workdir}/{folder}",
                "subPath": folder,
            }
            for folder in pod.mounts
        ]
    return body


def placement(node_selector: Mapping[str, str], tolerations: Sequence[Toleration]) -> Manifest:
    """Template-level ``nodeSelector`` and ``tolerations``, when declared."""
    fields: Manifest = {}
    if node_selector:
        fields["nodeSelector"] = dict(node_selector)
    if tolerations:
        fields["tolerations"] = [_toleration(t) for t in tolerations]
    return fields


def volume_claim(workspace: Workspace) -> Manifest:
    """The claim template of a pipeline's workspace."""
    spec: Manifest = {
        "accessModes": [workspace.access_mode],
        "resources": {"requests": {"storage": workspace.size}},
    }
    if workspace.storage_class is not None:
        spec["storageClassName"] = workspace.storage_class
    return {"metadata": {"name": WORKSPACE_VOLUME}, "spec": spec}


def _toleration(toleration: Toleration) -> Manifest:
    body: Manifest = {}
    if toleration.key is not None:
        body["key"] = toleration.key
    body["operator"] = toleration.operator
    if toleration.value is not None:
        body["value"] = toleration.value
    if toleration.effect is not None:
        body["effect"] = toleration.effect
    if toleration.seconds is not None:
        body["tolerationSeconds"] = toleration.seconds
    return body


def _quantities(resources: Resources | None) -> Manifest:
    if resources is None:
        return {}
    return {
        kind: {key: _quantity(value) for key, value in values.items()}
        for kind, values in (("requests", resources.requests), ("limits", resources.limits))
        if values
    }


def _quantity(value: str | int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
