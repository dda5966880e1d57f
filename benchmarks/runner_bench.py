"""Local runner overhead: a 200-job DAG of no-op jobs against ``xargs -P`` on the same commands.

Run it with ``.venv/bin/python benchmarks/runner_bench.py`` (``--help`` for options). It builds a
throw-away project in a temporary folder (metadata in a SQLite file there, no progress view),
runs a layered DAG (``--layers`` of ``--width`` jobs, each job depending on two jobs of the layer
before) with ``--parallel`` slots through the library runner, and runs the same commands with
``xargs -P PARALLEL -I{} sh -c {}``. Each side is timed ``--repeat`` times; the best wall times
and their ratio are printed (the target is a ratio of at most 2). Two more figures explain the
ratio: the runner with its records kept in memory (what the metadata database's writes cost),
and xargs with each command's output sent to a new log file of its own, as the runner does
(what creating 200 files costs: on some virtual disks a new file takes about a millisecond, so
run with ``TMPDIR=/dev/shm`` to see the runner's own overhead apart from the disk's).

The runner does more than xargs on purpose: dependency order, a log file per attempt, an
attempt record per job in the metadata database, environment set-up. The ratio says what that
costs on jobs that do nothing, i.e. the worst case.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import yaml

from sameday.config import load_project
from sameday.metadata.store import MetadataStore
from sameday.pipeline.runner import Runner, plan_run


def write_project(root: Path, layers: int, width: int, command: str) -> None:
    """A project with one pipeline, ``bench``: ``layers`` x ``width`` jobs running ``command``."""
    jobs = []
    for layer in range(layers):
        for index in range(width):
            job: dict[str, object] = {"name": f"j{layer}-{index}", "command": command}
            if layer:
                job["depends_on"] = [f"j{layer - 1}-{index}", f"j{layer - 1}-{(index + 1) % width}"]
            jobs.append(job)
    (root / "pipelines").mkdir(parents=True)
    (root / "sameday.yaml").write_text(
        yaml.safe_dump({"name": "bench", "storage": {"metadata": "sqlite:///meta.db"}})
    )
    pipeline = {"name": "bench", "jobs": jobs}
    (root / "pipelines" / "bench.yaml").write_text(yaml.safe_dump(pipeline, sort_keys=False))


def time_runner(root: Path, parallel: int) -> float:
    """Wall seconds of one run of ``bench`` through the library runner (store open excluded)."""
    project = load_project(root)
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as store:
        plan, _ = plan_run(project, "bench", store)
        runner = Runner(project, store, parallel=parallel)
        started = time.perf_counter()
        runner.run(plan)
        return time.perf_counter() - started


class MemoryRecords:
    """Keeps run and attempt records in a list: the runner's cost without a database."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def create_run(self, *args: object, **kwargs: object) -> SimpleNamespace:
        """A fresh run id, so each run writes its logs to a new folder as a real one does."""
        self.calls.append(args)
        return SimpleNamespace(id=f"bench-{uuid.uuid4().hex[:8]}")

    def finish_run(self, *args: object, **kwargs: object) -> None:
        self.calls.append(args)

    def record_attempts(self, *args: object) -> None:
        self.calls.append(args)


def time_runner_without_database(root: Path, parallel: int) -> float:
    """Wall seconds of the same run with records kept in memory (what the database costs)."""
    project = load_project(root)
    plan, _ = plan_run(project, "bench", None)
    runner = Runner(project, MemoryRecords(), parallel=parallel)
    started = time.perf_counter()
    runner.run(plan)
    return time.perf_counter() - started


def time_xargs(commands: list[str], parallel: int, log_dir: Path | None = None) -> float:
    """Wall seconds of ``xargs -P parallel -I{} sh -c {}`` over ``commands``.

    With ``log_dir`` (created here), each command's output goes to a new file in it.
    """
    if log_dir is not None:
        log_dir.mkdir()
        commands = [f"{command} > {log_dir}/{n}.log 2>&1" for n, command in enumerate(commands)]
    started = time.perf_counter()
    subprocess.run(
        ["xargs", "-P", str(parallel), "-I{}", "sh", "-c", "{}"],
        input="\n".join(commands) + "\n",
        text=True,
        check=True,
    )
    return time.perf_counter() - started


def main() -> None:
    """Parse options, time both sides, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=10)
    parser.add_argument("--width", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--command", default="true")
    args = parser.parse_args()
    jobs = args.layers * args.width
    runner_times, xargs_times, memory_times, logged_times = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="sameday-bench-") as folder:
        root = Path(folder)
        write_project(root, args.layers, args.width, args.command)
        commands = [args.command] * jobs
        for n in range(args.repeat):
            xargs_times.append(time_xargs(commands, args.parallel))
            runner_times.append(time_runner(root, args.parallel))
            memory_times.append(time_runner_without_database(root, args.parallel))
            logged_times.append(time_xargs(commands, args.parallel, root / f"xargs-logs-{n}"))
    best_runner, best_xargs = min(runner_times), min(xargs_times)
    print(
        f"{jobs} jobs ({args.layers} layers of {args.width}), --parallel {args.parallel}, "
        f"best of {args.repeat}"
    )
    print(f"xargs -P {args.parallel}:  {best_xargs:.3f} s  ({best_xargs / jobs * 1000:.2f} ms/job)")
    print(f"sameday runner: {best_runner:.3f} s  ({best_runner / jobs * 1000:.2f} ms/job)")
    best_memory, best_logged = min(memory_times), min(logged_times)
    print(f"same, records in memory: {best_memory:.3f} s  ({best_memory / best_xargs:.2f}x)")
    print(
        f"xargs, a new log file per job: {best_logged:.3f} s  "
        f"(runner / this: {best_runner / best_logged:.2f}x)"
    )
    print(f"ratio: {best_runner / best_xargs:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
