"""Benchmark: one pass of the ``health`` check against the report of the same experiment.

The health check reads an experiment's summaries (primary metric and guardrails of the current
phase) and counts the last window's units per arm at every monitor pass, so its cost is about
that of the report's summaries. This measures both on one seeded SQLite event log of the
scaffolded project's ``home-personal`` test (UNITS units, one exposure each, Poisson(0.5) clicks
each), each timed ROUNDS times in this process (median wall time, and CPU time, which holds
however busy the machine is), and prints the ratio.

Run: ``.venv/bin/python benchmarks/health_bench.py [--units 200000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import yaml

from sameday.analysis.health import HealthCheck
from sameday.analysis.report import build_report
from sameday.config import Project, load_project
from sameday.deploy.apply import apply_project
from sameday.events import Exposure, Outcome, open_sink
from sameday.monitor.check import Context
from sameday.results import publish
from sameday.scaffold import init_project


def project_with_log(root: Path, units: int) -> Project:
    """The scaffolded project running ``home-personal``, applied, with ``units`` units logged."""
    init_project(root)
    file = root / "experiments" / "home-personal.yaml"
    file.write_text(yaml.safe_dump(yaml.safe_load(file.read_text()) | {"phase": "running"}))
    out = root / "out"
    out.mkdir(exist_ok=True)
    (out / "popular.csv").write_text("key,item,score\n*,pop-0,1\n")
    (out / "personal.csv").write_text("user,item,score\nu0,it-0,1\n")
    project = load_project(root, environ={})
    for name in ("popular", "personal"):
        publish(project, name, force=True)
    apply_project(project)
    rng = np.random.default_rng(0)
    now = time.time()
    arms = rng.integers(0, 2, size=units)
    clicks = rng.poisson(0.5, size=units)
    exposures = [
        Exposure(request_id=f"r{u}", time=now - 86_400 * (1 - u / units), unit=f"u{u}",
                 surface="home", items=("i",), experiment="home-personal",
                 arm=("control", "personal")[arms[u]], seed="home-personal")
        for u in range(units)
    ]  # fmt: skip
    outcomes = [
        Outcome(event_id=f"c{u}-{k}", unit=f"u{u}", name="click", time=exposures[u].time + 1 + k)
        for u in range(units)
        for k in range(int(clicks[u]))
    ]
    with open_sink(project.url(project.settings.storage.events)) as sink:
        for start in range(0, units, 50_000):
            sink.write_exposures(exposures[start : start + 50_000])
        for start in range(0, len(outcomes), 50_000):
            sink.write_outcomes(outcomes[start : start + 50_000])
    return project


def timed(call: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``call`` over ``rounds`` runs."""
    wall, cpu = [], []
    for _ in range(rounds):
        w, c = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    """Build the log, time both, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        project = project_with_log(Path(folder) / "proj", args.units)
        with project.open_metadata() as meta:

            def check() -> object:
                context = Context(project=project, metadata=meta, now=datetime.now(UTC))
                findings = HealthCheck().evaluate(context)
                assert any(f.monitor == "health.srm" for f in findings)
                return findings

            health = timed(check, args.rounds)
        report = timed(lambda: build_report(project, "home-personal"), args.rounds)
    print(f"{args.units:,} units, one exposure each; median of {args.rounds} rounds")
    print(f"health check pass: {health[0]:.2f} s wall, {health[1]:.2f} s CPU")
    print(f"sameday report:    {report[0]:.2f} s wall, {report[1]:.2f} s CPU")
    print(f"health / report:   {health[1] / report[1]:.2f} (CPU)")


if __name__ == "__main__":
    main()
