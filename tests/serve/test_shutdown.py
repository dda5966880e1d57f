"""SIGTERM on a real ``sameday serve``: stop accepting, finish what is in flight, flush the log.

This is what Kubernetes does to a pod on every rollout, scale-down and node drain; a request
being answered then must complete, and every exposure it served must reach the event log.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from sameday.config import load_project
from sameday.deploy.apply import apply_project
from sameday.metadata import MetadataStore
from sameday.results import publish


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def publish_and_apply(project_dir: Path) -> None:
    out = project_dir / "out"
    out.mkdir(exist_ok=True)
    rows = ["key,item,score"] + [f"*,pop-{i},{100 - i}" for i in range(20)]
    (out / "popular.csv").write_text("\n".join(rows) + "\n")
    rows = ["user,item,score"] + [f"user-{u},item-{i},{i}" for u in range(30) for i in range(10)]
    (out / "personal.csv").write_text("\n".join(rows) + "\n")
    project = load_project(project_dir, environ={})
    for name in ("popular", "personal"):
        publish(project, name, force=True)
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as metadata:
        apply_project(project, metadata)


def start_server(project_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMEDAY_")}
    command = [sys.executable, "-m", "sameday", "serve", "--project", str(project_dir)]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"server did not start: {err.decode()[-2000:]}")
        time.sleep(0.1)


def half_sent(port: int, unit: str, request_id: str) -> tuple[socket.socket, bytes]:
    """A POST whose head and first body byte are sent: in flight until the rest arrives."""
    body = orjson.dumps({"unit": unit, "request_id": request_id})
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = (
        f"POST /v1/recommend/home HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock.sendall(head + body[:1])
    return sock, body[1:]


def read_response(sock: socket.socket) -> tuple[int, dict[str, object]]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before a response: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return status, orjson.loads(body)


def stored_request_ids(project_dir: Path) -> set[str]:
    events_db = project_dir / ".sameday" / "events.db"
    db = sqlite3.connect(events_db)
    try:
        return {row[0] for row in db.execute("SELECT request_id FROM exposures")}
    finally:
        db.close()


def test_sigterm_drains_in_flight_requests_and_flushes_their_exposures(
    project_dir: Path,
) -> None:
    publish_and_apply(project_dir)
    port = free_port()
    process = start_server(project_dir, port)
    try:
        served = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            for i in range(20):
                response = http.get("/v1/recommend/home", params={"unit": f"user-{i % 30}"})
                assert response.status_code == 200
                served.append(response.json()["request_id"])
        in_flight = [half_sent(port, f"user-{i}", f"in-flight-{i}") for i in range(8)]
        time.sleep(0.2)  # the server has read every head: the requests are being handled
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        with pytest.raises(OSError):  # no longer accepting
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        for sock, rest in in_flight:
            sock.sendall(rest)
        for index, (sock, _) in enumerate(in_flight):
            status, body = read_response(sock)
            sock.close()
            assert status == 200, body
            assert body["request_id"] == f"in-flight-{index}"
            assert body["items"]
            served.append(f"in-flight-{index}")
        code = process.wait(15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
    missing = set(served) - stored_request_ids(project_dir)
    assert not missing, f"{len(missing)} served exposures are not in the event log: {missing}"
    assert code == 0  # a completed drain is a clean exit


def test_a_request_stuck_past_the_shutdown_timeout_does_not_hold_the_pod(
    project_dir: Path,
) -> None:
    settings = project_dir / "sameday.yaml"
    settings.write_text(
        settings.read_text().replace("  port: 8000", "  port: 8000\n  shutdown_timeout: 1s")
    )
    publish_and_apply(project_dir)
    port = free_port()
    process = start_server(project_dir, port)
    try:
        stuck, _ = half_sent(port, "user-1", "never-finished")
        time.sleep(0.2)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(10)  # the body timeout (30 s) would hold it far longer
        took = time.monotonic() - signalled
        stuck.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
    assert code == 0
    assert took < 5, f"took {took:.1f}s to stop"
