"""Compile a project's server to Kubernetes manifests: ``sameday compile --target k8s``.

Plain manifests rather than a Helm chart: they are checked against the Kubernetes schemas in the
tests, need no tool beyond ``kubectl``, review as a diff, and can be patched with kustomize. The
objects, all named ``serve.kubernetes.name`` (``<project>-serve`` by default) and carrying the
``app.kubernetes.io/*`` labels:

- a **ConfigMap** with the ``sameday.yaml`` the server reads (see :mod:`._k8s_config`), mounted
  read-only; its hash is a pod annotation, so a change rolls the pods;
- a **Deployment**: the image's ``sameday serve`` on all addresses, every ``${VAR}`` of its
  settings from a Secret (``secretKeyRef``, never a value), probes on ``/readyz`` (readiness) and
  ``/healthz`` (start-up and liveness), a non-root, read-only, capability-free container with
  ``/tmp`` its only writable folder, no service-account token (the server calls no Kubernetes
  API), a rolling update that never goes below the current capacity, and a graceful stop: a
  ``preStop`` pause while endpoints stop routing to the pod, then SIGTERM, on which the server
  drains its requests (``serve.shutdown_timeout``) and flushes its event buffer, all within
  ``terminationGracePeriodSeconds``;
- a **Service** on the ``http`` port;
- a **HorizontalPodAutoscaler** (``autoscaling/v2``, on CPU) unless disabled, in which case the
  Deployment holds the replica count (with one it does not, so ``kubectl apply`` never resets
  what the autoscaler chose);
- a **PodDisruptionBudget** (``policy/v1``).

The output needs Kubernetes 1.29 or newer (checked against the 1.29 to 1.37 schemas).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from sameday.config.kubernetes import KubernetesServe, SecretKey
from sameday.config.loader import PROJECT_FILE, Project
from sameday.deploy._k8s_config import (
    ServerConfig,
    check_server_config,
    load_server_project,
    server_config,
)
from sameday.errors import ConfigError, Problem
from sameday.pipeline.argo import Manifest, k8s_name

__all__ = [
    "CONFIG_DIR",
    "FLUSH_SECONDS",
    "USER_ID",
    "compile_k8s",
    "grace_period",
    "load_server_project",
]

CONFIG_DIR = "/etc/sameday"
"""Where the pods see the ConfigMap: ``sameday serve --project`` this."""
FLUSH_SECONDS = 5
"""Time the server takes at most, after draining, to write its buffered events
(:meth:`~sameday.events.writer.EventWriter.close`)."""
MARGIN_SECONDS = 5
USER_ID = 10001
"""The uid and gid the pods run as: the Dockerfile's USER."""


def compile_k8s(project: Project, *, allow_local_storage: bool = False) -> list[Manifest]:
    """The manifests that run ``project``'s server: ConfigMap, Deployment, Service, then the
    HorizontalPodAutoscaler (unless disabled) and PodDisruptionBudget.

    Raises:
        ConfigError: no image is set, autoscaling lacks a CPU request or a sane maximum,
            storage the pods cannot share (without ``allow_local_storage``), no API key;
            each located in ``sameday.yaml``, saying what to change.
    """
    settings = project.settings.serve.kubernetes
    _check(project, settings)
    name = settings.name or k8s_name(project.name, "serve")
    config = server_config(project, settings, secret=settings.secret or name)
    scaling = settings.autoscaling
    most = scaling.max_replicas if scaling.enabled else settings.replicas
    check_server_config(project, config, replicas=most, allow_local_storage=allow_local_storage)
    selector = {"app.kubernetes.io/name": "sameday", "app.kubernetes.io/instance": name}
    labels = {
        **settings.labels,
        **selector,
        "app.kubernetes.io/component": "server",
        "app.kubernetes.io/part-of": project.name,
        "app.kubernetes.io/managed-by": "sameday",
    }

    def metadata(**extra: Any) -> Manifest:
        out: Manifest = {"name": name}
        if settings.namespace is not None:
            out["namespace"] = settings.namespace
        return {**out, "labels": dict(labels), **extra}

    manifests: list[Manifest] = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata(),
            "data": {PROJECT_FILE: config.text},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": metadata(),
            "spec": _deployment_spec(name, project, config, selector, labels),
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(),
            "spec": {
                "type": settings.service.type,
                "selector": dict(selector),
                "ports": [
                    {
                        "name": "http",
                        "port": settings.service.port,
                        "targetPort": "http",
                        "protocol": "TCP",
                    }
                ],
            },
        },
    ]
    if scaling.enabled:
        manifests.append(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": metadata(),
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                    "minReplicas": settings.replicas,
                    "maxReplicas": scaling.max_replicas,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {
                                    "type": "Utilization",
                                    "averageUtilization": scaling.cpu_utilization,
                                },
                            },
                        }
                    ],
                },
            }
        )
    manifests.append(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": metadata(),
            "spec": {
                "maxUnavailable": settings.pod_disruption_budget.max_unavailable,
                "selector": {"matchLabels": dict(selector)},
            },
        }
    )
    return manifests


def grace_period(pre_stop: float, shutdown_timeout: float) -> int:
    """``terminationGracePeriodSeconds``: the ``preStop`` pause, the drain, the flush and a
    margin; past it the kubelet kills the container, and buffered events with it."""
    return math.ceil(pre_stop) + math.ceil(shutdown_timeout) + FLUSH_SECONDS + MARGIN_SECONDS


def _check(project: Project, settings: KubernetesServe) -> None:
    source = project.sources[("project", project.name)]
    where = ("serve", "kubernetes")
    problems: list[Problem] = []
    if settings.image is None:
        problems.append(
            source.problem(
                where,
                "no image: build the server's image from the sameday "
                "repository's Dockerfile, push it, and write its name here (see docs/deploy.md)",
            )
        )
    scaling = settings.autoscaling
    if scaling.enabled and "cpu" not in settings.resources.requests:
        problems.append(
            source.problem(
                (*where, "resources"),
                "autoscaling on CPU needs a CPU request (resources.requests.cpu, e.g. 250m), "
                "or set autoscaling.enabled to false",
            )
        )
    if scaling.enabled and scaling.max_replicas < settings.replicas:
        problems.append(
            source.problem(
                (*where, "autoscaling", "max_replicas"),
                f"max_replicas ({scaling.max_replicas}) is below replicas ({settings.replicas}), "
                "the autoscaler's minimum: raise it",
            )
        )
    if problems:
        raise ConfigError(problems)


def _deployment_spec(
    name: str,
    project: Project,
    config: ServerConfig,
    selector: dict[str, str],
    labels: dict[str, str],
) -> Manifest:
    serve = project.settings.serve
    settings = serve.kubernetes
    digest = hashlib.sha256(config.text.encode()).hexdigest()
    pod: Manifest = {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": grace_period(settings.pre_stop, serve.shutdown_timeout),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": USER_ID,
            "runAsGroup": USER_ID,
            "fsGroup": USER_ID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [_container(settings, config, serve.port)],
        "volumes": [
            {
                "name": "config",
                "configMap": {
                    "name": name,
                    "items": [{"key": PROJECT_FILE, "path": PROJECT_FILE}],
                },
            },
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        ],
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": dict(selector)},
            }
        ],
    }
    if settings.service_account is not None:
        pod["serviceAccountName"] = settings.service_account
    if settings.node_selector:
        pod["nodeSelector"] = dict(settings.node_selector)
    spec: Manifest = {}
    if not settings.autoscaling.enabled:
        spec["replicas"] = settings.replicas
    spec.update(
        {
            "selector": {"matchLabels": dict(selector)},
            # one extra pod at a time, none taken down before its replacement is ready
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {
                    "labels": dict(labels),
                    "annotations": {
                        **settings.pod_annotations,
                        "sameday.dev/config-sha256": digest,
                    },
                },
                "spec": pod,
            },
        }
    )
    return spec


def _container(settings: KubernetesServe, config: ServerConfig, port: int) -> Manifest:
    container: Manifest = {"name": "server", "image": settings.image}
    if settings.image_pull_policy is not None:
        container["imagePullPolicy"] = settings.image_pull_policy
    container["args"] = ["--project", CONFIG_DIR, "--host", "0.0.0.0", "--port", str(port)]
    container["ports"] = [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    container["env"] = [
        {"name": name, "valueFrom": {"secretKeyRef": _secret_ref(ref)}}
        for name, ref in config.env.items()
    ]
    quantities = {
        kind: {key: _quantity(value) for key, value in values.items()}
        for kind, values in (
            ("requests", settings.resources.requests),
            ("limits", settings.resources.limits),
        )
        if values
    }
    if quantities:
        container["resources"] = quantities
    container["startupProbe"] = _probe("/healthz", period=2, failures=30)
    container["readinessProbe"] = _probe("/readyz", period=5, failures=2)
    container["livenessProbe"] = _probe("/healthz", period=10, failures=3)
    if settings.pre_stop > 0:
        pause = f"{settings.pre_stop:.3f}".rstrip("0").rstrip(".")  # what sleep(1) reads
        container["lifecycle"] = {"preStop": {"exec": {"command": ["sleep", pause]}}}
    container["securityContext"] = {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    container["volumeMounts"] = [
        {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    return container


def _secret_ref(ref: SecretKey) -> Manifest:
    out: Manifest = {"name": ref.secret, "key": ref.key}
    if ref.optional:
        out["optional"] = True
    return out


def _probe(path: str, *, period: int, failures: int) -> Manifest:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def _quantity(value: str | int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
