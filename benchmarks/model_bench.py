"""Online scoring's cost: a model arm against the bare ``predict`` and against a batch arm.

A starter project gets a result set ``cands`` (``USERS`` users x 100 candidates, each with eight
numeric payload columns ``f0..f7``), a small numpy model registered as a bundle (a linear
scorer over the eight features, ``python`` flavor, its weights in a ``.npy`` file), and a
running A/B experiment on ``home`` with two arms reading the same candidates: ``ranked``
(``model: ranker@champion``, ``candidates: 100``, ``timeout_ms: 50``) and ``batch`` (the
batch order). Units are split by the arm the experiment assigns them.

In process, in the same run, alternating rounds of ``CALLS`` calls each:

* (a) the bare ``predict`` of the loaded model on the 100 candidates (a ``Candidates`` built
  once, with its payload matrix, as a served request hands it over: the model reads the matrix);
* (b) ``Client.recommend`` for units of the ``ranked`` arm (the store read of 100 candidates,
  the features, the worker-thread handoff, predict, the sort, the exposure);
* (c) ``Client.recommend`` for units of the ``batch`` arm.

Target: (b)'s p99 minus (a)'s p99 <= 1 ms. Each call is timed three times: wall-clock; the CPU
time of the whole process (``time.process_time``: a worker thread's scoring and the event
writer's thread included), which a preempted call does not inflate: on a shared, loaded
machine the wall-clock p99 of even the bare predict is the scheduler's, not the code's; and
the CPU time of the calling thread (``time.thread_time``), which leaves out the event writer's
commits that land in a call (and a worker's scoring: the bench prints how many lists were
scored inline, on the calling thread). Then
over HTTP, ``sameday serve`` (one process, on
a port of ``BENCH_PORT``) driven by wrk with one thread and 32 connections for ``BENCH_SECONDS``
(the serving benchmark's load), each request for a random unit of one arm: the ``ranked`` arm,
then the ``batch`` arm. Target: the ranked arm's p99 <= 25 ms.

Run: ``.venv/bin/python benchmarks/model_bench.py`` (needs Debian's ``wrk`` for the HTTP part).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

USERS = 2_000
CANDIDATES = 100
FEATURES = [f"f{k}" for k in range(8)]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CALLS = int(os.environ.get("BENCH_CALLS", "2000"))
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
PORT = int(os.environ.get("BENCH_PORT", "18850"))

MODEL_CODE = '''
"""A linear scorer over eight numeric features, in numpy: the bench's model."""

from pathlib import Path

import numpy as np

FEATURES = [f"f{k}" for k in range(8)]


class Linear:
    def __init__(self, weights):
        self.weights = weights

    def predict(self, candidates):
        # sameday.models.candidates.Candidates: the features as a matrix, no row built
        return candidates.matrix(FEATURES) @ self.weights


def load(folder: Path) -> Linear:
    return Linear(np.load(folder / "weights.npy"))
'''

EXPERIMENT = """name: rank-test
surface: home
design: ab
phase: running
arms:
  - name: batch
    result_set: cands
  - name: ranked
    result_set: cands
    model: ranker@champion
    candidates: 100
    timeout_ms: 50
"""


def project(root: Path) -> Path:
    """The starter project with the candidates published, the model registered, the
    experiment applied."""
    import numpy as np

    from sameday.config import load_project
    from sameday.deploy.apply import apply_project
    from sameday.models import open_registry
    from sameday.results import publish
    from sameday.scaffold import init_project

    folder = root / "proj"
    init_project(folder)
    (folder / "bench_model.py").write_text(MODEL_CODE)
    out = folder / "out"
    out.mkdir()
    rng = np.random.default_rng(7)
    with (out / "cands.csv").open("w") as handle:
        handle.write("user,item,score," + ",".join(FEATURES) + "\n")
        for user in range(USERS):
            values = rng.random((CANDIDATES, len(FEATURES)))
            for rank in range(CANDIDATES):
                features = ",".join(f"{v:.4f}" for v in values[rank])
                item = (user * 13 + rank) % 5000
                handle.write(f"user-{user},item-{item},{CANDIDATES - rank},{features}\n")
    (folder / "results" / "cands.yaml").write_text(
        "name: cands\nsource: {path: out/cands.csv}\n"
        f"columns: {{key: user, payload: [{', '.join(FEATURES)}]}}\n"
    )
    (folder / "experiments" / "home-personal.yaml").unlink()
    (folder / "experiments" / "rank-test.yaml").write_text(EXPERIMENT)
    model = out / "ranker"
    model.mkdir()
    np.save(model / "weights.npy", np.linspace(1.0, -1.0, len(FEATURES)))
    loaded = load_project(folder, environ={})
    for name in ("cands", "popular"):
        if name == "popular":
            (out / "popular.csv").write_text(
                "key,item,score\n" + "".join(f"*,item-{i},{100 - i}\n" for i in range(50))
            )
        publish(loaded, name, force=True)
    with open_registry(loaded) as registry:
        registry.register("ranker", model, loader="bench_model:load", aliases=["champion"])
    apply_project(loaded)
    return folder


CLOCKS = {
    "": "wall-clock",
    " cpu": "CPU time of the process (every thread)",
    " own": "CPU time of the calling thread (inline scoring included, a worker's not)",
}


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 of ``samples`` (seconds), in milliseconds."""
    ordered = sorted(samples)
    return (
        ordered[len(ordered) // 2] * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )


def split_units(client: Any) -> dict[str, list[str]]:
    """The bench's units by the arm the experiment assigns them."""
    arms: dict[str, list[str]] = {"ranked": [], "batch": []}
    for user in range(USERS):
        unit = f"user-{user}"
        prepared = client.engine.prepare("home", unit)
        arm = prepared.experiment.arms[prepared.arm_index].name
        arms[arm].append(unit)
    return arms


def in_process(folder: Path) -> list[dict[str, tuple[float, float]]]:
    from sameday.models.candidates import Candidates, payload_matrix
    from sameday.serve.client import Client

    sys.path.insert(0, str(folder))  # where the model's loader lives, as for the server
    client = Client.from_project(folder, refresh_interval=60, update_bandits=False)
    try:
        arms = split_units(client)
        model = client.engine.scoring.models["ranker@champion"]
        listed = client.store.read("cands", arms["ranked"][0], CANDIDATES)
        # what a served request hands the model: the candidates with their payload matrix
        candidates = Candidates.of(
            listed.items, {"unit": arms["ranked"][0]}, (), payload_matrix(listed.items, {})
        )
        fallbacks_before = sum(client.engine.scoring.fallbacks.values())

        def bare(k: int) -> None:
            model.predict(candidates)

        def ranked(k: int) -> None:
            units = arms["ranked"]
            result = client.recommend("home", units[k % len(units)])
            assert result.arm == "ranked"

        def batch(k: int) -> None:
            units = arms["batch"]
            result = client.recommend("home", units[k % len(units)])
            assert result.arm == "batch"

        contenders = {"(a) bare predict": bare, "(b) model arm": ranked, "(c) batch arm": batch}
        for run in contenders.values():  # warm-up
            for k in range(200):
                run(k)
        rounds = []
        for _ in range(ROUNDS):
            figures = {}
            for label, run in contenders.items():
                wall, cpu, own = [], [], []
                clock, cpu_clock, own_clock = time.perf_counter, time.process_time, time.thread_time
                for k in range(CALLS):
                    started, started_cpu, started_own = clock(), cpu_clock(), own_clock()
                    run(k)
                    own.append(own_clock() - started_own)
                    cpu.append(cpu_clock() - started_cpu)
                    wall.append(clock() - started)
                figures[label] = percentiles(wall)
                figures[label + " cpu"] = percentiles(cpu)
                figures[label + " own"] = percentiles(own)
            rounds.append(figures)
        fallbacks = sum(client.engine.scoring.fallbacks.values()) - fallbacks_before
        print(
            f"in process: {fallbacks} model-arm lists fell back to the batch order, "
            f"{client.engine.scoring.inline} were scored inline"
        )
        return rounds
    finally:
        client.close()


def wrk(base: str, units: list[str], lua_dir: Path, name: str) -> tuple[float, float, float]:
    script = lua_dir / f"{name}.lua"
    table = ",".join(f'"{unit}"' for unit in units)
    script.write_text(
        f"math.randomseed(42)\nlocal units = {{{table}}}\nrequest = function()\n"
        '  return wrk.format("GET", "/v1/recommend/home?n=10&unit=" .. '
        "units[math.random(1, #units)])\nend\n"
    )
    subprocess.run(
        ["wrk", "-t1", "-c32", "-d2s", "-s", str(script), base], capture_output=True, check=True
    )
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{DURATION}s", "--latency", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{errors.group(1)} failed responses:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def percentile(p: str) -> float:
        found = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        assert found is not None
        return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]

    return rps, percentile("50"), percentile("99")


def over_http(folder: Path, arms: dict[str, list[str]]) -> dict[str, tuple[float, float, float]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMEDAY_")}
    command = [sys.executable, "-m", "sameday", "serve", "--project", str(folder)]
    process = subprocess.Popen(
        [*command, "--port", str(PORT)],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{PORT}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("sameday serve did not start")
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        results = {label: wrk(base, arms[label], folder, label) for label in ("ranked", "batch")}
        metrics = httpx.get(base + "/metrics", timeout=5).text
        fell_back = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("sameday_scoring_fallbacks_total")
        )
        print(f"over HTTP: {fell_back:.0f} model-arm lists fell back to the batch order")
        return results
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    from sameday.serve.client import Client

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        folder = project(Path(tmp))
        print(f"set-up: {time.perf_counter() - started:.1f} s")
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        rounds = in_process(folder)
        sys.path.insert(0, str(folder))
        client = Client.from_project(folder, refresh_interval=60, update_bandits=False)
        try:
            arms = split_units(client)
        finally:
            client.close()
        http = over_http(folder, arms) if shutil.which("wrk") else {}
        load_after = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"\nload average: {load} before, {load_after} after; {ROUNDS} rounds of {CALLS} calls")
    for clock, what in CLOCKS.items():
        print(f"\n{what}, ms")
        print(
            "| round | (a) bare predict p50 / p99 | (b) model arm p50 / p99 | "
            "(c) batch arm p50 / p99 | (b) - (a) at p99 |"
        )
        print("|---|---|---|---|---|")
        overheads = []
        for index, figures in enumerate(rounds, 1):
            a, b, c = (
                figures[k + clock] for k in ("(a) bare predict", "(b) model arm", "(c) batch arm")
            )
            overheads.append(b[1] - a[1])
            print(
                f"| {index} | {a[0]:.3f} / {a[1]:.3f} | {b[0]:.3f} / {b[1]:.3f} | "
                f"{c[0]:.3f} / {c[1]:.3f} | {b[1] - a[1]:.3f} |"
            )
        median = statistics.median(overheads)
        print(f"median overhead at p99 ({what}): {median:.3f} ms (target <= 1 ms)")
    if http:
        print(f"\nHTTP, wrk -t1 -c32 -d{DURATION}s:")
        print("| arm | req/s | p50 ms | p99 ms |")
        print("|---|---|---|---|")
        for label, (rps, p50, p99) in http.items():
            print(f"| {label} | {rps:,.0f} | {p50:.2f} | {p99:.2f} |")


if __name__ == "__main__":
    main()
