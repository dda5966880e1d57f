"""Publishing a pipeline job's output: the publisher the local runner is given.

The runner (``sameday.pipeline``) knows nothing of result sets: when a job declares an output
that names one, it calls the publisher it was handed with ``(result_set, file, run_id)``. This
module builds that publisher for a project, so every caller that runs pipelines (the CLI, a
backfill, a test) publishes the same way and the snapshot records the run that produced it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Protocol

from sameday.config.loader import Project


class JobPublisher(Protocol):
    """Publishes a job's output as a snapshot; raising fails the job."""

    def __call__(
        self, result_set: str, source: Path, run_id: str, folder: Path | None = None
    ) -> None:
        """``folder`` is the isolated job's folder (``sameday run --isolated``), which the
        publication sees as the project's; ``None`` is the project itself."""


def job_publisher(project: Project) -> JobPublisher:
    """A publisher of ``project``'s result sets, importing the publishing machinery (DuckDB,
    pyarrow) only when a job actually publishes."""

    def publish(result_set: str, source: Path, run_id: str, folder: Path | None = None) -> None:
        from sameday.results.publish import publish as publish_result

        seen = project if folder is None else publishing_project(project, folder)
        publish_result(seen, result_set, source=source, run_id=run_id)

    return publish


def publishing_project(project: Project, folder: Path) -> Project:
    """The project as a publication from an isolated job's ``folder`` sees it: files from the
    folder, storage from the project (relative SQLite paths and ``.sameday/`` of the project)."""
    storage = project.settings.storage
    absolute = {
        "metadata": project.url(storage.metadata),
        "serving": project.url(storage.serving),
        "events": project.url(storage.events),
        "artifacts": _absolute_folder(project, storage.artifacts),
    }
    settings = project.settings.model_copy(update={"storage": storage.model_copy(update=absolute)})
    state = project.root / ".sameday"
    state.mkdir(exist_ok=True)
    link = folder / ".sameday"
    if not link.exists():
        link.symlink_to(state, target_is_directory=True)  # publish locks live there
    return dataclasses.replace(project, root=folder, settings=settings)


def _absolute_folder(project: Project, value: str) -> str:
    return value if "://" in value else str(project.path(value))
