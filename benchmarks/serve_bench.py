"""Serving throughput and latency over HTTP with wrk, every contender in the same run.

(a) FastAPI + redis-py: GET a JSON list by key (what a team would write by hand);
(b) a bare Starlette app returning an in-memory list (the Python HTTP ceiling);
(c) ``sameday serve`` running an A/B experiment with exposure logging, on Redis and on SQLite.

Each server runs as one uvicorn worker on loopback; wrk drives it with one thread and 32
connections, each request for a random one of USERS units. Targets (issue: serving):
(c, Redis) >= 1.5x (a); (c, SQLite) >= 0.6x (b); p99 <= 25 ms.

Run: ``.venv/bin/python benchmarks/serve_bench.py`` (needs Debian's ``wrk`` and a local Redis).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis

USERS = 20_000
ITEMS = 20
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
REDIS_URL = "redis://127.0.0.1:6379/14"
HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early: {url}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server not ready: {url}")


def run_wrk(base: str, path: str, lua_dir: Path) -> tuple[float, float, float]:
    script = lua_dir / "random_unit.lua"
    lua_request = (
        f'wrk.format("GET", "{path}?unit=user-" .. math.random(0, {USERS - 1}) .. "&n=10")'
    )
    script.write_text(f"math.randomseed(42)\nrequest = function()\n  return {lua_request}\nend\n")
    subprocess.run(
        ["wrk", "-t1", "-c32", "-d2s", "-s", str(script), base], capture_output=True, check=True
    )  # warm-up
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{DURATION}s", "--latency", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{errors.group(1)} failed responses from {base}{path}:\n{out}")

    def percentile(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rps, percentile("50"), percentile("99")


def serve(
    args: list[str], ready_path: str, cwd: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [*args, "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_ready(base + ready_path, process)
    return process, base


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def sameday_project(root: Path, serving_url: str) -> Path:
    from sameday.config import load_project
    from sameday.deploy.apply import apply_project
    from sameday.metadata import MetadataStore
    from sameday.results import publish
    from sameday.scaffold import init_project

    project_dir = root / "proj"
    init_project(project_dir)
    settings = project_dir / "sameday.yaml"
    settings.write_text(settings.read_text().replace("sqlite:///.sameday/serving.db", serving_url))
    experiment = project_dir / "experiments" / "home-personal.yaml"
    experiment.write_text(experiment.read_text().replace("phase: draft", "phase: running"))
    out = project_dir / "out"
    out.mkdir()
    with (out / "personal.csv").open("w") as handle:
        handle.write("user,item,score\n")
        for user in range(USERS):
            for rank in range(ITEMS):
                handle.write(f"user-{user},item-{(user * 7 + rank) % 5000},{ITEMS - rank}\n")
    (out / "popular.csv").write_text(
        "key,item,score\n" + "".join(f"*,item-{i},{100 - i}\n" for i in range(50))
    )
    project = load_project(project_dir, environ={})
    for name in ("personal", "popular"):
        publish(project, name, force=True)
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as metadata:
        apply_project(project, metadata)
    return project_dir


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    pipe = client.pipeline(transaction=False)
    for user in range(USERS):
        items = [
            {"item": f"item-{(user * 7 + r) % 5000}", "score": float(ITEMS - r)}
            for r in range(ITEMS)
        ]
        pipe.set(f"bench:home:user-{user}", json.dumps(items))
    pipe.execute()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMEDAY_")}
    env["BENCH_REDIS_URL"] = REDIS_URL
    uvicorn = [sys.executable, "-m", "uvicorn", "--log-level", "warning", "--no-access-log"]
    results: dict[str, tuple[float, float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for label, app in (
            ("(a) FastAPI + redis-py", "apps:handwritten"),
            ("(b) bare Starlette, in memory", "apps:ceiling"),
        ):
            process, base = serve(
                [*uvicorn, app], "/recommend/home?unit=user-1", HERE / "serve", env
            )
            try:
                results[label] = run_wrk(base, "/recommend/home", root)
            finally:
                stop(process)
        for label, url in (
            ("(c) sameday A/B + logging, Redis", "redis://127.0.0.1:6379/14"),
            ("(c) sameday A/B + logging, SQLite", "sqlite:///.sameday/serving.db"),
        ):
            project_dir = sameday_project(root / label.split(",")[-1].strip(), url)
            process, base = serve(
                [sys.executable, "-m", "sameday", "serve", "--project", str(project_dir)],
                "/readyz",
                project_dir,
                env,
            )
            try:
                results[label] = run_wrk(base, "/v1/recommend/home", root)
            finally:
                stop(process)
    client.flushdb()
    client.close()
    a = results["(a) FastAPI + redis-py"][0]
    b = results["(b) bare Starlette, in memory"][0]
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"\nload average: {' '.join(load)}; wrk -t1 -c32 -d{DURATION}s")
    print("| server | req/s | p50 ms | p99 ms | vs (a) | vs (b) |")
    print("|---|---|---|---|---|---|")
    for label, (rps, p50, p99) in results.items():
        print(f"| {label} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {rps / a:.2f}x | {rps / b:.2f}x |")


if __name__ == "__main__":
    main()
