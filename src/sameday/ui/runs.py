"""Pipelines and runs: every pipeline's state, recent runs, and one run's attempts on a time
line with the tail of each attempt's log; resuming a failed run.

A resume is the command a person would type, ``sameday run PIPELINE --resume RUN``, started as
a process of its own: a run lasts minutes or hours, far longer than a request, and must not
die with the dashboard. Its output goes to ``.sameday/ui/resume-RUN.log``; the new run shows
on the runs page as soon as the runner records it.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from sameday.errors import NotFound, PipelineError
from sameday.metadata import AttemptRecord, RunRecord
from sameday.monitor.status import PipelineStatus
from sameday.ui.charts import Bar, timeline
from sameday.ui.morning import pipeline_states
from sameday.ui.state import Dashboard

LIMIT = 100
"""Runs listed on the runs page."""
TAIL_LINES = 40
"""Lines shown of each attempt's log."""
TAIL_BYTES = 16_384
"""Bytes read from the end of a log file for its tail (a log may be gigabytes)."""
RESUMABLE = ("failed", "cancelled")


@dataclass(frozen=True)
class RunsPage:
    """Every declared pipeline's state, and the newest runs (filtered)."""

    pipelines: list[PipelineStatus]
    runs: list[RunRecord]
    pipeline: str | None
    status: str | None


@dataclass(frozen=True)
class Tail:
    """The end of one attempt's log (``lines`` empty and ``missing`` set when it is gone)."""

    attempt: AttemptRecord
    lines: list[str]
    missing: str | None


@dataclass(frozen=True)
class RunPage:
    """One run: its attempts as a time line and a table, their log tails, and what to do."""

    run: RunRecord
    attempts: list[AttemptRecord]
    chart: str
    tails: list[Tail]
    resumable: bool
    declared: bool


def runs_page(dash: Dashboard, pipeline: str | None, status: str | None) -> RunsPage:
    """The runs page: pipelines' states, then the newest runs of one pipeline or all."""
    pipelines = pipeline_states(dash, dash.now())
    runs = dash.meta.find_runs(pipeline=pipeline or None, status=status or None, limit=LIMIT)
    return RunsPage(pipelines, runs, pipeline or None, status or None)


def tail(path: Path, lines: int = TAIL_LINES) -> list[str]:
    """The last ``lines`` lines of a text file, reading at most ``TAIL_BYTES`` of it."""
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - TAIL_BYTES))
        data = handle.read()
    text = data.decode("utf-8", errors="replace").splitlines()
    if size > TAIL_BYTES and text:
        text = text[1:]  # the first line read is probably cut
    return text[-lines:]


def run_page(dash: Dashboard, run_id: str) -> RunPage:
    """One run (an id or a unique prefix).

    Raises:
        NotFound: no such run.
    """
    run = dash.meta.get_run(run_id)
    attempts = dash.meta.attempts(run.id)
    end = run.ended_at or dash.now()
    bars = [
        Bar(
            f"{a.job} #{a.attempt}",
            (a.started_at - run.started_at).total_seconds(),
            ((a.ended_at or end) - run.started_at).total_seconds(),
            a.status,
        )
        for a in attempts
    ]
    tails: list[Tail] = []
    for attempt in attempts:
        if not attempt.log_path:
            continue
        path = dash.project().path(attempt.log_path)
        try:
            tails.append(Tail(attempt, tail(path), None))
        except OSError as exc:
            tails.append(Tail(attempt, [], f"the log file {path} cannot be read: {exc.strerror}"))
    return RunPage(
        run,
        attempts,
        timeline(bars, title=f"Job attempts of run {run.id}"),
        tails,
        run.status in RESUMABLE and run.pipeline in dash.project().pipelines,
        run.pipeline in dash.project().pipelines,
    )


def resume(dash: Dashboard, run_id: str) -> Path:
    """Start ``sameday run PIPELINE --resume RUN`` in its own process; return its log file.

    Raises:
        NotFound: no such run.
        PipelineError: the run did not fail (nothing to resume), or its pipeline is no longer
            declared.
    """
    run = dash.meta.get_run(run_id)
    project = dash.project()
    if run.status not in RESUMABLE:
        raise PipelineError(
            f"run {run.id} {run.status}: only a failed or cancelled run can be resumed",
            pipeline=run.pipeline,
        )
    if run.pipeline not in project.pipelines:
        raise NotFound(
            f"pipeline {run.pipeline!r} of run {run.id} is no longer declared in "
            f"{project.root / 'pipelines'}; it cannot be resumed"
        )
    folder = project.root / ".sameday" / "ui"
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"resume-{run.id}.log"
    command = [
        sys.executable, "-m", "sameday", "run", run.pipeline, "--resume", run.id,
        "--no-progress", "--project", str(project.root),
    ]  # fmt: skip
    with log.open("ab") as output:
        process = subprocess.Popen(
            command,
            cwd=project.root,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C of the dashboard does not stop the run
        )
    threading.Thread(target=process.wait, name=f"resume-{run.id}", daemon=True).start()
    return log
