"""``sameday record-argo-run``: the exit handler records the workflow's outcome as a run."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sameday.cli.pipelines import record_argo_run, runs
from sameday.errors import PipelineError
from sameday.metadata import MetadataStore
from sameday.pipeline.argo_runs import FailedNode, outcome, parse_failures, parse_started

NODES = [
    {
        "displayName": "als(0)",
        "message": "Error (exit code 1)",
        "templateName": "als",
        "phase": "Failed",
        "podName": "shop-train-1-als-1",
        "finishedAt": "2026-12-03T03:10:00Z",
    },
    {
        "displayName": "als(1)",
        "message": "Error (exit code 137)",
        "templateName": "als",
        "phase": "Failed",
        "podName": "shop-train-1-als-2",
        "finishedAt": "2026-12-03T03:12:00Z",
    },
    {
        "displayName": "shop-train-1",
        "message": "",
        "templateName": "sameday-dag",
        "phase": "Failed",
    },
]


def _argo_quoted(value: object) -> str:
    """What the exit handler's argument holds on Argo v3.5+: the JSON, quoted as a JSON string."""
    return json.dumps(json.dumps(value, separators=(",", ":")))


@pytest.mark.parametrize(
    "text",
    [_argo_quoted(NODES), json.dumps(NODES)],
    ids=["quoted (v3.5+)", "plain"],
)
def test_failures_are_read_as_argo_writes_them(text: str) -> None:
    assert [n.template for n in parse_failures(text)] == ["als", "als", "sameday-dag"]


@pytest.mark.parametrize("text", ["", '"null"', "null", "{{workflow.failures}}", '""'])
def test_no_failures(text: str) -> None:
    assert parse_failures(text) == []


def test_unreadable_failures_are_an_error() -> None:
    with pytest.raises(PipelineError, match="not the JSON list Argo writes"):
        parse_failures("[{")
    with pytest.raises(PipelineError, match="not the JSON list of failed nodes"):
        parse_failures('{"a": 1}')


def test_the_message_names_each_failed_task_once_with_its_last_attempt() -> None:
    status, message = outcome("train", "Failed", parse_failures(_argo_quoted(NODES)))
    assert status == "failed"
    assert message == (
        "pipeline 'train' ended Failed on Argo: als (Failed: Error (exit code 137)). "
        "See `argo logs WORKFLOW` for the logs of its pods"
    )
    assert outcome("train", "Error", [FailedNode("x", "Error", "")])[0] == "failed"
    assert outcome("train", "Succeeded", []) == ("succeeded", "pipeline 'train' succeeded on Argo")


def test_the_creation_timestamp_is_read_as_rfc_3339() -> None:
    assert parse_started("2026-12-03T03:00:00Z") == datetime(2026, 12, 3, 3, tzinfo=UTC)
    with pytest.raises(PipelineError, match="not an RFC 3339 timestamp"):
        parse_started("{{workflow.creationTimestamp}}")


def _project(root: Path, metadata_url: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "sameday.yaml").write_text(
        yaml.safe_dump({"name": "shop", "storage": {"metadata": metadata_url}})
    )
    return root


def _record_and_list(runner: CliRunner, root: Path) -> None:
    base = ["--pipeline", "train", "--run-id", "shop-train-1733194800"]
    base += ["--started-at", "2026-12-03T03:00:00Z", "--project", str(root)]
    failed = runner.invoke(
        record_argo_run,
        [
            *base,
            *("--status", "Failed", "--failures", _argo_quoted(NODES)),
            *("--trigger", "schedule", "-p", "ds=2026-12-03", "-p", "model.version=v3"),
        ],
    )
    assert failed.exit_code == 0, failed.output
    assert failed.output == "recorded run shop-train-1733194800: failed\n"
    listed = json.loads(runner.invoke(runs, ["--json", "--project", str(root)]).output)
    [run] = listed
    assert (run["id"], run["pipeline"], run["status"], run["trigger"]) == (
        "shop-train-1733194800",
        "train",
        "failed",
        "schedule",
    )
    assert run["params"] == {"ds": "2026-12-03", "model.version": "v3"}
    assert "als (Failed: Error (exit code 137))" in run["message"]
    assert run["started_at"].startswith("2026-12-03")
    # `argo retry` runs the exit handler again under the same name: the run is updated
    retried = runner.invoke(
        record_argo_run,
        [*base, "--status", "Succeeded", "--failures", '"null"', "--trigger", "{{x}}"],
    )
    assert retried.exit_code == 0, retried.output
    [run] = json.loads(runner.invoke(runs, ["--json", "--project", str(root)]).output)
    assert (run["status"], run["trigger"], run["params"]) == ("succeeded", "manual", {})


def test_record_argo_run_on_sqlite(runner: CliRunner, tmp_path: Path, sqlite_url: str) -> None:
    _record_and_list(runner, _project(tmp_path / "p", sqlite_url))
    with MetadataStore.open(sqlite_url) as store:
        assert store.get_run("shop-train").status == "succeeded"  # prefixes work as for any run


@pytest.mark.postgres
def test_record_argo_run_on_postgresql(
    runner: CliRunner, tmp_path: Path, postgres_url: str
) -> None:
    _record_and_list(runner, _project(tmp_path / "p", postgres_url))
