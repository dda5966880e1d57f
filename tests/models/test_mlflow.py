"""MLflow both ways, against a real tracking server (SQLite backend, local artifact root).

The server is started once for the module on a loopback port (``mlflow server`` from the
``mlflow`` package in the dev extra), or taken from ``SAMEDAY_TEST_MLFLOW_URL``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from sameday.config import load_project
from sameday.errors import BundleCorrupted, ModelNotFound
from sameday.models import Registry, open_registry
from sameday.serve.scoring import RegistrySource
from tests.conftest import unavailable
from tests.models._toy import ROWS, LinearScorer, save
from tests.models.test_s3 import free_port


@pytest.fixture(scope="module")
def mlflow_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    given = os.environ.get("SAMEDAY_TEST_MLFLOW_URL")
    if given:
        yield given
        return
    program = shutil.which("mlflow", path=str(Path(sys.executable).parent))
    if program is None:
        unavailable("the mlflow server is not installed: pip install 'sameday[dev]'")
        raise AssertionError  # unreachable: unavailable() skips or fails
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (root / "server.log").open("w")
    server = subprocess.Popen(
        [
            program,
            "server",
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--default-artifact-root",
            str(root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        # The tests use tracking and the model registry only; MLflow's job execution (for its
        # GenAI jobs) would start a queue consumer and its workers: eight more processes
        # importing MLflow on a two-core machine while the server starts.
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )
    try:
        deadline = time.monotonic() + 300  # importing MLflow takes over a minute on a busy host
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"mlflow server did not start: {(root / 'server.log').read_text()}")
            time.sleep(0.25)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture
def mirrored(project_dir: Path, sqlite_url: str, mlflow_url: str) -> Iterator[Registry]:
    """A registry mirrored to the MLflow server, in an experiment of its own."""
    path = project_dir / "sameday.yaml"
    settings = yaml.safe_load(path.read_text())
    settings["storage"]["metadata"] = sqlite_url
    settings["models"] = {
        "mlflow_tracking_uri": mlflow_url,
        "mlflow_experiment": f"sameday-test-{uuid.uuid4().hex[:8]}",
    }
    path.write_text(yaml.safe_dump(settings))
    with open_registry(load_project(project_dir)) as registry:
        yield registry


def client(registry: Registry):  # type: ignore[no-untyped-def]
    from mlflow import MlflowClient

    uri = registry.project.settings.models.mlflow_tracking_uri
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def mlflow_aliases(registry: Registry, name: str) -> dict[str, str]:
    return dict(client(registry).get_registered_model(name).aliases)


def test_versions_runs_and_aliases_are_mirrored(mirrored: Registry, tmp_path: Path) -> None:
    name = f"ranker-{uuid.uuid4().hex[:6]}"
    first = mirrored.register(
        name,
        save({"clicks": 1.0}, tmp_path / "a"),
        loader="tests.models._toy:load",
        params={"factors": 64},
        metrics={"ndcg@10": 0.31, "coverage": 0.4},
        run_id="daily-1",
        aliases=["champion"],
    )
    mlflow = client(mirrored)
    (version,) = mlflow.search_model_versions(f"name = '{name}'")
    assert version.tags["sameday.version"] == "1"
    assert version.tags["sameday.content_hash"] == first.content_hash
    run = mlflow.get_run(version.run_id)
    assert run.data.params == {"factors": "64"}
    assert run.data.metrics == {"ndcg_at_10": 0.31, "coverage": 0.4}
    assert run.data.tags["sameday.run_id"] == "daily-1"
    assert run.info.status == "FINISHED"
    assert mlflow_aliases(mirrored, name) == {"champion": version.version}

    mirrored.register(name, save({"clicks": 2.0}, tmp_path / "b"), loader="tests.models._toy:load")
    mirrored.set_alias(f"{name}/2", "challenger")
    mirrored.promote(f"{name}@challenger")
    second = {
        v.tags["sameday.version"]: v.version
        for v in mlflow.search_model_versions(f"name = '{name}'")
    }
    assert mlflow_aliases(mirrored, name) == {"champion": second["2"], "challenger": second["2"]}
    mirrored.rollback(name)
    mirrored.delete_alias(name, "challenger")
    assert mlflow_aliases(mirrored, name) == {"champion": second["1"]}


def test_models_uris_load_from_mlflow_and_predict_the_same(
    mirrored: Registry, tmp_path: Path
) -> None:
    name = f"ranker-{uuid.uuid4().hex[:6]}"
    mirrored.register(name, model=LinearScorer({"clicks": 1.5, "recency": -1.0}, bias=0.25))
    mirrored.register(name, model=LinearScorer({"clicks": 3.0}), aliases=["champion"])
    expected = mirrored.load(f"{name}@champion").predict(ROWS)
    assert expected == [9.0, 0.0, 21.0]
    assert mirrored.load(f"models:/{name}@champion").predict(ROWS) == expected
    assert mirrored.load(f"models:/{name}/1").predict(ROWS) == mirrored.load(f"{name}/1").predict(
        ROWS
    )
    with pytest.raises(ModelNotFound, match="no models:/"):
        mirrored.load(f"models:/{name}@nobody")


def test_a_server_follows_an_mlflow_alias_when_it_moves(mirrored: Registry) -> None:
    name = f"ranker-{uuid.uuid4().hex[:6]}"
    mirrored.register(name, model=LinearScorer({"clicks": 1.0}), aliases=["champion"])
    mirrored.register(name, model=LinearScorer({"clicks": 2.0}))
    source = RegistrySource(mirrored)
    first = source.resolve(f"models:/{name}@champion")
    assert first == f"models:/{name}/1" and source.resolve(first) == first
    client(mirrored).set_registered_model_alias(name, "champion", "2")  # moved in MLflow
    moved = source.resolve(f"models:/{name}@champion")
    assert moved == f"models:/{name}/2" and source.load(moved).predict(ROWS) == [6.0, 0.0, 14.0]
    with pytest.raises(ModelNotFound, match="no models:/"):
        source.resolve(f"models:/{name}@nobody")


def test_export_is_loaded_by_mlflow_pyfunc_and_predicts_the_same(
    mirrored: Registry, tmp_path: Path
) -> None:
    import mlflow.pyfunc
    import pandas as pd

    name = f"ranker-{uuid.uuid4().hex[:6]}"
    mirrored.register(
        name, save({"clicks": 0.5, "recency": 2.0}, tmp_path / "m"), loader="tests.models._toy:load"
    )
    mirrored.promote(f"{name}/1")
    out = mirrored.export(f"{name}@champion", tmp_path / "exported")
    loaded = mlflow.pyfunc.load_model(str(out))
    assert list(loaded.predict(pd.DataFrame(ROWS))) == mirrored.load(f"{name}/1").predict(ROWS)

    # The bundle travels inside the export, and is verified when MLflow loads it.
    (weights,) = out.rglob("weights.json")
    weights.write_text(weights.read_text().replace("0.5", "9.5"))
    with pytest.raises(BundleCorrupted, match=r"weights\.json: sha256"):
        mlflow.pyfunc.load_model(str(out))
