"""``pipelines/*.yaml``: a DAG of shell jobs with a schedule, run locally or on Argo Workflows."""

from typing import Any, Literal

from pydantic import Field, GetJsonSchemaHandler, field_validator, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from sameday.config._base import Duration, Key, Name, StrictModel, empty_list
from sameday.config._cron import check_cron, check_timezone
from sameday.config.datasets import Dataset
from sameday.config.gate import read_condition


class Backoff(StrictModel):
    """Delay between attempts: ``delay * factor ** (attempt - 1)``, capped at ``max``."""

    delay: Duration = Field(10.0, description="Wait before the first retry.")
    factor: float = Field(2.0, ge=1.0, description="Multiplier applied after each retry.")
    max: Duration | None = Field(None, description="Longest wait between two attempts.")


class Retries(StrictModel):
    """How often a failed job is tried again, and how long to wait in between."""

    limit: int = Field(0, ge=0, le=100, description="Retries after the first attempt.")
    backoff: Backoff = Field(default_factory=Backoff)

    @model_validator(mode="before")
    @classmethod
    def _from_int(cls, value: Any) -> Any:
        # `retries: 3` is the common case; accept it as `retries: {limit: 3}`.
        if isinstance(value, int) and not isinstance(value, bool):
            return {"limit": value}
        return value

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # The schema admits the shorthand the loader accepts, so editors do not flag it.
        shorthand = {
            "type": "integer",
            "minimum": 0,
            "maximum": 100,
            "description": "Shorthand for {limit: N}: retries after the first attempt.",
        }
        return {"anyOf": [shorthand, handler(core_schema)]}


class Resources(StrictModel):
    """Kubernetes-style resource requests and limits (``cpu: "500m"``, ``memory: 2Gi``)."""

    requests: dict[str, str | int | float] = Field(default_factory=dict)
    limits: dict[str, str | int | float] = Field(default_factory=dict)


class SecretValue(StrictModel):
    """An environment value read from a key of a Kubernetes Secret, so it never sits in a file.

    On Argo it becomes ``valueFrom.secretKeyRef``. The local runner sets nothing for it: the job
    sees the variable of the same name from the environment ``sameday run`` was started in.
    """

    secret: str = Field(description="Name of the Kubernetes Secret (in the workflow's namespace).")
    key: str = Field(description="Key in that Secret whose value the variable gets.")


EnvValue = str | SecretValue
"""A literal value, or ``{secret: NAME, key: KEY}``."""


class Toleration(StrictModel):
    """A Kubernetes toleration: lets the job's pod run on nodes with a matching taint."""

    key: str | None = Field(None, description="Taint key; empty with operator Exists: any taint.")
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    seconds: int | None = Field(
        None, ge=0, description="NoExecute only: how long the pod stays once the taint appears."
    )


class Workspace(StrictModel):
    """A volume claimed once per Argo run and shared by every job, instead of artifacts.

    Needs a storage class whose volumes several pods can mount at once (``ReadWriteMany``: NFS,
    CephFS, EFS, Filestore) unless every pod lands on one node.
    """

    size: str = Field("10Gi", description="Requested capacity, a Kubernetes quantity.")
    storage_class: str | None = Field(
        None, description="StorageClass of the claim (default: the cluster's default class)."
    )
    access_mode: Literal["ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"] = "ReadWriteMany"


class Schedule(StrictModel):
    """When the pipeline runs: a five-field cron expression or a shortcut, read in ``timezone``."""

    cron: str = Field(
        description="Five-field cron expression (minute hour day-of-month month day-of-week), "
        "e.g. '0 3 * * *', or a shortcut: @hourly, @daily, @weekly, @monthly, @yearly."
    )
    timezone: str = Field("UTC", description="IANA timezone the cron is read in.")

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value)


class Param(StrictModel):
    """A run parameter, available to commands as ``$NAME`` and ``{{params.NAME}}``."""

    default: str | None = Field(
        None,
        description="Default value. For 'ds' it defaults to the scheduled date (YYYY-MM-DD).",
    )
    description: str = ""


class Defaults(StrictModel):
    """Settings every job inherits unless it sets its own."""

    image: str | None = Field(
        None,
        description="Container image of the jobs on Argo (built from the project's Dockerfile).",
    )
    env: dict[str, EnvValue] = Field(default_factory=dict)
    env_from: list[str] = Field(
        default_factory=empty_list,
        description="Kubernetes Secrets whose every key becomes a variable of every job (Argo).",
    )
    retries: Retries = Field(default_factory=Retries)
    timeout: Duration | None = None
    resources: Resources = Field(default_factory=Resources)
    node_selector: dict[str, str] = Field(
        default_factory=dict, description="Node labels the jobs' pods must run on (Argo)."
    )
    tolerations: list[Toleration] = Field(default_factory=empty_list)


class Output(StrictModel):
    """A file or folder a job writes; ``publish`` names the result set it is published as,
    ``register`` the model it is registered as (see docs/models.md)."""

    path: str = Field(
        description="File or folder (relative to the project) the job writes; a glob in its last "
        "part (out/als/*.parquet) stands for the files of that folder."
    )
    publish: Name | None = Field(
        None, description="Result set published from this output when the job succeeds."
    )
    # `register` would shadow pydantic's ABC `register`; the YAML key is still `register`.
    model: Name | None = Field(
        None,
        alias="register",
        description="Model registered from this output (a file or folder) when the job "
        "succeeds; with `gate`, only when the gate blesses it, as the new champion.",
    )
    loader: str | None = Field(
        None,
        description="How the registered model loads for prediction: 'package.module:function' "
        "called with the bundle's files folder (without it the bundle is files only).",
    )
    metrics: str | None = Field(
        None,
        description="JSON file of the model's offline metrics written by the job: "
        '{"ndcg@10": 0.31, ...}, or {"candidate": {...}, "champion": {...}} when the job '
        "scored the champion on the same data.",
    )
    aliases: list[Name] = Field(
        default_factory=empty_list, description="Aliases pointed at the registered version."
    )
    gate: list[str] = Field(
        default_factory=empty_list,
        description="Conditions the candidate must meet to become the champion, e.g. "
        "'ndcg@10 >= champion - 0.002', 'coverage >= 0.2'. Refused: nothing changes.",
    )
    lists: dict[Name, str] = Field(
        default_factory=dict,
        description="Result sets (name: file the job wrote) published only once the model is "
        "registered (with `gate`: only when it is blessed).",
    )

    @field_validator("gate")
    @classmethod
    def _conditions(cls, conditions: list[str]) -> list[str]:
        for condition in conditions:
            read_condition(condition)
        return conditions

    @model_validator(mode="after")
    def _one_purpose(self) -> "Output":
        if self.publish is not None and self.model is not None:
            raise ValueError("an output either publishes a result set or registers a model")
        model_only = [
            key for key in ("loader", "metrics", "aliases", "gate", "lists") if getattr(self, key)
        ]
        if model_only and self.model is None:
            raise ValueError(f"{', '.join(model_only)}: only for an output with `register`")
        if self.gate and "champion" in self.aliases:
            raise ValueError("a gated output makes its model the champion only when blessed")
        if self.gate and self.metrics is None:
            raise ValueError("a gate compares metrics: name the file in `metrics`")
        return self


class Job(StrictModel):
    """One step of a pipeline: a shell command run by ``sh -c``."""

    name: Name
    command: str = Field(description="Run by `sh -c` locally and in Argo.")
    description: str = ""
    depends_on: list[Name] = Field(default_factory=empty_list)
    image: str | None = None
    retries: Retries | None = None
    timeout: Duration | None = None
    env: dict[str, EnvValue] = Field(default_factory=dict)
    env_from: list[str] = Field(
        default_factory=empty_list, description="Secrets added to defaults.env_from for this job."
    )
    resources: Resources | None = None
    node_selector: dict[str, str] | None = Field(
        None, description="Replaces defaults.node_selector for this job."
    )
    tolerations: list[Toleration] | None = Field(
        None, description="Replaces defaults.tolerations for this job."
    )
    inputs: list[str] = Field(
        default_factory=empty_list,
        description="Files, folders or globs (relative to the project) the job reads that another "
        "job writes or the project holds; each job runs in its own pod on Argo, and sees only "
        "the project's files and these.",
    )
    outputs: list[Output] = Field(default_factory=empty_list)
    reads: list[Key] = Field(
        default_factory=empty_list,
        description="Datasets (declared under 'datasets:') the job reads.",
    )
    writes: list[Key] = Field(
        default_factory=empty_list,
        description="Datasets (declared under 'datasets:') the job writes.",
    )


class Pipeline(StrictModel):
    """A pipeline file: jobs, their order, and when they run."""

    name: Name = Field(json_schema_extra={"maxLength": 52})
    description: str = ""
    schedule: Schedule | None = None
    params: dict[Key, Param] = Field(default_factory=dict)
    defaults: Defaults = Field(default_factory=Defaults)
    jobs: list[Job] = Field(min_length=1)
    workspace: Workspace | None = Field(
        None,
        description="On Argo, share files through one volume per run instead of artifacts "
        "(default: artifacts in the artifact repository).",
    )
    datasets: dict[Key, Dataset] = Field(
        default_factory=dict,
        description="Files and tables the jobs read and write, observed on every run; names "
        "are project-wide.",
    )
    on_failure: str | None = Field(None, description="Command run once if the run fails.")
    deadline: str | None = Field(
        None,
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="Time of day (HH:MM, in the schedule's timezone, else UTC) by which a run "
        "must have succeeded each day; freshness reports a miss.",
    )
    fail_fast: bool = Field(
        True,
        description="Stop scheduling new jobs after the first failure (false: keep "
        "independent branches going).",
    )

    @field_validator("name")
    @classmethod
    def _cron_name_fits(cls, value: str) -> str:
        # Argo's CronWorkflow names are capped at 52 characters.
        if len(value) > 52:
            raise ValueError(f"at most 52 characters (Argo's CronWorkflow limit), got {len(value)}")
        return value

    @property
    def timezone(self) -> str:
        """The timezone the schedule and the deadline are read in."""
        return self.schedule.timezone if self.schedule is not None else "UTC"

    def job(self, name: str) -> Job:
        """The job called ``name``."""
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(name)
