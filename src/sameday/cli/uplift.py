"""``sameday uplift``: who benefits, per unit, and the targeted follow-up test."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sameday.cli._common import echo_json, project_option

if TYPE_CHECKING:  # rich is imported where a table is drawn: `sameday --help` stays fast
    from rich.console import Console


@click.command("uplift")
@click.argument("experiment")
@click.option("--metric", help="The outcome (default: the experiment's first primary metric).")
@click.option("--arm", help="The treatment arm compared with the control (default: the first).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "html"]),
    default="table",
    show_default=True,
    help="table: the terminal view; json: every number; html: a page with the Qini curves.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (html defaults to EXPERIMENT-uplift.html).",
)
@click.option("--folds", type=click.IntRange(min=3), default=3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds folds and models.")
@click.option(
    "--bootstrap",
    type=click.IntRange(min=20),
    default=200,
    show_default=True,
    help="Bootstrap replicates of the curves' intervals.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Threads per model fit (more only on cores nothing else uses).",
)
@click.option("--events", help="Event log to read instead of storage.events.")
@click.option(
    "--phase",
    type=click.IntRange(min=0),
    help="Analyse this phase (its hashing.bucket_version) instead of the current one.",
)
@click.option(
    "--propose",
    is_flag=True,
    help="Also write experiments/EXPERIMENT-targeted.yaml: the arms, served only to the units "
    "the targeting rule selects (a draft, ready for `sameday plan`).",
)
@click.option("--name", help="Name of the proposed experiment (with --propose).")
@project_option
def uplift(
    experiment: str,
    metric: str | None,
    arm: str | None,
    fmt: str,
    output: Path | None,
    folds: int,
    seed: int,
    bootstrap: int,
    threads: int,
    events: str | None,
    phase: int | None,
    propose: bool,
    name: str | None,
    project_dir: Path | None,
) -> None:
    """Fit uplift models on EXPERIMENT's logged dimensions: who benefits from the treatment.

    T-, X- and doubly-robust learners (cross-fitted), graded by Qini and uplift curves and by
    calibration; a shallow policy tree turns them into a targeting rule, valued against treating
    everyone and no one. A/B tests with `dimensions:` only; needs `pip install 'sameday[uplift]'`.

    Example: `sameday uplift home-personal`, then `sameday uplift home-personal --propose` to
    write the targeted follow-up test.
    """
    from sameday.analysis.phases import Selection
    from sameday.analysis.uplift.learners import Settings
    from sameday.analysis.uplift.run import propose as write_proposal
    from sameday.analysis.uplift.run import uplift as run_uplift
    from sameday.config import load_project
    from sameday.reports.uplift import to_data, to_html, to_text

    if name is not None and not propose:
        raise click.UsageError("--name names the proposed experiment: give it with --propose")
    project = load_project(project_dir)
    report = run_uplift(
        project,
        experiment,
        metric=metric,
        arm=arm,
        events_url=events,
        selection=Selection(phase=phase),
        settings=Settings(folds=folds, seed=seed, threads=threads),
        bootstrap=bootstrap,
    )
    proposed = write_proposal(project, report, name=name) if propose else None
    if fmt == "json":
        data = to_data(report)
        if proposed is not None:
            data["proposed"] = {"path": str(proposed[0]), "experiment": proposed[1]}
        if output is None:
            echo_json(data)
        else:
            import orjson

            output.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
            click.echo(f"Wrote {output}", err=True)
        return
    if fmt == "html":
        target = output or Path(f"{experiment}-uplift.html")
        target.write_text(to_html(report), encoding="utf-8")
        click.echo(f"Wrote {target}")
    elif output is None:
        click.echo(to_text(report), nl=False)
    else:
        output.write_text(to_text(report), encoding="utf-8")
        click.echo(f"Wrote {output}", err=True)
    if proposed is not None:
        click.echo(
            f"Proposed {proposed[1]['name']}: {proposed[0]} (targeting: {report.policy.rule}); "
            "check it with `sameday validate` and `sameday plan`"
        )


def who_benefits_demo(console: Console, folder: Path | None, users: int, seed: int) -> None:
    """``sameday demo --variant who-benefits``: run it, then grade it against the truth."""
    from sameday.sim.who_benefits import run_who_benefits

    target = folder or Path(tempfile.mkdtemp(prefix="sameday-who-benefits-")) / "project"
    started = time.perf_counter()
    with console.status("") as status:
        result = run_who_benefits(
            target.resolve(), users=users, seed=seed, on_stage=lambda s: status.update(s)
        )
    from rich.table import Table

    table = Table(title="Segment effects on ctr (sameday report --by) against the exact truth")
    for column in ("segment", "units", "measured lift [corrected interval]", "truth", "called"):
        table.add_column(column)
    table.add_column("truth inside?")
    for s in result.segments:
        table.add_row(
            f"{s.dimension} = {s.value}",
            f"{s.units:,}",
            f"{s.lift:+.1%} [{s.low:+.1%}, {s.high:+.1%}]",
            f"{s.truth:+.1%}",
            f"{s.outcome} ({s.grade})" if s.outcome in ("better", "worse") else s.outcome,
            "yes" if s.covered else "[red]no[/]",
        )
    console.print(table)

    def cells(found: frozenset[tuple[str, str]]) -> str:
        return ", ".join(f"{t}/{a}" for t, a in sorted(found)) or "none"

    verdict = "[green]right[/]" if result.rule_right else "[red]wrong[/]"
    console.print(
        f"Targeting rule (sameday uplift): treat {result.uplift.policy.rule}\n"
        f"  it targets {cells(result.recommended)}; the truth's gainers: "
        f"{cells(result.truth)} — {verdict}"
    )
    q = result.qini
    inside = "[green]inside[/]" if result.qini_within else "[red]outside[/]"
    console.print(
        f"Qini area of the best learner ({result.uplift.best}): {q.point:.4f} "
        f"[{q.low:.4f}, {q.high:.4f}]; of the true uplift: {result.true_qini:.4f} — {inside}"
    )
    stages = ", ".join(f"{name} {value:.1f}s" for name, value in result.timings.items())
    console.print(
        f"Proposed follow-up test: {result.proposal} (plans cleanly: "
        f"{'yes' if not result.plan.refusals else 'no'})\n{result.users:,} users, "
        f"{result.clicks:,} clicks; {stages}; total {time.perf_counter() - started:.1f}s.\n"
        f"The project is in {result.folder} (see docs/uplift.md)."
    )


COMMANDS = [uplift]
