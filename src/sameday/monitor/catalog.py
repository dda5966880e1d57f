"""The datasets of a project at a glance: where each lives, its newest observation, its schema
history and how the dataset checks judge it (``sameday datasets``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sameday.config.datasets import Dataset, declared
from sameday.metadata.dataset_records import DatasetObservation
from sameday.monitor.check import Context, Finding
from sameday.monitor.datasets import SchemaChange, builtin_checks, schema_change
from sameday.monitor.observe import file_format, observe
from sameday.urls import redact

if TYPE_CHECKING:
    from sameday.config.loader import Project
    from sameday.metadata.store import MetadataStore

_RANK = {"ok": 0, "learning": 1, "warn": 2, "error": 3, "fail": 4}


@dataclass(frozen=True)
class DatasetSummary:
    """One dataset: its declaration, newest observation, schema history and findings."""

    name: str
    pipeline: str
    location: str
    kind: str
    latest: DatasetObservation | None
    revisions: int
    last_change: SchemaChange | None
    last_change_at: datetime | None
    findings: tuple[Finding, ...]

    @property
    def status(self) -> str:
        """The worst status of its findings (``learning`` before any)."""
        if not self.findings:
            return "learning"
        return max((f.status for f in self.findings), key=_RANK.__getitem__)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, for ``sameday datasets --json``."""
        latest = self.latest
        return {
            "name": self.name,
            "pipeline": self.pipeline,
            "location": self.location,
            "kind": self.kind,
            "status": self.status,
            "latest": None
            if latest is None
            else {
                "observed_at": latest.observed_at,
                "run_id": latest.run_id,
                "job": latest.job,
                "role": latest.role,
                "rows": latest.row_count,
                "columns": None if latest.columns is None else [list(c) for c in latest.columns],
                "null_shares": latest.null_shares,
                "freshness": latest.freshness,
                "bytes": latest.bytes,
                "files": latest.files,
                "error": latest.error,
                "schema_revision": latest.schema_revision,
            },
            "schema_revisions": self.revisions,
            "last_schema_change": None
            if self.last_change is None
            else {
                "at": self.last_change_at,
                "added": [list(c) for c in self.last_change.added],
                "removed": [list(c) for c in self.last_change.removed],
                "retyped": [list(c) for c in self.last_change.retyped],
            },
            "findings": [
                {"check": f.monitor, "status": f.status, "summary": f.summary}
                for f in self.findings
            ],
        }


def location(dataset: Dataset) -> tuple[str, str]:
    """Where a dataset lives, for people (the URL without its password), and its kind."""
    if dataset.path is not None:
        return dataset.path, file_format(dataset)
    assert dataset.url is not None
    return f"{dataset.table} @ {redact(dataset.url)}", "table"


def observe_all(project: Project, metadata: MetadataStore) -> int:
    """Observe every declared dataset now and record it (role ``observe``); how many."""
    found = declared(project)
    for name, (_, dataset) in found.items():
        metadata.record_observation(name, observe(dataset, project.root), role="observe")
    return len(found)


def summaries(project: Project, metadata: MetadataStore, now: datetime) -> list[DatasetSummary]:
    """Every declared dataset of ``project``, by name."""
    context = Context(project, metadata, now)
    findings: dict[str, list[Finding]] = {}
    for check in builtin_checks():
        for finding in check.evaluate(context):
            findings.setdefault(finding.subject, []).append(finding)
    latest = metadata.latest_observations()
    out = []
    for name, (pipeline, dataset) in sorted(declared(project).items()):
        history = metadata.schema_history(name, limit=2)
        change = schema_change(history[1].columns, history[0].columns) if len(history) > 1 else None
        where, kind = location(dataset)
        out.append(
            DatasetSummary(
                name=name,
                pipeline=pipeline,
                location=where,
                kind=kind,
                latest=latest.get(name),
                revisions=history[0].revision if history else 0,
                last_change=change,
                last_change_at=history[0].first_seen_at if change is not None else None,
                findings=tuple(findings.get(name, ())),
            )
        )
    return out
