"""Commands that run pipelines locally and show their history: run, runs, logs, backfill."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sameday.cli._common import echo_json, json_option, project_option

if TYPE_CHECKING:  # the runner and rich are imported inside commands: `sameday --help` is fast
    from rich.console import Console

    from sameday.pipeline.plan import Plan


def _console() -> Console:
    """A console for tables; off a terminal it is wide, so ids in piped output stay whole."""
    from rich.console import Console

    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=200)


_PARAM = click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set a pipeline parameter (repeatable), e.g. -p ds=2024-05-01.",
)
_PARALLEL = click.option(
    "--parallel",
    type=click.IntRange(1, 256),
    default=None,
    help="Jobs run at once (default: orchestrator.local.parallel).",
)
_PROGRESS = click.option(
    "--progress/--no-progress",
    default=None,
    help="Live table of job states (default: on a terminal).",
)


@click.command("run")
@click.argument("pipeline")
@_PARAM
@_PARALLEL
@click.option("--only", multiple=True, metavar="JOB", help="Run just this job (repeatable).")
@click.option("--from", "from_job", metavar="JOB", help="Run this job and everything after it.")
@click.option("--resume", metavar="RUN_ID", help="Re-run the jobs of RUN_ID that did not succeed.")
@click.option("--dry-run", is_flag=True, help="Print the plan (order, commands) and stop.")
@click.option(
    "--isolated",
    is_flag=True,
    help="Run each job in a fresh folder holding only the project's files and its declared "
    "inputs, as each job runs in its own pod on Argo; outputs are kept in "
    ".sameday/runs/RUN/artifacts/JOB/.",
)
@_PROGRESS
@project_option
def run(
    pipeline: str,
    params: tuple[str, ...],
    parallel: int | None,
    only: tuple[str, ...],
    from_job: str | None,
    resume: str | None,
    dry_run: bool,
    isolated: bool,
    progress: bool | None,
    project_dir: Path | None,
) -> None:
    """Run PIPELINE locally: jobs in dependency order, PARALLEL at a time, with retries.

    Each attempt's output goes to .sameday/runs/RUN/JOB.ATTEMPT.log and to the console as
    "[job] line". Ctrl-C stops every job and exits 130; a failed run exits 1. With --isolated,
    a job that reads a file it does not declare fails here as it would on Argo, and says which.
    """
    from sameday.config import load_project
    from sameday.pipeline.params import parse_assignments
    from sameday.pipeline.progress import ProgressView
    from sameday.pipeline.runner import Runner, cancel_on_signals, plan_run
    from sameday.results.job_output import job_publisher

    project = load_project(project_dir)
    given = parse_assignments(params)
    if dry_run and resume is None:
        plan, _ = plan_run(project, pipeline, None, params=given, only=only, from_job=from_job)
        _print_plan(plan)
        return
    with project.open_metadata(migrate=True) as metadata:
        plan, resumed_from = plan_run(
            project, pipeline, metadata, params=given, only=only, from_job=from_job, resume=resume
        )
        if dry_run:
            _print_plan(plan)
            return
        with ProgressView(_console(), live=progress) as view:
            runner = Runner(
                project,
                metadata,
                parallel=parallel,
                observer=view,
                publisher=job_publisher(project),
                isolated=isolated,
            )
            with cancel_on_signals(runner):
                runner.run(
                    plan, trigger="resume" if resumed_from else "manual", resumed_from=resumed_from
                )


def _print_plan(plan: Plan) -> None:
    params = ", ".join(f"{k}={v}" for k, v in plan.params.items()) or "none"
    click.echo(f"pipeline {plan.pipeline.name}: {len(plan.jobs)} jobs, params: {params}")
    if plan.done:
        click.echo(f"already succeeded (skipped): {', '.join(plan.done)}")
    for index, job in enumerate(plan.jobs, 1):
        after = f" (after {', '.join(job.depends_on)})" if job.depends_on else ""
        extras = []
        if job.retries.limit:
            extras.append(f"retries {job.retries.limit}")
        if job.timeout is not None:
            extras.append(f"timeout {job.timeout:g}s")
        click.echo(f"{index:>3}. {job.name}{after}" + (f" [{', '.join(extras)}]" if extras else ""))
        click.echo(f"     $ {job.command}")
        for output in job.outputs:
            if output.publish:
                click.echo(f"     publishes {output.path} as {output.publish}")
    if plan.on_failure:
        click.echo(f"on failure: $ {plan.on_failure}")


@click.command("runs")
@click.argument("pipeline", required=False)
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@json_option
@project_option
def runs(pipeline: str | None, limit: int, as_json: bool, project_dir: Path | None) -> None:
    """List recent pipeline runs, newest first."""
    from sameday.config import load_project
    from sameday.pipeline.history import list_runs

    records = list_runs(load_project(project_dir), pipeline, limit)
    if as_json:
        echo_json([{**dataclasses.asdict(r), "duration": r.duration} for r in records])
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("id", "pipeline", "status", "trigger", "started", "duration"):
        table.add_column(column)
    for record in records:
        duration = record.duration
        table.add_row(
            record.id,
            record.pipeline,
            _styled(record.status),
            record.trigger,
            _local(record.started_at),
            f"{duration:.1f}s" if duration is not None else "running",
        )
    _console().print(table if records else "no runs yet")


@click.command("logs")
@click.argument("run_id", metavar="RUN")
@click.argument("job", required=False)
@click.option("--attempt", type=click.IntRange(1), default=None, help="Only this attempt.")
@project_option
def logs(run_id: str, job: str | None, attempt: int | None, project_dir: Path | None) -> None:
    """Print the log files of RUN (an id or a unique prefix), or of one JOB in it."""
    from sameday.config import load_project
    from sameday.pipeline.history import run_logs

    for item in run_logs(load_project(project_dir), run_id, job, attempt=attempt):
        click.secho(
            f"==> {item.job} attempt {item.attempt} ({item.status}) {item.log_path} <==", bold=True
        )
        path = Path(item.log_path)
        if path.is_file():
            click.echo(path.read_text(encoding="utf-8", errors="replace"), nl=False)
        else:
            click.secho("(log file is gone)", fg="yellow")


@click.command("backfill")
@click.argument("pipeline")
@click.option("--start", required=True, metavar="DATE", help="First date, YYYY-MM-DD.")
@click.option("--end", required=True, metavar="DATE", help="Last date (included), YYYY-MM-DD.")
@_PARAM
@_PARALLEL
@click.option("--continue-on-failure", is_flag=True, help="Go on with later dates after a failure.")
@_PROGRESS
@project_option
def backfill(
    pipeline: str,
    start: str,
    end: str,
    params: tuple[str, ...],
    parallel: int | None,
    continue_on_failure: bool,
    progress: bool | None,
    project_dir: Path | None,
) -> None:
    """Run PIPELINE once per date from START to END, one run after the other, ds set to each."""
    from sameday.config import load_project
    from sameday.pipeline.backfill import backfill as run_backfill
    from sameday.pipeline.backfill import dates_between
    from sameday.pipeline.params import parse_assignments
    from sameday.pipeline.progress import ProgressView
    from sameday.pipeline.runner import Runner, cancel_on_signals
    from sameday.results.job_output import job_publisher

    project = load_project(project_dir)
    given = parse_assignments(params)
    dates = dates_between(start, end)
    console = _console()
    with (
        project.open_metadata(migrate=True) as metadata,
        ProgressView(console, live=progress) as view,
    ):
        runner = Runner(
            project, metadata, parallel=parallel, observer=view, publisher=job_publisher(project)
        )
        with cancel_on_signals(runner):
            report = run_backfill(
                runner, pipeline, dates, params=given, continue_on_failure=continue_on_failure
            )
    from rich.table import Table

    table = Table(title=f"backfill of {pipeline}", box=None, header_style="bold")
    for column in ("ds", "run", "status"):
        table.add_column(column)
    for item in report.runs:
        table.add_row(item.ds, item.run_id or "", _styled(item.status))
    console.print(table)
    report.raise_for_failures()


@click.command("record-argo-run")
@click.option("--pipeline", required=True, help="The pipeline the workflow runs.")
@click.option("--run-id", required=True, help="The workflow's name ({{workflow.name}}).")
@click.option("--status", required=True, help="{{workflow.status}}: Succeeded, Failed or Error.")
@click.option("--started-at", required=True, help="{{workflow.creationTimestamp}}.")
@click.option("--failures", default="", help="{{workflow.failures}}: the failed nodes, as JSON.")
@click.option("--trigger", default="manual", help="How the run started: manual or schedule.")
@_PARAM
@project_option
def record_argo_run(
    pipeline: str,
    run_id: str,
    status: str,
    started_at: str,
    failures: str,
    trigger: str,
    params: tuple[str, ...],
    project_dir: Path | None,
) -> None:
    """Record an Argo workflow's outcome as a run (the compiled exit handler calls this).

    The run is stored under the workflow's name, so `sameday runs` lists it.
    """
    from sameday.config import load_project
    from sameday.pipeline.argo_runs import record_argo_run as record
    from sameday.pipeline.params import parse_assignments

    project = load_project(project_dir)
    with project.open_metadata(migrate=True) as metadata:
        recorded = record(
            metadata,
            pipeline=pipeline,
            run_id=run_id,
            status=status,
            started_at=started_at,
            failures=failures,
            trigger=trigger,
            params=parse_assignments(params),
        )
    click.echo(f"recorded run {recorded.id}: {recorded.status}")


def _styled(status: str) -> str:
    colour = {
        "succeeded": "green",
        "failed": "red",
        "cancelled": "magenta",
        "running": "cyan",
        "not run": "dim",
    }.get(status, "")
    return f"[{colour}]{status}[/]" if colour else status


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


COMMANDS = [run, runs, logs, backfill, record_argo_run]
