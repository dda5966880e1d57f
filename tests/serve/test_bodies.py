"""Request bodies are bounded: size (413), time (408), and a client that leaves mid-body."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from sameday.events.memory import MemorySink
from sameday.events.writer import EventWriter
from sameday.serve.app import create_app
from sameday.serve.client import Client
from sameday.serve.state import build_state
from sameday.store.memory import MemoryStore
from sameday.testing import load_lists, surface_spec


@pytest.fixture
def client() -> Iterator[Client]:
    store = MemoryStore()
    load_lists(store, "popular", "q1", {"*": ["a", "b", "c"]})
    state = build_state({("surface", "home"): surface_spec("home", "popular", n=2)})
    with Client(store, writer=EventWriter(MemorySink()), state=state, refresh_interval=0) as c:
        yield c


class Exchange:
    """One request played against the app at the ASGI level, chunk by chunk."""

    def __init__(self, chunks: list[bytes], *, end: str = "complete", pause: float = 0.0) -> None:
        self.chunks = chunks
        self.end = end  # "complete", or "disconnect" after the chunks
        self.pause = pause
        self.received = 0
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if self.pause:
            await asyncio.sleep(self.pause)
        if self.received < len(self.chunks):
            self.received += 1
            more = self.received < len(self.chunks) or self.end != "complete"
            return {
                "type": "http.request",
                "body": self.chunks[self.received - 1],
                "more_body": more,
            }
        if self.end == "disconnect":
            return {"type": "http.disconnect"}
        await asyncio.sleep(3600)  # pragma: no cover - nothing more will come
        raise AssertionError

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def play(self, app: Any, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"content-type", b"application/json"), *(headers or [])],
            "server": ("testserver", 80),
            "client": ("testclient", 50000),
            "state": {},
        }
        asyncio.run(app(scope, self.receive, self.send))
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        return int(starts[0]["status"]) if starts else 0

    def error(self) -> dict[str, Any]:
        body = b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")
        result: dict[str, Any] = orjson.loads(body)["error"]
        return result


def test_a_declared_length_over_the_cap_is_a_413_before_reading(client: Client) -> None:
    app = create_app(client, max_body=1024)
    exchange = Exchange([b"x" * 512] * 8)
    assert exchange.play(app, "/v1/events", [(b"content-length", b"4096")]) == 413
    assert exchange.received == 0
    assert "1024 bytes" in exchange.error()["message"]


def test_a_streamed_body_over_the_cap_is_a_413_as_soon_as_it_passes(client: Client) -> None:
    app = create_app(client, max_body=1024)
    exchange = Exchange([b"x" * 100] * 1000)  # chunked: no Content-Length
    assert exchange.play(app, "/v1/recommend/home") == 413
    assert exchange.received == 11  # stopped at the chunk that crossed 1,024 bytes


def test_bodies_within_the_cap_are_served(client: Client) -> None:
    body = orjson.dumps({"unit": "u1", "n": 1})
    app = create_app(client, max_body=len(body))
    assert Exchange([body[:5], body[5:]]).play(app, "/v1/recommend/home") == 200
    with TestClient(app) as http:
        assert http.post("/v1/recommend/home", content=body).status_code == 200
        too_big = http.post("/v1/recommend/home", content=body + b" ")
        assert too_big.status_code == 413 and too_big.json()["error"]["status"] == 413


def test_the_default_cap_is_one_mebibyte(client: Client) -> None:
    with TestClient(create_app(client)) as http:
        events = [{"event_id": f"e{i}", "unit": "u" * 200, "name": "c"} for i in range(5000)]
        answer = http.post("/v1/events", json={"events": events})
        assert answer.status_code == 413 and "1048576 bytes" in answer.json()["error"]["message"]


def test_a_client_that_leaves_mid_body_is_one_log_line(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    exchange = Exchange([b'{"events": [{"event_'], end="disconnect")
    with caplog.at_level(logging.DEBUG):
        exchange.play(create_app(client), "/v1/events")  # raises nothing
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and lines[0].exc_info is None
    assert "disconnected" in lines[0].getMessage() and "/v1/events" in lines[0].getMessage()


def test_a_body_that_trickles_in_is_cut_off_with_a_408(client: Client) -> None:
    app = create_app(client, body_timeout=0.2)
    exchange = Exchange([b"{"] * 100, pause=0.05)
    assert exchange.play(app, "/v1/events") == 408
    assert exchange.received < 10
    assert "0.2 s" in exchange.error()["message"]
