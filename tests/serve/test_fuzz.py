"""Fuzz the HTTP service from its own OpenAPI document: no input may cause a server error."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="pip install 'sameday[dev]'")
from hypothesis import HealthCheck, settings  # noqa: E402

from sameday.events.memory import MemorySink  # noqa: E402
from sameday.events.writer import EventWriter  # noqa: E402
from sameday.serve.app import create_app  # noqa: E402
from sameday.serve.client import Client  # noqa: E402
from sameday.serve.state import build_state  # noqa: E402
from sameday.store.memory import MemoryStore  # noqa: E402
from sameday.testing import experiment_spec, load_lists, surface_spec  # noqa: E402

KEY = "fuzz-serving-key"
SPECS = {
    ("surface", "home"): surface_spec("home", "personal", fallbacks=["popular"]),
    ("experiment", "exp"): experiment_spec(
        "exp", "home", {"a": "personal", "b": "popular"}, targeting={"country": {"$in": ["JP"]}}
    ),
}


def make_app():  # type: ignore[no-untyped-def]
    store = MemoryStore()
    load_lists(store, "personal", "p1", {"u1": ["a", "b"]})
    load_lists(store, "popular", "q1", {"*": ["b", "c", "d"]})
    client = Client(
        store, writer=EventWriter(MemorySink()), state=build_state(SPECS), refresh_interval=0
    )
    return create_app(client, serving_key=KEY)


schema = schemathesis.openapi.from_asgi("/openapi.json", make_app())


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case) -> None:  # type: ignore[no-untyped-def]
    response = case.call(headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code < 500, (response.status_code, response.text)
    case.validate_response(response)
