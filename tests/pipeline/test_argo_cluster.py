"""Compiling for a cluster: shared storage only, no secret in a manifest, every fallback listed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from tests.conftest import SHARED
from tests.pipeline.conftest import IMAGE, STORAGE

from sameday.cli.compile import compile_cmd
from sameday.config import load_project
from sameday.demo import example_folder
from sameday.errors import PipelineError
from sameday.pipeline.argo import render, write_manifests
from sameday.pipeline.argo_cluster import compile_project, is_local
from sameday.pipeline.argo_schema import load_schema

SCHEMA = SHARED / "vendor" / "argo" / "schema.json"


def _quickstart(tmp_path: Path) -> Path:
    project = tmp_path / "qs"
    shutil.copytree(example_folder(), project)
    return project


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("sqlite:///.sameday/metadata.db", True),
        ("sqlite+pysqlite:////abs/m.db", True),
        (".sameday/artifacts", True),
        ("/mnt/artifacts", True),
        ("file:///mnt/artifacts", True),
        ("postgresql+psycopg://u@h/db", False),
        ("redis://redis:6379/0", False),
        ("s3://bucket/prefix", False),
    ],
)
def test_local_storage_is_what_one_machine_alone_sees(url: str, local: bool) -> None:
    assert is_local(url) is local


def test_sqlite_and_local_folders_are_refused_with_what_to_do(
    cluster_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAMEDAY_METADATA_URL")
    monkeypatch.delenv("SAMEDAY_ARTIFACTS_URL")
    project = load_project(cluster_project)
    with pytest.raises(PipelineError) as info:
        compile_project(project, "daily")
    message = str(info.value)
    assert "storage the pods cannot share" in message
    assert (
        "sameday.yaml:11:13: storage.metadata is 'sqlite:///.sameday/metadata.db' "
        "($SAMEDAY_METADATA_URL not set here)"
    ) in message
    assert "storage.artifacts is '.sameday/artifacts' ($SAMEDAY_ARTIFACTS_URL not set here)" in (
        message
    )
    assert "storage.serving" not in message and "storage.events" not in message
    assert "Secret 'sameday-storage'" in message and "--allow-local-storage" in message
    allowed = compile_project(project, "daily", allow_local_storage=True)
    assert [m["kind"] for m in allowed.manifests] == ["WorkflowTemplate", "CronWorkflow"]


def test_no_image_and_local_storage_are_reported_together(
    project_dir: Path, runner: CliRunner
) -> None:
    result = runner.invoke(compile_cmd, ["daily", "--project", str(project_dir)])
    assert isinstance(result.exception, PipelineError)
    message = str(result.exception)
    assert "storage the pods cannot share" in message
    assert "no container image for job(s) extract, popular, personal" in message
    assert "docker build -t REGISTRY/NAME:TAG ." in message


def test_the_pods_read_storage_from_the_secret_and_no_manifest_holds_a_password(
    tmp_path: Path, cluster_env: dict[str, str]
) -> None:
    project = load_project(_quickstart(tmp_path))
    compiled = compile_project(project, "quickstart")
    text = render(compiled.manifests)
    for value in STORAGE.values():
        assert value not in text
    assert "TOPSECRET" not in text
    assert compiled.storage_env == list(STORAGE)
    templates = {t["name"]: t for t in compiled.manifests[0]["spec"]["templates"]}
    for name in ("generate", "publish-als", "sameday-record-run"):
        env = {e["name"]: e for e in templates[name]["container"]["env"]}
        assert env["SAMEDAY_METADATA_URL"] == {
            "name": "SAMEDAY_METADATA_URL",
            "valueFrom": {
                "secretKeyRef": {"name": "sameday-storage", "key": "SAMEDAY_METADATA_URL"}
            },
        }


def test_a_pipeline_value_interpolated_from_a_secret_is_refused(
    tmp_path: Path, cluster_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _quickstart(tmp_path)
    pipeline = root / "pipelines" / "quickstart.yaml"
    text = pipeline.read_text().replace(
        "defaults:\n", "defaults:\n  env:\n    DB: ${SAMEDAY_METADATA_URL}\n    T: ${API_TOKEN}\n"
    )
    pipeline.write_text(text)
    monkeypatch.setenv("API_TOKEN", "tok-5b1e9a77")
    with pytest.raises(PipelineError) as info:
        compile_project(load_project(root), "quickstart")
    message = str(info.value)
    assert (
        "the manifests would hold the value of SAMEDAY_METADATA_URL from "
        "pipelines/quickstart.yaml:17:9 (defaults.env.DB) in clear text"
    ) in message
    assert "the value of API_TOKEN from pipelines/quickstart.yaml:18:8 (defaults.env.T)" in message
    assert "env: {NAME: {secret: SECRET, key: KEY}}" in message
    assert "TOPSECRET" not in message and "tok-5b1e9a77" not in message


def test_every_fallback_is_listed_with_its_place(
    tmp_path: Path, cluster_env: dict[str, str], runner: CliRunner
) -> None:
    root = _quickstart(tmp_path)
    result = runner.invoke(compile_cmd, ["quickstart", "--json", "--project", str(root)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    fallbacks = {(f["field"], f["where"]): f for f in report["fallbacks"]}
    assert set(fallbacks) == {
        ("storage.metadata", "pods"),
        ("storage.serving", "pods"),
        ("storage.events", "pods"),
        ("storage.artifacts", "pods"),
        ("orchestrator.argo.image", "manifest"),
    }
    image = fallbacks[("orchestrator.argo.image", "manifest")]
    assert (image["file"], image["line"], image["column"]) == ("sameday.yaml", 21, 12)
    assert (image["variable"], image["default"]) == (
        "SAMEDAY_IMAGE",
        "ghcr.io/example/sameday-quickstart:0.1.0",
    )
    assert [m["kind"] for m in report["manifests"]] == ["WorkflowTemplate", "CronWorkflow"]
    text = runner.invoke(compile_cmd, ["quickstart", "--project", str(root)])
    assert (
        "warning: sameday.yaml:21:12: orchestrator.argo.image: $SAMEDAY_IMAGE is not set here, "
        "so the manifests use 'ghcr.io/example/sameday-quickstart:0.1.0'"
    ) in text.stderr
    assert "use 'sqlite:///.sameday/metadata.db' if its value there is empty" in text.stderr
    assert list(yaml.safe_load_all(text.stdout)) == report["manifests"]


def test_a_set_variable_is_no_fallback_of_the_manifests(
    tmp_path: Path, cluster_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAMEDAY_IMAGE", IMAGE)
    compiled = compile_project(load_project(_quickstart(tmp_path)), "quickstart")
    assert {f.where for f in compiled.fallbacks} == {"pods"}
    assert compiled.manifests[0]["spec"]["templates"][1]["container"]["image"] == IMAGE


def test_the_compiled_quickstart_carries_its_files_as_artifacts(
    tmp_path: Path, cluster_env: dict[str, str]
) -> None:
    from hera.workflows import models

    compiled = compile_project(load_project(_quickstart(tmp_path)), "quickstart")
    schema = load_schema(SCHEMA)
    for manifest in compiled.manifests:
        assert schema.validate(manifest) == []
        parsed = getattr(models, manifest["kind"]).model_validate(manifest)
        assert parsed.model_dump(by_alias=True, exclude_none=True, mode="json") == manifest
    templates = {t["name"]: t for t in compiled.manifests[0]["spec"]["templates"]}
    assert templates["generate"]["outputs"]["artifacts"] == [
        {
            "name": "data",
            "path": "/app/data",
            "archive": {"none": {}},
            "s3": {"key": "{{workflow.name}}/generate/data"},
        }
    ]
    keys = {a["path"]: a["s3"]["key"] for a in templates["evaluate"]["inputs"]["artifacts"]}
    assert keys == {
        "/app/data/interactions.npz": "{{workflow.name}}/generate/data/interactions.npz",
        "/app/out/popular.npy": "{{workflow.name}}/popular/out/popular.npy",
        "/app/out/als.npy": "{{workflow.name}}/als/out/als.npy",
        "/app/out/itemknn.npy": "{{workflow.name}}/itemknn/out/itemknn.npy",
    }
    # publishing gets the catalogue its job read, and the list the job wrote
    published = {a["path"] for a in templates["publish-als"]["inputs"]["artifacts"]}
    assert published == {"/app/data/interactions.npz", "/app/data/items.csv", "/app/out/als.csv"}


def test_the_compiled_quickstart_matches_its_golden_files(
    tmp_path: Path, cluster_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAMEDAY_IMAGE", raising=False)
    expected = Path(__file__).parent / "golden" / "quickstart" / "expected"
    compiled = compile_project(load_project(_quickstart(tmp_path)), "quickstart")
    if os.environ.get("SAMEDAY_UPDATE_GOLDEN") == "1":
        for stale in expected.glob("*.yaml"):
            stale.unlink()
        write_manifests(compiled.manifests, expected)
    written = write_manifests(compiled.manifests, tmp_path / "deploy")
    assert sorted(p.name for p in written) == sorted(p.name for p in expected.glob("*.yaml"))
    for path in written:
        assert path.read_bytes() == (expected / path.name).read_bytes(), path.name
