"""The hot GET endpoint answered from the ASGI scope: same answers as the Starlette routes."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl

import pytest
from starlette.testclient import TestClient

from sameday.serve.app import create_app
from sameday.serve.client import Client
from sameday.serve.fastpath import key_allowed, query_params
from sameday.serve.state import build_state
from sameday.store.memory import MemoryStore
from sameday.testing import load_lists, surface_spec

SPECS = {
    ("surface", "home"): {
        **surface_spec("home", "personal", fallbacks=["popular"], n=3),
        "rules": [{"name": "new", "when": {"new": "yes"}, "result_set": "popular"}],
    }
}


@pytest.fixture
def http() -> Iterator[TestClient]:
    store = MemoryStore()
    load_lists(store, "personal", "p1", {"u1": ["a", "b", "c", "d"]})
    load_lists(store, "popular", "q1", {"*": ["x", "y", "z"]})
    with (
        # a generous read deadline: on a busy test machine no answer may turn degraded
        Client(store, state=build_state(SPECS), refresh_interval=0, read_deadline=10) as client,
        TestClient(create_app(client)) as test_client,
    ):
        yield test_client


def without_id(body: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in body.items() if k != "request_id"}


def test_get_answers_as_post_does(http: TestClient) -> None:
    got = http.get("/v1/recommend/home?unit=u1&n=2&exclude=a,zz&attr.new=no")
    posted = http.post(
        "/v1/recommend/home",
        json={"unit": "u1", "n": 2, "exclude": ["a", "zz"], "attributes": {"new": "no"}},
    )
    assert got.status_code == posted.status_code == 200
    assert got.headers["content-type"] == "application/json"
    assert without_id(got.json()) == without_id(posted.json())
    assert [i["item"] for i in got.json()["items"]] == ["b", "c"]
    rule = http.get("/v1/recommend/home", params={"unit": "u1", "attr.new": "yes"}).json()
    assert [i["item"] for i in rule["items"]] == ["x", "y", "z"]


def test_other_shapes_go_to_the_router(http: TestClient) -> None:
    assert http.get("/v1/recommend/?unit=u1").status_code == 404
    assert http.get("/v1/recommend/home/batch?unit=u1").status_code == 405
    assert http.head("/v1/recommend/home?unit=u1").status_code == 200


def test_key_check_reads_the_first_header_of_each_kind() -> None:
    headers = [(b"authorization", b"Bearer k1"), (b"authorization", b"Bearer k2")]
    assert key_allowed(headers, ("k1",)) and not key_allowed(headers, ("k2",))
    assert key_allowed([(b"x-api-key", b"k2")], ("k1", "k2"))
    assert not key_allowed([], ("k1",))


@pytest.mark.parametrize(
    "query",
    [
        "unit=u1&n=3",
        "unit=u%201&attr.country=fr&exclude=a,b",
        "unit=a+b&&n=&flag&unit=last",
        "unit=%E2%82%AC%zz&attr.x=%C3",
        "",
        "=&==x&a=b=c",
    ],
)
def test_query_params_read_as_parse_qsl_reads_them(query: str) -> None:
    raw = query.encode("latin-1")
    assert query_params(raw) == dict(parse_qsl(query, keep_blank_values=True))
