"""``sameday/sim/traffic.py``: simulated users through the real HTTP app, clicks sent back."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from sameday.errors import SimulationError
from sameday.events.memory import MemorySink
from sameday.events.writer import EventWriter
from sameday.serve.app import create_app
from sameday.serve.client import Client
from sameday.serve.state import build_state
from sameday.sim.clicks import click_model
from sameday.sim.data import item_id
from sameday.sim.traffic import EVENT_BATCH, simulate_users
from sameday.sim.world import World, make_world
from sameday.store.memory import MemoryStore
from sameday.testing import experiment_spec, load_lists, surface_spec

SPECS = {
    ("surface", "home"): surface_spec("home", "popular", n=10),
    ("experiment", "exp"): experiment_spec("exp", "home", {"a": "popular", "b": "reverse"}),
}


@pytest.fixture
def world() -> World:
    return make_world(50, 20, seed=0, offset=0.0)  # attractive items: plenty of clicks


def serve() -> tuple[Client, MemorySink]:
    store = MemoryStore()
    load_lists(store, "popular", "p1", {"*": [item_id(i) for i in range(10)]})
    load_lists(store, "reverse", "r1", {"*": [item_id(i) for i in range(19, 9, -1)]})
    sink = MemorySink()
    client = Client(store, writer=EventWriter(sink), state=build_state(SPECS), refresh_interval=0)
    return client, sink


@pytest.fixture
def app() -> Iterator[tuple[TestClient, Client, MemorySink]]:
    client, sink = serve()
    with client, TestClient(create_app(client)) as http:
        yield http, client, sink


def test_each_user_is_served_once_and_her_clicks_are_logged(
    app: tuple[TestClient, Client, MemorySink], world: World
) -> None:
    http, client, sink = app
    seen: list[int] = []
    traffic = simulate_users(
        http, world, click_model("pbm", 10), range(50), seed=5, on_user=lambda: seen.append(1)
    )
    assert traffic.requests == 50 and len(seen) == 50 and traffic.degraded == 0
    assert sum(traffic.arms.values()) == 50 and {e for e, _ in traffic.arms} == {"exp"}
    assert client.writer is not None
    client.writer.flush()
    exposures = {e.request_id: e for e in sink.read_exposures()}
    assert set(exposures) == {f"sim-5-{user}" for user in range(50)}
    outcomes = list(sink.read_outcomes())
    assert len(outcomes) == traffic.clicks > 0
    for outcome in outcomes:
        exposure = exposures[outcome.request_id or ""]
        assert outcome.unit == exposure.unit and outcome.item in exposure.items
        assert outcome.name == "click"
    by_arm = {arm: n for (_, arm), n in traffic.arms.items()}
    assert by_arm == {arm: sum(e.arm == arm for e in exposures.values()) for arm in ("a", "b")}


def test_a_seed_replays_the_same_users_and_clicks(world: World) -> None:
    runs = []
    for _ in range(2):
        client, sink = serve()
        with client, TestClient(create_app(client)) as http:
            simulate_users(http, world, click_model("cascade", 10), range(40), seed=9)
            assert client.writer is not None
            client.writer.flush()
            runs.append(sorted((o.event_id, o.item) for o in sink.read_outcomes()))
    assert runs[0] == runs[1] and runs[0]


def test_clicks_go_back_in_batches(app: tuple[TestClient, Client, MemorySink]) -> None:
    http, _, _ = app
    batches: list[int] = []

    def count(request: httpx.Request) -> None:
        if request.url.path == "/v1/events":
            batches.append(len(json.loads(request.read())["events"]))

    http.event_hooks["request"].append(count)
    eager = make_world(250, 20, seed=0, offset=3.0)  # about 2.5 clicks a user
    traffic = simulate_users(http, eager, click_model("pbm", 10), range(250), seed=1)
    assert traffic.clicks > EVENT_BATCH and sum(batches) == traffic.clicks
    assert len(batches) >= 2
    assert all(EVENT_BATCH <= size < EVENT_BATCH + 10 for size in batches[:-1])  # 10 slots a user


def test_a_refused_request_stops_the_simulation(
    app: tuple[TestClient, Client, MemorySink], world: World
) -> None:
    http, _, _ = app
    with pytest.raises(SimulationError, match=r"GET recommend for user-0: 404 "):
        simulate_users(http, world, click_model("pbm", 10), range(3), surface="nope")
