"""``sameday compile --target k8s``: golden manifests, Kubernetes schemas, secrets and refusals.

Golden cases are written to ``golden/<case>.yaml``; regenerate them with
``SAMEDAY_UPDATE_GOLDEN=1 pytest tests/deploy``.
"""

from __future__ import annotations

import inspect
import os
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from click.testing import CliRunner

from sameday.cli import main
from sameday.config import load_project
from sameday.config.schema import schemas
from sameday.deploy.k8s import (
    CONFIG_DIR,
    FLUSH_SECONDS,
    compile_k8s,
    grace_period,
    load_server_project,
)
from sameday.errors import ConfigError
from sameday.events.writer import EventWriter
from sameday.pipeline.argo import render

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("SAMEDAY_UPDATE_GOLDEN") == "1"
KUBERNETES_VERSIONS = [f"1.{minor}.0" for minor in range(29, 38)]
IMAGE = "registry.example.com/recsys/sameday-serve:0.4.0"
SHARED_STORAGE = {
    "metadata": "${SAMEDAY_METADATA_URL}",
    "serving": "${SAMEDAY_SERVING_URL}",
    "events": "${SAMEDAY_EVENTS_URL}",
}
KEYS = {"serving": "${SAMEDAY_SERVING_KEY}", "admin": "${SAMEDAY_ADMIN_KEY}"}
FULL: dict[str, Any] = {
    "image": IMAGE,
    "image_pull_policy": "IfNotPresent",
    "namespace": "recsys",
    "name": "home-api",
    "replicas": 3,
    "autoscaling": {"enabled": False},
    "resources": {"requests": {"cpu": 1, "memory": "1Gi"}, "limits": {"cpu": 2.0, "memory": "2Gi"}},
    "service": {"type": "LoadBalancer", "port": 8080},
    "pod_disruption_budget": {"max_unavailable": 2},
    "pre_stop": "2.5s",
    "secret": "recsys-serve",
    "env": {
        "SAMEDAY_METADATA_URL": {"secret": "recsys-db", "key": "url"},
        "PGSSLROOTCERT": {"secret": "recsys-db", "key": "ca-path", "optional": True},
    },
    "service_account": "sameday-serve",
    "labels": {"team": "recsys"},
    "pod_annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8000"},
    "node_selector": {"kubernetes.io/arch": "amd64"},
}


def write_project(
    root: Path,
    kubernetes: dict[str, Any] | None,
    *,
    storage: dict[str, str] | None = None,
    keys: dict[str, str] | None = None,
    **serve: Any,
) -> Path:
    """A project of one ``sameday.yaml`` (all the server reads)."""
    root.mkdir(parents=True, exist_ok=True)
    settings: dict[str, Any] = {
        "name": "shop",
        "storage": SHARED_STORAGE if storage is None else storage,
    }
    settings["serve"] = {**serve, "api_keys": KEYS if keys is None else keys}
    if kubernetes is not None:
        settings["serve"]["kubernetes"] = kubernetes
    (root / "sameday.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    return root


def quickstart(root: Path) -> Path:
    """The quickstart example, with the one setting it lacks for Kubernetes: an image."""
    shutil.copytree(ROOT / "examples" / "quickstart", root)
    with (root / "sameday.yaml").open("a") as file:
        file.write(f"  kubernetes:\n    image: {IMAGE}\n    namespace: recsys\n")
    return root


def compiled(root: Path, **options: Any) -> list[dict[str, Any]]:
    return compile_k8s(load_server_project(root, environ={}), **options)


def by_kind(manifests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {manifest["kind"]: manifest for manifest in manifests}


def pod_spec(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = by_kind(manifests)["Deployment"]["spec"]["template"]["spec"]
    return spec


CASES = {"quickstart": quickstart, "full": lambda root: write_project(root, FULL)}


@pytest.mark.parametrize("case", sorted(CASES))
def test_compiled_manifests_match_the_golden_files(case: str, tmp_path: Path) -> None:
    text = render(compiled(CASES[case](tmp_path / case)))
    golden = GOLDEN / f"{case}.yaml"
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text(), f"regenerate with SAMEDAY_UPDATE_GOLDEN=1 ({golden})"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_object_is_valid_kubernetes_strictly(case: str, version: str, tmp_path: Path) -> None:
    manifests = compiled(CASES[case](tmp_path / case))
    kinds = [m["kind"] for m in manifests]
    expected = ["ConfigMap", "Deployment", "Service", "PodDisruptionBudget"]
    if case == "quickstart":
        expected.insert(3, "HorizontalPodAutoscaler")
    assert kinds == expected
    for manifest in manifests:
        kubernetes_validate.validate(manifest, version, strict=True)


def test_the_strict_validation_rejects_an_unknown_field(tmp_path: Path) -> None:
    manifests = compiled(quickstart(tmp_path / "q"))
    pod_spec(manifests)["containers"][0]["readOnlyRootFileSystem"] = True  # a typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(by_kind(manifests)["Deployment"], "1.29.0", strict=True)


def test_no_secret_value_is_ever_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "SAMEDAY_METADATA_URL": "postgresql+psycopg://app:hunter2-meta@db/sameday",
        "SAMEDAY_SERVING_URL": "redis://:hunter2-redis@redis:6379/0",
        "SAMEDAY_EVENTS_URL": "postgresql+psycopg://app:hunter2-events@db/events",
        "SAMEDAY_SERVING_KEY": "hunter2-serving",
        "SAMEDAY_ADMIN_KEY": "hunter2-admin",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    root = write_project(tmp_path / "p", {"image": IMAGE})
    manifests = compile_k8s(load_server_project(root))
    assert "hunter2" not in render(manifests)
    assert manifests == compiled(root)  # the same without them
    env = pod_spec(manifests)["containers"][0]["env"]
    assert [item["name"] for item in env] == sorted(secrets)
    for item in env:
        assert set(item) == {"name", "valueFrom"}
        assert item["valueFrom"] == {"secretKeyRef": {"name": "shop-serve", "key": item["name"]}}


def test_env_names_other_secrets_and_optional_keys(tmp_path: Path) -> None:
    env = {
        item["name"]: item["valueFrom"]["secretKeyRef"]
        for item in pod_spec(compiled(write_project(tmp_path / "p", FULL)))["containers"][0]["env"]
    }
    assert env["SAMEDAY_METADATA_URL"] == {"name": "recsys-db", "key": "url"}
    assert env["SAMEDAY_SERVING_URL"] == {"name": "recsys-serve", "key": "SAMEDAY_SERVING_URL"}
    assert env["PGSSLROOTCERT"] == {"name": "recsys-db", "key": "ca-path", "optional": True}


def test_the_config_map_holds_what_the_server_reads_and_loads_the_same_in_the_pod(
    tmp_path: Path,
) -> None:
    root = quickstart(tmp_path / "q")
    manifests = compiled(root)
    config_map = by_kind(manifests)["ConfigMap"]
    pod = pod_spec(manifests)
    container = pod["containers"][0]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "config"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == "config"]
    assert mount["mountPath"] == CONFIG_DIR and mount["readOnly"] is True
    assert container["args"][:2] == ["--project", CONFIG_DIR]
    in_pod = tmp_path / "pod" / CONFIG_DIR.lstrip("/")
    in_pod.mkdir(parents=True)
    for item in volume["configMap"]["items"]:
        (in_pod / item["path"]).write_text(config_map["data"][item["key"]])
    secret = {
        "SAMEDAY_METADATA_URL": "postgresql+psycopg://app@db/sameday",
        "SAMEDAY_SERVING_URL": "redis://redis:6379/0",
        "SAMEDAY_EVENTS_URL": "postgresql+psycopg://app@db/events",
        "SAMEDAY_SERVING_KEY": "s",
        "SAMEDAY_ADMIN_KEY": "a",
    }
    env = {
        item["name"]: secret[item["valueFrom"]["secretKeyRef"]["key"]] for item in container["env"]
    }
    pod_view = load_project(in_pod, environ=env).settings
    here = load_project(root, environ=secret).settings
    assert pod_view.name == here.name
    assert pod_view.storage.model_dump(exclude={"artifacts"}) == here.storage.model_dump(
        exclude={"artifacts"}
    )
    assert pod_view.serve.model_dump(exclude={"kubernetes"}) == here.serve.model_dump(
        exclude={"kubernetes"}
    )


def test_only_server_settings_roll_the_pods(tmp_path: Path) -> None:
    root = quickstart(tmp_path / "q")
    before = render(compiled(root))
    experiment = root / "experiments" / "home-als.yaml"
    experiment.write_text(experiment.read_text().replace("hypothesis:", "hypothesis: Edited.", 1))
    settings = root / "sameday.yaml"
    settings.write_text(settings.read_text().replace("parallel: 2", "parallel: 3"))
    assert render(compiled(root)) == before  # applied live, or not the server's business
    settings.write_text(
        settings.read_text().replace("refresh_interval: 1s", "refresh_interval: 3s")
    )
    after = by_kind(compiled(root))
    annotations = after["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["sameday.dev/config-sha256"] not in before
    assert "refresh_interval: 3s" in after["ConfigMap"]["data"]["sameday.yaml"]


def test_the_pod_is_non_root_read_only_and_stops_gracefully(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"image": IMAGE, "pre_stop": "7s"}, shutdown_timeout="20s")
    manifests = compiled(root)
    pod = pod_spec(manifests)
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert container["securityContext"] == {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "7"]
    # the pause, the drain and the flush all fit before the kubelet's SIGKILL
    assert pod["terminationGracePeriodSeconds"] > 7 + 20 + FLUSH_SECONDS
    writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
    assert writable == {"/tmp"}


def test_replicas_belong_to_the_autoscaler_when_there_is_one(tmp_path: Path) -> None:
    scaled = by_kind(compiled(write_project(tmp_path / "a", {"image": IMAGE, "replicas": 3})))
    assert "replicas" not in scaled["Deployment"]["spec"]
    assert scaled["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 3
    fixed = by_kind(compiled(write_project(tmp_path / "b", FULL)))
    assert fixed["Deployment"]["spec"]["replicas"] == 3
    assert "HorizontalPodAutoscaler" not in fixed


def problems(root: Path, **options: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        compiled(root, **options)
    return str(caught.value)


def test_sqlite_storage_is_refused_with_its_line_and_a_way_out(project_dir: Path) -> None:
    settings = project_dir / "sameday.yaml"
    settings.write_text(
        settings.read_text()
        .replace("${SAMEDAY_SERVING_KEY:-}", "${SAMEDAY_SERVING_KEY}")
        .replace("  port: 8000", f"  port: 8000\n  kubernetes:\n    image: {IMAGE}")
    )
    for key in ("METADATA", "SERVING", "EVENTS"):  # written as plain SQLite URLs, not ${VAR:-…}
        text = settings.read_text()
        start = text.index(f"${{SAMEDAY_{key}_URL:-")
        end = text.index("}", start)
        settings.write_text(
            text[:start] + text[start + len(f"${{SAMEDAY_{key}_URL:-") : end] + text[end + 1 :]
        )
    message = problems(project_dir)
    lines = settings.read_text().splitlines()
    for key in ("metadata", "serving", "events"):
        text = next(t for t in lines if t.startswith(f"  {key}: sqlite"))
        where = f"{lines.index(text) + 1}:{text.index('sqlite') + 1}"
        assert f"sameday.yaml:{where}: storage.{key}: 'sqlite:///" in message
    assert "Redis (redis://host:6379/0)" in message and "--allow-local-storage" in message


def test_a_default_an_optional_secret_may_fall_back_to_is_checked(tmp_path: Path) -> None:
    storage = {**SHARED_STORAGE, "events": "${EVENTS_URL:-sqlite:///.sameday/events.db}"}
    optional = {"EVENTS_URL": {"secret": "s", "key": "events", "optional": True}}
    root = write_project(tmp_path / "p", {"image": IMAGE, "env": optional}, storage=storage)
    message = problems(root)
    assert "storage.events:" in message and "'sqlite:///.sameday/events.db'" in message
    required = write_project(tmp_path / "q", {"image": IMAGE}, storage=storage)
    assert compiled(required)  # the default never applies: a missing key stops the pod


def test_local_storage_is_allowed_on_request_for_one_replica_only(tmp_path: Path) -> None:
    single = {"image": IMAGE, "replicas": 1, "autoscaling": {"enabled": False}}
    root = write_project(tmp_path / "p", single, storage={})
    assert "--allow-local-storage" in problems(root)
    assert compiled(root, allow_local_storage=True)
    scaled = write_project(tmp_path / "q", {"image": IMAGE, "replicas": 1}, storage={})
    assert "may run 10 replicas" in problems(scaled, allow_local_storage=True)


def test_a_server_without_api_keys_is_refused(tmp_path: Path) -> None:
    empty = {"serving": "${SERVING_KEY:-}"}
    optional = {"SERVING_KEY": {"secret": "s", "key": "k", "optional": True}}
    root = write_project(tmp_path / "p", {"image": IMAGE, "env": optional}, keys=empty)
    assert "no API key" in problems(root)
    assert "no API key" in problems(write_project(tmp_path / "q", {"image": IMAGE}, keys={}))


def test_missing_image_and_autoscaling_mistakes_are_refused(tmp_path: Path) -> None:
    assert "no image: build the server's image" in problems(write_project(tmp_path / "a", None))
    no_cpu = {"image": IMAGE, "resources": {"requests": {"memory": "1Gi"}}}
    assert "resources.requests.cpu" in problems(write_project(tmp_path / "b", no_cpu))
    too_few = {"image": IMAGE, "replicas": 4, "autoscaling": {"max_replicas": 3}}
    assert "max_replicas (3) is below replicas (4)" in problems(
        write_project(tmp_path / "c", too_few)
    )


def test_bad_kubernetes_names_are_located_errors(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "p", {"image": IMAGE, "namespace": "Rec_Sys", "labels": {"a/b/c": "x"}}
    )
    with pytest.raises(ConfigError) as caught:
        load_server_project(root, environ={})
    fields = {problem.field for problem in caught.value.problems}
    assert fields == {"serve.kubernetes.namespace", "serve.kubernetes.labels"}


def test_the_command_writes_one_file_per_object(runner: CliRunner, tmp_path: Path) -> None:
    root = quickstart(tmp_path / "q")
    out = tmp_path / "k8s"
    result = runner.invoke(
        main, ["compile", "--target", "k8s", "--project", str(root), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    names = sorted(path.name for path in out.iterdir())
    assert names == [
        "quickstart-serve.configmap.yaml",
        "quickstart-serve.deployment.yaml",
        "quickstart-serve.horizontalpodautoscaler.yaml",
        "quickstart-serve.poddisruptionbudget.yaml",
        "quickstart-serve.service.yaml",
    ]
    assert f"Deploy with: kubectl apply -f {out}" in result.output
    streamed = runner.invoke(main, ["compile", "--target", "k8s", "--project", str(root)])
    assert streamed.exit_code == 0
    assert list(yaml.safe_load_all(streamed.output)) == [
        yaml.safe_load((out / name).read_text())
        for name in names[:1] + names[1:2] + names[4:] + names[2:4]
    ]


def test_the_command_refuses_a_pipeline_for_k8s_and_needs_one_for_argo(
    runner: CliRunner, project_dir: Path
) -> None:
    k8s = runner.invoke(
        main, ["compile", "daily", "--target", "k8s", "--project", str(project_dir)]
    )
    assert k8s.exit_code == 2 and "no PIPELINE" in k8s.output
    argo = runner.invoke(main, ["compile", "--project", str(project_dir)])
    assert argo.exit_code == 2 and "missing PIPELINE" in argo.output


def test_the_grace_period_covers_the_writers_flush() -> None:
    flush = inspect.signature(EventWriter.close).parameters["timeout"].default
    assert flush <= FLUSH_SECONDS
    assert grace_period(0.5, 14.2) == 1 + 15 + FLUSH_SECONDS + 5


def test_the_json_schema_takes_the_kubernetes_settings_and_rejects_typos() -> None:
    validator = jsonschema.Draft202012Validator(schemas()["project"])
    document = {"name": "shop", "serve": {"kubernetes": FULL}}
    assert not list(validator.iter_errors(document))
    for wrong in ({"namespace": "Rec_Sys"}, {"replica": 2}, {"env": {"X": {"secret": "s"}}}):
        bad = {"name": "shop", "serve": {"kubernetes": {**FULL, **wrong}}}
        assert list(validator.iter_errors(bad)), wrong
