"""uvicorn as ``sameday serve`` runs it: slow or idle clients cannot hold a connection, heads
have a size cap, and a response goes out in one write."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from sameday.serve.app import create_app
from sameday.serve.client import Client
from sameday.serve.protocol import HEAD_TOO_LARGE, MAX_HEAD, OneWriteCycle
from sameday.serve.server import server_config
from sameday.serve.state import build_state
from sameday.store.memory import MemoryStore
from sameday.testing import load_lists, surface_spec

PORTS = range(17210, 17230)  # this project's test range, on 127.0.0.1
HEADERS = [(b"content-length", b"2")]


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip(f"no free port in {PORTS}")


@pytest.fixture
def address() -> Iterator[tuple[str, int]]:
    store = MemoryStore()
    load_lists(store, "popular", "q1", {"*": ["a", "b"]})
    state = build_state({("surface", "home"): surface_spec("home", "popular", n=2)})
    with Client(store, state=state, refresh_interval=0) as client:
        port = free_port()
        config = server_config(
            create_app(client), "127.0.0.1", port, head_timeout=0.5, keep_alive=1
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            yield "127.0.0.1", port
        finally:
            server.should_exit = True
            thread.join(10)


def closed_after(sock: socket.socket, drip: bytes = b"", limit: float = 5.0) -> float:
    """Seconds until the server closes ``sock`` while ``drip`` is sent byte by byte, slowly."""
    started = time.monotonic()
    sock.settimeout(0.1)
    position = 0
    while time.monotonic() - started < limit:
        if position < len(drip):
            sock.sendall(drip[position : position + 1])
            position += 1
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - started
    return float("inf")


def test_a_client_that_sends_nothing_is_closed_at_the_header_deadline(
    address: tuple[str, int],
) -> None:
    with socket.create_connection(address) as sock:
        assert closed_after(sock) < 2.0


def test_headers_that_trickle_in_are_cut_off_at_the_deadline(address: tuple[str, int]) -> None:
    slow = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 200 + b"\r\n\r\n"
    with socket.create_connection(address) as sock:
        assert closed_after(sock, slow) < 2.0  # a byte every 0.1 s: 24 s to finish


def test_requests_are_served_and_an_idle_keep_alive_is_closed(address: tuple[str, int]) -> None:
    with socket.create_connection(address) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.1)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # the connection is reused
        time.sleep(0.1)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        assert closed_after(sock) < 2.0  # idle: the head deadline (or keep-alive) closes it


def test_a_head_over_the_cap_is_refused(address: tuple[str, int]) -> None:
    huge = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * MAX_HEAD + b"\r\n\r\n"
    with socket.create_connection(address) as sock:
        sock.sendall(huge)
        sock.settimeout(2)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400") and HEAD_TOO_LARGE.encode() in answer


def test_a_large_request_within_the_cap_is_served(address: tuple[str, int]) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * (MAX_HEAD - 200) + b"\r\n\r\n"
    with socket.create_connection(address) as sock:
        for start in range(0, len(head), 1000):  # in pieces, as a slow network delivers it
            sock.sendall(head[start : start + 1000])
        sock.settimeout(2)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")


class Transport:
    """What a cycle writes, one entry per ``write`` call."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def cycle(
    transport: Transport,
    *,
    keep_alive: bool = True,
    method: str = "GET",
    kind: type[RequestResponseCycle] = OneWriteCycle,
    default_headers: list[tuple[bytes, bytes]] | None = None,
) -> Any:
    scope: Any = {"type": "http", "method": method, "path": "/", "headers": []}
    return kind(
        scope=scope,
        transport=transport,  # type: ignore[arg-type]
        flow=FlowControl(transport),  # type: ignore[arg-type]
        logger=logging.getLogger("test"),
        access_logger=logging.getLogger("test"),
        access_log=False,
        default_headers=default_headers or [],
        message_event=asyncio.Event(),
        expect_100_continue=False,
        keep_alive=keep_alive,
        on_response=lambda: None,
    )


def test_the_head_and_the_body_go_out_in_one_write() -> None:
    async def answer(transport: Transport, keep_alive: bool) -> None:
        one = cycle(transport, keep_alive=keep_alive)
        await one.send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        assert transport.writes == []
        await one.send({"type": "http.response.body", "body": b"ok"})

    kept, closed = Transport(), Transport()
    asyncio.run(answer(kept, True))
    asyncio.run(answer(closed, False))
    assert kept.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    assert not kept.closed
    assert closed.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"]
    assert closed.closed


DATED = [(b"date", b"Thu, 03 Dec 2026 17:10:00 GMT"), (b"server", b"uvicorn")]


class TwoSends(OneWriteCycle):
    """``OneWriteCycle`` framing every response through uvicorn's two ``send`` calls."""

    def whole(self, head: Any, message: Any) -> bool:
        return False


@pytest.mark.parametrize("keep_alive", [True, False])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (200, [(b"content-length", b"2"), (b"content-type", b"application/json")], b"ok"),
        (404, [(b"Content-Length", b"2"), (b"X-Tab", b"a\tb")], b"no"),
        (200, [(b"content-length", b"2"), (b"content-length", b"9")], b"ok"),
        (200, [(b"content-length", b"3")], b"ok"),  # shorter than said: refused
        (200, [(b"content-length", b"1")], b"ok"),  # longer than said: refused
        (200, [(b"content-length", b"+2")], b"ok"),
        (200, [], b"ok"),  # chunked
        (200, [(b"content-length", b"2"), (b"connection", b"close")], b"ok"),
        (200, [(b"content-length", b"2"), (b"transfer-encoding", b"gzip")], b"ok"),
        (200, [(b"content-length", b"2"), (b"bad name", b"x")], b"ok"),
        (200, [(b"content-length", b"2"), (b"x", b"a\nb")], b"ok"),
        (204, [(b"content-length", b"0")], b""),
        (299, [(b"content-length", b"0")], b""),
    ],
)
def test_a_whole_response_is_framed_as_uvicorn_frames_it(
    keep_alive: bool,
    method: str,
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
) -> None:
    """``OneWriteCycle.whole`` frames the responses it takes as uvicorn's two sends do (the same
    bytes, cycle state, close and order of ``on_response`` and close, or the same error), and
    leaves the rest to them; the bytes are those of uvicorn's own cycle."""

    def outcome(kind: type[RequestResponseCycle]) -> tuple[object, ...]:
        transport = Transport()
        one = cycle(
            transport, keep_alive=keep_alive, method=method, kind=kind, default_headers=DATED
        )
        responded: list[bool] = []
        one.on_response = lambda: responded.append(transport.closed)

        start = {"type": "http.response.start", "status": status, "headers": headers}

        async def answer() -> str | None:
            try:
                await one.send(start)
                await one.send({"type": "http.response.body", "body": body})
            except RuntimeError as exc:
                return str(exc)
            return None

        error = asyncio.run(answer())
        state = (
            one.response_started,
            one.response_complete,
            one.chunked_encoding,
            one.expected_content_length,
            one.keep_alive,
            one.message_event.is_set(),
        )
        return b"".join(transport.writes), transport.closed, error, state, responded

    assert outcome(OneWriteCycle) == outcome(TwoSends)
    assert outcome(OneWriteCycle)[:3] == outcome(RequestResponseCycle)[:3]


def test_a_plain_response_is_framed_in_one_pass() -> None:
    """What every sameday endpoint sends goes through ``whole``, not uvicorn's sends."""
    transport = Transport()
    one = cycle(transport, default_headers=DATED)
    taken = one.whole(
        {"type": "http.response.start", "status": 200, "headers": HEADERS},
        {"type": "http.response.body", "body": b"ok"},
    )
    assert taken and one.response_complete
    assert transport.writes == [
        b"HTTP/1.1 200 OK\r\ndate: Thu, 03 Dec 2026 17:10:00 GMT\r\nserver: uvicorn\r\n"
        b"content-length: 2\r\n\r\nok"
    ]


def test_a_streamed_body_joins_its_first_part_to_the_head() -> None:
    transport = Transport()

    async def stream() -> None:
        one = cycle(transport)
        await one.send({"type": "http.response.start", "status": 200, "headers": []})
        await one.send({"type": "http.response.body", "body": b"a", "more_body": True})
        await one.send({"type": "http.response.body", "body": b"b"})

    asyncio.run(stream())
    head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    assert transport.writes == [head + b"1\r\na\r\n", b"1\r\nb\r\n0\r\n\r\n"]


def test_a_second_start_replaces_the_one_held() -> None:
    transport = Transport()

    async def fail() -> None:  # the app started, then failed: uvicorn sends its own 500
        one = cycle(transport)
        await one.send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await one.send_500_response()

    asyncio.run(fail())
    (written,) = transport.writes
    assert written.startswith(b"HTTP/1.1 500") and written.endswith(b"Internal Server Error")
