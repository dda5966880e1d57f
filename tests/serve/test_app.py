"""The HTTP service: endpoints, errors as JSON, API keys, metrics and the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from sameday.events.memory import MemorySink
from sameday.events.writer import EventWriter
from sameday.serve.app import create_app
from sameday.serve.client import Client
from sameday.serve.state import build_state
from sameday.store.memory import MemoryStore
from sameday.testing import experiment_spec, load_lists, surface_spec

SPECS = {
    ("surface", "home"): surface_spec("home", "personal", fallbacks=["popular"], n=3),
    ("experiment", "exp"): experiment_spec("exp", "home", {"control": "personal", "b": "popular"}),
}


@pytest.fixture
def client() -> Iterator[Client]:
    store = MemoryStore()
    load_lists(store, "personal", "p1", {"u1": ["a", "b"]})
    load_lists(store, "popular", "q1", {"*": ["b", "c", "d"]})
    sink = MemorySink()
    # a generous read deadline: on a busy test machine no answer may turn degraded
    with Client(
        store,
        writer=EventWriter(sink),
        state=build_state(SPECS),
        refresh_interval=0,
        read_deadline=10,
    ) as c:
        yield c


@pytest.fixture
def http(client: Client) -> Iterator[TestClient]:
    with TestClient(create_app(client)) as test_client:
        yield test_client


def test_get_and_post_recommend(http: TestClient, client: Client) -> None:
    got = http.get("/v1/recommend/home", params={"unit": "u1", "n": 2})
    assert got.status_code == 200
    body = got.json()
    assert body["experiment"] == "exp" and body["arm"] in {"control", "b"}
    assert len(body["items"]) == 2 and body["degraded"] is False
    assert body["items"][0]["position"] == 1
    posted = http.post("/v1/recommend/home", json={"unit": "u1", "n": 2, "exclude": ["a"]})
    assert posted.status_code == 200
    assert "a" not in [i["item"] for i in posted.json()["items"]]
    assert posted.json()["arm"] == body["arm"]  # deterministic assignment


def test_the_caller_may_name_the_served_list(http: TestClient, client: Client) -> None:
    got = http.get("/v1/recommend/home", params={"unit": "u1", "request_id": "imp-1"}).json()
    posted = http.post("/v1/recommend/home", json={"unit": "u2", "request_id": "imp-2"}).json()
    assert got["request_id"] == "imp-1" and posted["request_id"] == "imp-2"
    assert client.writer is not None
    client.writer.flush()
    logged = {e.request_id: e.unit for e in client.writer.sink.read_exposures()}
    assert logged == {"imp-1": "u1", "imp-2": "u2"}


def test_batch(http: TestClient) -> None:
    response = http.post(
        "/v1/recommend/home/batch", json={"requests": [{"unit": "u1"}, {"unit": "u2"}], "n": 1}
    )
    assert response.status_code == 200
    assert [len(r["items"]) for r in response.json()["results"]] == [1, 1]


def test_events_are_acknowledged_once_durable(http: TestClient, client: Client) -> None:
    events = [{"event_id": "e1", "unit": "u1", "name": "click", "request_id": "r1"}]
    response = http.post("/v1/events", json={"events": events})
    assert response.status_code == 200 and response.json() == {"accepted": 1}
    assert client.writer is not None
    stored = list(client.writer.sink.read_outcomes())
    assert [o.event_id for o in stored] == ["e1"]
    http.post("/v1/events", json={"events": events})
    assert len(list(client.writer.sink.read_outcomes())) == 1  # idempotent by event id


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "field"),
    [
        ("get", "/v1/recommend/home", None, 400, "unit"),
        ("get", "/v1/recommend/home?unit=u1&n=zero", None, 400, "n"),
        ("get", "/v1/recommend/home?unit=u1&n=10001", None, 400, "n"),
        ("get", "/v1/recommend/nowhere?unit=u1", None, 404, "surface"),
        ("post", "/v1/recommend/home", {"unit": 3.5}, 400, "unit"),
        ("post", "/v1/recommend/home", [1, 2], 400, None),
        ("post", "/v1/recommend/home", {"unit": "u", "attributes": []}, 400, "attributes"),
        ("get", "/v1/recommend/home?unit=u1&request_id=", None, 400, "request_id"),
        ("post", "/v1/recommend/home", {"unit": "u", "request_id": 7}, 400, "request_id"),
        ("post", "/v1/recommend/home/batch", {"requests": []}, 400, "requests"),
        ("post", "/v1/events", {"events": [{"unit": "u"}]}, 400, "events[0].event_id"),
        (
            "post",
            "/v1/events",
            {"events": [{"event_id": "e", "unit": "u", "name": "c", "value": "high"}]},
            400,
            "events[0].value",
        ),
        ("delete", "/v1/events", None, 405, None),
        ("get", "/v2/nothing", None, 404, None),
    ],
)
def test_bad_input_is_a_json_4xx(
    http: TestClient, method: str, path: str, payload: object, status: int, field: str | None
) -> None:
    response = http.request(method.upper(), path, json=payload)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["status"] == status and error["message"]
    assert error["field"] == field


def test_malformed_json_body(http: TestClient) -> None:
    response = http.post("/v1/recommend/home", content=b"{not json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]


def test_api_keys(client: Client) -> None:
    app = create_app(client, serving_key="serve-key", admin_key="admin-key")
    with TestClient(app) as http:
        assert http.get("/v1/recommend/home?unit=u1").status_code == 401
        ok = http.get("/v1/recommend/home?unit=u1", headers={"Authorization": "Bearer serve-key"})
        assert ok.status_code == 200
        assert http.get("/v1/recommend/home?unit=u1", headers={"X-API-Key": "admin-key"}).is_success
        assert http.post("/v1/admin/refresh", headers={"X-API-Key": "serve-key"}).status_code == 401
        assert http.post("/v1/admin/refresh", headers={"X-API-Key": "admin-key"}).is_success
        assert http.get("/healthz").status_code == 200


def test_health_metrics_and_openapi(http: TestClient) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    assert http.get("/readyz").json()["surfaces"] == ["home"]
    http.get("/v1/recommend/home?unit=u1")
    metrics = http.get("/metrics").text
    assert re.search(
        r'sameday_requests_total\{arm="\w+",experiment="exp",status="200",surface="home"\} 1\.0',
        metrics,
    )
    assert "sameday_degraded_total{" not in metrics  # no list was degraded
    assert 'sameday_request_seconds_count{endpoint="recommend"} 1.0' in metrics
    spec = http.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert "/v1/recommend/{surface}" in spec["paths"]


ADMIN_OFF = "admin endpoints are off"


@pytest.mark.parametrize(
    ("serving_key", "admin_key"), [(None, None), ("serve-key", None), (None, "admin-key")]
)
def test_the_admin_endpoint_is_closed_unless_its_key_is_configured_and_given(
    client: Client, serving_key: str | None, admin_key: str | None
) -> None:
    app = create_app(client, serving_key=serving_key, admin_key=admin_key)
    with TestClient(app) as http:
        for headers in ({}, {"X-API-Key": "serve-key"}, {"Authorization": "Bearer wrong"}):
            answer = http.post("/v1/admin/refresh", headers=headers)
            assert answer.status_code in {401, 403}
            message = answer.json()["error"]["message"]
            if admin_key is None:
                assert answer.status_code == 403
                assert ADMIN_OFF in message and "SAMEDAY_ADMIN_KEY" in message
        if admin_key is not None:
            given = http.post("/v1/admin/refresh", headers={"Authorization": "Bearer admin-key"})
            assert given.status_code == 200


def test_metrics_need_the_serving_key_once_one_is_set(client: Client) -> None:
    path = "/metrics"
    with TestClient(create_app(client, serving_key="serve-key", admin_key="admin-key")) as http:
        assert http.get(path).status_code == 401
        assert http.get(path, headers={"X-API-Key": "wrong"}).status_code == 401
        assert http.get(path, headers={"X-API-Key": "serve-key"}).status_code == 200
        assert http.get(path, headers={"Authorization": "Bearer admin-key"}).status_code == 200
    with TestClient(create_app(client)) as http:  # no key configured: a local server
        assert http.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json"])
def test_probes_and_the_api_description_stay_open_with_keys_set(client: Client, path: str) -> None:
    with TestClient(create_app(client, serving_key="serve-key", admin_key="admin-key")) as http:
        assert http.get(path).status_code == 200
