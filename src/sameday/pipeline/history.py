"""The pipeline runs a project's metadata database remembers, and their log files.

``sameday runs`` and ``sameday logs`` print what these functions return; each opens the project's
metadata database for the one read and closes it.
"""

from __future__ import annotations

from sameday.config.loader import Project
from sameday.errors import NotFound
from sameday.metadata.records import AttemptRecord, RunRecord


def list_runs(project: Project, pipeline: str | None = None, limit: int = 20) -> list[RunRecord]:
    """The newest ``limit`` runs (of ``pipeline``, or of every pipeline), newest first."""
    with project.open_metadata(migrate=True) as metadata:
        return metadata.list_runs(pipeline=pipeline, limit=limit)


def run_logs(
    project: Project, run_id: str, job: str | None = None, *, attempt: int | None = None
) -> list[AttemptRecord]:
    """The attempts of run ``run_id`` (an id or a unique prefix) that have a log file: of one
    ``job`` and one ``attempt`` (1-based) when given.

    Raises:
        NotFound: no such run, no such job in it (the message lists its jobs), or no log of
            the selected attempts.
    """
    with project.open_metadata(migrate=True) as metadata:
        record = metadata.get_run(run_id)
        attempts = metadata.attempts(record.id, job)
        if job is not None and not attempts:
            known = sorted({a.job for a in metadata.attempts(record.id)})
            raise NotFound(f"run {record.id} has no job {job!r} (jobs: {', '.join(known)})")
    shown = [a for a in attempts if a.log_path and (attempt is None or a.attempt == attempt)]
    if not shown:
        raise NotFound(
            f"no log of run {record.id}"
            + (f" job {job}" if job else "")
            + (f" attempt {attempt}" if attempt else "")
        )
    return shown
