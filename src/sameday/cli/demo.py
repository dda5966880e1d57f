"""``sameday demo``: the quickstart, end to end, graded against a simulated truth."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # rich is imported where something is drawn: `sameday --help` stays fast
    from rich.console import Console
    from rich.progress import Progress, ProgressColumn, TaskID

    from sameday.demo import DemoResult


class RichObserver:
    """Draws each demo stage as a rich progress row: a bar when its total is known."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None
        self.title = ""

    def stage(self, title: str, total: int | None = None) -> None:
        """Close the current row and open one for ``title``."""
        self._finish()
        self.title = title
        self.task = self.progress.add_task(title, total=total)

    def advance(self, amount: int = 1, detail: str | None = None) -> None:
        """Move the current row on; ``detail`` is shown after its title."""
        if self.task is None:
            return
        description = f"{self.title} [dim]{detail}[/]" if detail else self.title
        self.progress.update(self.task, advance=amount, description=description)

    def _finish(self) -> None:
        if self.task is not None:
            task = self.progress.tasks[-1]
            self.progress.update(self.task, total=task.total or 1, completed=task.total or 1)

    def close(self) -> None:
        """Mark the last stage done."""
        self._finish()


@click.command("demo")
@click.option(
    "--users",
    type=click.IntRange(min=200),
    default=None,
    help="Simulated users; each visits the home feed once (default: 8000; 30000 for who-benefits).",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the whole world.")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the project (new or empty; default: a temporary folder).",
)
@click.option(
    "--click-model",
    type=click.Choice(["pbm", "cascade"]),
    default="pbm",
    show_default=True,
    help="How simulated users scan a list.",
)
@click.option(
    "--drift",
    is_flag=True,
    help="Instead: users' tastes drift daily; a model trained once against one retrained daily "
    "behind the training gate, graded against the exact truth.",
)
@click.option(
    "--incidents",
    is_flag=True,
    help="Instead: days of the quickstart with incidents of known truth, watched by the "
    "metric monitors; prints which were detected, how late, and every false alarm.",
)
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="With --drift or --incidents: the days simulated (default 30, 60 with --incidents).",
)
@click.option(
    "--variant",
    type=click.Choice(["quickstart", "who-benefits"]),
    default="quickstart",
    show_default=True,
    help="who-benefits: an A/B test in a world of heterogeneous tastes, its segment effects "
    "and uplift models graded against the exact truth (docs/uplift.md).",
)
def demo(
    users: int | None,
    seed: int,
    folder: Path | None,
    click_model: str,
    drift: bool,
    incidents: bool,
    days: int | None,
    variant: str,
) -> None:
    """Run the quickstart: pipeline, publish, serve simulated users, A/B and interleaving reports.

    Every step is the real command (`sameday run`, `apply`, `serve`); the users' clicks follow a
    click model whose exact effects are known, so the summary grades each verdict; it ends with
    `sameday status`. Example: `sameday demo --users 3000 --dir /tmp/qs`. With `--drift --days
    30`, the model registry's training gate instead (see docs/models.md). With `--incidents
    --days 60`, the metric monitors against incidents of known truth (docs/monitoring.md).
    """
    if days is not None and not (drift or incidents):
        raise click.UsageError("--days goes with --drift or --incidents")
    if drift and incidents:
        raise click.UsageError("--drift and --incidents are two different demos: give one")
    if incidents:
        from sameday.cli._demo_incidents import incidents_demo

        incidents_demo(users, seed, folder, days or 60)
        return
    if drift:
        _drift(users, seed, folder, days or 30)
        return
    from rich.console import Console
    from rich.progress import Progress

    from sameday.demo import DemoSettings, run_demo

    console = Console()
    if variant == "who-benefits":
        from sameday.cli.uplift import who_benefits_demo

        who_benefits_demo(console, folder, users or 30_000, seed)
        return
    users = users or 8000
    started = time.perf_counter()
    with Progress(*_columns(), console=console) as progress:
        observer = RichObserver(progress)
        result = run_demo(DemoSettings(users, seed, folder, click_model), observer)
        observer.close()
    _summary(console, result, time.perf_counter() - started)
    _status(console, result.folder)


def _status(console: Console, folder: Path) -> None:
    """End as ``sameday status`` would: the health of the project the demo left behind."""
    from datetime import UTC, datetime

    from sameday.cli.status import render
    from sameday.config import load_project
    from sameday.monitor.status import status

    console.print(f"\n$ sameday status --project {folder}")
    render(console, status(load_project(folder), datetime.now(UTC)))


def _summary(console: Console, result: DemoResult, seconds: float) -> None:
    from rich.table import Table

    offline = Table(title=f"Offline metrics at k={result.k} (held-out interactions)")
    names = ("ndcg", "precision", "recall", "map", "mrr", "hit_rate", "coverage")
    offline.add_column("model")
    for name in names:
        offline.add_column(name, justify="right")
    for model, values in result.offline.items():
        offline.add_row(model, *(f"{values[n]:.4f}" for n in names))
    console.print(offline)

    tests = Table(title="Online tests against the truth of the click model")
    for column in ("test", "measure", "units", "measured [interval]", "truth", "verdict", "right?"):
        tests.add_column(column)
    for test in result.tests:
        fmt = _pct if test.is_change else _share
        arm = test.line.split(" — ")[0]
        tests.add_row(
            f"{test.experiment} ({test.design})",
            test.measure,
            f"{test.units:,}",
            f"{fmt(test.estimate)} [{fmt(test.low)}, {fmt(test.high)}]",
            fmt(test.truth),
            arm,
            _GRADES.get(test.grade, "[yellow]inconclusive[/]"),
        )
    console.print(tests)
    for test in result.tests:
        console.print(f"{test.experiment}: {test.line}")
    if result.power is not None:
        p = result.power
        console.print(
            f"To tell {p.pair} apart (alpha 0.05, power 0.8): A/B needs {_users(p.ab_users)} "
            f"users, interleaving {_users(p.interleaving_users)} — {p.ratio:.0f}x fewer.\n"
            f"[dim]({p.basis})[/]"
        )
    for path in result.reports:
        console.print(f"Report: {path}")
    stages = ", ".join(f"{name} {value:.1f}s" for name, value in result.timings.items())
    console.print(
        f"{result.requests:,} requests, {result.clicks:,} clicks; {stages}; "
        f"total {seconds:.1f}s.\nThe project is in {result.folder} (see docs/quickstart.md)."
    )


def _drift(users: int | None, seed: int, folder: Path | None, days: int) -> None:
    """``--drift``: run :mod:`sameday.sim.drift` and print each day against the truth."""
    import dataclasses
    import tempfile

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from sameday.sim.drift import DriftSettings, run_drift

    settings = DriftSettings(days=days, seed=seed)
    if users is not None:
        settings = dataclasses.replace(settings, users=users)
    target = folder or Path(tempfile.mkdtemp(prefix="sameday-drift-")) / "project"
    console = Console()
    table = Table(title="Click-through rate each day, exact under that day's tastes")
    for column in ("day", "trained once", "retrained, gated", "best possible", "gate"):
        table.add_column(column, justify="right")
    with Progress(*_columns(), console=console) as progress:
        task = progress.add_task("simulating days", total=days)
        result = run_drift(settings, target, lambda day: progress.advance(task))
    for day in result.days:
        verdict = "[green]blessed[/]" if day.blessed else "[yellow]refused[/]"
        champion = f"v{day.champion}" if day.blessed else f"v{day.champion} stays"
        table.add_row(
            str(day.day),
            f"{day.ctr_once:.1%}",
            f"{day.ctr_gated:.1%}",
            f"{day.ctr_best:.1%}",
            f"{verdict} {champion}",
        )
    console.print(table)
    first, last = result.days[0], result.days[-1]
    console.print(
        f"Trained once: {first.ctr_once:.1%} on day 1, {last.ctr_once:.1%} on day {last.day}. "
        f"Retrained daily behind the gate: {first.ctr_gated:.1%} -> {last.ctr_gated:.1%} "
        f"(best possible {last.ctr_best:.1%})."
    )
    for line in result.refusals:
        console.print(f"[yellow]{line}[/]")
    console.print(
        f"{result.versions} versions registered, {result.snapshots} snapshots published. "
        f"The project is in {result.folder}: `sameday models history personal-svd`."
    )


def _columns() -> tuple[ProgressColumn, ...]:
    """The progress rows' columns: spinner, stage, bar, count, time."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )


_GRADES = {"right": "[green]right[/]", "wrong": "[red]wrong[/]"}


def _pct(value: float) -> str:
    return f"{value:+.1%}" if math.isfinite(value) else "-"


def _share(value: float) -> str:
    return f"{value:.1%}" if math.isfinite(value) else "-"


def _users(value: float) -> str:
    return f"{math.ceil(value):,}" if math.isfinite(value) else "-"


COMMANDS = [demo]
