"""``POST /v1/events`` on the real event logs: one bad event never fails the others."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sameday.events import open_sink
from sameday.events.writer import EventWriter
from sameday.serve.app import create_app
from sameday.serve.client import Client
from sameday.serve.state import build_state
from sameday.store.memory import MemoryStore
from sameday.testing import load_lists, surface_spec


@pytest.fixture(params=["sqlite", "postgres"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Client]:
    url = (
        f"sqlite:///{tmp_path / 'events.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    store = MemoryStore()
    load_lists(store, "popular", "q1", {"*": ["a", "b", "c"]})
    state = build_state({("surface", "home"): surface_spec("home", "popular", n=2)})
    with Client(store, writer=EventWriter(open_sink(url)), state=state, refresh_interval=0) as c:
        yield c


def events(start: int, count: int, **bad: str) -> dict[str, object]:
    batch = [
        {"event_id": f"e{i}", "unit": f"u{i}", "name": "click"} for i in range(start, start + count)
    ]
    batch[-1].update(bad)
    return {"events": batch}


async def post_together(client: Client, bodies: list[dict[str, object]]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=create_app(client))
    async with httpx.AsyncClient(transport=transport, base_url="http://sameday") as http:
        return await asyncio.gather(*(http.post("/v1/events", json=b) for b in bodies))


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"unit": "u\x00nul"}, "unit"),
        ({"request_id": "r\x00"}, "request_id"),
        ({"item": "x" * 300}, "item"),
    ],
)
def test_an_event_no_log_can_store_is_a_400_and_concurrent_posts_are_stored(
    client: Client, bad: dict[str, str], field: str
) -> None:
    bodies = [events(0, 3), events(3, 2, **bad), events(5, 3), events(8, 2)]
    answers = asyncio.run(post_together(client, bodies))
    assert [a.status_code for a in answers] == [200, 400, 200, 200]
    error = answers[1].json()["error"]
    assert error["field"] == f"events[1].{field}" and error["status"] == 400
    assert "resend" not in error["message"]
    assert client.writer is not None
    stored = sorted(o.event_id for o in client.writer.sink.read_outcomes())
    assert stored == sorted(f"e{i}" for i in (0, 1, 2, 5, 6, 7, 8, 9))


def test_a_unit_no_log_can_store_is_served_and_logged_escaped(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(client))
        async with httpx.AsyncClient(transport=transport, base_url="http://sameday") as http:
            return await http.get("/v1/recommend/home", params={"unit": "u\x00nul"})

    answer = asyncio.run(get())
    assert answer.status_code == 200 and len(answer.json()["items"]) == 2
    assert client.writer is not None
    client.writer.flush(5)
    [logged] = client.writer.sink.read_exposures()
    assert logged.unit == "u\\x00nul" and logged.extra["escaped"] == ["unit"]
    assert "cannot be stored" in caplog.text
