"""The OpenAPI document: every route of the app is in it, its schemas are the models of
``sameday.serve.requests``, and what the server sends is what the models say."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typing_extensions
from pydantic import TypeAdapter
from starlette.routing import Route
from starlette.testclient import TestClient

from sameday.events.memory import MemorySink
from sameday.events.writer import EventWriter
from sameday.serve import requests as models
from sameday.serve.app import create_app
from sameday.serve.client import Client
from sameday.serve.openapi import openapi_spec
from sameday.serve.state import build_state
from sameday.store.base import Item
from sameday.store.codec import encode_list
from sameday.store.memory import MemoryStore
from sameday.testing import experiment_spec, load_lists, surface_spec

SPECS = {
    ("surface", "home"): surface_spec("home", "personal", fallbacks=["popular"], n=3),
    ("experiment", "exp"): experiment_spec("exp", "home", {"control": "personal", "b": "popular"}),
    ("surface", "mixed"): surface_spec("mixed", "personal", fallbacks=["popular"], n=3),
    ("experiment", "duel"): experiment_spec(
        "duel",
        "mixed",
        {"control": "personal", "b": "popular"},
        design="interleave",
        interleave={"method": "team_draft"},
    ),
    ("surface", "mail"): surface_spec("mail", "unpublished", fallbacks=["popular"], n=2),
}


@pytest.fixture
def client() -> Iterator[Client]:
    store = MemoryStore()
    load_lists(store, "personal", "p1", {"u1": ["a", "b"], "u2": ["c"]})
    store.load("popular", "q1", [[("*", encode_list([Item("d", 3.0, {"brand": "x"})]))]])
    store.set_live("popular", "q1")
    with Client(
        store,
        writer=EventWriter(MemorySink()),
        state=build_state(SPECS),
        refresh_interval=0,
        read_deadline=10,
    ) as c:
        yield c


@pytest.mark.parametrize("secured", [True, False])
def test_every_route_of_the_app_is_in_the_document(client: Client, secured: bool) -> None:
    app = create_app(client, serving_key="k" if secured else None)
    paths = openapi_spec(secured=secured)["paths"]
    routes = [route for route in app.routes if isinstance(route, Route)]
    assert len(routes) >= 8
    missing = [
        f"{method} {route.path}"
        for route in routes
        for method in sorted(route.methods or ())
        if method != "HEAD" and method.lower() not in paths.get(route.path, {})
    ]
    assert missing == []
    documented = {f"{m.upper()} {path}" for path, ops in paths.items() for m in ops}
    served = {f"{m} {r.path}" for r in routes for m in r.methods or () if m != "HEAD"}
    assert documented == served  # and nothing documented that the app does not serve


def test_the_schemas_are_the_models_of_the_requests_module() -> None:
    spec = openapi_spec()
    schemas = spec["components"]["schemas"]
    typed_dicts = {
        name
        for name, value in vars(models).items()
        if isinstance(value, type) and typing_extensions.is_typeddict(value)
    }
    assert set(schemas) == typed_dicts
    body = schemas["RecommendRequest"]
    assert body["required"] == ["unit"]
    assert body["properties"]["n"] == {"maximum": models.MAX_N, "minimum": 1, "type": "integer"}
    assert body["properties"]["exclude"]["maxItems"] == models.MAX_EXCLUDE
    event = schemas["Event"]["properties"]
    assert event["event_id"]["maxLength"] == models.MAX_ID
    assert event["event_id"]["description"] == "Unique per event; a resent event is stored once."
    get = spec["paths"]["/v1/recommend/{surface}"]["get"]["parameters"]
    assert {p["name"]: p["schema"] for p in get}["n"] == body["properties"]["n"]
    assert "title" not in str(schemas)


def test_what_the_server_answers_is_what_the_models_say(client: Client) -> None:
    """Strict validation against the models (the schemathesis fuzz test checks the answers
    against the document too, but only for the inputs it happens to draw)."""
    recommendation = TypeAdapter(models.Recommendation)
    served = [
        client.recommend("home", "u1"),  # an A/B arm
        client.recommend("mixed", "u2"),  # interleaved: no arm
        client.recommend("mail", "u1"),  # degraded, no experiment, an item with a payload
    ]
    assert {(r.experiment, r.arm is None, r.degraded) for r in served} == {
        ("exp", False, False),
        ("duel", True, False),
        (None, True, True),
    }
    assert any(entry.payload for r in served for entry in r.entries)
    for result in served:
        recommendation.validate_python(result.to_dict(), strict=True)
    with TestClient(create_app(client, admin_key="admin")) as http:
        auth = {"X-API-Key": "admin"}
        answers: list[tuple[Any, Any]] = [
            (
                models.BatchResponse,
                http.post(
                    "/v1/recommend/home/batch", json={"requests": [{"unit": "u1"}]}, headers=auth
                ),
            ),
            (models.Status, http.get("/healthz")),
            (models.Ready, http.get("/readyz")),
            (models.Refreshed, http.post("/v1/admin/refresh", headers=auth)),
            (models.Error, http.get("/v1/recommend/nowhere?unit=u1", headers=auth)),
            (
                models.EventsAccepted,
                http.post(
                    "/v1/events",
                    json={"events": [{"event_id": "e1", "unit": "u1", "name": "click"}]},
                    headers=auth,
                ),
            ),
        ]
        for model, answer in answers:
            TypeAdapter(model).validate_python(answer.json(), strict=True)
