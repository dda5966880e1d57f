"""The runner's monitoring hooks: dataset observations and OpenLineage events of each run.

:func:`observing` wraps a runner's observer so that, besides passing every event on, it tells
:class:`sameday.monitor.run_hooks.RunHooks` when the run starts and ends and when each job starts
its first attempt and ends for good. Everything it calls runs on the runner's own thread (the
events it reacts to are emitted there), so the metadata store is used from one thread only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sameday.config.loader import Project
from sameday.pipeline.run_events import JobChanged, Observer, RunEvent, RunFinished, RunStarted

if TYPE_CHECKING:
    from sameday.metadata.store import MetadataStore

_FINAL = ("succeeded", "failed", "timed_out", "cancelled")


def observing(
    project: Project, metadata: MetadataStore, observer: Observer | None
) -> Observer | None:
    """``observer`` with the project's monitoring hooks in front (``observer`` itself when
    the project declares no dataset and lineage is off)."""
    from sameday.monitor.run_hooks import run_hooks

    hooks = run_hooks(project, metadata)
    if hooks is None:
        return observer

    def observe(event: RunEvent) -> None:
        if isinstance(event, RunStarted):
            run = metadata.get_run(event.run_id)
            hooks.run_started(run.id, project.pipelines[event.pipeline], run.params)
        elif isinstance(event, JobChanged) and event.state == "running" and event.attempt == 1:
            hooks.job_started(event.job)
        elif isinstance(event, JobChanged) and event.state in _FINAL:
            hooks.job_finished(event.job, event.state, event.detail)
        elif isinstance(event, RunFinished):
            hooks.run_finished(event.status, event.message)
        if observer is not None:
            observer(event)

    return observe
