"""Datasets: the named files and tables a pipeline's jobs read and write, and how they are watched.

A pipeline declares them under ``datasets:`` (a name project-wide, like a result set's) and its
jobs name the ones they use in ``reads:`` and ``writes:``. Every run then records each dataset's
schema, rows, null shares and freshness, and the checks in :mod:`sameday.monitor.datasets`
compare the newest observation with the dataset's history. ``lineage:`` in ``sameday.yaml``
says where the OpenLineage events of runs go.

``reads``/``writes`` name datasets; they are not the file paths a job's pod needs on Argo
(``inputs``/``outputs``): a dataset may be a SQL table no pod ever copies, and one file may be
moved between pods without anyone watching it.
"""

import difflib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from sameday import urls
from sameday.config._base import Duration, PositiveDuration, StrictModel

if TYPE_CHECKING:
    from sameday.config.loader import Project
    from sameday.errors import Problem

Reaction = Literal["fail", "warn", "off"]
"""What a check finding does: ``fail`` (an alert, and the status board turns red), ``warn``,
or ``off`` (not checked)."""

TABLE_SCHEMES = ("duckdb", "postgresql", "postgresql+psycopg", "postgres")
"""URL schemes a dataset's ``table`` can live behind."""


class DatasetChecks(StrictModel):
    """How a dataset's newest observation is judged against its history."""

    removed_columns: Reaction = Field("fail", description="A column disappeared.")
    retyped_columns: Reaction = Field("fail", description="A column changed its type.")
    added_columns: Reaction = Field("warn", description="A new column appeared.")
    max_row_change: float | None = Field(
        0.5,
        ge=0,
        description="Largest relative change in rows against the median of the history "
        "(0.5: from half to one and a half times). null turns the check off.",
    )
    max_null_increase: float | None = Field(
        0.1,
        ge=0,
        le=1,
        description="Largest rise of any column's share of nulls over its median in the "
        "history (0.1: ten points). null turns the check off.",
    )
    max_age: Duration | None = Field(
        None,
        description="Oldest the newest value of time_column may be when the dataset is "
        "observed (e.g. 1d); needs time_column.",
    )
    history: int = Field(
        7, ge=1, le=1000, description="Earlier observations the newest is compared with."
    )
    min_history: int = Field(
        3, ge=1, description="Earlier observations needed before volume and nulls are judged."
    )


class Dataset(StrictModel):
    """A file, a glob of files, or a SQL table that jobs read or write."""

    description: str = ""
    path: str | None = Field(
        None,
        description="File or glob relative to the project (data/events/*.parquet). Parquet, "
        "CSV and JSONL are read for their columns; NPZ for its arrays' headers; anything else "
        "is observed by its files' sizes and times only.",
    )
    format: Literal["auto", "parquet", "csv", "jsonl", "npz", "files"] = Field(
        "auto", description="How to read path; 'auto' goes by the extension."
    )
    table: str | None = Field(
        None, description="A SQL table, as table or schema.table, behind url."
    )
    url: str | None = Field(
        None,
        description="Where table lives: duckdb:///relative/file.duckdb or "
        "postgresql://user:${PGPASSWORD}@host/db.",
        json_schema_extra={
            # Editors flag a mistyped scheme as the loader does; ${VAR} is checked once set.
            "pattern": "^(?:.*\\$\\{.*|(?:"
            + "|".join(s.replace("+", "\\+") for s in TABLE_SCHEMES)
            + ")://.*)$"
        },
    )
    time_column: str | None = Field(
        None, description="Column whose newest value tells how fresh the data is."
    )
    checks: DatasetChecks = Field(default_factory=DatasetChecks)

    @model_validator(mode="after")
    def _where(self) -> "Dataset":
        if (self.path is None) == (self.table is None):
            raise ValueError("give exactly one of 'path' (files) or 'table' (with 'url')")
        if self.table is not None and self.url is None:
            raise ValueError(
                "a table needs 'url': duckdb:///file.duckdb or postgresql://user@host/db"
            )
        if self.path is not None and self.url is not None:
            raise ValueError("'url' goes with 'table'; a file dataset has only 'path'")
        if self.checks.max_age is not None and self.time_column is None:
            raise ValueError("checks.max_age needs time_column: the column to read the age from")
        return self

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str | None) -> str | None:
        if value is None or "${" in value:
            return value
        scheme = value.partition("://")[0] if "://" in value else ""
        if scheme not in TABLE_SCHEMES:
            close = difflib.get_close_matches(scheme, TABLE_SCHEMES, n=1)
            hint = f"; did you mean {close[0]}://?" if close else ""
            raise ValueError(
                f"{urls.redact(value)!r}: a table's url starts with "
                f"{', '.join(s + '://' for s in TABLE_SCHEMES)}{hint}"
            )
        return value

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Reprs show the URL without its password."""
        for name, value in super().__repr_args__():
            yield name, urls.redact(value) if name == "url" and value else value


class Lineage(StrictModel):
    """Where the local runner sends OpenLineage events of its runs (``lineage:`` in
    ``sameday.yaml``)."""

    enabled: bool | None = Field(
        None,
        description="true: emit (the lineage extra must be installed); false: never; "
        "unset: emit when openlineage-python is installed.",
    )
    namespace: str | None = Field(
        None, description="OpenLineage namespace of the jobs (default: the project's name)."
    )
    folder: str = Field(
        ".sameday/lineage",
        description="Folder the file transport writes one JSON event a file to; also where "
        "events an HTTP endpoint refused are kept.",
    )
    url: str | None = Field(
        None, description="Base URL of an OpenLineage HTTP endpoint (Marquez: http://host:5000)."
    )
    endpoint: str = Field("api/v1/lineage", description="Path of the endpoint under url.")
    api_key: str | None = Field(
        None, description="Bearer token for url; write it as ${VAR}, never in the file."
    )
    timeout: PositiveDuration = Field(5.0, description="Wait for the endpoint, per event.")

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Reprs show whether a key is set, never the key."""
        for name, value in super().__repr_args__():
            yield name, urls.HIDDEN if name == "api_key" and value else value


def declared(project: "Project") -> dict[str, tuple[str, Dataset]]:
    """Every dataset of the project: name → (pipeline declaring it, its model)."""
    found: dict[str, tuple[str, Dataset]] = {}
    for pipeline in project.pipelines.values():
        for name, dataset in pipeline.datasets.items():
            found.setdefault(name, (pipeline.name, dataset))
    return found


def check_datasets(project: "Project") -> "list[Problem]":
    """Cross-file problems: a dataset declared twice, a job naming an undeclared one."""
    problems: list[Problem] = []
    first: dict[str, str] = {}
    for pipeline in project.pipelines.values():
        source = project.sources[("pipeline", pipeline.name)]
        for name in pipeline.datasets:
            if name in first and first[name] != pipeline.name:
                problems.append(
                    source.problem(
                        ("datasets", name),
                        f"dataset {name!r} is already declared in pipeline {first[name]!r}; "
                        "declare it once and name it in reads/writes of any pipeline",
                        key=True,
                    )
                )
            first.setdefault(name, pipeline.name)
    for pipeline in project.pipelines.values():
        if "jobs" in project.partial.get(("pipeline", pipeline.name), ()):
            continue
        source = project.sources[("pipeline", pipeline.name)]
        for index, job in enumerate(pipeline.jobs):
            for field in ("reads", "writes"):
                for position, name in enumerate(getattr(job, field)):
                    if name in first:
                        continue
                    close = difflib.get_close_matches(name, sorted(first), n=1, cutoff=0.6)
                    hint = (
                        f"; did you mean {close[0]!r}?"
                        if close
                        else ": declare it under 'datasets:' of a pipeline"
                    )
                    problems.append(
                        source.problem(
                            ("jobs", index, field, position), f"no dataset named {name!r}{hint}"
                        )
                    )
    return problems
