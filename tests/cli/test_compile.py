"""``sameday compile`` (``sameday/cli/compile.py``): options, output forms and errors.

The manifests themselves are tested in ``tests/pipeline/test_argo.py``; this module holds what
the command adds: which pipeline and settings it compiles, where the output goes, how it fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner
from tests.conftest import SHARED

from sameday.cli import main

SCHEMA_FILE = SHARED / "vendor" / "argo" / "schema.json"


IMAGE = "registry.example/jobs:7"


def compile_(runner: CliRunner, project_dir: Path, *args: str) -> tuple[int, str, str]:
    """``sameday compile`` on the scaffolded project, given an image and allowed its SQLite
    storage (what compiling refuses without them is tested in tests/pipeline)."""
    settings = project_dir / "sameday.yaml"
    text = settings.read_text()
    if f"image: {IMAGE}" not in text:
        text = text.replace("    # image: registry.example.com", f"    image: {IMAGE}\n    # x")
        settings.write_text(text)
    result = runner.invoke(
        main, ["compile", *args, "--allow-local-storage", "--project", str(project_dir)]
    )
    return result.exit_code, result.stdout, result.stderr


def test_the_stream_uses_the_project_argo_settings(runner: CliRunner, project_dir: Path) -> None:
    settings = project_dir / "sameday.yaml"
    settings.write_text(
        settings.read_text()
        .replace("namespace: recsys", "namespace: ml-batch")
        .replace("    # image: registry.example.com", f"    image: {IMAGE}\n    # image: x")
    )
    code, out, _ = compile_(runner, project_dir, "daily")
    assert code == 0
    assert out.startswith("---\n")
    template, cron = yaml.safe_load_all(out)
    assert [template["kind"], cron["kind"]] == ["WorkflowTemplate", "CronWorkflow"]
    assert template["metadata"]["name"] == "proj-daily"  # project name, then pipeline
    assert {template["metadata"]["namespace"], cron["metadata"]["namespace"]} == {"ml-batch"}
    images = {t["container"]["image"] for t in template["spec"]["templates"] if "container" in t}
    assert images == {"registry.example/jobs:7"}


def test_an_unscheduled_pipeline_has_no_cron_workflow(runner: CliRunner, project_dir: Path) -> None:
    pipeline = project_dir / "pipelines" / "daily.yaml"
    lines = pipeline.read_text().splitlines(keepends=True)
    dropped = ("schedule:", "  cron:", "  timezone:")
    pipeline.write_text("".join(line for line in lines if not line.startswith(dropped)))
    code, out, err = compile_(runner, project_dir, "daily")
    assert code == 0, err
    assert [d["kind"] for d in yaml.safe_load_all(out)] == ["WorkflowTemplate"]


def test_output_folder_gets_one_file_per_manifest(
    runner: CliRunner, project_dir: Path, tmp_path: Path
) -> None:
    out_dir = tmp_path / "deploy" / "argo"  # parents are created
    code, out, _ = compile_(runner, project_dir, "daily", "-o", str(out_dir))
    assert code == 0
    written = sorted(out_dir.iterdir())
    assert out.splitlines() == [
        f"wrote {out_dir / 'proj-daily.workflowtemplate.yaml'}",
        f"wrote {out_dir / 'proj-daily.cronworkflow.yaml'}",
        f"Deploy with: kubectl apply -f {out_dir}",
    ]
    _, stream, _ = compile_(runner, project_dir, "daily")
    by_kind = {d["kind"]: d for d in yaml.safe_load_all(stream)}
    assert [yaml.safe_load(p.read_text())["kind"] for p in written] == [
        "CronWorkflow",
        "WorkflowTemplate",
    ]
    for path in written:
        document = yaml.safe_load(path.read_text())
        assert document == by_kind[document["kind"]]  # the files hold what the stream prints


def test_a_schema_mismatch_writes_nothing(
    runner: CliRunner, project_dir: Path, tmp_path: Path
) -> None:
    older = json.loads(SCHEMA_FILE.read_text())
    workflow_spec = older["definitions"]["io.argoproj.workflow.v1alpha1.WorkflowSpec"]
    del workflow_spec["properties"]["workflowMetadata"]
    schema_file = tmp_path / "older.json"
    schema_file.write_text(json.dumps(older))
    out_dir = tmp_path / "deploy"
    args = ("daily", "-o", str(out_dir), "--schema", str(schema_file))
    code, out, err = compile_(runner, project_dir, *args)
    assert code == 1 and out == ""
    assert err.startswith(f"error: the argo manifests of 'daily' do not match {schema_file}:\n")
    assert "WorkflowTemplate proj-daily: spec: Additional properties" in err
    assert not out_dir.exists()


def test_usage_errors_exit_2(runner: CliRunner, project_dir: Path, tmp_path: Path) -> None:
    code, _, err = compile_(runner, project_dir, "daily", "--target", "airflow")
    assert code == 2 and "Invalid value for '--target'" in err
    code, _, err = compile_(runner, project_dir, "daily", "--schema", str(tmp_path / "no.json"))
    assert code == 2 and "does not exist" in err
    code, _, err = compile_(runner, project_dir)
    assert code == 2 and "missing PIPELINE: the pipeline to compile for Argo" in err


def test_a_project_without_pipelines_says_so(runner: CliRunner, project_dir: Path) -> None:
    (project_dir / "pipelines" / "daily.yaml").unlink()
    code, _, err = compile_(runner, project_dir, "daily")
    assert code == 1
    assert "no pipeline 'daily'" in err and "(available: none)" in err
    assert "add pipelines/<name>.yaml" in err
