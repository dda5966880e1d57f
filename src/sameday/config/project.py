"""``sameday.yaml``: the project's name, where its data lives, and how it runs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sameday.config._base import Duration, Name, StrictModel


class Storage(StrictModel):
    """Where sameday keeps its data. Relative SQLite paths and folders are taken from the project.

    The defaults are embedded files under ``.sameday/`` and need no server.
    """

    metadata: str = Field(
        "sqlite:///.sameday/metadata.db",
        description="SQLAlchemy URL of the metadata database (runs, snapshots, experiments). "
        "sqlite:///relative/path.db or postgresql+psycopg://user@host/db.",
    )
    serving: str = Field(
        "sqlite:///.sameday/serving.db",
        description="Serving store for published lists: sqlite:///path.db or redis://host:6379/0.",
    )
    events: str = Field(
        "sqlite:///.sameday/events.db",
        description="Event log for exposures and outcomes: sqlite:///path.db or "
        "postgresql+psycopg://user@host/db.",
    )
    artifacts: str = Field(
        ".sameday/artifacts",
        description="Folder (or fsspec URL) for run artifacts and compiled bundles.",
    )


class LocalOrchestrator(StrictModel):
    """Settings of the local runner (``sameday run``)."""

    parallel: int = Field(2, ge=1, le=256, description="Jobs run at once by default.")
    runs_dir: str = Field(".sameday/runs", description="Where per-attempt log files are written.")


class ArgoOrchestrator(StrictModel):
    """Settings used when compiling pipelines to Argo Workflows."""

    namespace: str | None = Field(None, description="Kubernetes namespace of the manifests.")
    image: str = Field(
        "python:3.11-slim", description="Default container image when a pipeline names none."
    )
    service_account: str | None = Field(None, description="serviceAccountName of the workflows.")
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    labels: dict[str, str] = Field(default_factory=dict, description="Labels on every manifest.")


class Orchestrator(StrictModel):
    """Which engine runs pipelines, and its settings."""

    default: Literal["local", "argo"] = "local"
    local: LocalOrchestrator = Field(default_factory=LocalOrchestrator)
    argo: ArgoOrchestrator = Field(default_factory=ArgoOrchestrator)


class ApiKeys(StrictModel):
    """HTTP API keys. Write them as ``${ENV_VAR}`` so secrets never sit in the repository."""

    serving: str | None = Field(None, description="Key for recommend and events endpoints.")
    admin: str | None = Field(None, description="Key for endpoints that change state.")


class ServeSettings(StrictModel):
    """Settings of ``sameday serve``."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    api_keys: ApiKeys = Field(default_factory=ApiKeys)
    refresh_interval: Duration = Field(
        2.0, description="How often servers look for newly applied config and snapshots."
    )
    read_deadline: Duration = Field(
        0.1,
        gt=0,
        description="How long a request waits for the serving store before it is answered "
        "from the last-known-good lists (degraded).",
    )


class ProjectSettings(StrictModel):
    """The project file, ``sameday.yaml``, at the root of a sameday project."""

    name: Name = Field(description="The project's name.")
    description: str = ""
    storage: Storage = Field(default_factory=Storage)
    orchestrator: Orchestrator = Field(default_factory=Orchestrator)
    serve: ServeSettings = Field(default_factory=ServeSettings)
