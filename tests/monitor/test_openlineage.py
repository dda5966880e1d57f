"""OpenLineage events of real local runs: valid client models, to a file and to a real HTTP
receiver on loopback (up, and down: then kept on disk, and the run neither fails nor hangs)."""

from __future__ import annotations

import copy
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    data_quality_metrics_input_dataset as quality,
)
from openlineage.client.facet_v2 import (
    documentation_job,
    error_message_run,
    job_type_job,
    nominal_time_run,
    parent_run,
    schema_dataset,
    tags_run,
)
from openlineage.client.facet_v2 import (
    output_statistics_output_dataset as statistics,
)
from openlineage.client.serde import Serde

from sameday.config import Project
from sameday.errors import MissingDependency, PipelineFailed
from sameday.metadata import MetadataStore
from sameday.monitor.openlineage import lineage_run_id
from sameday.pipeline.runner import Runner, RunResult, plan_run

PORTS = range(17600, 17700)


# Parsing an event back into the client's classes, strictly: an unknown field raises TypeError,
# a bad run id or time fails the client's validators, and the result must serialise to exactly
# the document that was written.


def facet(cls: type[Any], data: dict[str, Any], **nested: Callable[[Any], Any]) -> Any:
    fields = dict(data)
    url = fields.pop("_schemaURL")
    producer = fields.pop("_producer")
    for key, build in nested.items():
        if key in fields:
            fields[key] = build(fields[key])
    made = cls(**fields, producer=producer)
    assert made._schemaURL == url, f"{cls.__name__} schema {url}"
    return made


def parent(data: dict[str, Any]) -> Any:
    return facet(
        parent_run.ParentRunFacet,
        data,
        run=lambda r: parent_run.Run(**r),
        job=lambda j: parent_run.Job(**j),
        root=lambda r: parent_run.Root(
            run=parent_run.RootRun(**r["run"]), job=parent_run.RootJob(**r["job"])
        ),
    )


RUN_FACETS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "nominalTime": lambda d: facet(nominal_time_run.NominalTimeRunFacet, d),
    "parent": parent,
    "errorMessage": lambda d: facet(error_message_run.ErrorMessageRunFacet, d),
    # added by the client itself: its version
    "tags": lambda d: facet(
        tags_run.TagsRunFacet, d, tags=lambda ts: [tags_run.TagsRunFacetFields(**t) for t in ts]
    ),
}
JOB_FACETS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "jobType": lambda d: facet(job_type_job.JobTypeJobFacet, d),
    "documentation": lambda d: facet(documentation_job.DocumentationJobFacet, d),
}
DATASET_FACETS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "schema": lambda d: facet(
        schema_dataset.SchemaDatasetFacet,
        d,
        fields=lambda fs: [schema_dataset.SchemaDatasetFacetFields(**f) for f in fs],
    )
}
INPUT_FACETS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "dataQualityMetrics": lambda d: facet(
        quality.DataQualityMetricsInputDatasetFacet,
        d,
        columnMetrics=lambda m: {k: quality.ColumnMetrics(**v) for k, v in m.items()},
    )
}
OUTPUT_FACETS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "outputStatistics": lambda d: facet(statistics.OutputStatisticsOutputDatasetFacet, d)
}


def facets(data: dict[str, Any] | None, known: dict[str, Callable[[Any], Any]]) -> dict[str, Any]:
    return {name: known[name](value) for name, value in (data or {}).items()}


def parse(document: dict[str, Any]) -> RunEvent:
    """``document`` as the client's ``RunEvent``; fails on anything the models do not hold."""
    fields = copy.deepcopy(document)
    url = fields.pop("schemaURL")
    run, job = fields.pop("run"), fields.pop("job")
    event = RunEvent(
        eventType=RunState(fields.pop("eventType")),
        eventTime=fields.pop("eventTime"),
        producer=fields.pop("producer"),
        run=Run(runId=run.pop("runId"), facets=facets(run.pop("facets", None), RUN_FACETS)),
        job=Job(
            namespace=job.pop("namespace"),
            name=job.pop("name"),
            facets=facets(job.pop("facets", None), JOB_FACETS),
        ),
        inputs=[
            InputDataset(
                namespace=d["namespace"],
                name=d["name"],
                facets=facets(d.get("facets"), DATASET_FACETS),
                inputFacets=facets(d.get("inputFacets"), INPUT_FACETS),
            )
            for d in fields.pop("inputs", [])
        ],
        outputs=[
            OutputDataset(
                namespace=d["namespace"],
                name=d["name"],
                facets=facets(d.get("facets"), DATASET_FACETS),
                outputFacets=facets(d.get("outputFacets"), OUTPUT_FACETS),
            )
            for d in fields.pop("outputs", [])
        ],
    )
    assert not fields and not run and not job, (fields, run, job)
    assert event.schemaURL == url
    assert Serde.to_dict(event) == document
    return event


def read_events(folder: Path) -> list[RunEvent]:
    files = sorted(folder.glob("ol-*.json"))
    return [parse(json.loads(file.read_text())) for file in files]


# A project whose run reads a table-like CSV, writes a JSONL file, and fails on demand.

DATASETS = {
    "events": {"path": "data/events.csv", "time_column": "day"},
    "scores": {"path": "out/scores.jsonl"},
}
JOBS = [
    {
        "name": "extract",
        "command": 'mkdir -p data && printf "user,day\\nu1,2026-12-01\\nu2,\\n" > data/events.csv',
        "writes": ["events"],
    },
    {
        "name": "score",
        "description": "Scores every user.",
        "command": 'test "$FAIL" = no && mkdir -p out && echo \'{"user": 1}\' > out/scores.jsonl',
        "depends_on": ["extract"],
        "reads": ["events"],
        "writes": ["scores"],
    },
]


@pytest.fixture
def lineage_project(make_project: Callable[..., Project]) -> Callable[..., Project]:
    def make(**lineage: Any) -> Project:
        return make_project(
            DATASETS,
            JOBS,
            settings={"lineage": {"enabled": True, **lineage}},
            description="Daily scores.",
            schedule={"cron": "0 3 * * *", "timezone": "Asia/Tokyo"},
            params={"ds": {}, "fail": {"default": "no"}},
        )

    return make


def run(project: Project, store: MetadataStore, **params: str) -> RunResult:
    plan, _ = plan_run(project, "daily", store, params={"ds": "2026-12-02", **params})
    return Runner(project, store, parallel=1, grace=0.3).run(plan)


@pytest.fixture
def store(sqlite_url: str) -> Iterator[MetadataStore]:
    with MetadataStore.open(sqlite_url) as opened:
        yield opened


def test_a_run_writes_valid_events_with_every_facet(
    lineage_project: Callable[..., Project], store: MetadataStore
) -> None:
    project = lineage_project()
    result = run(project, store)
    events = read_events(project.root / ".sameday" / "lineage")
    order = [(e.job.name, e.eventType.value) for e in events if e.eventType]
    assert order == [
        ("daily", "START"),
        ("daily.extract", "START"),
        ("daily.extract", "COMPLETE"),
        ("daily.score", "START"),
        ("daily.score", "COMPLETE"),
        ("daily", "COMPLETE"),
    ]
    pipeline_id = lineage_run_id("t", result.run_id)
    assert {e.run.runId for e in events if e.job.name == "daily"} == {pipeline_id}
    assert {e.job.namespace for e in events} == {"t"}
    for event in events:
        facets = event.run.facets or {}
        # ds=2026-12-02 at midnight in the pipeline's timezone (Tokyo, UTC+9)
        assert facets["nominalTime"].nominalStartTime == "2026-12-01T15:00:00Z"
        if event.job.name != "daily":
            assert facets["parent"].run.runId == pipeline_id
            assert facets["parent"].job.name == "daily"
            assert event.run.runId == lineage_run_id("t", result.run_id, event.job.name[6:])

    score_start = events[3]
    (events_in,) = score_start.inputs or []
    assert (events_in.namespace, events_in.name) == ("file", str(project.root / "data/events.csv"))
    fields = events_in.facets["schema"].fields  # type: ignore[index]
    assert [(f.name, f.type) for f in fields] == [("user", "VARCHAR"), ("day", "DATE")]
    metrics = events_in.inputFacets["dataQualityMetrics"]  # type: ignore[index]
    assert metrics.rowCount == 2
    assert metrics.columnMetrics["day"].nullCount == 1
    assert metrics.columnMetrics["user"].nullCount == 0
    assert metrics.lastUpdated == "2026-12-01T00:00:00Z"
    assert score_start.job.facets["documentation"].description == "Scores every user."  # type: ignore[index]

    (scores_out,) = events[4].outputs or []
    stats = scores_out.outputFacets["outputStatistics"]  # type: ignore[index]
    assert (stats.rowCount, stats.fileCount) == (1, 1)
    assert stats.size == (project.root / "out/scores.jsonl").stat().st_size
    assert [f.name for f in scores_out.facets["schema"].fields] == ["user"]  # type: ignore[index]
    assert events[0].job.facets["jobType"].jobType == "DAG"  # type: ignore[index]


def test_a_failed_job_sends_fail_with_its_error(
    lineage_project: Callable[..., Project], store: MetadataStore
) -> None:
    project = lineage_project()
    with pytest.raises(PipelineFailed):
        run(project, store, fail="yes")
    events = read_events(project.root / ".sameday" / "lineage")
    order = [(e.job.name, e.eventType.value) for e in events if e.eventType]
    assert order[-2:] == [("daily.score", "FAIL"), ("daily", "FAIL")]
    job_fail, run_fail = events[-2], events[-1]
    assert job_fail.run.facets["errorMessage"].message == "exit code 1"  # type: ignore[index]
    assert (job_fail.outputs or [])[0].outputFacets == {}
    assert "score failed" in run_fail.run.facets["errorMessage"].message  # type: ignore[index]


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], dict[str, Any]]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, dict(self.headers), json.loads(body)))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 17600-17699")


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[str, dict[str, str], dict[str, Any]]]]]:
    received: list[tuple[str, dict[str, str], dict[str, Any]]] = []
    handler = type("Handler", (Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_http_transport_delivers_to_a_real_receiver_with_the_key(
    lineage_project: Callable[..., Project],
    store: MetadataStore,
    receiver: tuple[str, list[tuple[str, dict[str, str], dict[str, Any]]]],
) -> None:
    url, received = receiver
    project = lineage_project(url=url, api_key="k-42", endpoint="api/v1/lineage")
    run(project, store)
    assert len(received) == 6
    assert {path for path, _, _ in received} == {"/api/v1/lineage"}
    assert {headers["Authorization"] for _, headers, _ in received} == {"Bearer k-42"}
    events = [parse(body) for _, _, body in received]
    assert [e.eventType.value for e in events if e.eventType][0::5] == ["START", "COMPLETE"]
    assert not list((project.root / ".sameday" / "lineage").rglob("*.json"))


def test_with_the_receiver_down_events_are_kept_and_the_run_succeeds(
    lineage_project: Callable[..., Project], store: MetadataStore
) -> None:
    project = lineage_project(url=f"http://127.0.0.1:{free_port()}", timeout="1s")
    started = time.monotonic()
    result = run(project, store)
    assert time.monotonic() - started < 20
    assert result.status == "succeeded"
    kept = read_events(project.root / ".sameday" / "lineage" / "undelivered")
    assert len(kept) == 6
    assert kept[-1].eventType == RunState.COMPLETE


def hide_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import openlineage...`` fail for one test, as on a base install."""
    for name in [m for m in sys.modules if m == "openlineage" or m.startswith("openlineage.")]:
        monkeypatch.setitem(sys.modules, name, None)  # type: ignore[arg-type]
    monkeypatch.setitem(sys.modules, "openlineage", None)  # type: ignore[arg-type]


def test_without_the_client_lineage_is_off_unless_required(
    lineage_project: Callable[..., Project],
    make_project: Callable[..., Project],
    store: MetadataStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hide_the_client(monkeypatch)
    required = lineage_project()
    with pytest.raises(MissingDependency) as caught:
        Runner(required, store)
    message = str(caught.value)
    assert "\n" not in message and "pip install 'sameday[lineage]'" in message
    unset = make_project(DATASETS, JOBS, params={"fail": {"default": "no"}})
    assert unset.settings.lineage.enabled is None
    plan, _ = plan_run(unset, "daily", store)
    assert Runner(unset, store, parallel=1).run(plan).status == "succeeded"
    assert not (unset.root / ".sameday" / "lineage").exists()
    assert [o.role for o in store.dataset_observations("scores")] == ["write"]
