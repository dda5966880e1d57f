"""The Argo compiler: golden manifests, strict schema validity, and each field's mapping.

Golden cases live in ``golden/<case>/``: ``pipeline.yaml`` and ``case.yaml`` (project name and
``orchestrator.argo`` settings) are the input, ``expected/`` the files ``write_manifests`` must
produce byte for byte. Regenerate them with ``SAMEDAY_UPDATE_GOLDEN=1 pytest tests/pipeline``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from tests.conftest import SHARED

from sameday.cli.compile import compile_cmd
from sameday.config._cron import SHORTCUTS
from sameday.config.pipeline import Pipeline
from sameday.config.project import ArgoOrchestrator
from sameday.errors import NotFound, PipelineError
from sameday.pipeline.argo import (
    CREATION_DATE,
    SCHEDULED_DATE,
    compile_argo,
    k8s_name,
    manifest_name,
    render,
    write_manifests,
)
from sameday.pipeline.argo_schema import ArgoSchema, load_schema

TRIGGER = "sameday-trigger"

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(path.name for path in GOLDEN.iterdir() if (path / "pipeline.yaml").is_file())
SCHEMA_FILE = SHARED / "vendor" / "argo" / "schema.json"
UPDATE = os.environ.get("SAMEDAY_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def schema() -> ArgoSchema:
    return load_schema(SCHEMA_FILE)


def _pipeline(**fields: Any) -> Pipeline:
    fields.setdefault("name", "daily")
    fields.setdefault("jobs", [{"name": "build", "command": "true"}])
    return Pipeline.model_validate(fields)


def _compile(pipeline: Pipeline, **settings: Any) -> list[dict[str, Any]]:
    settings.setdefault("image", "registry.example.com/shop/recsys:1.0.0")
    return compile_argo(pipeline, ArgoOrchestrator(**settings), project_name="shop")


def _templates(manifests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in manifests[0]["spec"]["templates"]}


def _env(template: dict[str, Any]) -> dict[str, Any]:
    """A container's env: literal values as strings, values from a Secret as their reference."""
    return {
        item["name"]: item["value"] if "value" in item else item["valueFrom"]
        for item in template["container"]["env"]
    }


def _case(name: str) -> list[dict[str, Any]]:
    case = yaml.safe_load((GOLDEN / name / "case.yaml").read_text())
    pipeline = Pipeline.model_validate(
        yaml.safe_load((GOLDEN / name / "pipeline.yaml").read_text())
    )
    settings = ArgoOrchestrator.model_validate(case["argo"])
    storage_env = case.get("storage_env", [])
    return compile_argo(pipeline, settings, project_name=case["project"], storage_env=storage_env)


def test_there_are_golden_cases() -> None:
    assert CASES == ["long-names", "minimal", "train", "workspace"]


@pytest.mark.parametrize("case", CASES)
def test_compiled_manifests_match_the_golden_files(case: str, tmp_path: Path) -> None:
    expected = GOLDEN / case / "expected"
    if UPDATE:
        for stale in expected.glob("*.yaml"):
            stale.unlink()
        write_manifests(_case(case), expected)
    written = write_manifests(_case(case), tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in expected.glob("*.yaml"))
    for path in written:
        assert path.read_bytes() == (expected / path.name).read_bytes(), path.name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)


@pytest.mark.parametrize("case", CASES)
def test_every_compiled_manifest_is_strictly_valid_argo(case: str, schema: ArgoSchema) -> None:
    for manifest in _case(case):
        assert schema.validate(manifest) == [], manifest["kind"]


def test_compiling_is_deterministic_and_render_is_a_yaml_stream() -> None:
    first, second = _case("train"), _case("train")
    assert first == second
    text = render(first)
    assert text == render(second)
    assert text.startswith("---\napiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\n")
    assert list(yaml.safe_load_all(text)) == first


def test_a_scheduled_pipeline_gets_a_thin_cron_workflow_referencing_its_template() -> None:
    template, cron = _case("train")
    assert [template["kind"], cron["kind"]] == ["WorkflowTemplate", "CronWorkflow"]
    assert template["metadata"]["name"] == cron["metadata"]["name"] == "shop-train"
    assert cron["spec"] == {
        "schedules": ["30 2 * * *"],
        "timezone": "Europe/Paris",
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": 3600,
        "workflowSpec": {
            "workflowTemplateRef": {"name": "shop-train"},
            "arguments": {
                "parameters": [
                    {"name": "ds", "value": SCHEDULED_DATE},
                    {"name": "sameday-trigger", "value": "schedule"},
                ]
            },
        },
    }
    assert [m["kind"] for m in _case("minimal")] == ["WorkflowTemplate"]


@pytest.mark.parametrize("shortcut", SHORTCUTS)
def test_cron_shortcuts_pass_through_to_a_valid_cron_workflow(
    shortcut: str, schema: ArgoSchema
) -> None:
    # Argo parses schedules with robfig/cron's standard parser, which knows these shortcuts.
    manifests = _compile(_pipeline(schedule={"cron": shortcut}))
    assert manifests[1]["spec"]["schedules"] == [shortcut]
    assert all(schema.validate(manifest) == [] for manifest in manifests)


def test_jobs_become_a_dag_with_depends_expressions_and_publish_tasks() -> None:
    dag = _templates(_case("train"))["sameday-dag"]["dag"]
    assert dag["failFast"] is False
    tasks = {task["name"]: task for task in dag["tasks"]}
    assert list(tasks) == [
        "extract",
        "features",
        "train-als",
        "publish-home-als",
        "popular",
        "publish-home-popular",
    ]
    assert "depends" not in tasks["extract"]
    assert tasks["train-als"]["depends"] == "extract && features"
    assert tasks["publish-home-als"]["depends"] == "train-als"
    assert all("dependencies" not in task for task in tasks.values())


def test_the_whole_command_is_one_argument_to_sh_c_and_runs_intact(tmp_path: Path) -> None:
    command = (
        """printf '%s|' "a b" 'c "d"' | tr '|' '\\n' | sort -r && echo "$((1 + 2))" > out.txt"""
    )
    manifests = _compile(_pipeline(jobs=[{"name": "quote", "command": command}]))
    container = _templates(manifests)["quote"]["container"]
    assert container["command"] == ["sh", "-c"]
    assert container["args"] == [command]
    reparsed = yaml.safe_load(render(manifests))["spec"]["templates"][1]["container"]["args"]
    result = subprocess.run(
        [*container["command"], *reparsed], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert result.stdout == 'c "d"\na b\n'
    assert (tmp_path / "out.txt").read_text() == "3\n"


def test_retries_map_to_a_retry_strategy_with_a_per_wait_cap() -> None:
    templates = _templates(_case("train"))
    assert templates["extract"]["retryStrategy"] == {
        "limit": 2,
        "retryPolicy": "Always",
        "backoff": {"duration": "10s", "factor": 2, "cap": "120s"},
    }
    assert templates["train-als"]["retryStrategy"]["backoff"] == {
        "duration": "1500ms",
        "factor": 3,
    }
    assert "retryStrategy" not in templates["popular"]  # retries: 0
    assert all("maxDuration" not in str(t) for t in templates.values())


def test_a_fractional_backoff_factor_cannot_be_expressed_in_argo() -> None:
    pipeline = _pipeline(defaults={"retries": {"limit": 1, "backoff": {"factor": 1.5}}})
    with pytest.raises(PipelineError, match=r"backoff factor is a whole number, got 1\.5") as info:
        _compile(pipeline)
    assert info.value.job == "build"


def test_timeouts_resources_and_images_follow_job_then_defaults_then_settings() -> None:
    templates = _templates(_case("train"))
    assert templates["extract"]["activeDeadlineSeconds"] == 1800
    assert templates["train-als"]["activeDeadlineSeconds"] == 7200
    assert templates["popular"]["activeDeadlineSeconds"] == 90
    assert templates["extract"]["container"]["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"}
    }
    assert templates["features"]["container"]["resources"] == {
        "requests": {"cpu": "2", "memory": "4Gi"},
        "limits": {"memory": "6Gi"},
    }
    assert templates["extract"]["container"]["image"] == "registry.example.com/shop/recsys:1.4.0"
    assert templates["train-als"]["container"]["image"] == "registry.example.com/shop/als:2.0"
    assert (
        templates["publish-home-als"]["container"]["image"] == "registry.example.com/shop/als:2.0"
    )
    pipeline = _pipeline(defaults={"image": "base:1", "timeout": 0.2})
    build = _templates(_compile(pipeline, image_pull_policy="Always"))["build"]
    assert build["container"]["image"] == "base:1"
    assert build["container"]["imagePullPolicy"] == "Always"
    assert build["activeDeadlineSeconds"] == 1


def test_env_merges_params_then_defaults_then_the_job() -> None:
    templates = _templates(_case("train"))
    env = _env(templates["features"])
    assert env["LOG_LEVEL"] == "debug"  # the job wins over defaults
    assert env["DATA_DIR"] == "/data"
    assert env["DS"] == "{{inputs.parameters.ds}}"
    assert env["MODEL_VERSION"] == "{{inputs.parameters.model_version}}"
    assert env["SAMEDAY_RUN_ID"] == "{{workflow.name}}"
    assert env["SAMEDAY_JOB"] == "features"
    assert _env(templates["extract"])["LOG_LEVEL"] == "info"


def test_params_are_arguments_passed_down_as_inputs_and_referenced_in_commands() -> None:
    manifests = _case("train")
    arguments = manifests[0]["spec"]["arguments"]["parameters"]
    assert [a["name"] for a in arguments] == ["ds", "model_version", "sample-rate", TRIGGER]
    assert arguments[0]["value"] == CREATION_DATE
    assert arguments[1]["value"] == "v3"
    templates = _templates(manifests)
    assert templates["sameday-dag"]["inputs"] == {
        "parameters": [{"name": "ds"}, {"name": "model_version"}, {"name": "sample-rate"}]
    }
    task = templates["sameday-dag"]["dag"]["tasks"][0]
    assert task["arguments"]["parameters"][1] == {
        "name": "model_version",
        "value": "{{inputs.parameters.model_version}}",
    }
    assert (
        "--sample {{inputs.parameters.sample-rate}} |"
        in templates["extract"]["container"]["args"][0]
    )
    assert '"{{inputs.parameters.model_version}}"' in templates["train-als"]["container"]["args"][0]


def test_an_explicit_ds_default_is_kept_for_manual_runs() -> None:
    pipeline = _pipeline(params={"ds": {"default": "2024-05-01"}})
    assert _compile(pipeline)[0]["spec"]["arguments"]["parameters"] == [
        {"name": "ds", "value": "2024-05-01"},
        {"name": TRIGGER, "value": "manual"},
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"params": {"7days": {"default": "1"}}}, r"\$7DAYS, which no shell can read"),
        (
            {"params": {"a.b": {"default": "1"}, "a_b": {"default": "2"}}},
            "params 'a.b' and 'a_b' would share",
        ),
        (
            {"schedule": {"cron": "0 3 * * *"}, "params": {"region": {}}},
            "param 'region' has no default",
        ),
        (
            {"jobs": [{"name": "build", "command": "echo {{params.missing}}"}]},
            r"refers to \{\{params.missing\}\}",
        ),
        ({"on_failure": "echo {{params.nope}}"}, r"on_failure refers to \{\{params.nope\}\}"),
    ],
)
def test_params_that_cannot_be_expressed_are_errors(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(PipelineError, match=message):
        _compile(_pipeline(**fields))


def test_on_failure_runs_from_an_exit_handler_only_when_the_run_did_not_succeed() -> None:
    manifests = _case("train")
    assert manifests[0]["spec"]["onExit"] == "sameday-exit"
    templates = _templates(manifests)
    [[record, step]] = templates["sameday-exit"]["steps"]
    assert record["template"] == "sameday-record-run"
    assert "when" not in record
    assert step["template"] == "sameday-on-failure"
    assert step["when"] == "{{workflow.status}} != Succeeded"
    runner = templates["sameday-on-failure"]
    assert "train failed for {{inputs.parameters.ds}}" in runner["container"]["args"][0]
    assert _env(runner)["SAMEDAY_RUN_STATUS"] == "{{workflow.status}}"
    assert "retryStrategy" not in runner
    minimal = _case("minimal")[0]["spec"]
    assert minimal["onExit"] == "sameday-exit"
    assert [t["name"] for t in minimal["templates"]] == [
        "sameday-dag",
        "say",
        "sameday-exit",
        "sameday-record-run",
    ]
    assert _templates(_case("minimal"))["sameday-exit"]["steps"] == [
        [{"name": "record-run", "template": "sameday-record-run"}]
    ]


def test_publish_tasks_run_sameday_publish_with_the_workflow_name_as_run_id() -> None:
    publish = _templates(_case("train"))["publish-home-popular"]
    assert publish["container"]["args"] == [
        "sameday publish home-popular --source out/popular.csv --run-id {{workflow.name}}"
    ]
    pipeline = _pipeline(
        jobs=[{"name": "b", "command": "true", "outputs": [{"path": "a b.csv", "publish": "x"}]}]
    )
    args = _templates(_compile(pipeline))["publish-x"]["container"]["args"]
    assert args == ["sameday publish x --source 'a b.csv' --run-id {{workflow.name}}"]


def test_labels_namespace_and_service_account_come_from_settings() -> None:
    template, cron = _case("train")
    expected = {
        "app.kubernetes.io/name": "sameday",
        "app.kubernetes.io/instance": "shop-train",
        "app.kubernetes.io/component": "pipeline",
        "app.kubernetes.io/part-of": "recommendations",  # the setting overrides the project
        "team": "discovery",
        "app.kubernetes.io/managed-by": "sameday",
        "sameday.dev/project": "shop",
        "sameday.dev/pipeline": "train",
    }
    for manifest in (template, cron):
        assert manifest["metadata"]["labels"] == expected
        assert manifest["metadata"]["namespace"] == "recsys"
    assert template["spec"]["workflowMetadata"] == {"labels": expected}
    assert template["spec"]["podMetadata"] == {"labels": expected}
    assert template["spec"]["serviceAccountName"] == "sameday-runner"
    overridden = _compile(_pipeline(), labels={"app.kubernetes.io/managed-by": "helm"})
    assert overridden[0]["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "sameday"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"namespace": "n" * 64}, "orchestrator.argo.namespace 'n{64}' is not"),
        ({"namespace": "Rec_Sys"}, "is not a Kubernetes namespace name"),
        ({"service_account": "Runner!"}, "orchestrator.argo.service_account"),
        ({"labels": {"team": "v" * 64}}, "label team=.* is not valid"),
        ({"labels": {"bad key": "x"}}, "label bad key=.* is not valid"),
        ({"labels": {"Example.com/team": "x"}}, "fix orchestrator.argo.labels"),
    ],
)
def test_settings_names_that_do_not_fit_are_errors(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(PipelineError, match=message):
        _compile(_pipeline(), **settings)


def test_long_derived_names_are_shortened_stably_and_distinctly() -> None:
    template, cron = _case("long-names")
    name = template["metadata"]["name"]
    assert name == cron["metadata"]["name"] == "the-recommendations-platform-of-the-online-1969dea3"
    assert len(name) <= 52
    tasks = [t["name"] for t in template["spec"]["templates"][0]["dag"]["tasks"]]
    publish = [t for t in tasks if t.startswith("publish-")]
    assert len(publish) == 2 and len(set(publish)) == 2
    assert all(len(t) <= 63 for t in tasks)
    assert k8s_name("a" * 80) == k8s_name("a" * 80)
    assert len(k8s_name("a" * 80, limit=20)) == 20
    assert k8s_name("Shop_Recs", "Daily!") == "shop-recs-daily"
    assert manifest_name("shop", "daily") == "shop-daily"
    with pytest.raises(PipelineError, match="cannot make a Kubernetes name"):
        k8s_name("--", "__")


@pytest.mark.parametrize(
    ("jobs", "clash"),
    [
        ([{"name": "sameday-dag", "command": "true"}], "sameday-dag"),
        (
            [
                {"name": "a", "command": "true", "outputs": [{"path": "x", "publish": "p"}]},
                {"name": "publish-p", "command": "true"},
            ],
            "publish-p",
        ),
        (
            [
                {"name": "a", "command": "true", "outputs": [{"path": "x", "publish": "p"}]},
                {"name": "b", "command": "true", "outputs": [{"path": "y", "publish": "p"}]},
            ],
            "publish-p",
        ),
    ],
)
def test_template_name_clashes_are_errors(jobs: list[dict[str, Any]], clash: str) -> None:
    with pytest.raises(PipelineError, match=f"two Argo templates would be called '{clash}'"):
        _compile(_pipeline(jobs=jobs))


def test_write_manifests_names_files_by_name_and_kind(tmp_path: Path) -> None:
    paths = write_manifests(_case("train"), tmp_path / "deploy")
    assert [p.name for p in paths] == [
        "shop-train.workflowtemplate.yaml",
        "shop-train.cronworkflow.yaml",
    ]
    assert sorted(p.name for p in (tmp_path / "deploy").iterdir()) == sorted(p.name for p in paths)


def test_cli_prints_the_manifests_of_the_scaffolded_project(
    runner: CliRunner, cluster_project: Path, schema: ArgoSchema
) -> None:
    result = runner.invoke(
        compile_cmd, ["daily", "--target", "argo", "--project", str(cluster_project)]
    )
    assert result.exit_code == 0, result.output
    documents = list(yaml.safe_load_all(result.stdout))
    assert [d["kind"] for d in documents] == ["WorkflowTemplate", "CronWorkflow"]
    assert all(schema.validate(d) == [] for d in documents)


def test_cli_writes_files_and_checks_them_against_a_schema(
    runner: CliRunner, cluster_project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "deploy"
    args = ["daily", "-o", str(out), "--schema", str(SCHEMA_FILE)]
    args += ["--project", str(cluster_project)]
    result = runner.invoke(compile_cmd, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "proj-daily.cronworkflow.yaml",
        "proj-daily.workflowtemplate.yaml",
    ]
    assert f"kubectl apply -f {out}" in result.output


def test_cli_rejects_manifests_the_given_schema_does_not_allow(
    runner: CliRunner, cluster_project: Path, tmp_path: Path
) -> None:
    older = json.loads(SCHEMA_FILE.read_text())
    del older["definitions"]["io.argoproj.workflow.v1alpha1.WorkflowSpec"]["properties"][
        "workflowMetadata"
    ]
    schema_file = tmp_path / "older-schema.json"
    schema_file.write_text(json.dumps(older))
    args = ["daily", "--schema", str(schema_file), "--project", str(cluster_project)]
    result = runner.invoke(compile_cmd, args)
    assert isinstance(result.exception, PipelineError)
    assert "WorkflowTemplate proj-daily: spec: Additional properties are not allowed" in str(
        result.exception
    )


def test_cli_names_the_available_pipelines_when_one_is_missing(
    runner: CliRunner, project_dir: Path
) -> None:
    result = runner.invoke(compile_cmd, ["nightly", "--project", str(project_dir)])
    assert isinstance(result.exception, NotFound)
    assert "no pipeline 'nightly'" in str(result.exception)
    assert "(available: daily)" in str(result.exception)


def _every_manifest() -> list[dict[str, Any]]:
    return [manifest for case in CASES for manifest in _case(case)]


def test_hera_models_parse_every_compiled_manifest_and_dump_it_back_equal() -> None:
    from hera.workflows import models

    for manifest in _every_manifest():
        model = getattr(models, manifest["kind"]).model_validate(manifest)
        dumped = model.model_dump(by_alias=True, exclude_none=True, mode="json")
        assert dumped == manifest, manifest["kind"]


def test_a_job_without_any_image_is_an_error_that_says_what_to_do() -> None:
    pipeline = _pipeline(
        jobs=[
            {"name": "a", "command": "true"},
            {"name": "b", "command": "true", "image": "registry.example.com/b:1.0.0"},
        ]
    )
    with pytest.raises(PipelineError) as info:
        compile_argo(pipeline, ArgoOrchestrator(), project_name="shop")
    message = str(info.value)
    assert "no container image for job(s) a." in message
    assert "docker build -t REGISTRY/NAME:TAG . && docker push REGISTRY/NAME:TAG" in message
    assert "defaults.image in the pipeline file or orchestrator.argo.image" in message


def test_the_image_is_the_jobs_then_the_pipelines_then_the_projects() -> None:
    pipeline = _pipeline(
        defaults={"image": "pipeline:2.0.0"},
        jobs=[
            {"name": "a", "command": "true", "image": "job:1.0.0"},
            {"name": "b", "command": "true"},
        ],
    )
    templates = _templates(_compile(pipeline, image="project:3.0.0"))
    assert templates["a"]["container"]["image"] == "job:1.0.0"
    assert templates["b"]["container"]["image"] == "pipeline:2.0.0"
    assert templates["sameday-record-run"]["container"]["image"] == "pipeline:2.0.0"
    plain = _templates(_compile(_pipeline(), image="project:3.0.0"))
    assert plain["build"]["container"]["image"] == "project:3.0.0"
    assert plain["build"]["container"]["workingDir"] == "/app"


def test_outputs_are_stored_under_the_run_and_the_job_and_inputs_fetch_them() -> None:
    pipeline = _pipeline(
        jobs=[
            {"name": "gen", "command": "true", "outputs": [{"path": "data/"}]},
            {
                "name": "train",
                "command": "true",
                "depends_on": ["gen"],
                "inputs": ["data/x.npz", "jobs/train.py"],
                "outputs": [{"path": "out/lists/*.parquet", "publish": "home"}],
            },
        ]
    )
    templates = _templates(_compile(pipeline, workdir="/srv/project"))
    assert templates["gen"]["outputs"]["artifacts"] == [
        {
            "name": "data",
            "path": "/srv/project/data",
            "archive": {"none": {}},
            "s3": {"key": "{{workflow.name}}/gen/data"},
        }
    ]
    # a project file comes with the image: only the upstream file is fetched
    assert templates["train"]["inputs"]["artifacts"] == [
        {
            "name": "data-x-npz",
            "path": "/srv/project/data/x.npz",
            "s3": {"key": "{{workflow.name}}/gen/data/x.npz"},
        }
    ]
    assert templates["train"]["outputs"]["artifacts"][0]["s3"] == {
        "key": "{{workflow.name}}/train/out/lists"
    }
    publish = templates["publish-home"]
    assert [a["s3"]["key"] for a in publish["inputs"]["artifacts"]] == [
        "{{workflow.name}}/gen/data/x.npz",
        "{{workflow.name}}/train/out/lists",
    ]
    assert publish["container"]["args"] == [
        "sameday publish home --source 'out/lists/*.parquet' --run-id {{workflow.name}}"
    ]


def test_an_input_a_job_outside_its_upstream_writes_is_a_compile_error() -> None:
    pipeline = _pipeline(
        jobs=[
            {"name": "a", "command": "true", "outputs": [{"path": "out/a.csv"}]},
            {"name": "b", "command": "true", "inputs": ["out/a.csv"]},
        ]
    )
    with pytest.raises(PipelineError, match="which job 'a' writes, but is not upstream of 'b'"):
        _compile(pipeline)


def test_the_artifact_repository_is_referenced_when_set() -> None:
    spec = _case("train")[0]["spec"]
    assert spec["artifactRepositoryRef"] == {
        "configMap": "artifact-repositories",
        "key": "recsys-s3",
    }
    assert "artifactRepositoryRef" not in _case("minimal")[0]["spec"]


def test_a_workspace_is_one_volume_per_run_mounted_over_the_folders_jobs_write() -> None:
    spec = _case("workspace")[0]["spec"]
    assert spec["volumeClaimTemplates"] == [
        {
            "metadata": {"name": "sameday-workspace"},
            "spec": {
                "accessModes": ["ReadWriteMany"],
                "resources": {"requests": {"storage": "50Gi"}},  # the pipeline's size wins
                "storageClassName": "nfs-client",  # the project's class fills the gap
            },
        }
    ]
    assert spec["volumeClaimGC"] == {"strategy": "OnWorkflowSuccess"}
    assert spec["securityContext"] == {"fsGroup": 10001}
    templates = {t["name"]: t for t in spec["templates"]}
    for name in ("extract", "train", "publish-home"):
        assert "inputs" not in templates[name] and "outputs" not in templates[name]
        assert templates[name]["container"]["volumeMounts"] == [
            {"name": "sameday-workspace", "mountPath": "/app/data", "subPath": "data"},
            {"name": "sameday-workspace", "mountPath": "/app/out", "subPath": "out"},
        ]


@pytest.mark.parametrize(
    ("outputs", "files", "message"),
    [
        ([{"path": "model.pkl"}], None, "writes 'model.pkl' at the top of the project"),
        ([{"path": "jobs/model.pkl"}], ["jobs/train.py"], "would hide the image's jobs/train.py"),
    ],
)
def test_a_workspace_refuses_what_it_cannot_mount(
    outputs: list[dict[str, str]], files: list[str] | None, message: str
) -> None:
    pipeline = _pipeline(workspace={}, jobs=[{"name": "a", "command": "true", "outputs": outputs}])
    settings = ArgoOrchestrator(image="x:1.0.0")
    with pytest.raises(PipelineError, match=message):
        compile_argo(pipeline, settings, project_name="shop", project_files=files)


def test_env_values_from_secrets_and_whole_secrets_reach_the_container() -> None:
    templates = _templates(_case("train"))
    features = _env(templates["features"])
    assert features["WAREHOUSE_TOKEN"] == {"secretKeyRef": {"name": "warehouse", "key": "token"}}
    assert features["PGPASSWORD"] == {"secretKeyRef": {"name": "shop-storage", "key": "PGPASSWORD"}}
    assert features["LOG_LEVEL"] == "debug"
    assert templates["features"]["container"]["envFrom"] == [
        {"secretRef": {"name": "shop-common"}},
        {"secretRef": {"name": "features-store"}},
    ]
    assert templates["extract"]["container"]["envFrom"] == [{"secretRef": {"name": "shop-common"}}]


def test_node_selectors_and_tolerations_are_the_jobs_or_the_defaults() -> None:
    templates = _templates(_case("train"))
    assert templates["extract"]["nodeSelector"] == {"pool": "batch"}
    assert templates["train-als"]["nodeSelector"] == {"pool": "gpu"}
    assert templates["train-als"]["tolerations"] == [
        {
            "key": "nvidia.com/gpu",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 600,
        }
    ]
    assert templates["publish-home-als"]["nodeSelector"] == {"pool": "batch"}
    plain = _templates(_compile(_pipeline()))["build"]
    assert "nodeSelector" not in plain and "tolerations" not in plain


def test_operators_get_pod_gc_a_ttl_and_retried_publications_with_a_deadline() -> None:
    spec = _case("train")[0]["spec"]
    assert spec["podGC"] == {"strategy": "OnPodSuccess"}
    assert spec["ttlStrategy"] == {"secondsAfterSuccess": 7200, "secondsAfterFailure": 259200}
    publish = _templates(_case("train"))["publish-home-als"]
    assert publish["retryStrategy"] == {
        "limit": 3,
        "retryPolicy": "Always",
        "backoff": {"duration": "30s", "factor": 2, "cap": "300s"},
        "expression": 'lastRetry.status == "Error" || asInt(lastRetry.exitCode) == 75',
    }
    assert publish["activeDeadlineSeconds"] == 600
    defaults = _compile(_pipeline())[0]["spec"]
    assert defaults["podGC"] == {"strategy": "OnWorkflowSuccess"}
    assert defaults["ttlStrategy"] == {"secondsAfterSuccess": 86400, "secondsAfterFailure": 604800}
    off = _compile(_pipeline(), pod_gc=None, ttl={"after_success": None, "after_failure": None})
    assert "podGC" not in off[0]["spec"] and "ttlStrategy" not in off[0]["spec"]


def test_the_exit_handler_records_the_run_with_arguments_argo_fills_in() -> None:
    record = _templates(_case("train"))["sameday-record-run"]
    container = record["container"]
    assert container["command"] == ["sameday", "record-argo-run"]
    args = container["args"]
    pairs = dict(zip(args[0::2], args[1::2], strict=True))
    assert pairs["--run-id"] == "{{workflow.name}}"
    assert pairs["--status"] == "{{workflow.status}}"
    assert pairs["--failures"] == "{{workflow.failures}}"
    assert pairs["--started-at"] == "{{workflow.creationTimestamp}}"
    assert pairs["--trigger"] == "{{workflow.parameters.sameday-trigger}}"
    assert [v for k, v in zip(args[0::2], args[1::2], strict=True) if k == "--param"] == [
        "ds={{inputs.parameters.ds}}",
        "model.version={{inputs.parameters.model_version}}",
        "sample-rate={{inputs.parameters.sample-rate}}",
    ]
    assert record["retryStrategy"]["limit"] == 3
    assert "SAMEDAY_METADATA_URL" in _env(record)


def test_a_param_called_like_the_trigger_parameter_is_an_error() -> None:
    with pytest.raises(PipelineError, match="'sameday-trigger' is a name sameday uses on Argo"):
        _compile(_pipeline(params={"sameday-trigger": {"default": "x"}}))
