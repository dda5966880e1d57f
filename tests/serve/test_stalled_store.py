"""A hung Redis never freezes the server: a real redis-server, stopped with SIGSTOP (not killed).

The server runs in uvicorn as ``sameday serve`` runs it; requests on every path that reads the
store (a chain with fallbacks, an interleaved experiment, the batch endpoint) must come back
within the read deadline, degraded, from the last-known-good lists, and ``/healthz`` at once.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import uvicorn
from click.testing import CliRunner

from sameday.cli import main
from sameday.serve.app import create_app
from sameday.serve.client import Client
from sameday.serve.state import build_state
from sameday.store.redis import RedisStore
from sameday.testing import experiment_spec, load_lists, surface_spec

DEADLINE = 0.1
SLACK = 0.4
"""Seconds of scheduling noise allowed over the deadline (a shared, busy test machine)."""
PORTS = range(17100, 17200)
SPECS = {
    ("surface", "home"): surface_spec("home", "personal", fallbacks=["popular"], n=3),
    ("surface", "mixed"): surface_spec("mixed", "personal", fallbacks=["popular"], n=3),
    ("experiment", "duel"): experiment_spec(
        "duel",
        "mixed",
        {"control": "personal", "als": "als"},
        design="interleave",
        interleave={"method": "team_draft"},
    ),
}


def free_port() -> int:
    """A free port in this test's range (the machine's services own the others)."""
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A redis-server of our own on a port in our range, resumed and stopped afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    process.args = port  # type: ignore[assignment]  # read by the tests
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    client.close()
    try:
        yield process
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        process.wait(10)


def load(store: RedisStore) -> None:
    units = {f"u{k}": [f"p{k}", "a", "b"] for k in range(5)}
    load_lists(store, "personal", "p1", {**units, "*": ["p-star", "a"]})
    load_lists(store, "als", "a1", {**{f"u{k}": [f"x{k}", "b"] for k in range(5)}, "*": ["x"]})
    load_lists(store, "popular", "q1", {"*": ["top1", "top2", "top3"]})


class Server:
    """uvicorn serving ``app`` on a thread, as ``sameday serve`` does in its process."""

    def __init__(self, app: object) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


async def timed(http: httpx.AsyncClient, method: str, path: str, **kwargs: object) -> tuple:
    started = time.perf_counter()
    response = await http.request(method, path, **kwargs)  # type: ignore[arg-type]
    return time.perf_counter() - started, response


def test_a_stopped_redis_gives_degraded_answers_within_the_deadline(
    redis_server: subprocess.Popen[bytes],
) -> None:
    url = f"redis://127.0.0.1:{redis_server.args}/0"
    store = RedisStore(url, pointer_ttl=0.05)
    load(store)
    # lists read from Redis per request, not held in memory: the stalled reads are the test
    client = Client(
        store,
        state=build_state(SPECS),
        refresh_interval=0.05,
        read_deadline=DEADLINE,
        memory_limit=0,
    )
    try:
        with Server(create_app(client)) as server:
            healthy = httpx.get(f"{server.base}/v1/recommend/home?unit=u1").json()
            assert healthy["degraded"] is False and healthy["items"][0]["item"] == "p1"
            redis_server.send_signal(signal.SIGSTOP)

            async def storm() -> list[tuple]:
                async with httpx.AsyncClient(base_url=server.base, timeout=3) as http:
                    calls = [timed(http, "GET", "/healthz")]
                    for k in range(5):
                        calls.append(
                            timed(http, "GET", "/v1/recommend/home", params={"unit": f"u{k}"})
                        )
                        calls.append(
                            timed(http, "GET", "/v1/recommend/mixed", params={"unit": f"u{k}"})
                        )
                    calls.append(
                        timed(
                            http,
                            "POST",
                            "/v1/recommend/home/batch",
                            json={"requests": [{"unit": "u1"}, {"unit": "u2"}]},
                        )
                    )
                    calls.append(timed(http, "GET", "/readyz"))
                    first = await asyncio.gather(*calls)
                    # and again, once the store has been stalled for longer than the deadline
                    await asyncio.sleep(2 * DEADLINE)
                    again = await timed(http, "GET", "/v1/recommend/home", params={"unit": "u3"})
                    return [*first, again]

            answers = asyncio.run(storm())
            redis_server.send_signal(signal.SIGCONT)
            slowest = max(seconds for seconds, _ in answers)
            assert slowest < DEADLINE + SLACK, [round(s, 3) for s, _ in answers]
            assert answers[0][0] < SLACK and answers[0][1].json() == {"status": "ok"}
            for _, response in answers[1:-2] + answers[-1:]:
                body = response.json()
                assert response.status_code == 200
                for served in body.get("results", [body]):
                    assert served["degraded"] is True
                    items = [item["item"] for item in served["items"]]
                    if served["surface"] == "mixed":  # both arms' `*` lists, merged
                        assert sorted(items) == ["a", "p-star", "x"]
                    else:  # personal's `*` list, then popular's
                        assert items == ["p-star", "a", "top1"]
            # once Redis answers again, so does the server
            for _ in range(50):
                again = httpx.get(f"{server.base}/v1/recommend/home?unit=u1").json()
                if not again["degraded"]:
                    break
                time.sleep(0.1)
            assert again["degraded"] is False and again["items"][0]["item"] == "p1"
    finally:
        redis_server.send_signal(signal.SIGCONT)
        client.close()


def test_a_server_starting_while_redis_is_down_serves_fallbacks_and_says_so(
    project_dir: Path, runner: CliRunner
) -> None:
    redis_port, port = free_port(), free_port() + 1  # nothing listens on redis_port: Redis is down
    settings = project_dir / "sameday.yaml"
    settings.write_text(
        settings.read_text().replace(
            "serving: ${SAMEDAY_SERVING_URL:-sqlite:///.sameday/serving.db}",
            f"serving: redis://127.0.0.1:{redis_port}/0",
        )
    )
    settings.write_text(
        settings.read_text().replace("  port: 8000", "  port: 8000\n  read_deadline: 50ms")
    )
    applied = runner.invoke(main, ["apply", "--project", str(project_dir)])
    assert applied.exit_code == 0, applied.output
    with Client.from_project(project_dir, refresh_interval=0, update_bandits=False) as client:
        assert client.read_deadline == 0.05
        assert client.engine.cache.store_error is not None
        assert "Connection refused" in client.engine.cache.store_error
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMEDAY_")}
    command = [sys.executable, "-m", "sameday", "serve", "--project", str(project_dir)]
    process = subprocess.Popen(
        [*command, "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        until = time.monotonic() + 30
        ready = None
        while ready is None and process.poll() is None and time.monotonic() < until:
            try:
                ready = httpx.get(f"{base}/readyz", timeout=1)
            except httpx.HTTPError:
                time.sleep(0.1)
        assert ready is not None, f"the server did not start: {process.communicate()[1].decode()}"
        surface = ready.json()["surfaces"][0]
        served = httpx.get(f"{base}/v1/recommend/{surface}", params={"unit": "u1"}, timeout=5)
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded" and "unreachable" in ready.json()["store"]
    assert served.status_code == 200 and served.json()["degraded"] is True
    assert "serving store unreachable" in err.decode()
