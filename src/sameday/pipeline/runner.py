"""The local runner: plan a run, execute it on N slots, record it, and say how it ended.

:func:`plan_run` turns a pipeline name and the command-line choices (parameters, ``--only``,
``--from``, ``--resume``) into a :class:`~sameday.pipeline.plan.Plan`; :meth:`Runner.run` executes
it with :class:`~sameday.pipeline.scheduler.Scheduler` and records the run and every attempt in
the metadata store. Rules, the same as the Argo compiler's:

* a failed or timed-out attempt is retried after ``delay * factor ** (retry - 1)`` seconds,
  capped at ``max``, while retries remain; waiting for a retry does not hold a slot;
* ``fail_fast: true``: after a job fails for good, nothing new starts — no new jobs, no retries.
  Attempts already running finish; jobs that never started are recorded ``skipped``;
* ``fail_fast: false``: only the failed job's downstream jobs are skipped; other branches go on;
* cancellation (Ctrl-C, ``SIGTERM``, :meth:`Runner.cancel`): every running job's process group
  gets ``SIGTERM``, then ``SIGKILL`` after a grace period; running attempts are recorded
  ``cancelled``, unstarted jobs ``skipped``, the run ``cancelled``, and :class:`RunCancelled`
  (exit code 130) is raised;
* ``on_failure`` runs once when the run failed (not when it was cancelled), as job ``on_failure``;
* ``--resume RUN`` re-runs the jobs of RUN that did not succeed, with RUN's parameters; the
  others are recorded ``skipped`` in the new run, which remembers ``resumed_from``.
"""

from __future__ import annotations

import difflib
import signal
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sameday.config.loader import Project
from sameday.config.pipeline import Pipeline
from sameday.errors import NotFound, PipelineError, PipelineFailed, RunCancelled
from sameday.monitor.run import run_after
from sameday.pipeline.hooks import observing
from sameday.pipeline.isolation import Isolation
from sameday.pipeline.journal import Journal
from sameday.pipeline.params import resolve_params
from sameday.pipeline.plan import Plan, build_plan
from sameday.pipeline.process import GRACE
from sameday.pipeline.run_events import Observer, RunEvent, RunFinished, RunStarted
from sameday.pipeline.scheduler import Publisher, Scheduler, Settings

if TYPE_CHECKING:  # SQLAlchemy loads when the caller opens the store, not when this imports
    from sameday.metadata.records import RunRecord
    from sameday.metadata.store import MetadataStore

ARTIFACTS = "artifacts"
"""Folder of a run's logs where ``--isolated`` keeps what its jobs wrote, by job and path."""


@dataclass(frozen=True)
class RunResult:
    """A run that succeeded: its id, each job's final status, where its logs are."""

    run_id: str
    pipeline: str
    status: str
    jobs: dict[str, str]
    log_dir: Path
    duration: float


def find_pipeline(project: Project, name: str) -> Pipeline:
    """The project's pipeline called ``name``.

    Raises:
        NotFound: with the closest name, or the list of pipelines.
    """
    if name in project.pipelines:
        return project.pipelines[name]
    names = sorted(project.pipelines)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"pipelines: {', '.join(names) or 'none'}"
    raise NotFound(f"no pipeline named {name!r} in {project.root}; {hint}")


def succeeded_jobs(metadata: MetadataStore, run: RunRecord) -> set[str]:
    """Jobs that succeeded in ``run``, or in the run it resumed when it skipped them as done."""
    statuses: dict[str, str] = metadata.job_statuses(run.id)
    done = {job for job, status in statuses.items() if status == "succeeded"}
    if run.resumed_from:
        earlier = succeeded_jobs(metadata, metadata.get_run(run.resumed_from))
        done |= {job for job, status in statuses.items() if status == "skipped" and job in earlier}
    return done


def plan_run(
    project: Project,
    pipeline: str,
    metadata: MetadataStore | None,
    *,
    params: Mapping[str, str] | None = None,
    only: Sequence[str] = (),
    from_job: str | None = None,
    resume: str | None = None,
    now: datetime | None = None,
) -> tuple[Plan, str | None]:
    """The plan of a run, and the full id of the run it resumes (or ``None``).

    Args:
        metadata: the open metadata store; needed only to ``resume`` (``None`` plans a new run).
        params: ``-p`` values; with ``resume`` they override the resumed run's parameters.
        resume: id (or unique prefix) of a run whose unsucceeded jobs are run again.
        now: the moment ``ds`` defaults from (tests pin it).

    Raises:
        NotFound: unknown pipeline or run.
        PipelineError: bad parameters or job names, or nothing left to resume.
    """
    model = find_pipeline(project, pipeline)
    given = dict(params or {})
    if resume is None:
        values = resolve_params(model, given, now=now)
        return build_plan(model, values, only=only, from_job=from_job), None
    if only or from_job:
        raise PipelineError(
            "--resume re-runs what did not succeed: it cannot be combined with --only or --from",
            pipeline=pipeline,
        )
    if metadata is None:
        raise PipelineError(
            "--resume reads the earlier run from the metadata store", pipeline=pipeline
        )
    previous = metadata.get_run(resume)
    if previous.pipeline != model.name:
        raise PipelineError(
            f"run {previous.id} is a run of pipeline {previous.pipeline!r}, not "
            f"{model.name!r}: resume it with `sameday run {previous.pipeline} "
            f"--resume {resume}`",
            pipeline=pipeline,
        )
    recorded = [job.name for job in model.jobs if job.name in metadata.job_statuses(previous.id)]
    done = succeeded_jobs(metadata, previous)
    if not set(recorded) - done:
        raise PipelineError(
            f"nothing to resume: every job of run {previous.id} succeeded", pipeline=pipeline
        )
    values = resolve_params(model, {**previous.params, **given}, now=now)
    return build_plan(model, values, only=recorded, done=done), previous.id


class Runner:
    """Executes plans with ``parallel`` slots, recording runs and attempts in a metadata store.

    Args:
        project: the loaded project (root, runs folder, default parallelism).
        metadata: an open ``MetadataStore``; used from the calling thread only.
        parallel: jobs run at once (default: ``orchestrator.local.parallel``).
        observer: receives :mod:`sameday.pipeline.run_events`, one at a time; it must not raise.
        publisher: publishes job outputs that name a result set; raising fails the job.
        stream_output: send every output line to ``observer`` (else logs are only written).
        grace: seconds between ``SIGTERM`` and ``SIGKILL`` when stopping jobs.
        isolated: run each job in a fresh folder holding only the project's files and its
            declared inputs (see :mod:`sameday.pipeline.isolation`), as on Argo.
    """

    def __init__(
        self,
        project: Project,
        metadata: MetadataStore,
        *,
        parallel: int | None = None,
        observer: Observer | None = None,
        publisher: Publisher | None = None,
        stream_output: bool = True,
        grace: float = GRACE,
        isolated: bool = False,
    ) -> None:
        self.project = project
        self.isolated = isolated
        self.metadata = metadata
        self.parallel = max(1, parallel or project.settings.orchestrator.local.parallel)
        self.runs_dir = project.path(project.settings.orchestrator.local.runs_dir)
        self.publisher = publisher
        self.grace = grace
        self.cancelled = False
        self._observer = observing(project, metadata, observer)
        self._stream = stream_output and observer is not None
        self._emit_lock = threading.Lock()
        self._scheduler: Scheduler | None = None

    def __repr__(self) -> str:
        return f"Runner(project={str(self.project.root)!r}, parallel={self.parallel})"

    def cancel(self) -> None:
        """Cancel the current run and any later one. Safe from a signal handler or any thread."""
        self.cancelled = True
        if self._scheduler is not None:
            self._scheduler.cancel()

    def run(
        self, plan: Plan, *, trigger: str = "manual", resumed_from: str | None = None
    ) -> RunResult:
        """Execute ``plan`` as a new run.

        Raises:
            PipelineFailed: a job failed for good (the run is recorded ``failed``).
            RunCancelled: the run was cancelled (recorded ``cancelled``).
        """
        started = time.monotonic()
        name = plan.pipeline.name
        record = self.metadata.create_run(
            name, dict(plan.params), trigger=trigger, resumed_from=resumed_from
        )
        log_dir = self.runs_dir / record.id
        journal = Journal(self.metadata, record.id)
        isolation = None
        if self.isolated:
            earlier = [self.runs_dir / run / ARTIFACTS for run in self._chain(resumed_from)]
            isolation = Isolation(
                self.project, plan.pipeline, log_dir / ARTIFACTS, log_dir / "work", earlier
            )
        settings = Settings(
            journal,
            self.project.root,
            log_dir,
            self.parallel,
            self.grace,
            self._emit,
            self._stream,
            self.publisher,
            isolation,
        )
        scheduler = self._scheduler = Scheduler(settings, plan, record.id)
        try:
            if self.cancelled:
                scheduler.cancel()
            self._emit(
                RunStarted(record.id, name, tuple(j.name for j in plan.jobs), plan.done, log_dir)
            )
            for job in plan.done:
                scheduler.record_skip(job, f"succeeded in run {resumed_from}")
            with ThreadPoolExecutor(self.parallel, thread_name_prefix="sameday-job") as pool:
                scheduler.run(pool)
            journal.write()
        finally:
            self._scheduler = None
            if isolation is not None:
                isolation.close()
        status = (
            "cancelled" if scheduler.cancelled else "failed" if scheduler.failed else "succeeded"
        )
        message = _summary(scheduler, status)
        self.metadata.finish_run(record.id, status, message)
        run_after(self.project, self.metadata, "run", name)  # never raises; logs trouble
        self._emit(RunFinished(record.id, status, tuple(scheduler.failed), message))
        if status == "cancelled":
            raise RunCancelled(message, pipeline=name, run_id=record.id, status=status)
        if status == "failed":
            raise PipelineFailed(message, pipeline=name, run_id=record.id, status=status)
        return RunResult(
            record.id, name, status, dict(scheduler.status), log_dir, time.monotonic() - started
        )

    def _chain(self, run_id: str | None) -> list[str]:
        """``run_id`` and the runs it resumed, newest first."""
        chain: list[str] = []
        while run_id is not None and run_id not in chain:
            chain.append(run_id)
            run_id = self.metadata.get_run(run_id).resumed_from
        return chain

    def _emit(self, event: RunEvent) -> None:
        if self._observer is not None:
            with self._emit_lock:
                self._observer(event)


def _summary(scheduler: Scheduler, status: str) -> str:
    """One line for the run record and the error message: what happened, what to do next."""
    name = scheduler.plan.pipeline.name
    if status == "succeeded":
        return f"pipeline {name!r} succeeded ({len(scheduler.plan.jobs)} jobs run)"
    run_id = scheduler.run_id
    if status == "cancelled":
        return (
            f"pipeline {name!r} was cancelled; rerun what did not succeed with "
            f"`sameday run {name} --resume {run_id}`"
        )
    text = f"pipeline {name!r} failed: {', '.join(scheduler.failed)} failed"
    diagnoses = [scheduler.diagnoses[job] for job in scheduler.failed if job in scheduler.diagnoses]
    if diagnoses:
        text += " (" + "; ".join(diagnoses) + ")"
    skipped = [
        job
        for job, state in scheduler.status.items()
        if state == "skipped" and job not in scheduler.plan.done
    ]
    if skipped:
        text += f"; skipped: {', '.join(skipped)}"
    if scheduler.hook_status not in (None, "succeeded"):
        text += f"; on_failure {scheduler.hook_status}"
    return (
        f"{text}. See `sameday logs {run_id}`; rerun what did not succeed with "
        f"`sameday run {name} --resume {run_id}`"
    )


@contextmanager
def cancel_on_signals(runner: Runner) -> Iterator[None]:
    """While inside, ``SIGINT`` (Ctrl-C) and ``SIGTERM`` cancel ``runner`` instead of Python.

    Only the main thread can own signal handlers; elsewhere this changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, frame: runner.cancel())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
