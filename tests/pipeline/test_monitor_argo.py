"""Monitors compiled to Argo CronWorkflows: strictly valid, one per monitor, named to fit."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from tests.conftest import SHARED

from sameday.cli import main
from sameday.config import load_project
from sameday.config.monitor import Monitor
from sameday.config.project import ArgoOrchestrator
from sameday.errors import PipelineError
from sameday.monitor.run import monitors_of
from sameday.pipeline.argo_schema import ArgoSchema, load_schema
from sameday.pipeline.monitor_argo import compile_monitors, monitor_manifest_name

SCHEMA_FILE = SHARED / "vendor" / "argo" / "schema.json"


@pytest.fixture(scope="module")
def schema() -> ArgoSchema:
    return load_schema(SCHEMA_FILE)


def test_each_monitor_is_a_strictly_valid_cron_workflow(schema: ArgoSchema) -> None:
    monitors = {
        "health": Monitor.model_validate(
            {"name": "health", "description": "runs", "schedule": {"cron": "*/5 * * * *"}}
        ),
        "drift": Monitor.model_validate(
            {"name": "drift", "schedule": {"cron": "0 7 * * *", "timezone": "Asia/Tokyo"}}
        ),
    }
    settings = ArgoOrchestrator(
        namespace="ml",
        service_account="sameday",
        image="registry.example/proj:3",
        image_pull_policy="Always",
        labels={"team": "recs"},
    )
    manifests = compile_monitors(monitors, settings, project_name="shop")
    assert [m["metadata"]["name"] for m in manifests] == [
        "shop-monitor-drift",
        "shop-monitor-health",
    ]
    for manifest in manifests:
        assert schema.validate(manifest) == [], manifest["metadata"]["name"]
    drift, health = manifests
    assert drift["spec"]["schedules"] == ["0 7 * * *"]
    assert drift["spec"]["timezone"] == "Asia/Tokyo"
    assert health["spec"]["concurrencyPolicy"] == "Forbid"
    workflow = health["spec"]["workflowSpec"]
    assert workflow["serviceAccountName"] == "sameday"
    (template,) = workflow["templates"]
    assert template["container"]["image"] == "registry.example/proj:3"
    assert template["container"]["command"] == ["sh", "-c"]
    assert template["container"]["args"] == ["sameday monitor run --monitor health"]
    labels = health["metadata"]["labels"]
    assert labels["sameday.dev/monitor"] == "health" and labels["team"] == "recs"
    assert "sameday.dev/pipeline" not in labels
    assert health["metadata"]["namespace"] == "ml"
    assert health["metadata"]["annotations"] == {"workflows.argoproj.io/description": "runs"}


def test_long_names_fit_a_cron_workflow() -> None:
    name = monitor_manifest_name("a-rather-long-project-name", "and-a-long-monitor-name-too")
    assert len(name) <= 52 and name.startswith("a-rather-long-project-name-monitor")
    assert name != monitor_manifest_name("a-rather-long-project-name", "and-a-long-monitor-name-to")


def test_invalid_kubernetes_settings_are_refused() -> None:
    with pytest.raises(PipelineError, match=r"orchestrator\.argo\.namespace"):
        compile_monitors(
            {"m": Monitor(name="m")},
            ArgoOrchestrator(namespace="Not_Valid", image="r/p:1"),
            project_name="p",
        )


def with_image(project_dir: Path) -> None:
    settings = project_dir / "sameday.yaml"
    old = "    # image: registry.example.com"
    text = settings.read_text().replace(old, "    image: registry.example/p:1\n    #", 1)
    settings.write_text(text)


def test_a_project_without_monitor_files_compiles_the_default(project_dir: Path) -> None:
    (project_dir / "monitors" / "health.yaml").unlink()
    with_image(project_dir)
    project = load_project(project_dir, environ={})
    (manifest,) = compile_monitors(
        monitors_of(project), project.settings.orchestrator.argo, project_name=project.name
    )
    args = manifest["spec"]["workflowSpec"]["templates"][0]["container"]["args"]
    assert args == ["sameday monitor run --monitor default"]


def test_compile_monitors_command(runner: CliRunner, project_dir: Path, tmp_path: Path) -> None:
    base = ["compile", "--project", str(project_dir)]
    no_image = runner.invoke(main, [*base, "--monitors"])
    assert no_image.exit_code == 1 and "set it as orchestrator.argo.image" in no_image.stderr
    with_image(project_dir)
    result = runner.invoke(main, [*base, "--monitors", "--schema", str(SCHEMA_FILE)])
    assert result.exit_code == 0, result.stderr
    (manifest,) = yaml.safe_load_all(result.stdout)
    assert (
        manifest["kind"] == "CronWorkflow" and manifest["metadata"]["name"] == "proj-monitor-health"
    )
    out = tmp_path / "deploy"
    result = runner.invoke(main, [*base, "--monitors", "-o", str(out)])
    assert result.exit_code == 0
    assert [p.name for p in out.iterdir()] == ["proj-monitor-health.cronworkflow.yaml"]
    result = runner.invoke(main, [*base, "daily", "--monitors"])
    assert result.exit_code == 2 and "give a PIPELINE or --monitors, not both" in result.stderr
