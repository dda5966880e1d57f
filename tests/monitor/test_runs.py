"""The ``runs`` check fires on a failed latest run and stays quiet on a good one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sameday.config import load_project
from sameday.metadata import MetadataStore
from sameday.monitor.check import Context
from sameday.monitor.runs import RunsCheck


def finish(metadata: MetadataStore, pipeline: str, *statuses: str) -> list[str]:
    ids = []
    for status in statuses:
        run = metadata.create_run(pipeline, {})
        metadata.finish_run(run.id, status, f"pipeline {pipeline!r} {status}")
        ids.append(run.id)
    return ids


def look(project_dir: Path, metadata: MetadataStore) -> dict[str, tuple[str, str]]:
    project = load_project(project_dir, environ={})
    context = Context(project=project, metadata=metadata, now=datetime.now(UTC))
    return {f.subject: (f.status, f.severity) for f in RunsCheck().evaluate(context)}


def test_fires_on_a_failed_latest_run(project_dir: Path, metadata: MetadataStore) -> None:
    ids = finish(metadata, "daily", "succeeded", "failed", "failed")
    project = load_project(project_dir, environ={})
    context = Context(project=project, metadata=metadata, now=datetime.now(UTC))
    (finding,) = RunsCheck().evaluate(context)
    assert (finding.monitor, finding.subject, finding.status) == ("runs", "daily", "fail")
    assert finding.severity == "critical"
    assert finding.evidence["run_id"] == ids[-1] and finding.evidence["failed_in_a_row"] == 2
    assert "2 failed runs in a row" in finding.summary


def test_quiet_when_the_latest_finished_run_succeeded(
    project_dir: Path, metadata: MetadataStore
) -> None:
    finish(metadata, "daily", "failed", "succeeded")
    metadata.create_run("daily", {})  # still running: the finished one tells
    assert look(project_dir, metadata) == {"daily": ("ok", "info")}


def test_cancelled_warns_and_no_run_is_learning(project_dir: Path, metadata: MetadataStore) -> None:
    assert look(project_dir, metadata) == {"daily": ("learning", "warning")}
    finish(metadata, "daily", "cancelled")
    assert look(project_dir, metadata) == {"daily": ("warn", "warning")}
