"""Serving throughput and latency over HTTP with wrk: sameday against the serving issue's baselines.

Contenders, each one uvicorn process on loopback, all started once and left running:

(a) FastAPI + redis-py: GET a JSON list by key (what a team would write by hand);
(b) a bare Starlette app returning an in-memory list (the Python HTTP ceiling);
(c) ``sameday serve`` running the scaffold's A/B experiment with exposure logging, once on the
    embedded SQLite store and once on Redis.

100,000 units with 20 items each. Rounds alternate: every round runs all four under the same
wrk load (one thread, 32 connections, a random unit per request, ``n=10``; a 1 s warm-up, then
``BENCH_SECONDS``), in reverse order every other round, so a change in the machine's load
touches every contender alike; ratios are taken within a round. Besides requests/s and p99 it
reads each server's CPU time over the measured run (``/proc/PID/stat``): CPU per request is
what throughput is on a core of its own, which a loaded machine does not change.

Targets (issue 15), medians over the rounds: (c, SQLite) >= 0.8x (b); (c, Redis) >= 2x (a);
p99 <= 25 ms on both.

With ``BENCH_BEFORE=DIR`` (the ``src`` folder of an earlier sameday, e.g. from ``git archive``),
two more contenders run that code on the same data (its Redis project in database 1 of the
benchmark's server), in the same rounds: the change measured under the same load.

Redis: a ``redis-server`` of its own, started on ``BENCH_PORT`` (18210 by default: servers take
the next four ports), without persistence, and stopped at the end: nothing is shared with
another user of the machine, nothing flushed. sameday runs with ``--log-level warning`` (no
access log), as the baselines run with ``--no-access-log``.

Run: ``.venv/bin/python benchmarks/serve_bench.py [ROUNDS]`` (7 by default; needs Debian's
``wrk`` and ``redis-server``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis
from _servers import cpu_seconds, start_redis, stop

UNITS = int(os.environ.get("BENCH_UNITS", "100000"))
ITEMS = 20
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
BASE_PORT = int(os.environ.get("BENCH_PORT", "18210"))
HERE = Path(__file__).resolve().parent
A, B = "(a) FastAPI + redis-py", "(b) bare Starlette, in memory"
SQLITE, REDIS = "(c) sameday, SQLite", "(c) sameday, Redis"
BEFORE_SQLITE, BEFORE_REDIS = "(c) before, SQLite", "(c) before, Redis"
BEFORE = os.environ.get("BENCH_BEFORE")


@dataclass
class Run:
    """One contender in one round."""

    rps: float
    p50: float
    p99: float
    cpu_us: float
    """Server CPU (user + system) per request, µs."""
    failed: int = 0
    """Answers that were not 2xx (counted, shown, not fatal: a round is not thrown away)."""


@dataclass
class Contender:
    label: str
    process: subprocess.Popen[bytes]
    base: str
    path: str


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early: {url}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"server not ready: {url}")


def wrk_script(path: str, folder: Path) -> Path:
    script = folder / f"wrk{abs(hash(path))}.lua"
    request = f'wrk.format("GET", "{path}?unit=user-" .. math.random(0, {UNITS - 1}) .. "&n=10")'
    script.write_text(f"math.randomseed(42)\nrequest = function()\n  return {request}\nend\n")
    return script


def run_wrk(contender: Contender, folder: Path) -> Run:
    script = str(wrk_script(contender.path, folder))
    subprocess.run(
        ["wrk", "-t1", "-c32", "-d1s", "-s", script, contender.base],
        capture_output=True,
        check=True,
    )  # warm-up
    before = cpu_seconds(contender.process.pid)
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{DURATION}s", "--latency", "-s", script, contender.base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = cpu_seconds(contender.process.pid) - before
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def percentile(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    failed = int(errors.group(1)) if errors else 0
    return Run(rps, percentile("50"), percentile("99"), cpu / max(requests, 1) * 1e6, failed)


def start(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def item(user: int, rank: int) -> str:
    return f"item-{(user * 7 + rank) % 5000}"


def load_handwritten(url: str) -> None:
    """Each unit's list as a JSON string under ``bench:home:UNIT`` (baseline (a))."""
    with redis.Redis.from_url(url) as client:
        pipe = client.pipeline(transaction=False)
        for user in range(UNITS):
            items = [{"item": item(user, r), "score": float(ITEMS - r)} for r in range(ITEMS)]
            pipe.set(f"bench:home:user-{user}", json.dumps(items))
            if len(pipe) >= 5000:
                pipe.execute()
        pipe.execute()


def write_results(folder: Path) -> None:
    with (folder / "personal.csv").open("w") as handle:
        handle.write("user,item,score\n")
        for user in range(UNITS):
            handle.writelines(
                f"user-{user},{item(user, rank)},{ITEMS - rank}\n" for rank in range(ITEMS)
            )
    (folder / "popular.csv").write_text(
        "key,item,score\n" + "".join(f"*,item-{i},{100 - i}\n" for i in range(50))
    )


def sameday_project(root: Path, serving_url: str, results: Path) -> Path:
    from sameday.config import load_project
    from sameday.deploy.apply import apply_project
    from sameday.metadata import MetadataStore
    from sameday.results import publish
    from sameday.scaffold import init_project

    project_dir = root / "proj"
    init_project(project_dir)
    settings = project_dir / "sameday.yaml"
    text = settings.read_text()
    text = re.sub(r"serving: .*", f"serving: {serving_url}", text, count=1)
    settings.write_text(text)
    experiment = project_dir / "experiments" / "home-personal.yaml"
    experiment.write_text(experiment.read_text().replace("phase: draft", "phase: running"))
    shutil.copytree(results, project_dir / "out")
    project = load_project(project_dir, environ={})
    assert project.settings.storage.serving == serving_url, project.settings.storage.serving
    for name in ("personal", "popular"):
        publish(project, name, force=True)
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as metadata:
        apply_project(project, metadata)
    return project_dir


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(rounds: list[dict[str, Run]], loads: list[str]) -> None:
    labels = [A, B, SQLITE, REDIS] + ([BEFORE_SQLITE, BEFORE_REDIS] if BEFORE else [])
    print(f"\nwrk -t1 -c32 -d{DURATION}s per contender and round; {UNITS:,} units; n=10")
    print("\n| round (load 1 min) | " + " | ".join(labels) + " |")
    print("|---" * (len(labels) + 1) + "|")
    for index, (runs, load) in enumerate(zip(rounds, loads, strict=True), 1):
        cells = [
            f"{runs[label].rps:,.0f}, p99 {runs[label].p99:.1f}"
            + (f", {runs[label].failed} failed" if runs[label].failed else "")
            for label in labels
        ]
        print(f"| {index} ({load}) | " + " | ".join(cells) + " |")
    cells = [
        f"{median([r[label].rps for r in rounds]):,.0f}, "
        f"p99 {median([r[label].p99 for r in rounds]):.1f}"
        for label in labels
    ]
    print("| median | " + " | ".join(cells) + " |")
    print("\nServer CPU per request, µs (user + system, over each measured run):\n")
    print("| round | " + " | ".join(labels) + " |")
    print("|---" * (len(labels) + 1) + "|")
    for index, runs in enumerate(rounds, 1):
        print(f"| {index} | " + " | ".join(f"{runs[label].cpu_us:.0f}" for label in labels) + " |")
    print(
        "| median | "
        + " | ".join(f"{median([r[label].cpu_us for r in rounds]):.0f}" for label in labels)
        + " |"
    )
    sqlite_ratio = [r[SQLITE].rps / r[B].rps for r in rounds]
    redis_ratio = [r[REDIS].rps / r[A].rps for r in rounds]
    sqlite_cpu = [r[B].cpu_us / r[SQLITE].cpu_us for r in rounds]
    redis_cpu = [r[A].cpu_us / r[REDIS].cpu_us for r in rounds]

    def row(name: str, values: list[float], target: float) -> None:
        held = sum(v >= target for v in values)
        joined = ", ".join(f"{v:.2f}" for v in values)
        print(
            f"| {name} | {joined} | **{median(values):.2f}x** | {held} of {len(values)} | "
            f"{'yes' if median(values) >= target else 'no'} |"
        )

    print("\n| ratio (target) | per round | median | rounds at target | median holds |")
    print("|---|---|---|---|---|")
    row("(c, SQLite) / (b) req/s (>= 0.8)", sqlite_ratio, 0.8)
    row("(c, Redis) / (a) req/s (>= 2)", redis_ratio, 2.0)
    row("(c, SQLite) vs (b), CPU per request (b / c)", sqlite_cpu, 0.8)
    row("(c, Redis) vs (a), CPU per request (a / c)", redis_cpu, 2.0)
    if BEFORE:
        row(
            "(c, SQLite) / before, req/s", [r[SQLITE].rps / r[BEFORE_SQLITE].rps for r in rounds], 1
        )
        row("(c, Redis) / before, req/s", [r[REDIS].rps / r[BEFORE_REDIS].rps for r in rounds], 1)
        row("before, SQLite / (b) req/s", [r[BEFORE_SQLITE].rps / r[B].rps for r in rounds], 0.8)
        row("before, Redis / (a) req/s", [r[BEFORE_REDIS].rps / r[A].rps for r in rounds], 2.0)
    for label in (SQLITE, REDIS):
        p99 = [r[label].p99 for r in rounds]
        held = sum(v <= 25 for v in p99)
        holds = "yes" if median(p99) <= 25 else "no"
        print(
            f"| {label} p99 ms (<= 25) | {', '.join(f'{v:.1f}' for v in p99)} | "
            f"**{median(p99):.1f}** | {held} of {len(p99)} | {holds} |"
        )


def main() -> None:
    rounds_wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    for tool in ("wrk", "redis-server"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install {tool}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMEDAY_")}
    uvicorn = [sys.executable, "-m", "uvicorn", "--log-level", "warning", "--no-access-log"]
    contenders: list[Contender] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        redis_process, redis_url = start_redis(BASE_PORT, root)
        env["BENCH_REDIS_URL"] = redis_url
        try:
            started = time.monotonic()
            load_handwritten(redis_url)
            results = root / "results"
            results.mkdir()
            write_results(results)
            projects = {
                SQLITE: sameday_project(root / "sqlite", "sqlite:///.sameday/serving.db", results),
                REDIS: sameday_project(root / "redis", redis_url, results),
            }
            if BEFORE:
                projects[BEFORE_SQLITE] = sameday_project(
                    root / "before-sqlite", "sqlite:///.sameday/serving.db", results
                )
                before_redis = redis_url.removesuffix("/0") + "/1"
                projects[BEFORE_REDIS] = sameday_project(
                    root / "before-redis", before_redis, results
                )
            print(f"data loaded and published in {time.monotonic() - started:.0f} s")
            port = BASE_PORT + 1
            for label, app in ((A, "apps:handwritten"), (B, "apps:ceiling")):
                process = start([*uvicorn, app, "--port", str(port)], HERE / "serve", env)
                contenders.append(
                    Contender(label, process, f"http://127.0.0.1:{port}", "/recommend/home")
                )
                port += 1
            for label, project_dir in projects.items():
                args = [sys.executable, "-m", "sameday", "serve", "--project", str(project_dir)]
                args += ["--log-level", "warning", "--port", str(port)]
                code = BEFORE if label in (BEFORE_SQLITE, BEFORE_REDIS) else None
                process = start(args, project_dir, {**env, "PYTHONPATH": code} if code else env)
                contenders.append(
                    Contender(label, process, f"http://127.0.0.1:{port}", "/v1/recommend/home")
                )
                port += 1
            for contender in contenders:
                wait_ready(f"{contender.base}{contender.path}?unit=user-1", contender.process)
            rounds: list[dict[str, Run]] = []
            loads: list[str] = []
            for index in range(rounds_wanted):
                order = contenders if index % 2 == 0 else contenders[::-1]
                runs = {c.label: run_wrk(c, root) for c in order}
                rounds.append(runs)
                loads.append(Path("/proc/loadavg").read_text().split()[0])
                print(
                    f"round {index + 1}: "
                    + "; ".join(
                        f"{k} {v.rps:,.0f}/s p99 {v.p99:.1f} failed {v.failed}"
                        for k, v in runs.items()
                    ),
                    flush=True,
                )
        finally:
            for contender in contenders:
                stop(contender.process)
            stop(redis_process)
    report(rounds, loads)


if __name__ == "__main__":
    main()
