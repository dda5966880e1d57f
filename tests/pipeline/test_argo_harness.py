"""The compiled quickstart runs to the end as Argo would run it, without a cluster.

``argo_harness`` plays Argo's controller and pods; the artifacts go through moto's S3 server on
loopback, the storage is the real PostgreSQL and Redis.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.conftest import free_ports
from tests.pipeline.argo_harness import ArgoHarness
from tests.pipeline.conftest import IMAGE

from sameday.cli.pipelines import runs
from sameday.config import load_project
from sameday.demo import example_folder
from sameday.pipeline.argo_cluster import compile_project

BUCKET = "sameday-artifacts"
SECRET = "sameday-storage"
SMALL = {"users": "300", "items": "120"}


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    """A client of moto's S3 server on loopback, standing in for the artifact repository."""
    boto3 = pytest.importorskip("boto3")
    server_module = pytest.importorskip("moto.server")
    # A port of the test range, not a fixed one: engineers sharing a machine run this at once.
    (port,) = free_ports(1)
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="harness",
            aws_secret_access_key="harness-secret",
        )
    finally:
        server.stop()


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    """An empty bucket, removed with what the test stored in it."""
    s3.create_bucket(Bucket=BUCKET)
    try:
        yield BUCKET
    finally:
        listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        for item in listed:
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])
        s3.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def storage(postgres_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The storage Secret's keys, also set here as an operator sets them before compiling."""
    values = {
        "SAMEDAY_METADATA_URL": postgres_url,
        "SAMEDAY_SERVING_URL": redis_url,
        "SAMEDAY_EVENTS_URL": postgres_url,
        "SAMEDAY_ARTIFACTS_URL": f"s3://{BUCKET}/sameday",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SAMEDAY_IMAGE", IMAGE)
    return values


def _harness(root: Path, s3: Any, bucket: str, storage: dict[str, str], work: Path) -> ArgoHarness:
    compiled = compile_project(load_project(root), "quickstart")
    [template] = [m for m in compiled.manifests if m["kind"] == "WorkflowTemplate"]
    return ArgoHarness(template, root, s3=s3, bucket=bucket, secrets={SECRET: storage}, work=work)


def _quickstart(tmp_path: Path) -> Path:
    root = tmp_path / "qs"
    shutil.copytree(example_folder(), root)
    return root


def test_the_compiled_quickstart_runs_to_the_end_and_publishes(
    tmp_path: Path, s3: Any, bucket: str, storage: dict[str, str], runner: CliRunner
) -> None:
    root = _quickstart(tmp_path)
    harness = _harness(root, s3, bucket, storage, tmp_path / "pods")
    outcome = harness.submit("quickstart-h7x2k", SMALL)
    assert outcome.status == "Succeeded", outcome.failure()
    assert {n: node.phase for n, node in outcome.nodes.items()} == {
        name: "Succeeded"
        for name in (
            "generate",
            "popular",
            "publish-popular",
            "als",
            "publish-als",
            "itemknn",
            "publish-itemknn",
            "evaluate",
        )
    }
    assert outcome.exit_nodes["record-run"].phase == "Succeeded"
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert "quickstart-h7x2k/generate/data/interactions.npz" in keys
    assert "quickstart-h7x2k/evaluate/out/offline.json" in keys
    # nothing was written into the project folder: every task ran in its own
    assert not (root / "data").exists() and not (root / "out").exists()

    project = load_project(root)
    with project.open_metadata() as metadata:
        live = {name: metadata.live_snapshot(name) for name in ("popular", "als", "itemknn")}
    for name, record in live.items():
        assert record is not None and record.keys > 0, name
        assert record.run_id == "quickstart-h7x2k"
    with project.open_serving_store() as store:
        for name, record in live.items():
            assert record is not None
            assert store.live_version(name) == record.version
            assert store.versions(name) == [record.version]
    result = runner.invoke(runs, ["--json", "--project", str(root)])
    assert result.exit_code == 0, result.output
    [run] = json.loads(result.stdout)
    assert (run["id"], run["pipeline"], run["status"]) == (
        "quickstart-h7x2k",
        "quickstart",
        "succeeded",
    )


def test_an_undeclared_input_fails_at_its_job_naming_the_path(
    tmp_path: Path, s3: Any, bucket: str, storage: dict[str, str], runner: CliRunner
) -> None:
    root = _quickstart(tmp_path)
    pipeline = root / "pipelines" / "quickstart.yaml"
    text = pipeline.read_text().replace(", out/als.npy, out/itemknn.npy]", ", out/itemknn.npy]")
    pipeline.write_text(text)
    harness = _harness(root, s3, bucket, storage, tmp_path / "pods")
    outcome = harness.submit("quickstart-b4d9q", SMALL)
    assert outcome.status == "Failed"
    evaluate = outcome.nodes["evaluate"]
    assert (evaluate.phase, evaluate.attempts) == ("Failed", 2)  # retries: 1 in defaults
    assert [n for n, node in outcome.nodes.items() if node.phase == "Failed"] == ["evaluate"]
    assert evaluate.message.startswith("task 'evaluate': exit code 1")
    assert "No such file or directory: 'out/als.npy'" in evaluate.message
    assert outcome.exit_nodes["record-run"].phase == "Succeeded"
    result = runner.invoke(runs, ["--json", "--project", str(root)])
    [run] = json.loads(result.stdout)
    assert (run["id"], run["status"]) == ("quickstart-b4d9q", "failed")
    assert "evaluate" in (run["message"] or "")


def test_a_publish_whose_checks_fail_is_not_retried(
    tmp_path: Path, s3: Any, bucket: str, storage: dict[str, str]
) -> None:
    root = _quickstart(tmp_path)
    results = root / "results" / "popular.yaml"
    results.write_text(results.read_text().replace("min_rows: 20", "min_rows: 1000000"))
    harness = _harness(root, s3, bucket, storage, tmp_path / "pods")
    outcome = harness.submit("quickstart-c8k1m", SMALL)
    publish = outcome.nodes["publish-popular"]
    assert (publish.phase, publish.attempts) == ("Failed", 1)  # rerunning a check repeats it
    assert publish.message.startswith("task 'publish-popular': exit code 1")


def test_a_publish_that_finds_the_store_down_is_retried(
    tmp_path: Path, s3: Any, bucket: str, storage: dict[str, str]
) -> None:
    root = _quickstart(tmp_path)
    harness = _harness(root, s3, bucket, storage, tmp_path / "pods")
    harness.secrets = {SECRET: {**storage, "SAMEDAY_SERVING_URL": "redis://127.0.0.1:1/0"}}
    outcome = harness.submit("quickstart-r2d7w", SMALL)
    publish = outcome.nodes["publish-popular"]
    assert (publish.phase, publish.attempts) == ("Failed", 3)  # publish.retries: 2 by default
    assert publish.message.startswith("task 'publish-popular': exit code 75")
