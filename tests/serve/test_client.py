"""``Client``: the in-process server: built from a project, refreshed, tracked and closed."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sameday.config import load_project
from sameday.deploy.apply import apply_project
from sameday.errors import StoreUnavailable
from sameday.events.memory import MemorySink
from sameday.events.records import Outcome
from sameday.events.sink import open_sink
from sameday.events.writer import EventWriter
from sameday.metadata import MetadataStore
from sameday.policies.bandit import BanditParams
from sameday.results import publish
from sameday.serve.client import AppliedSource, Client
from sameday.serve.state import build_state
from sameday.store.memory import MemoryStore
from sameday.testing import experiment_spec, load_lists, surface_spec

EXPERIMENT = "home-personal"


def write_lists(project_dir: Path, tag: str) -> None:
    out = project_dir / "out"
    out.mkdir(exist_ok=True)
    popular = ["key,item,score"] + [f"*,{tag}-pop-{i},{100 - i}" for i in range(20)]
    (out / "popular.csv").write_text("\n".join(popular) + "\n")
    personal = ["user,item,score"] + [
        f"user-{u},{tag}-item-{i},{i}" for u in range(30) for i in range(10)
    ]
    (out / "personal.csv").write_text("\n".join(personal) + "\n")


def set_phase(project_dir: Path, phase: str) -> None:
    file = project_dir / "experiments" / f"{EXPERIMENT}.yaml"
    text = file.read_text()
    file.write_text(text.replace("phase: draft", f"phase: {phase}"))


def apply(project_dir: Path) -> None:
    project = load_project(project_dir, environ={})
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as metadata:
        apply_project(project, metadata)


def publish_and_apply(project_dir: Path, tag: str) -> None:
    write_lists(project_dir, tag)
    project = load_project(project_dir, environ={})
    for name in ("popular", "personal"):
        publish(project, name, force=True)
    apply(project_dir)


def test_from_project_serves_the_applied_experiment_and_logs_it(project_dir: Path) -> None:
    set_phase(project_dir, "running")
    publish_and_apply(project_dir, "v1")
    with Client.from_project(project_dir, refresh_interval=0) as client:
        assert client.updater is not None  # what `sameday serve` runs
        served = client.recommend("home", "user-3", request_id="r-1")
        assert served.experiment == EXPERIMENT and served.arm in {"control", "personal"}
        items = [slot.item for slot in served.items]
        expected = "v1-pop-" if served.arm == "control" else "v1-item-"
        assert len(items) == 10 and all(item.startswith(expected) for item in items)
        click = Outcome(event_id="e-1", unit="user-3", name="click", time=time.time())
        ticket = client.track([dataclasses.replace(click, request_id="r-1")])
        assert ticket is not None
        ticket.wait(5)
    project = load_project(project_dir, environ={})
    with open_sink(project.url(project.settings.storage.events)) as sink:
        (exposure,) = sink.read_exposures()
        (outcome,) = sink.read_outcomes()
    assert (exposure.request_id, exposure.arm, list(exposure.items)) == ("r-1", served.arm, items)
    assert outcome.request_id == "r-1"
    assert client.updater is not None and not client.updater._thread.is_alive()


def test_from_project_without_bandit_updates(project_dir: Path) -> None:
    publish_and_apply(project_dir, "v1")
    with Client.from_project(project_dir, refresh_interval=0, update_bandits=False) as client:
        assert client.updater is None
        served = client.recommend("home", "user-3")
    assert served.experiment is None  # the scaffolded experiment is a draft
    assert served.items[0].item == "v1-item-9" and served.items[0].source == "personal"


def test_refresh_picks_up_an_apply_and_a_publish(project_dir: Path) -> None:
    publish_and_apply(project_dir, "v1")
    with Client.from_project(project_dir, refresh_interval=0, update_bandits=False) as client:
        first = client.state
        before = client.recommend("home", "nobody").snapshot_versions
        assert first.surfaces["home"].experiments == ()
        assert client.refresh() is False  # nothing changed
        set_phase(project_dir, "running")
        publish_and_apply(project_dir, "v2")
        assert client.refresh() is True
        assert [e.name for e in client.state.surfaces["home"].experiments] == [EXPERIMENT]
        after = client.recommend("home", "nobody").snapshot_versions
        assert after["popular"] != before["popular"]
        assert client.refresh() is False
        assert client.refresh_errors == 0


def test_the_refresher_thread_brings_changes_in_and_stops_on_close(project_dir: Path) -> None:
    publish_and_apply(project_dir, "v1")
    client = Client.from_project(project_dir, refresh_interval=0.02, update_bandits=False)
    try:
        first = client.state
        set_phase(project_dir, "running")
        apply(project_dir)
        deadline = time.monotonic() + 5
        while client.state is first and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [e.name for e in client.state.surfaces["home"].experiments] == [EXPERIMENT]
    finally:
        client.close()
    assert client._thread is not None and not client._thread.is_alive()


def memory_store() -> MemoryStore:
    store = MemoryStore()
    load_lists(store, "personal", "p1", {"u1": ["a", "b"]})
    load_lists(store, "popular", "q1", {"*": ["b", "c", "d"]})
    return store


SPECS: dict[tuple[str, str], dict[str, Any]] = {
    ("surface", "home"): surface_spec("home", "personal", fallbacks=["popular"], n=3),
    ("experiment", "band"): experiment_spec(
        "band", "home", {"x": "personal", "y": "popular"}, design="bandit"
    ),
}


def test_a_bandit_snapshot_reaches_serving_on_refresh(sqlite_url: str) -> None:
    with MetadataStore.open(sqlite_url) as metadata:
        metadata.replace_applied([(kind, name, spec) for (kind, name), spec in SPECS.items()])
        with Client(memory_store(), specs=AppliedSource(sqlite_url), refresh_interval=0) as client:
            assert client.engine.bandits == {}
            uniform = {client.recommend("home", f"u{i}").arm for i in range(50)}
            assert uniform == {"x", "y"}
            only_y = BanditParams("thompson", ("x", "y"), (0, 0), (0, 0), 1, 1, (0.0, 1.0), 0)
            metadata.save_bandit_params("band", only_y.to_json(), expected_version=None)
            assert client.refresh() is True
            assert client.engine.bandits["band"].version == 1
            assert {client.recommend("home", f"u{i}").arm for i in range(50)} == {"y"}
            assert client.refresh() is False


def test_an_unreachable_metadata_database_keeps_the_last_known_good_state(
    postgres_url: str,
) -> None:
    with MetadataStore.open(postgres_url) as metadata:
        metadata.replace_applied([(kind, name, spec) for (kind, name), spec in SPECS.items()])
    client = Client(memory_store(), specs=AppliedSource(postgres_url), refresh_interval=0)
    try:
        state = client.state
        assert list(state.surfaces) == ["home"]
        admin = sa.create_engine(postgres_url.rsplit("/", 1)[0] + "/postgres")
        name = postgres_url.rsplit("/", 1)[1]
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
        assert client.refresh() is False
        assert client.refresh_errors == 1 and client.state is state
        assert client.recommend("home", "u1").arm in {"x", "y"}  # still serving
    finally:
        client.close()


def test_track_logs_nothing_without_a_writer() -> None:
    outcome = Outcome(event_id="e", unit="u1", name="click", time=0.0)
    with Client(memory_store(), state=build_state(SPECS), refresh_interval=0) as client:
        assert client.track([outcome]) is None
    sink = MemorySink()
    with Client(
        memory_store(), writer=EventWriter(sink), state=build_state(SPECS), refresh_interval=0
    ) as client:
        ticket = client.track([outcome])
        assert ticket is not None
        ticket.wait(5)
        assert [o.event_id for o in sink.read_outcomes()] == ["e"]


def test_from_project_closes_what_it_opened_when_the_metadata_cannot_open(
    project_dir: Path, postgres_url: str
) -> None:
    missing = postgres_url.rsplit("/", 1)[0] + "/sameday_no_such_database"
    settings = project_dir / "sameday.yaml"
    old = "${SAMEDAY_METADATA_URL:-sqlite:///.sameday/metadata.db}"
    settings.write_text(settings.read_text().replace(old, missing))
    before = threading.active_count()
    for _ in range(3):
        with pytest.raises(StoreUnavailable):
            Client.from_project(project_dir, refresh_interval=0)
    assert threading.active_count() == before  # no event writer thread left behind
