"""``sameday.yaml``: the project's name, where its data lives, and how it runs."""

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from sameday import registry, urls
from sameday.config._base import Duration, Name, PositiveDuration, StrictModel
from sameday.config.datasets import Lineage
from sameday.config.kubernetes import KubernetesServe
from sameday.config.pipeline import Workspace


def _url_schema(kind: str) -> dict[str, Any]:
    """A JSON Schema ``pattern`` so editors flag a mistyped scheme as the loader does; a value
    with ``${VAR}`` is left to the loader, which checks it once interpolated."""
    schemes = "|".join(scheme.replace("+", "\\+") for scheme in registry.schemes(kind))
    return {"pattern": f"^(?:.*\\$\\{{.*|(?:{schemes})://.*)$"}


class Storage(StrictModel):
    """Where sameday keeps its data. Relative SQLite paths and folders are taken from the project.

    The defaults are embedded files under ``.sameday/`` and need no server.
    """

    metadata: str = Field(
        "sqlite:///.sameday/metadata.db",
        json_schema_extra=_url_schema("metadata"),
        description="SQLAlchemy URL of the metadata database (runs, snapshots, experiments). "
        "sqlite:///relative/path.db or postgresql+psycopg://user@host/db.",
    )
    serving: str = Field(
        "sqlite:///.sameday/serving.db",
        json_schema_extra=_url_schema("serving"),
        description="Serving store for published lists: sqlite:///path.db, redis://host:6379/0 "
        "or redis+cluster://host:6379 (a Redis Cluster).",
    )
    events: str = Field(
        "sqlite:///.sameday/events.db",
        json_schema_extra=_url_schema("events"),
        description="Event log for exposures and outcomes: sqlite:///path.db, "
        "postgresql+psycopg://user@host/db, or Parquet files: parquet:///folder or "
        "s3://bucket/prefix.",
    )
    artifacts: str = Field(
        ".sameday/artifacts",
        description="Folder (or fsspec URL) for run artifacts and compiled bundles.",
    )

    @field_validator("metadata", "serving", "events")
    @classmethod
    def _known_url(cls, url: str, info: ValidationInfo) -> str:
        """A mistyped scheme or port fails at ``sameday validate``, not at the first publish;
        the message shows the URL without its password (see :mod:`sameday.registry`)."""
        problem = registry.check(str(info.field_name), url)
        if problem is not None:
            raise ValueError(problem)
        return url

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Reprs (and logs of them) show each URL without its password."""
        for name, value in super().__repr_args__():
            yield name, urls.redact(value) if isinstance(value, str) else value


class LocalOrchestrator(StrictModel):
    """Settings of the local runner (``sameday run``)."""

    parallel: int = Field(2, ge=1, le=256, description="Jobs run at once by default.")
    runs_dir: str = Field(".sameday/runs", description="Where per-attempt log files are written.")


class ArtifactRepositoryRef(StrictModel):
    """Which of the cluster's S3-compatible artifact repositories the workflows use."""

    config_map: str = Field(
        "artifact-repositories", description="ConfigMap holding the repository configurations."
    )
    key: str | None = Field(
        None, description="Key in that ConfigMap (default: the one its annotation names)."
    )


class Ttl(StrictModel):
    """How long finished workflows (and their pods) stay in the cluster before Argo deletes them."""

    after_success: Duration | None = Field(86400.0, description="Default one day.")
    after_failure: Duration | None = Field(604800.0, description="Default one week.")


class PublishSettings(StrictModel):
    """Retries and deadline of sameday's own tasks on Argo: ``publish-*`` and recording the run."""

    retries: int = Field(
        2, ge=0, le=20, description="Retries of a publication the pod or the store failed."
    )
    timeout: Duration = Field(1800.0, description="Deadline of each attempt.")


class ArgoOrchestrator(StrictModel):
    """Settings used when compiling pipelines to Argo Workflows."""

    namespace: str | None = Field(None, description="Kubernetes namespace of the manifests.")
    image: str | None = Field(
        None,
        description="Default container image when a pipeline names none: an image built from the "
        "project's Dockerfile, holding sameday and the project's files.",
    )
    workdir: str = Field(
        "/app",
        pattern=r"^/",
        description="The project's folder in the image (WORKDIR of the Dockerfile): where jobs "
        "run and where their inputs and outputs are placed.",
    )
    service_account: str | None = Field(None, description="serviceAccountName of the workflows.")
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    labels: dict[str, str] = Field(default_factory=dict, description="Labels on every manifest.")
    storage_secret: str = Field(
        "sameday-storage",
        description="Kubernetes Secret the pods read every ${VAR} of the storage URLs from "
        "(one key per variable).",
    )
    artifact_repository: ArtifactRepositoryRef | None = Field(
        None,
        description="spec.artifactRepositoryRef of the workflows (default: the namespace's "
        "default artifact repository).",
    )
    workspace: Workspace = Field(
        default_factory=Workspace,
        description="Size and storage class of the volume of pipelines that ask for a workspace.",
    )
    pod_gc: (
        Literal["OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess"]
        | None
    ) = Field(
        "OnWorkflowSuccess",
        description="When Argo deletes the pods (null: never). The default keeps the pods of a "
        "failed run for `kubectl logs` until its TTL.",
    )
    fs_group: int | None = Field(
        10001,
        ge=0,
        description="securityContext.fsGroup of the pods of a pipeline with a workspace, so the "
        "volume is writable by the image's user (the scaffolded Dockerfile's group is 10001).",
    )
    ttl: Ttl = Field(default_factory=Ttl)
    publish: PublishSettings = Field(default_factory=PublishSettings)


class Orchestrator(StrictModel):
    """Which engine runs pipelines, and its settings."""

    default: Literal["local", "argo"] = "local"
    local: LocalOrchestrator = Field(default_factory=LocalOrchestrator)
    argo: ArgoOrchestrator = Field(default_factory=ArgoOrchestrator)


class ApiKeys(StrictModel):
    """HTTP API keys. Write them as ``${ENV_VAR}`` so secrets never sit in the repository."""

    serving: str | None = Field(None, description="Key for recommend and events endpoints.")
    admin: str | None = Field(None, description="Key for endpoints that change state.")
    read: str | None = Field(
        None, description="Key for the dashboard's pages, read-only (sameday ui)."
    )

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Reprs show whether a key is set, never the key."""
        for name, value in super().__repr_args__():
            yield name, urls.HIDDEN if value else value


class ServeSettings(StrictModel):
    """Settings of ``sameday serve``."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    api_keys: ApiKeys = Field(default_factory=ApiKeys)
    refresh_interval: Duration = Field(
        2.0, description="How often servers look for newly applied config and snapshots."
    )
    read_deadline: PositiveDuration = Field(
        0.1,
        description="How long a request waits for the serving store before it is answered "
        "from the last-known-good lists (degraded).",
    )
    memory_limit: int = Field(
        512 << 20,
        ge=0,
        description="Bytes of live snapshots a server process holds in memory and serves "
        "without a store read (a new version is read whole when the refresher sees it); a "
        "snapshot that does not fit is read from the store per request. 0: always the store.",
    )
    max_body: int = Field(
        1 << 20, ge=1024, description="Largest request body accepted, in bytes (else 413)."
    )
    body_timeout: PositiveDuration = Field(
        30.0, description="Time a client has to send a whole request body (else 408)."
    )
    shutdown_timeout: PositiveDuration = Field(
        15.0,
        description="On SIGTERM, how long requests in flight may take to finish before they are "
        "cancelled; the event buffer is flushed after (up to 5 s more).",
    )
    kubernetes: KubernetesServe = Field(
        default_factory=KubernetesServe,
        description="How `sameday compile --target k8s` deploys the server.",
    )


class ModelSettings(StrictModel):
    """The model registry (``sameday models``): its cache, and MLflow if the team runs one."""

    cache: str = Field(
        ".sameday/cache/models",
        description="Folder where bundles kept at a URL are downloaded (and verified) to load.",
    )
    mlflow_tracking_uri: str | None = Field(
        None,
        description="MLflow tracking server (http://host:5000) to mirror runs, parameters, "
        "metrics, versions and aliases to, and where models:/ references are looked up. "
        "Write it as ${MLFLOW_TRACKING_URI} to take it from the environment.",
    )
    mlflow_experiment: str | None = Field(
        None, description="MLflow experiment the mirrored runs go to (default: the project name)."
    )

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Reprs show the tracking URI without its password."""
        for name, value in super().__repr_args__():
            yield name, urls.redact(value) if isinstance(value, str) else value


class ProjectSettings(StrictModel):
    """The project file, ``sameday.yaml``, at the root of a sameday project."""

    name: Name = Field(description="The project's name.")
    description: str = ""
    storage: Storage = Field(default_factory=Storage)
    orchestrator: Orchestrator = Field(default_factory=Orchestrator)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    lineage: Lineage = Field(default_factory=Lineage)
    models: ModelSettings = Field(default_factory=ModelSettings)
