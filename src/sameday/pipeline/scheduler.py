"""The scheduling loop of one local run: start, wait, record, retry, skip, stop.

The loop runs on the caller's thread and owns every piece of state; it queues attempt records
to a :class:`~sameday.pipeline.journal.Journal` and writes them in batches while it has nothing
else to do (once the oldest is ``Journal.interval`` old), so a free slot never waits for the
database. Worker threads only drive a subprocess (:class:`~sameday.pipeline.process.JobProcess`)
and post an :class:`AttemptEnded` to a queue. The loop sleeps on that queue — never on a polling
timer — until an attempt ends, a retry falls due, the journal's batch is due, the kill deadline
of a cancellation passes, or :meth:`Scheduler.cancel` wakes it.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sameday.config.pipeline import Output
from sameday.errors import ConfigError, MissingDependency
from sameday.metadata.records import AttemptStatus
from sameday.pipeline.dag import downstream
from sameday.pipeline.isolation import Isolation
from sameday.pipeline.journal import Journal
from sameday.pipeline.plan import Plan, PlannedJob
from sameday.pipeline.process import JobProcess, ProcessResult
from sameday.pipeline.run_events import JobChanged, JobOutput, RunEvent


class Publisher(Protocol):
    """Publishes an output that names a result set or a model; raising fails the job.

    ``folder``: with ``--isolated``, the job's folder, which the publication sees as the
    project's (for a catalogue file, say); ``None``: the project itself.
    """

    def __call__(
        self, output: Output, source: Path, run_id: str, folder: Path | None = None
    ) -> None: ...


ON_FAILURE = "on_failure"
"""The job name ``on_failure`` is recorded under (never a valid job name: it has ``_``)."""


@dataclass(frozen=True)
class Settings:
    """What a scheduler needs from its runner."""

    journal: Journal
    root: Path
    log_dir: Path
    parallel: int
    grace: float
    emit: Callable[[RunEvent], None]
    stream: bool
    publisher: Publisher | None
    isolation: Isolation | None = None


@dataclass(frozen=True)
class AttemptEnded:
    """Posted by a worker thread when an attempt is over; ``error`` when it could not run.

    ``retriable`` is false when another attempt would fail the same way: publishing needs an
    extra that is not installed, or the storage settings are wrong.
    """

    job: str
    attempt: int
    result: ProcessResult | None
    error: str | None
    retriable: bool = True


def backoff(job: PlannedJob, attempt: int) -> float:
    """Wait after failed ``attempt`` (1-based): ``delay * factor**(attempt-1)`` capped."""
    settings = job.retries.backoff
    delay = settings.delay * settings.factor ** (attempt - 1)
    return min(delay, settings.max) if settings.max is not None else delay


class Scheduler:
    """Runs the jobs of one plan, as run ``run_id``, on a thread pool of ``parallel`` slots."""

    def __init__(self, settings: Settings, plan: Plan, run_id: str) -> None:
        self.settings = settings
        self.journal = settings.journal
        self.plan = plan
        self.run_id = run_id
        self.base_env = {**os.environ, **plan.env}
        self.jobs = {job.name: job for job in plan.jobs}
        self.status: dict[str, str] = {job.name: "pending" for job in plan.jobs}
        self.waiting_on = {job.name: set(job.depends_on) for job in plan.jobs}
        self.edges = {job.name: list(job.depends_on) for job in plan.jobs}
        self.ready = [job.name for job in plan.jobs if not job.depends_on]
        self.due: dict[str, float] = {}
        self.attempts: dict[str, int] = {}
        self.running: dict[str, JobProcess] = {}
        self.failed: list[str] = []
        self.diagnoses: dict[str, str] = {}
        """Why an isolated job failed, when its folder says more than its exit code."""
        self.hook_status: str | None = None
        self.cancelled = False
        self._halted = False
        self._stopping = False
        self._kill_at: float | None = None
        self._messages: queue.SimpleQueue[AttemptEnded | None] = queue.SimpleQueue()

    def cancel(self) -> None:
        """Stop the run. Safe from a signal handler or any thread (``SimpleQueue.put`` is)."""
        self.cancelled = True
        self._messages.put(None)

    def run(self, pool: ThreadPoolExecutor) -> None:
        """Run every job, then ``on_failure`` if the run failed; leave no process behind."""
        try:
            self._loop(pool)
            if self.failed and not self.cancelled and self.plan.on_failure:
                self._run_on_failure(pool, self.plan.on_failure)
        finally:
            for process in self.running.values():
                process.terminate()
                process.kill()

    def record_skip(self, name: str, reason: str) -> None:
        """Record that ``name`` did not run this time, and why."""
        self.journal.skip(name, reason)
        self.status[name] = "skipped"
        self.settings.emit(JobChanged(name, "skipped", 0, reason))

    def _loop(self, pool: ThreadPoolExecutor) -> None:
        while True:
            self._check_cancel()
            now = time.monotonic()
            for name, at in sorted(self.due.items(), key=lambda item: item[1]):
                if at <= now:
                    del self.due[name]
                    self.ready.insert(0, name)
            while self.ready and len(self.running) < self.settings.parallel and not self._halted:
                self._start(pool, self.ready.pop(0))
            if not self.running and (self._halted or (not self.ready and not self.due)):
                return
            write_at = self.journal.due_at
            if write_at is not None and write_at <= now and self._messages.empty():
                self.journal.write()  # idle: write the batch of records, then look for news again
                continue
            deadlines = [*self.due.values()]
            deadlines += [at for at in (self._kill_at, write_at) if at is not None]
            try:
                ended = self._messages.get(
                    timeout=max(0.0, min(deadlines) - now) if deadlines else None
                )
            except queue.Empty:
                continue
            if ended is not None:
                self._finish(ended)

    def _check_cancel(self) -> None:
        if self.cancelled and not self._stopping:
            self._stopping = True
            self._halt("run was cancelled")
            for process in self.running.values():
                process.terminate()
            self._kill_at = time.monotonic() + self.settings.grace
        elif self._kill_at is not None and time.monotonic() >= self._kill_at:
            for process in self.running.values():
                process.kill()
            self._kill_at = None

    def _start(self, pool: ThreadPoolExecutor, name: str) -> None:
        attempt = self.attempts[name] = self.attempts.get(name, 0) + 1
        job = self.jobs[name]
        env = {
            **os.environ,  # job.env holds the pipeline's shared env: a variable it leaves out
            **job.env,  # (a Secret's, read from here) must not come back from plan.env
            "SAMEDAY_RUN_ID": self.run_id,
            "SAMEDAY_JOB": name,
            "SAMEDAY_ATTEMPT": str(attempt),
        }
        self._launch(pool, job, attempt, env)

    def _launch(
        self, pool: ThreadPoolExecutor, job: PlannedJob, attempt: int, env: dict[str, str]
    ) -> None:
        settings = self.settings
        log_path = settings.log_dir / f"{job.name}.{attempt}.log"
        on_line = self._line_sink(job.name, attempt) if settings.stream else None
        process = JobProcess(
            job.command,
            cwd=settings.root,
            env=env,
            log_path=log_path,
            on_line=on_line,
            grace=settings.grace,
        )
        self.status[job.name] = "running"
        settings.emit(JobChanged(job.name, "running", attempt))
        self.journal.start(job.name, attempt, str(log_path))
        pool.submit(self._attempt, job, attempt, process)
        self.running[job.name] = process

    def _attempt(self, job: PlannedJob, attempt: int, process: JobProcess) -> None:
        """Worker thread: run one attempt, publish its outputs, post the outcome."""
        result: ProcessResult | None = None
        error = None
        retriable = True
        isolation = self.settings.isolation
        try:
            if isolation is not None:
                process.cwd = isolation.prepare(job.name, attempt)
            result = process.run(job.timeout)
            succeeded = result.exit_code == 0 and not result.cancelled
            if isolation is not None and succeeded:
                isolation.collect(job.name, process.cwd)
            elif isolation is not None and not result.cancelled and not result.timed_out:
                error = self.diagnoses[job.name] = (
                    f"exit code {result.exit_code}: "
                    + isolation.diagnose(job.name, process.cwd, process.log_path)
                )
            publisher = self.settings.publisher
            if succeeded and publisher is not None:
                for output in job.outputs:
                    if output.publish is None and output.model is None:
                        continue
                    source = process.cwd / Path(output.path).expanduser()
                    if isolation is None:
                        publisher(output, source, self.run_id)
                    else:
                        publisher(output, source, self.run_id, folder=process.cwd)
            if isolation is not None and succeeded:
                isolation.discard(process.cwd)
        except (MissingDependency, ConfigError) as exc:
            error, retriable = f"{type(exc).__name__}: {exc}", False
        except Exception as exc:  # a worker must always report back, whatever went wrong
            error = f"{type(exc).__name__}: {exc}"
            if isolation is not None and job.name not in self.diagnoses:
                self.diagnoses[job.name] = str(exc)
        self._messages.put(AttemptEnded(job.name, attempt, result, error, retriable))

    def _finish(self, ended: AttemptEnded) -> None:
        del self.running[ended.job]
        job = self.jobs[ended.job]
        status, exit_code, reason = _classify(ended, job.timeout)
        self.journal.finish(ended.job, ended.attempt, status, exit_code, reason)
        self.status[ended.job] = status
        emit = self.settings.emit
        if status == "succeeded":
            emit(JobChanged(ended.job, status, ended.attempt))
            for name, deps in self.waiting_on.items():
                if ended.job in deps:
                    deps.discard(ended.job)
                    if not deps and self.status[name] == "pending":
                        self.ready.append(name)
            return
        retry = ended.retriable and status != "cancelled" and not self._halted
        if retry and ended.attempt <= job.retries.limit:
            delay = backoff(job, ended.attempt)
            self.due[ended.job] = time.monotonic() + delay
            self.status[ended.job] = "retrying"
            emit(JobChanged(ended.job, "retrying", ended.attempt, f"{reason}; retry in {delay:g}s"))
            return
        emit(JobChanged(ended.job, status, ended.attempt, reason))
        if status == "cancelled" or ended.job == ON_FAILURE:
            return
        self.failed.append(ended.job)
        if self.plan.pipeline.fail_fast:
            self._halt(f"fail_fast: job {ended.job!r} failed")
        else:
            for name in sorted(downstream(self.edges, [ended.job]) - {ended.job}):
                if self.status[name] == "pending":
                    self.record_skip(name, f"upstream job {ended.job!r} failed")

    def _halt(self, reason: str) -> None:
        """Start nothing more: jobs waiting to start end skipped, those waiting to retry failed."""
        self._halted = True
        for name in list(self.due):
            del self.due[name]
            self.status[name] = "failed"
            self.failed.append(name)
            self.settings.emit(JobChanged(name, "failed", self.attempts[name], reason))
        self.ready.clear()
        for name, status in list(self.status.items()):
            if status == "pending":
                self.record_skip(name, reason)

    def _run_on_failure(self, pool: ThreadPoolExecutor, command: str) -> None:
        defaults = self.plan.pipeline.defaults
        no_retry = defaults.retries.model_copy(update={"limit": 0})
        hook = PlannedJob(ON_FAILURE, command, {}, (), no_retry, defaults.timeout, ())
        env = {
            **self.base_env,
            "SAMEDAY_RUN_ID": self.run_id,
            "SAMEDAY_RUN_STATUS": "failed",
            "SAMEDAY_FAILED_JOBS": ",".join(self.failed),
        }
        self.jobs[ON_FAILURE] = hook
        self._launch(pool, hook, 1, env)
        self._loop(pool)
        self.hook_status = self.status[ON_FAILURE]

    def _line_sink(self, job: str, attempt: int) -> Callable[[str], None]:
        emit = self.settings.emit
        return lambda line: emit(JobOutput(job, attempt, line))


def _classify(
    ended: AttemptEnded, timeout: float | None
) -> tuple[AttemptStatus, int | None, str | None]:
    """An ended attempt's status, exit code and reason, as recorded."""
    result = ended.result
    code = result.exit_code if result is not None else None
    if result is not None and result.cancelled:
        return "cancelled", code, "run was cancelled"
    if ended.error is not None:
        return "failed", code, ended.error
    if result is not None and result.timed_out:
        return "timed_out", code, f"timed out after {timeout:g}s"
    if code == 0:
        return "succeeded", code, None
    return "failed", code, f"exit code {code}"
