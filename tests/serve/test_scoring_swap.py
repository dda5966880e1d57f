"""A model arm backed by the registry: its alias moves under load, without a failed request."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import yaml
from tests.models._toy import LinearScorer

from sameday.config import load_project
from sameday.config.experiment import Experiment
from sameday.events.records import Exposure
from sameday.metadata import MetadataStore
from sameday.models import open_registry
from sameday.models.registry import Registry
from sameday.serve.client import Client
from sameday.serve.scoring import RegistrySource
from sameday.serve.state import build_state
from sameday.store.base import Item
from sameday.store.codec import encode_list
from sameday.store.memory import MemoryStore
from sameday.testing import surface_spec

UP, DOWN = [f"i{k}" for k in range(9, -1, -1)], [f"i{k}" for k in range(10)]


class Log:
    def __init__(self) -> None:
        self.exposures: list[Exposure] = []

    def log_exposure(self, exposure: Exposure) -> None:
        self.exposures.append(exposure)


@pytest.fixture
def registry_project(project_dir: Path, sqlite_url: str) -> Path:
    path = project_dir / "sameday.yaml"
    settings = yaml.safe_load(path.read_text())
    settings["storage"]["metadata"] = sqlite_url
    path.write_text(yaml.safe_dump(settings))
    with open_registry(project_dir) as registry:
        registry.register("ranker", model=LinearScorer({"x": 1.0}), aliases=["champion"])
        registry.register("ranker", model=LinearScorer({"x": -1.0}))
    return project_dir


def test_the_alias_moves_under_load_without_a_failed_request(registry_project: Path) -> None:
    store = MemoryStore()
    candidates = [Item(f"i{k}", float(10 - k), {"x": k}) for k in range(10)]
    store.load("cands", "v1", [[("u1", encode_list(candidates))]])
    store.set_live("cands", "v1")
    experiment = Experiment.model_validate(
        {
            "name": "rank-test",
            "surface": "home",
            "phase": "running",
            "hashing": {"attribute": "visitor"},
            "arms": [
                # a generous budget: the machine running the tests may be loaded
                {
                    "name": "ranked",
                    "result_set": "cands",
                    "model": "ranker@champion",
                    "timeout_ms": 5000,
                    "weight": 1.0,
                },
                {"name": "batch", "result_set": "cands", "weight": 0.0},
            ],
        }
    ).model_dump(mode="json")
    specs = {
        ("surface", "home"): surface_spec("home", "cands", n=10),
        ("experiment", "rank-test"): experiment,
    }
    project = load_project(registry_project)
    metadata = MetadataStore.open(project.url(project.settings.storage.metadata))
    source = RegistrySource(Registry(project, metadata))
    client = Client(store, state=build_state(specs), refresh_interval=0.02, models=source)
    log = Log()
    client.engine.log = log
    assert client.engine.scoring.models["ranker@champion"].ref == "ranker/1"
    stop = threading.Event()
    errors: list[BaseException] = []
    served: list[tuple[str | None, list[str]]] = []

    def hammer(worker: int) -> None:
        count = 0
        while not stop.is_set():
            count += 1
            try:
                result = client.recommend("home", "u1", attributes={"visitor": f"{worker}-{count}"})
            except BaseException as exc:  # any failure fails the test
                errors.append(exc)
                return
            version = None if result.scored is None else result.scored.version
            served.append((version, [slot.item for slot in result.items]))

    threads = [threading.Thread(target=hammer, args=(w,)) for w in range(4)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        with open_registry(registry_project) as registry:
            registry.promote("ranker/2")
        deadline = time.monotonic() + 10
        while client.engine.scoring.models["ranker@champion"].ref != "ranker/2":
            assert time.monotonic() < deadline, "the new champion was not picked up"
            time.sleep(0.01)
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        client.close()
        metadata.close()
    assert not errors
    assert {version for version, _ in served} == {"ranker/1", "ranker/2"}
    for version, listed in served:  # every list is in the order of the version that scored it
        assert listed == (UP if version == "ranker/1" else DOWN)
    exposed = {e.model for e in log.exposures}
    assert exposed == {"ranker/1", "ranker/2"}
    for exposure in log.exposures:
        assert list(exposure.items) == (UP if exposure.model == "ranker/1" else DOWN)
    assert not client.engine.scoring.fallbacks
