"""Publishing a pipeline job's output: the publisher the local runner is given.

The runner (``sameday.pipeline``) knows nothing of result sets: when a job declares an output
that names one, it calls the publisher it was handed with ``(result_set, file, run_id)``. This
module builds that publisher for a project, so every caller that runs pipelines (the CLI, a
backfill, a test) publishes the same way and the snapshot records the run that produced it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sameday.config.loader import Project

JobPublisher = Callable[[str, Path, str], None]
"""``(result_set, source file, run_id) -> None``; raising fails the job."""


def job_publisher(project: Project) -> JobPublisher:
    """A publisher of ``project``'s result sets, importing the publishing machinery (DuckDB,
    pyarrow) only when a job actually publishes."""

    def publish(result_set: str, source: Path, run_id: str) -> None:
        from sameday.results.publish import publish as publish_result

        publish_result(project, result_set, source=source, run_id=run_id)

    return publish
