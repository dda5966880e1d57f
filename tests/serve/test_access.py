"""The access log: one line per request, on every path (the fast GET included), saying what was
served; nothing at all below the info level."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from sameday import logs
from sameday.events.memory import MemorySink
from sameday.events.writer import EventWriter
from sameday.serve.app import create_app
from sameday.serve.client import Client
from sameday.serve.state import build_state
from sameday.store.memory import MemoryStore
from sameday.testing import experiment_spec, load_lists, surface_spec

KEY = "serve-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
SPECS = {
    ("surface", "home"): surface_spec("home", "personal", fallbacks=["popular"], n=2),
    ("experiment", "exp"): experiment_spec("exp", "home", {"control": "personal", "b": "popular"}),
    # 'unpublished' has no live snapshot: every list of 'mail' is served degraded
    ("surface", "mail"): surface_spec("mail", "unpublished", fallbacks=["popular"], n=2),
}


@pytest.fixture
def client() -> Iterator[Client]:
    store = MemoryStore()
    load_lists(store, "personal", "p1", {"u1": ["a", "b"], "u2": ["c", "d"]})
    load_lists(store, "popular", "q1", {"*": ["b", "c", "d"]})
    with Client(
        store,
        writer=EventWriter(MemorySink()),
        state=build_state(SPECS),
        refresh_interval=0,
        read_deadline=10,
    ) as c:
        yield c


def access_lines(err: str) -> list[dict[str, Any]]:
    entries = [orjson.loads(line) for line in err.splitlines()]
    return [e for e in entries if e["logger"] == "sameday.access"]


def test_every_request_is_one_line_with_what_was_served(
    client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    undo = logs.configure("json", "info")
    try:
        with TestClient(create_app(client, serving_key=KEY)) as http:
            capsys.readouterr()
            got = http.get("/v1/recommend/home?unit=u1&request_id=imp-1", headers=AUTH).json()
            http.post("/v1/recommend/mail", json={"unit": "u2"}, headers=AUTH)
            http.post("/v1/recommend/home/batch", json={"requests": [{"unit": "u1"}]}, headers=AUTH)
            http.get("/v1/recommend/nowhere?unit=u1", headers=AUTH)
            http.get("/v1/recommend/home?unit=u1")  # no key
            http.get("/healthz")
        lines = access_lines(capsys.readouterr().err)
    finally:
        undo()
    assert [(e["method"], e["path"], e["status"]) for e in lines] == [
        ("GET", "/v1/recommend/home", 200),
        ("POST", "/v1/recommend/mail", 200),
        ("POST", "/v1/recommend/home/batch", 200),
        ("GET", "/v1/recommend/nowhere", 404),
        ("GET", "/v1/recommend/home", 401),
        ("GET", "/healthz", 200),
    ]
    fast, degraded, batch, unknown, refused, health = lines
    assert fast["request_id"] == "imp-1" and fast["surface"] == "home"
    assert (fast["experiment"], fast["arm"]) == ("exp", got["arm"])
    assert fast["degraded"] is False and fast["latency_ms"] >= 0
    assert fast["message"] == "GET /v1/recommend/home" and fast["client"] == "testclient"
    assert degraded["surface"] == "mail" and degraded["degraded"] is True
    assert degraded["experiment"] is None and degraded["request_id"]
    assert batch["lists"] == 1 and batch["surface"] == "home" and batch["degraded"] is False
    assert unknown["surface"] == "nowhere" and "request_id" not in unknown
    assert refused["surface"] == "home"
    assert "surface" not in health
    assert all("unit" not in e and "u1" not in orjson.dumps(e).decode() for e in lines)


def test_a_failing_request_is_logged_as_the_500_it_was(
    client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    client.engine.prepare = broken  # type: ignore[method-assign]
    undo = logs.configure("json", "info")
    try:
        with TestClient(create_app(client), raise_server_exceptions=False) as http:
            capsys.readouterr()
            http.post("/v1/recommend/home", json={"unit": "u1"})
            http.get("/v1/recommend/home?unit=u1")
        lines = access_lines(capsys.readouterr().err)
    finally:
        undo()
    assert [(e["method"], e["status"]) for e in lines] == [("POST", 500), ("GET", 500)]


def test_below_the_info_level_nothing_is_logged(
    client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    undo = logs.configure("json", "warning")
    try:
        with TestClient(create_app(client)) as http:
            capsys.readouterr()
            assert http.get("/v1/recommend/home?unit=u1").status_code == 200
            assert http.post("/v1/recommend/home", json={"unit": "u1"}).status_code == 200
        assert capsys.readouterr().err == ""
    finally:
        undo()


def test_a_sampled_access_log_keeps_every_error_and_degraded_answer(
    client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    random.seed(7)
    undo = logs.configure("json", "info")
    try:
        with TestClient(create_app(client, access_log_sample=0.25)) as http:
            capsys.readouterr()
            for index in range(200):
                http.get(f"/v1/recommend/home?unit=u{index}")
            for _ in range(20):
                http.get("/v1/recommend/mail?unit=u1")  # degraded
                http.get("/v1/recommend/home?unit=u1&n=0")  # 400
        lines = access_lines(capsys.readouterr().err)
    finally:
        undo()
    ordinary = [e for e in lines if e["status"] == 200 and not e["degraded"]]
    assert 25 <= len(ordinary) <= 75 and all(e["sample"] == 0.25 for e in ordinary)
    assert len([e for e in lines if e.get("degraded")]) == 20
    assert len([e for e in lines if e["status"] == 400]) == 20
    assert all("sample" not in e for e in lines if e["status"] == 400 or e.get("degraded"))


def test_a_sample_outside_0_to_1_is_refused(client: Client) -> None:
    with pytest.raises(ValueError, match=r"must be in \(0, 1\], got 0"):
        create_app(client, access_log_sample=0)
