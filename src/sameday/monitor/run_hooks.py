"""What a local run does for monitoring: observe its datasets, and tell OpenLineage.

The runner (``sameday.pipeline``) calls a :class:`RunHooks` at four moments, from its own
thread: run start, job start, job end, run end. At a job's start the datasets it ``reads`` are
observed, and when a job succeeds the datasets it ``writes`` are; a dataset is looked at once a
run for reading (three jobs reading it share one look, and a job reading what another job of the
run wrote shares that write's look). Each observation is recorded in
the metadata store (schema history, rows, nulls, freshness), and START / COMPLETE / FAIL /
ABORT events go to OpenLineage when it is on (:mod:`sameday.monitor.openlineage`).

The hooks never raise into the runner: a dataset that cannot be read is recorded with its error
(the ``dataset.read`` check alerts on it), and an event the lineage endpoint does not take is
kept on disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sameday.config.datasets import Dataset, declared
from sameday.config.pipeline import Pipeline
from sameday.metadata.dataset_records import Observed
from sameday.monitor.observe import observe
from sameday.monitor.openlineage import (
    JobRef,
    LineageEmitter,
    Seen,
    dataset_address,
    lineage_run_id,
    namespace_of,
    nominal_time,
    open_emitter,
)

if TYPE_CHECKING:
    from sameday.config.loader import Project
    from sameday.metadata.store import MetadataStore

_STATES = {"succeeded": "COMPLETE", "failed": "FAIL", "timed_out": "FAIL", "cancelled": "ABORT"}


class RunHooks:
    """Observes the datasets of one run after another and emits their lineage.

    Build it with :func:`run_hooks`; one instance serves every run of a :class:`Runner`.
    """

    def __init__(
        self, project: Project, metadata: MetadataStore, emitter: LineageEmitter | None
    ) -> None:
        self.project = project
        self.metadata = metadata
        self.emitter = emitter
        self.datasets: dict[str, Dataset] = {n: d for n, (_, d) in declared(project).items()}
        self._namespace = namespace_of(project)
        self._pipeline: Pipeline | None = None
        self._run: JobRef | None = None
        self._run_id = ""
        self._nominal = datetime.now(UTC)
        self._seen: dict[str, Observed] = {}

    def __repr__(self) -> str:
        return f"RunHooks(datasets={len(self.datasets)}, lineage={self.emitter!r})"

    def run_started(self, run_id: str, pipeline: Pipeline, params: Mapping[str, Any]) -> None:
        """A run of ``pipeline`` began (recorded as ``run_id``)."""
        now = datetime.now(UTC)
        timezone = pipeline.schedule.timezone if pipeline.schedule else "UTC"
        self._pipeline, self._run_id, self._seen = pipeline, run_id, {}
        self._nominal = nominal_time(params, now, timezone)
        self._run = JobRef(
            self._namespace, pipeline.name, lineage_run_id(self.project.name, run_id)
        )
        self._emit("START", self._run, description=pipeline.description or None)

    def job_started(self, name: str) -> None:
        """Job ``name`` starts its first attempt: observe what it reads, say it started."""
        job = self._job(name)
        if job is None:
            return
        inputs = [self._look(dataset, name, "read") for dataset in job.reads]
        outputs = [self._seen_as(dataset, None) for dataset in job.writes]
        self._emit(
            "START",
            self._job_ref(name),
            parent=self._run,
            inputs=inputs,
            outputs=outputs,
            description=job.description or None,
        )

    def job_finished(self, name: str, status: str, detail: str | None = None) -> None:
        """Job ``name`` ended for good with ``status``; a success observes what it wrote."""
        job = self._job(name)
        if job is None or status not in _STATES:
            return
        if status == "succeeded":
            outputs = [self._look(dataset, name, "write") for dataset in job.writes]
        else:
            outputs = [self._seen_as(dataset, None) for dataset in job.writes]
        inputs = [self._seen_as(dataset, self._seen.get(dataset)) for dataset in job.reads]
        self._emit(
            _STATES[status],
            self._job_ref(name),
            parent=self._run,
            inputs=inputs,
            outputs=outputs,
            error=detail if status != "succeeded" else None,
        )

    def run_finished(self, status: str, message: str) -> None:
        """The run ended with ``status``; release the emitter's connections till the next."""
        if self._run is not None:
            self._emit(
                _STATES.get(status, "FAIL"),
                self._run,
                error=message if status != "succeeded" else None,
            )
        self._run = None
        if self.emitter is not None:
            self.emitter.close()

    def _job(self, name: str) -> Any:
        pipeline = self._pipeline
        if pipeline is None:
            return None
        try:
            return pipeline.job(name)
        except KeyError:  # the on_failure hook runs as a job of no pipeline
            return None

    def _job_ref(self, name: str) -> JobRef:
        assert self._pipeline is not None
        return JobRef(
            self._namespace,
            f"{self._pipeline.name}.{name}",
            lineage_run_id(self.project.name, self._run_id, name),
        )

    def _look(self, name: str, job: str, role: str) -> Seen:
        """Observe and record dataset ``name`` (a read reuses this run's earlier look)."""
        dataset = self.datasets[name]
        if role == "read" and name in self._seen:
            return self._seen_as(name, self._seen[name])
        observed = observe(dataset, self.project.root)
        self.metadata.record_observation(name, observed, run_id=self._run_id, job=job, role=role)
        self._seen[name] = observed
        return self._seen_as(name, observed)

    def _seen_as(self, name: str, observed: Observed | None) -> Seen:
        dataset = self.datasets[name]
        return Seen(dataset_address(dataset, self.project.root), dataset, observed)

    def _emit(self, state: str, job: JobRef, **details: Any) -> None:
        if self.emitter is None:
            return
        self.emitter.send(state, job, when=datetime.now(UTC), nominal=self._nominal, **details)


def run_hooks(project: Project, metadata: MetadataStore) -> RunHooks | None:
    """The hooks a runner of ``project`` calls, or ``None`` when there is nothing to do (no
    dataset declared and lineage off), so a plain run pays nothing.

    Raises:
        MissingDependency: ``lineage.enabled: true`` without the lineage extra installed.
    """
    emitter = open_emitter(project)
    if emitter is None and not declared(project):
        return None
    return RunHooks(project, metadata, emitter)
