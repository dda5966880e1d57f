"""A real ``sameday serve`` process: live config and snapshot pick-up, and durable events."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sameday.config import load_project
from sameday.deploy.apply import apply_project
from sameday.metadata import MetadataStore
from sameday.results import publish


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_lists(project_dir: Path, tag: str) -> None:
    out = project_dir / "out"
    out.mkdir(exist_ok=True)
    popular = ["key,item,score"] + [f"*,{tag}-pop-{i},{100 - i}" for i in range(20)]
    (out / "popular.csv").write_text("\n".join(popular) + "\n")
    personal = ["user,item,score"] + [
        f"user-{u},{tag}-item-{i},{i}" for u in range(30) for i in range(10)
    ]
    (out / "personal.csv").write_text("\n".join(personal) + "\n")


def publish_and_apply(project_dir: Path, tag: str) -> None:
    write_lists(project_dir, tag)
    project = load_project(project_dir, environ={})
    for name in ("popular", "personal"):
        publish(project, name, force=True)
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as metadata:
        apply_project(project, metadata)


@pytest.fixture
def server(project_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    settings = project_dir / "sameday.yaml"
    settings.write_text(
        settings.read_text().replace("  port: 8000", "  port: 8000\n  refresh_interval: 0.2")
    )
    publish_and_apply(project_dir, "v1")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMEDAY_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sameday",
            "serve",
            "--project",
            str(project_dir),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"server did not start: {err.decode()[-2000:]}")
        time.sleep(0.1)
    try:
        yield process, base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr is not None:
            process.stderr.close()


def test_applied_config_and_new_snapshots_arrive_without_a_dropped_request(
    server: tuple[subprocess.Popen[bytes], str], project_dir: Path
) -> None:
    _, base = server
    statuses: list[int] = []
    seen: list[dict] = []
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=base, timeout=5) as http:
            i = 0
            while not stop.is_set():
                response = http.get("/v1/recommend/home", params={"unit": f"user-{i % 30}"})
                statuses.append(response.status_code)
                if response.status_code == 200:
                    seen.append(response.json())
                i += 1

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        time.sleep(0.5)
        assert seen and all(r["experiment"] is None for r in seen)
        experiment = project_dir / "experiments" / "home-personal.yaml"
        experiment.write_text(experiment.read_text().replace("phase: draft", "phase: running"))
        publish_and_apply(project_dir, "v2")
        changed_at = time.monotonic()
        while time.monotonic() - changed_at < 10:
            latest = seen[-1]
            if latest["experiment"] == "home-personal" and latest["items"][0]["item"].startswith(
                "v2"
            ):
                break
            time.sleep(0.05)
        lag = time.monotonic() - changed_at
    finally:
        stop.set()
        thread.join()
    assert seen[-1]["experiment"] == "home-personal", seen[-1]
    assert seen[-1]["items"][0]["item"].startswith("v2")
    assert lag < 5, f"took {lag:.1f}s to pick up the change"
    assert len(statuses) > 50 and set(statuses) == {200}


def test_acknowledged_events_survive_sigkill(
    server: tuple[subprocess.Popen[bytes], str], project_dir: Path
) -> None:
    process, base = server
    acknowledged = []
    with httpx.Client(base_url=base, timeout=5) as http:
        for batch in range(20):
            events = [
                {"event_id": f"e-{batch}-{i}", "unit": f"user-{i}", "name": "click"}
                for i in range(25)
            ]
            response = http.post("/v1/events", json={"events": events})
            assert response.status_code == 200
            acknowledged += [e["event_id"] for e in events]
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    events_db = load_project(project_dir, environ={}).root / ".sameday" / "events.db"
    with sqlite3.connect(events_db) as db:
        stored = {row[0] for row in db.execute("SELECT event_id FROM outcomes")}
    db.close()
    assert set(acknowledged) <= stored
