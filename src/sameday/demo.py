"""``sameday demo``: the whole loop on a simulated world whose truth is known.

:func:`run_demo` copies ``examples/quickstart`` to a folder, and there runs the real commands
one after the other — ``sameday run quickstart`` (simulated logs, popularity, ALS and item-kNN,
offline metrics, published snapshots), ``sameday models register`` and ``sameday models gate``
(the recommenders in the model registry: popularity as the champion, then item-kNN and ALS
each through the training gate, on the evaluate job's metrics), ``sameday apply`` (the ``home``
surface, an A/B test of popularity against ALS and an interleaving test of ALS against
item-kNN), ``sameday serve`` —
then sends simulated users through the HTTP API (:mod:`sameday.sim.traffic`), stops the server
(which commits the event log), and builds both reports. Each test's measured effect is set next
to the exact effect of the click model (:mod:`sameday.sim.truth`) and its verdict graded.

The commands run as subprocesses, exactly as a person would type them, so the demo exercises
the command line, the server process and the event log's durability rather than shortcuts.
Progress goes to a :class:`Observer`; the library itself prints nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sameday._extras import extra
from sameday.errors import DemoError
from sameday.sim.quickstart import PowerComparison, TestResult

if TYPE_CHECKING:
    from sameday.sim.traffic import Traffic

PIPELINE = "quickstart"
AB_TEST = "home-als"
INTERLEAVING_TEST = "home-als-vs-knn"
MODEL = "home-feed"
"""The registry's model of the home feed's recommender (see :func:`_register_models`)."""
GATE = ("ndcg >= champion - 0.002", "coverage >= 0.05")
"""The training gate a candidate recommender passes to become the champion."""


class Observer(Protocol):
    """Receives the demo's progress: one stage at a time, with an optional known total."""

    def stage(self, title: str, total: int | None = None) -> None:
        """A new stage begins (the previous one is done)."""

    def advance(self, amount: int = 1, detail: str | None = None) -> None:
        """The current stage moved on by ``amount`` (of its total), optionally saying what."""


@dataclass(frozen=True)
class DemoSettings:
    """What to simulate, and where."""

    users: int = 8000
    seed: int = 7
    folder: Path | None = None
    click_model: str = "pbm"

    def __post_init__(self) -> None:
        if self.users < 200:
            raise DemoError(
                f"--users must be at least 200 for two tests to say anything, got {self.users}"
            )


@dataclass(frozen=True)
class DemoResult:
    """Everything the summary shows; ``timings`` are seconds per stage."""

    folder: Path
    settings: DemoSettings
    k: int
    offline: dict[str, dict[str, float]]
    tests: tuple[TestResult, ...]
    power: PowerComparison | None
    reports: tuple[Path, ...]
    requests: int
    clicks: int
    timings: dict[str, float] = field(default_factory=dict)


def example_folder() -> Path:
    """Where ``examples/quickstart`` is: inside the package when installed, else the checkout.

    Raises:
        DemoError: neither place holds it.
    """
    here = Path(__file__).resolve().parent
    for candidate in (
        here / "_examples" / "quickstart",
        here.parents[1] / "examples" / "quickstart",
    ):
        if (candidate / "sameday.yaml").is_file():
            return candidate
    raise DemoError(
        "the quickstart example is missing: reinstall sameday, or run from a checkout that has "
        "examples/quickstart"
    )


def prepare_folder(folder: Path | None) -> Path:
    """Copy the example into ``folder`` (which must be new or empty), or into a temporary one."""
    if folder is None:
        target = Path(tempfile.mkdtemp(prefix="sameday-demo-")) / "quickstart"
    else:
        target = folder.resolve()
        if target.exists() and any(target.iterdir()):
            raise DemoError(f"{target} is not empty: give a new or empty folder with --dir")
    shutil.copytree(
        example_folder(),
        target,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(".sameday", "data", "out", "reports", "__pycache__"),
    )
    return target


def run_demo(settings: DemoSettings, observer: Observer) -> DemoResult:
    """Run every stage (see the module docstring) and return what the summary shows.

    Raises:
        DemoError: a command failed (its output is in the message), or the server did not start.
        MissingDependency: the ``demo`` extra is not installed (checked before anything runs:
            the training job would otherwise fail a minute in, with a traceback in its log).
    """
    from sameday.sim.quickstart import grade_tests, read_offline

    with extra("demo", "sameday demo (its ALS and item-kNN training job)"):
        import implicit  # noqa: F401
        import threadpoolctl  # noqa: F401

    timings: dict[str, float] = {}
    folder = prepare_folder(settings.folder)
    with _timed(timings, "pipeline"):
        observer.stage("pipeline: generate, train, evaluate, publish", total=5)
        _command(
            ["run", PIPELINE, "-p", f"users={settings.users}", "-p", f"seed={settings.seed}"],
            folder,
            "sameday run",
            on_line=_job_progress(observer),
        )
    with _timed(timings, "models"):
        observer.stage("models: popularity the champion, item-kNN and ALS through the gate")
        _register_models(folder)
    with _timed(timings, "apply"):
        observer.stage("apply: surface home, A/B and interleaving tests")
        _command(["apply"], folder, "sameday apply")
    with _timed(timings, "serve"):
        traffic = _serve_users(folder, settings, observer)
    with _timed(timings, "reports"):
        observer.stage("reports and the truth", total=2)
        tests, power, reports = grade_tests(
            folder, settings.click_model, on_step=lambda: observer.advance()
        )
    k, offline = read_offline(folder)
    return DemoResult(
        folder=folder,
        settings=settings,
        k=k,
        offline=offline,
        tests=tests,
        power=power,
        reports=reports,
        requests=traffic.requests,
        clicks=traffic.clicks,
        timings=timings,
    )


def _register_models(folder: Path) -> None:
    """The pipeline's recommenders in the model registry, as a team keeps them: popularity
    registered as ``MODEL``'s champion, then item-kNN and ALS, in that order, each through the
    training gate (``GATE``) against the champion of the moment, on the offline metrics the
    evaluate job wrote (``out/offline.json``), each tied to the pipeline's run. Each bundle is
    the recommender's lists as item indices (``out/NAME.npy``): files only, versioned and
    verified, not loadable to predict."""
    from sameday.config import load_project

    with load_project(folder).open_metadata() as meta:
        runs = meta.list_runs(PIPELINE, limit=1)
    run = [f"--run-id={runs[0].id}"] if runs else []
    offline = json.loads((folder / "out" / "offline.json").read_text())["models"]
    kept = ("ndcg", "recall", "coverage", "hit_rate")
    first, *candidates = ("popular", "itemknn", "als")
    metrics = [f"--metric={key}={offline[first][key]}" for key in kept]
    _command(["models", "register", MODEL, f"out/{first}.npy", *metrics, *run,
              "--alias=champion"], folder, "sameday models register")  # fmt: skip
    for name in candidates:
        scored = folder / "out" / f"{name}-metrics.json"
        scored.write_text(json.dumps({key: offline[name][key] for key in kept}))
        when = [f"--when={condition}" for condition in GATE]
        _command(["models", "gate", MODEL, f"out/{name}.npy", f"--metrics={scored}", *when, *run],
                 folder, "sameday models gate")  # fmt: skip


def _serve_users(folder: Path, settings: DemoSettings, observer: Observer) -> Traffic:
    import httpx
    import numpy as np

    from sameday.sim.clicks import click_model
    from sameday.sim.traffic import simulate_users
    from sameday.sim.world import load_world

    world = load_world(folder / "data" / "world.npz")
    model = click_model(settings.click_model, 10)
    order = np.random.default_rng(settings.seed + 100).permutation(world.n_users)
    observer.stage("starting sameday serve")
    with _server(folder) as base, httpx.Client(base_url=base, timeout=30.0) as client:
        observer.stage(f"{world.n_users:,} simulated users over HTTP", total=world.n_users)
        traffic = simulate_users(
            client,
            world,
            model,
            order.tolist(),
            seed=settings.seed + 200,
            on_user=lambda: observer.advance(),
        )
        observer.stage("stopping the server: the event log is committed")
    return traffic


@contextmanager
def _server(folder: Path) -> Iterator[str]:
    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = folder / ".sameday" / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*_sameday(), "serve", "--port", str(port), "--project", str(folder)],
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_environment(),
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30.0
            while True:
                if process.poll() is not None:
                    raise DemoError(
                        f"sameday serve exited with {process.returncode}; see {log_path}"
                    )
                try:
                    if httpx.get(f"{base}/readyz", timeout=1.0).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise DemoError(f"sameday serve was not ready within 30 s; see {log_path}")
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _command(
    args: list[str], folder: Path, title: str, *, on_line: Callable[[str], None] | None = None
) -> None:
    """Run ``sameday ARGS`` in ``folder``; raise with its last lines when it fails."""
    process = subprocess.Popen(
        [*_sameday(), *args, "--project", str(folder)],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_environment(),
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if on_line is not None:
            on_line(lines[-1])
    process.stdout.close()
    if process.wait() != 0:
        tail = "\n".join(lines[-20:])
        raise DemoError(f"{title} failed (exit {process.returncode}) in {folder}:\n{tail}")


def _job_progress(observer: Observer) -> Callable[[str], None]:
    def on_line(line: str) -> None:
        if line.startswith(("✓ ", "✗ ")):
            observer.advance(1, line[2:])

    return on_line


def _sameday() -> list[str]:
    return [sys.executable, "-m", "sameday"]


def _environment() -> dict[str, str]:
    """This interpreter's folder first on PATH, so the jobs' ``python`` is the one with sameday."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = time.perf_counter() - started
