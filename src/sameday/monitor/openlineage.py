"""OpenLineage run events of local runs, built and sent with the ``openlineage-python`` client.

A pipeline run is one OpenLineage run of the job ``<pipeline>``; each of its jobs is a run of
the job ``<pipeline>.<job>`` whose ``parent`` facet points at the pipeline's run, so Marquez and
other consumers draw the DAG. Job events carry the datasets the job reads (with ``schema`` and
``dataQualityMetrics``: rows and null counts) and writes (``schema`` and ``outputStatistics``:
rows, bytes, files). Every run carries ``nominalTime``: the ``ds`` parameter's midnight in the
pipeline's timezone when there is one, else the moment the run started.

Run ids are UUIDs derived from sameday's run ids (``uuid5``), so the same run always gets the
same OpenLineage id and a job's parent can be named without remembering anything.

Events go to a file transport (one JSON file an event, under ``lineage.folder``) unless
``lineage.url`` names an HTTP endpoint. An event the endpoint does not take (it is down, or
refuses it) is written to ``<folder>/undelivered/`` instead: lineage is never lost, and a
lineage server that is down never fails a run. The client is imported only here, lazily, and
only when events are enabled (:func:`open_emitter`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sameday._extras import extra
from sameday._version import __version__
from sameday.config.datasets import Dataset, Lineage
from sameday.errors import MissingDependency
from sameday.metadata.dataset_records import Observed

if TYPE_CHECKING:
    from sameday.config.loader import Project

PRODUCER = f"urn:sameday:{__version__}"
"""Who wrote the events (the spec asks for a URI naming the producing software and version)."""
_RUN_IDS = uuid.UUID("7d6c1e0a-5a1f-4c7e-9d43-2b1f0c3e8a11")
"""The uuid5 namespace sameday's run ids are mapped into."""


def lineage_run_id(project: str, run_id: str, job: str | None = None) -> str:
    """The OpenLineage run id (a UUID) of a sameday run, or of one job in it."""
    return str(uuid.uuid5(_RUN_IDS, f"{project}/{run_id}" + (f"/{job}" if job else "")))


def dataset_address(dataset: Dataset, root: Path) -> tuple[str, str]:
    """The OpenLineage (namespace, name) of a dataset, following the spec's naming: files by
    absolute path under ``file``; PostgreSQL tables as ``db.schema.table`` under
    ``postgres://host:port``; DuckDB tables under ``duckdb://<file>``. No password ever shows."""
    if dataset.path is not None:
        path = Path(dataset.path).expanduser()
        return "file", str(path if path.is_absolute() else root / path)
    assert dataset.table is not None and dataset.url is not None
    scheme, _, rest = dataset.url.partition("://")
    if scheme == "duckdb":
        path = Path(rest[1:] if rest.startswith("/") else rest)
        return f"duckdb://{path if path.is_absolute() else root / path}", dataset.table
    parts = urlsplit(dataset.url)
    database = parts.path.lstrip("/") or "postgres"
    table = dataset.table if "." in dataset.table else f"public.{dataset.table}"
    return f"postgres://{parts.hostname or 'localhost'}:{parts.port or 5432}", f"{database}.{table}"


def nominal_time(params: Mapping[str, Any], started: datetime, timezone: str) -> datetime:
    """When the run was meant for: midnight of ``ds`` in ``timezone``, else its start."""
    ds = params.get("ds")
    if isinstance(ds, str):
        try:
            day = date.fromisoformat(ds)
        except ValueError:
            return started
        return datetime.combine(day, time(), tzinfo=ZoneInfo(timezone))
    return started


@dataclass(frozen=True)
class Seen:
    """A dataset as a job event shows it: its address, its model, what was observed (if)."""

    address: tuple[str, str]
    dataset: Dataset
    observed: Observed | None = None


@dataclass(frozen=True)
class JobRef:
    """Who an event is about: a namespace, a job name and the OpenLineage run id."""

    namespace: str
    name: str
    run_id: str


class LineageEmitter:
    """Sends events through the OpenLineage client; keeps those the endpoint did not take.

    Args:
        settings: ``lineage:`` of ``sameday.yaml``.
        folder: the file transport's folder (``lineage.folder`` resolved).
    """

    def __init__(self, settings: Lineage, folder: Path) -> None:
        with extra("lineage", "OpenLineage events (lineage: in sameday.yaml)"):
            from openlineage.client import OpenLineageClient
            from openlineage.client.transport.file import FileConfig, FileTransport
            from openlineage.client.transport.http import (
                ApiKeyTokenProvider,
                HttpConfig,
                HttpTransport,
                TokenProvider,
            )

            from sameday.monitor import _ol_events
        self._events = _ol_events
        self.folder = folder
        self.url = settings.url
        self.delivered = 0
        self.kept = 0
        self.lost = 0
        folder.mkdir(parents=True, exist_ok=True)
        self._file = FileTransport(FileConfig(log_file_path=str(folder / "ol"), debug_mode=True))
        self._undelivered = FileTransport(
            FileConfig(log_file_path=str(folder / "undelivered" / "ol"), debug_mode=True)
        )
        transport: Any = self._file
        if settings.url is not None:
            auth = (
                ApiKeyTokenProvider({"apiKey": settings.api_key})
                if settings.api_key
                else TokenProvider({})
            )
            transport = HttpTransport(
                HttpConfig(
                    url=settings.url,
                    endpoint=settings.endpoint,
                    timeout=settings.timeout,
                    auth=auth,
                    retry={"total": 2, "connect": 2, "read": 1, "backoff_factor": 0.2},
                )
            )
        self._client = OpenLineageClient(transport=transport)

    def __repr__(self) -> str:
        target = self.url or str(self.folder)
        return (
            f"LineageEmitter({target!r}, delivered={self.delivered}, kept={self.kept}, "
            f"lost={self.lost})"
        )

    def send(
        self,
        state: str,
        job: JobRef,
        *,
        when: datetime,
        nominal: datetime,
        parent: JobRef | None = None,
        inputs: Sequence[Seen] = (),
        outputs: Sequence[Seen] = (),
        error: str | None = None,
        description: str | None = None,
    ) -> None:
        """Build a ``RunEvent`` (``state``: START, COMPLETE, FAIL or ABORT) and deliver it.

        ``parent`` names the pipeline's run for a job's event; ``inputs`` carry their schema and
        data-quality metrics, ``outputs`` their schema and output statistics.
        """
        event = self._events.run_event(
            state,
            job,
            when=when,
            nominal=nominal,
            parent=parent,
            inputs=inputs,
            outputs=outputs,
            error=error,
            description=description,
        )
        self._deliver(event)

    def _deliver(self, event: Any) -> None:
        """Send ``event``; if the endpoint fails, write it under ``undelivered/`` instead.

        Never raises: lineage must not fail a run. An event that cannot even be written to
        disk is counted in ``lost``. (Typed ``Any``: naming the client's class here would
        import it before the extra is checked.)
        """
        try:
            self._client.emit(event)
            self.delivered += 1
            return
        except Exception:  # whatever the transport raises, the event must not be lost
            if self.url is None:
                self.lost += 1
                return
        try:
            (self.folder / "undelivered").mkdir(exist_ok=True)
            self._undelivered.emit(event)
            self.kept += 1
        except Exception:  # the disk too: nothing left to try
            self.lost += 1

    def close(self) -> None:
        """Release the transport's connections."""
        self._client.close(timeout=0)


def open_emitter(project: Project) -> LineageEmitter | None:
    """The project's emitter, or ``None`` when lineage is off (``enabled: false``, or unset
    and ``openlineage-python`` is not installed).

    Raises:
        MissingDependency: ``enabled: true`` and the client is not installed.
    """
    settings = project.settings.lineage
    if settings.enabled is False:
        return None
    try:
        return LineageEmitter(settings, project.path(settings.folder))
    except MissingDependency:
        if settings.enabled:
            raise
        return None


def namespace_of(project: Project) -> str:
    """The OpenLineage namespace of the project's jobs."""
    return project.settings.lineage.namespace or project.name
