"""Benchmark: ``sameday uplift`` on 1,000,000 logged units with 10 dimensions.

The issue's target (issue 20): on 1 million units with 10 dimensions, ``sameday uplift`` finishes
in under two minutes on this 2-core machine with peak memory under 4 GB.

Setup (not timed): a :class:`~sameday.sim.segments.SegmentedWorld` of ``--units`` users (tenure,
activity, platform and seven noise dimensions), each served once, half the popular list and half
the personalised one at random, clicks drawn from the position-based model; the exposures (their
dimensions in ``extra``) and clicks go into the project's SQLite event log in batches, as the
server's writer commits them. Then ``sameday uplift bench --format json`` runs as a child process,
exactly as a person would type it: reading the log, three cross-fitted learners, the curves with
200 bootstrap replicates, calibration, the policy tree. Its wall time and its own peak resident
memory (``os.wait4``) are reported, with the stages' seconds from its JSON, and its best Qini area
next to the Qini area of ranking the same units by their true uplift given their dimensions.

The machine is shared: its load average is printed at the child's start and end, and the child's
CPU time (user + system, from the same ``os.wait4``), which the other processes on the cores
inflate far less than the wall time. With one fit thread (the default) the CPU time is close to
what the wall time would be on two free cores.

Run::

    .venv/bin/python benchmarks/uplift_bench.py                   # 1,000,000 units
    .venv/bin/python benchmarks/uplift_bench.py --units 100000    # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sameday.analysis.uplift.curves import curves
from sameday.events import Exposure, Outcome, SQLiteSink
from sameday.scaffold import init_project
from sameday.sim.clicks import PositionBased
from sameday.sim.segments import effects, make_segmented_world

TARGET_SECONDS = 120.0
TARGET_BYTES = 4 * 1024**3
BATCH = 100_000
START = 19_700 * 86_400.0


def write_log(folder: Path, units: int, seed: int) -> tuple[float, int]:
    """The project and its event log; returns the true-uplift Qini area and the clicks."""
    init_project(folder)
    (folder / "experiments" / "home-personal.yaml").unlink()
    world = make_segmented_world(units, seed=seed)
    dims = list(world.attributes)
    (folder / "experiments" / "bench.yaml").write_text(
        "name: bench\nsurface: home\nphase: stopped\narms:\n"
        "  - {name: control, result_set: popular}\n  - {name: personal, result_set: personal}\n"
        f"dimensions: [{', '.join(dims)}]\nmetrics:\n  primary: [ctr]\n"
    )
    model = PositionBased.power(10)
    truth = effects(world, model, 10)
    rng = np.random.default_rng([seed, 20])  # a stream of its own: the world's are seed, seed + 1
    treated = rng.random(units) < 0.5
    clicked = np.zeros(units, dtype=bool)
    popular = world.popular(10)
    clicks = 0
    with SQLiteSink(folder / ".sameday" / "events.db") as sink:
        for start in range(0, units, BATCH):
            users = np.arange(start, min(start + BATCH, units), dtype=np.int64)
            lists = np.where(treated[users, None], world.personal(users, 10), popular[None, :])
            hits = model.sample(world.attraction(users, lists), rng)
            clicked[users] = hits.any(axis=1)
            values = {d: world.attributes[d][users].tolist() for d in dims}
            exposures = [
                Exposure(
                    request_id=f"r{u}",
                    time=START + u * 0.01,
                    unit=f"user-{u}",
                    surface="home",
                    items=tuple(f"item-{i}" for i in lists[k]),
                    experiment="bench",
                    arm="personal" if treated[u] else "control",
                    design="ab",
                    seed="bench",
                    propensity=0.5,
                    extra={d: values[d][k] for d in dims},
                )
                for k, u in enumerate(users.tolist())
            ]
            outcomes = [
                Outcome(
                    event_id=f"c{users[k]}-{slot}",
                    unit=f"user-{users[k]}",
                    name="click",
                    time=START + users[k] * 0.01 + 1 + slot,
                    request_id=f"r{users[k]}",
                )
                for k, slot in zip(*np.nonzero(hits), strict=True)
            ]
            sink.write_exposures(exposures)
            sink.write_outcomes(outcomes)
            clicks += len(outcomes)
    oracle = curves(truth.conditional(), treated, clicked.astype(float), bootstrap=20)
    return oracle.qini_area.point, clicks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="uplift-bench-") as tmp:
        folder = Path(tmp) / "project"
        started = time.perf_counter()
        true_qini, clicks = write_log(folder, args.units, args.seed)
        setup = time.perf_counter() - started
        out = Path(tmp) / "uplift.json"
        command = [
            sys.executable, "-m", "sameday", "uplift", "bench", "--project", str(folder),
            "--format", "json", "-o", str(out), "--threads", str(args.threads),
        ]  # fmt: skip
        load_before = _load()
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        load_after = _load()
        if status != 0:
            raise SystemExit(f"sameday uplift failed: {child.stderr.read().decode()[-2000:]}")
        peak = usage.ru_maxrss * 1024  # kilobytes on Linux
        cpu = usage.ru_utime + usage.ru_stime
        data = json.loads(out.read_text())
    best = next(r for r in data["learners"] if r["name"] == data["best"])
    q = best["curves"]["qini_area"]
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in data["timings"].items())
    print(
        f"\nsameday uplift, {data['units']:,} units x {len(data['features'])} dimensions, "
        f"{clicks:,} clicks (setup {setup:.0f} s; load average {load_before} at the start, "
        f"{load_after} at the end; --threads {args.threads})"
    )
    print("| measure | value | target | met? |")
    print("|---|---|---|---|")
    print(
        f"| wall time (process start to exit) | {seconds:.1f} s | < {TARGET_SECONDS:.0f} s | "
        f"{'yes' if seconds < TARGET_SECONDS else 'no'} |"
    )
    print(
        f"| CPU time (user + system) | {cpu:.1f} s | < {TARGET_SECONDS:.0f} s on free cores | "
        f"{'yes' if cpu < TARGET_SECONDS else 'no'} |"
    )
    print(
        f"| peak memory (RSS) | {peak / 1024**3:.2f} GB | < 4 GB | "
        f"{'yes' if peak < TARGET_BYTES else 'no'} |"
    )
    print(f"\nstages: {stages}")
    print(
        f"best learner {data['best']}: Qini area {q['point']:.4f} [{q['low']:.4f}, {q['high']:.4f}]"
        f"; true uplift given the dimensions: {true_qini:.4f}"
    )
    print(f"rule: treat {data['policy']['rule']}")


def _load() -> str:
    """The one-minute load average (two cores: above 2, processes wait for a core)."""
    return Path("/proc/loadavg").read_text().split()[0]


if __name__ == "__main__":
    main()
