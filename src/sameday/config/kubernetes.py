"""``serve.kubernetes`` in ``sameday.yaml``: how ``sameday compile --target k8s`` deploys a server.

Values here are read when compiling (``${VAR}`` from the compiling shell, e.g. an image tag set by
CI); the server's own settings (``storage``, the rest of ``serve``) are read in the pod, their
``${VAR}``\\ s from Kubernetes Secrets (see :mod:`sameday.deploy.k8s`).
"""

import re
from typing import Literal

from pydantic import Field, field_validator
from pydantic.config import JsonDict

from sameday.config._base import Duration, StrictModel
from sameday.config.pipeline import Resources

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")
_SUBDOMAIN = re.compile(DNS_SUBDOMAIN)
# the same rules as JSON Schema patterns, so editors flag what check_labels refuses (the 253
# characters of a prefix are left to the loader)
_KEY_SCHEMA: JsonDict = {
    "pattern": "^(" + DNS_SUBDOMAIN[1:-1] + "/)?" + _LABEL_NAME.pattern[1:-1] + "$",
    "maxLength": 253 + 1 + 63,
}
_LABELS_SCHEMA: JsonDict = {
    "propertyNames": _KEY_SCHEMA,
    "additionalProperties": {"type": "string", "pattern": _LABEL_VALUE.pattern},
}
_ANNOTATIONS_SCHEMA: JsonDict = {"propertyNames": _KEY_SCHEMA}


def check_labels(labels: dict[str, str], *, values: bool = True) -> dict[str, str]:
    """Kubernetes label (or, with ``values=False``, annotation) keys, and label values.

    Raises:
        ValueError: naming the first key or value Kubernetes would refuse, and the rule.
    """
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        bad_prefix = prefix and (len(prefix) > 253 or not _SUBDOMAIN.match(prefix))
        if bad_prefix or not _LABEL_NAME.match(name):
            raise ValueError(
                f"{key!r} is not a Kubernetes key: an optional DNS prefix and '/', then at most "
                "63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
            )
        if values and not _LABEL_VALUE.match(value):
            raise ValueError(
                f"label {key}: {value!r} is not a Kubernetes label value: at most 63 letters, "
                "digits, '-', '_' or '.', starting and ending with a letter or digit"
            )
    return labels


class SecretKey(StrictModel):
    """One environment variable of the server, from a key of a Kubernetes Secret."""

    secret: str = Field(pattern=DNS_SUBDOMAIN, max_length=253, description="Name of the Secret.")
    key: str = Field(pattern=r"^[-._a-zA-Z0-9]+$", max_length=253, description="Key in the Secret.")
    optional: bool = Field(
        False,
        description="Start the pod even when the key is missing, leaving the variable unset "
        "(then a ${VAR:-default} default applies). Off by default: a forgotten key stops the "
        "pod from starting instead of falling back silently.",
    )


class Autoscaling(StrictModel):
    """A HorizontalPodAutoscaler on CPU use; its minimum is ``replicas``."""

    enabled: bool = True
    max_replicas: int = Field(10, ge=1, description="Most replicas the autoscaler may run.")
    cpu_utilization: int = Field(
        70, ge=1, le=1000, description="Target CPU use, in percent of the CPU request."
    )


class Service(StrictModel):
    """The Service in front of the replicas."""

    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"
    port: int = Field(80, ge=1, le=65535, description="Port the Service listens on.")


class DisruptionBudget(StrictModel):
    """The PodDisruptionBudget: how many replicas a node drain may take down at once."""

    max_unavailable: int = Field(1, ge=1)


def _default_resources() -> Resources:
    return Resources(requests={"cpu": "250m", "memory": "256Mi"}, limits={"memory": "512Mi"})


class KubernetesServe(StrictModel):
    """How ``sameday compile --target k8s`` deploys ``sameday serve``."""

    image: str | None = Field(
        None,
        description="Image of the server, built from the repository's Dockerfile, by tag or "
        "digest (registry.example.com/sameday-serve:0.4.0). Required to compile.",
    )
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    namespace: str | None = Field(
        None, pattern=DNS_LABEL, description="Namespace of every object (default: kubectl's)."
    )
    name: str | None = Field(
        None,
        pattern=DNS_LABEL,
        description="Name of the Deployment, Service and the rest (default: <project>-serve).",
    )
    replicas: int = Field(2, ge=1, description="Replicas; the autoscaler's minimum if enabled.")
    autoscaling: Autoscaling = Field(default_factory=Autoscaling)
    resources: Resources = Field(
        default_factory=_default_resources,
        description="Container requests and limits (no CPU limit by default: throttling shows "
        "as latency).",
    )
    service: Service = Field(default_factory=Service)
    pod_disruption_budget: DisruptionBudget = Field(default_factory=DisruptionBudget)
    pre_stop: Duration = Field(
        5.0,
        description="Pause before SIGTERM, so endpoints stop routing to a terminating pod "
        "before it stops accepting; 0 for none.",
    )
    secret: str | None = Field(
        None,
        pattern=DNS_SUBDOMAIN,
        max_length=253,
        description="Secret holding every ${VAR} of the server's settings, each under the "
        "variable's name (default: the name above).",
    )
    env: dict[str, SecretKey] = Field(
        default_factory=dict,
        description="Variables from other Secrets or keys, or optional ones, by variable name.",
    )
    service_account: str | None = Field(
        None,
        pattern=DNS_SUBDOMAIN,
        max_length=253,
        description="serviceAccountName of the pods. The server calls no Kubernetes API: no "
        "token is mounted either way.",
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="Labels on every object.",
        json_schema_extra=_LABELS_SCHEMA,
    )
    pod_annotations: dict[str, str] = Field(
        default_factory=dict,
        description="Annotations on the pods (e.g. prometheus.io/scrape).",
        json_schema_extra=_ANNOTATIONS_SCHEMA,
    )
    node_selector: dict[str, str] = Field(default_factory=dict, json_schema_extra=_LABELS_SCHEMA)

    @field_validator("labels", "node_selector")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        return check_labels(value)

    @field_validator("pod_annotations")
    @classmethod
    def _annotations(cls, value: dict[str, str]) -> dict[str, str]:
        return check_labels(value, values=False)

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, SecretKey]) -> dict[str, SecretKey]:
        for name in value:
            if not re.match(ENV_NAME, name):
                raise ValueError(
                    f"{name!r} is not an environment variable name: letters, digits and '_', "
                    "not starting with a digit"
                )
        return value
