"""Real local runs record the datasets their jobs read and write, and the checks judge them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from sameday.config import Project
from sameday.errors import PipelineFailed
from sameday.metadata import MetadataStore
from sameday.monitor.check import Context, Finding
from sameday.monitor.datasets import builtin_checks
from sameday.pipeline.run_events import RunEvent
from sameday.pipeline.runner import Runner, RunResult, plan_run

EXTRACT = 'mkdir -p data && printf "$HEADER\\nu1,2026-12-01,3\\nu2,,4\\n" > data/events.csv'
COUNT = "wc -l < data/events.csv > data/count.txt"
DATASETS = {
    "events": {"path": "data/events.csv", "time_column": "day"},
    "count": {"path": "data/count.txt"},
}
JOBS = [
    {"name": "extract", "command": EXTRACT, "writes": ["events"]},
    {"name": "count", "command": COUNT, "depends_on": ["extract"], "reads": ["events"]},
    {
        "name": "report",
        "command": "cat data/count.txt",
        "depends_on": ["count"],
        "reads": ["events", "count"],
        "writes": ["count"],
    },
]


def run(
    project: Project, metadata: MetadataStore, header: str = "user,day,n", **kw: Any
) -> RunResult:
    plan, _ = plan_run(project, "daily", metadata, params={"header": header})
    return Runner(project, metadata, parallel=1, grace=0.3, **kw).run(plan)


@pytest.fixture
def project(make_project: Callable[..., Project]) -> Project:
    return make_project(
        DATASETS, JOBS, settings={"lineage": {"enabled": False}}, params={"header": {}}
    )


def schema_findings(project: Project, metadata: MetadataStore) -> dict[str, Finding]:
    (check,) = [c for c in builtin_checks() if c.name == "dataset.schema"]
    findings = check.evaluate(Context(project, metadata, datetime.now(UTC)))
    return {f.subject: f for f in findings}


def test_a_run_records_what_its_jobs_wrote_and_read(
    project: Project, metadata: MetadataStore
) -> None:
    result = run(project, metadata)
    events = metadata.dataset_observations("events")
    assert [(o.job, o.role, o.run_id) for o in events] == [("extract", "write", result.run_id)]
    (seen,) = events
    assert seen.columns == (("user", "VARCHAR"), ("day", "DATE"), ("n", "BIGINT"))
    assert (seen.row_count, seen.null_shares["day"], seen.files) == (2, 0.5, 1)
    assert seen.freshness == datetime(2026, 12, 1, tzinfo=UTC)
    count = metadata.dataset_observations("count")
    # read by report before it ran (written by nobody yet in this run), then written by it
    assert [(o.job, o.role) for o in count] == [("report", "write"), ("report", "read")]
    assert count[0].columns is None and count[0].files == 1
    assert not (project.root / ".sameday" / "lineage").exists()  # lineage: {enabled: false}


def test_a_schema_change_between_runs_fires_the_schema_check(
    project: Project, metadata: MetadataStore
) -> None:
    run(project, metadata)
    assert schema_findings(project, metadata)["events"].status == "learning"
    run(project, metadata)
    assert schema_findings(project, metadata)["events"].status == "ok"
    run(project, metadata, header="user,day,amount")
    findings = schema_findings(project, metadata)
    assert findings["events"].status == "fail"
    assert "removed n (BIGINT)" in findings["events"].summary
    assert "added amount (BIGINT)" in findings["events"].summary
    assert [r.revision for r in metadata.schema_history("events")] == [2, 1]


def test_a_failed_job_records_what_it_read_but_not_what_it_did_not_write(
    make_project: Callable[..., Project], metadata: MetadataStore
) -> None:
    jobs = [{"name": "broken", "command": "exit 3", "reads": ["events"], "writes": ["count"]}]
    project = make_project(DATASETS, jobs, settings={"lineage": {"enabled": False}})
    with pytest.raises(PipelineFailed):
        plan, _ = plan_run(project, "daily", metadata)
        Runner(project, metadata, parallel=1, grace=0.3).run(plan)
    (read,) = metadata.dataset_observations("events")
    assert (read.role, read.error) == ("read", "no file matches data/events.csv")
    assert metadata.dataset_observations("count") == []


def test_the_observer_still_gets_every_event(project: Project, metadata: MetadataStore) -> None:
    events: list[RunEvent] = []
    run(project, metadata, observer=events.append)
    assert type(events[0]).__name__ == "RunStarted"
    assert type(events[-1]).__name__ == "RunFinished"


def test_a_project_without_datasets_or_lineage_gets_no_hooks(
    make_project: Callable[..., Project], metadata: MetadataStore
) -> None:
    project = make_project({}, settings={"lineage": {"enabled": False}})
    events: list[RunEvent] = []
    runner = Runner(project, metadata, observer=events.append)
    assert runner._observer == events.append
