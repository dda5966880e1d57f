"""uvicorn as ``sameday serve`` runs it: slow or idle clients cannot hold a connection."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from sameday.serve.app import create_app
from sameday.serve.client import Client
from sameday.serve.server import server_config
from sameday.serve.state import build_state
from sameday.store.memory import MemoryStore
from sameday.testing import load_lists, surface_spec

PORTS = range(17210, 17230)  # this project's test range, on 127.0.0.1


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
