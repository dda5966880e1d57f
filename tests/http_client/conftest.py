"""A real ``sameday serve`` for the client tests, and the ways a server fails.

Everything listens on 127.0.0.1, on ports 18300-18399: the server itself, a closed port (nothing
listening), one that never accepts, a socket that accepts and never answers, one that answers a
byte at a time, a TCP proxy that can cut the server off from its PostgreSQL event log, and a
plain HTTP server that answers what a load balancer in front would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

PORTS = range(18300, 18400)


def free_port() -> int:
    """A port of our range that nothing listens on now."""
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def make_project(root: Path, *, events: str | None = None) -> Path:
    """The starter project with its experiment running, both lists published and applied;
    ``events`` replaces the event log's URL."""
    from sameday.config import load_project
    from sameday.deploy.apply import apply_project
    from sameday.metadata import MetadataStore
    from sameday.results import publish
    from sameday.scaffold import init_project

    init_project(root)
    if events is not None:
        settings = root / "sameday.yaml"
        text = settings.read_text()
        default = "events: ${SAMEDAY_EVENTS_URL:-sqlite:///.sameday/events.db}"
        settings.write_text(text.replace(default, f"events: {events}"))
    experiment = root / "experiments" / "home-personal.yaml"
    experiment.write_text(experiment.read_text().replace("phase: draft", "phase: running"))
    out = root / "out"
    out.mkdir()
    popular = ["key,item,score"] + [f"*,pop-{i},{100 - i}" for i in range(20)]
    (out / "popular.csv").write_text("\n".join(popular) + "\n")
    personal = ["user,item,score"] + [
        f"user-{u},item-{u}-{i},{10 - i}" for u in range(30) for i in range(10)
    ]
    (out / "personal.csv").write_text("\n".join(personal) + "\n")
    project = load_project(root, environ={})
    for name in ("popular", "personal"):
        publish(project, name, force=True)
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as metadata:
        apply_project(project, metadata)
    return root


@contextmanager
def serving(project: Path, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """``sameday serve`` on ``project`` in a subprocess; yields its URL once it is ready."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SAMEDAY_")}
    environ.update(env or {})
    command = [sys.executable, "-m", "sameday", "serve", "--project", str(project)]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"sameday serve did not start: {err.decode()[-2000:]}")
        time.sleep(0.05)
    try:
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()


@dataclass(frozen=True)
class Served:
    """A running server, the project it serves and its serving key."""

    url: str
    project: Path
    key: str

    def stored_event_ids(self) -> list[str]:
        """Every ``event_id`` in the server's event log (a SQLite file), with repeats."""
        import sqlite3

        with sqlite3.connect(self.project / ".sameday" / "events.db") as db:
            rows = [row[0] for row in db.execute("SELECT event_id FROM outcomes")]
        db.close()
        return rows


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One real server for the whole session (the tests only read lists and add events), with
    a serving key."""
    project = make_project(tmp_path_factory.mktemp("served") / "proj")
    key = "serving-key-for-tests"
    with serving(project, {"SAMEDAY_SERVING_KEY": key}) as url:
        yield Served(url, project, key)


@pytest.fixture
def closed_url() -> str:
    """A URL on which nothing listens: every connection is refused."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A URL whose server accepts connections and reads requests, but never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", free_port()))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


@pytest.fixture
def unaccepting_url() -> Iterator[str]:
    """A URL whose server never accepts and whose accept queue is full: a connection attempt
    waits for its connect timeout, as with a host that drops packets."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", free_port()))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@pytest.fixture
def trickling_url() -> Iterator[str]:
    """A URL whose server starts an answer and then sends one header byte every 50 ms, forever:
    every single wait for data is short, the whole answer never comes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", free_port()))
    listener.listen(16)
    listener.settimeout(0.05)
    stop = threading.Event()

    def trickle(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nx-slow: ")
                while not stop.wait(0.05):
                    conn.sendall(b"a")
            except OSError:
                pass

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()


class TcpProxy:
    """Forwards a local port to ``target``. While :meth:`down`, a partition: every connection,
    open or new, is cut at once; :meth:`up` lets them through again. Starts down."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", free_port()))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._open = False
        self._closed = threading.Event()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def up(self) -> None:
        self._open = True

    def down(self) -> None:
        self._open = False
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            _cut(conn)

    def close(self) -> None:
        self.down()
        self._closed.set()
        self._thread.join()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            if not self._open:
                _cut(client)
                continue
            server = socket.create_connection(self.target)
            with self._lock:
                self._conns += [client, server]
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _cut(src)
            _cut(dst)


def _cut(conn: socket.socket) -> None:
    with suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    conn.close()


Answer = Callable[[], tuple[int, dict[str, str], bytes]]
"""A fake proxy's answer to every request: status, headers, body."""


@dataclass
class FakeProxy:
    """A plain HTTP server answering every request with ``answer()`` — what a load balancer in
    front of sameday says when no replica is healthy; ``times`` records each request's arrival."""

    answer: Answer
    times: list[float] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def fake_proxy() -> Iterator[Callable[[Answer], FakeProxy]]:
    """``fake_proxy(answer)`` starts one; all are stopped after the test."""
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Answer) -> FakeProxy:
        proxy = FakeProxy(answer)

        class Handler(BaseHTTPRequestHandler):
            def _reply(self) -> None:
                proxy.times.append(time.monotonic())
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                status, headers, body = proxy.answer()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _reply

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
        return proxy

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
