"""What every page of the dashboard reads: the project, its metadata store, its reports.

One :class:`Dashboard` lives as long as the server. It keeps the metadata store open (opening
one costs a schema check), and reloads the project files when they change (someone pulled,
or an action edited an experiment), at most once per ``recheck`` seconds: a page never parses
two hundred YAML files. A reload that fails keeps the last good project and says why on every
page until the files are fixed.

Reports read the whole event log of an experiment (DuckDB), and a running test's counts take
three queries of the event log each: with forty tests running, more than a page may take.
Both are computed in the background (:class:`Background`: one thread each, one value at a
time, so a busy machine is not made busier by visitors) and kept a while (reports a minute,
counts half a minute); pages show the newest, saying when it was computed, and what is not
computed yet appears by itself a moment later.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from sameday.config import load_project
from sameday.config.loader import Project
from sameday.errors import ConfigError, NotFound, SamedayError

if TYPE_CHECKING:
    from sameday.analysis.report import Report
    from sameday.events import EventSink
    from sameday.metadata import MetadataStore
    from sameday.monitor.status import ExperimentStatus

log = logging.getLogger("sameday.ui")

FOLDERS = ("pipelines", "results", "surfaces", "experiments", "metrics", "monitors", "notifiers")
"""The project's folders of YAML files (see :mod:`sameday.config.loader`)."""
REPORT_TTL = 60.0
"""Seconds a built report is shown before a visit asks for a fresh one."""
TRAFFIC_TTL = 30.0
"""Seconds a running experiment's counts are shown before a visit asks for fresh ones."""
T = TypeVar("T")


def utc_now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


def fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Every project file's name, size and modification time: changes when any file does."""
    found: list[tuple[str, int, int]] = []
    for folder in (root, *(root / name for name in FOLDERS)):
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.name.endswith((".yaml", ".yml")) and entry.is_file():
                stat = entry.stat()
                found.append((entry.path, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(found))


class Dashboard:
    """The project and the stores one dashboard reads; close it when the server stops."""

    def __init__(
        self,
        root: Path,
        *,
        now: Callable[[], datetime] = utc_now,
        recheck: float = 1.0,
        report_ttl: float = REPORT_TTL,
        traffic_ttl: float = TRAFFIC_TTL,
    ) -> None:
        """Load the project at ``root`` and open its metadata store.

        Raises:
            ConfigError: the project files are invalid (the dashboard needs one good load).
            StoreUnavailable: the metadata database cannot be reached.
        """
        self.root = root
        self.now = now
        self._recheck = recheck
        self._lock = threading.Lock()
        self._project = load_project(root)
        self._seen = fingerprint(root)
        self._checked = time.monotonic()
        self.problem: str | None = None
        """Why the newest files could not be loaded (the pages show the last good ones)."""
        self.meta: MetadataStore = self._project.open_metadata(migrate=True)
        self.reports: Background[Report] = Background(self._report, ttl=report_ttl, thread="report")
        """Each experiment's report, by name."""
        self.traffic: Background[ExperimentStatus] = Background(
            self._traffic, ttl=traffic_ttl, thread="traffic"
        )
        """Each running experiment's exposures, units per arm and sample ratio, by name."""

    def __repr__(self) -> str:
        return f"Dashboard({str(self.root)!r}, {self.meta!r})"

    def project(self) -> Project:
        """The project as its files are now (reloaded when one changed)."""
        with self._lock:
            if time.monotonic() - self._checked >= self._recheck:
                self._checked = time.monotonic()
                seen = fingerprint(self.root)
                if seen != self._seen:
                    self._seen = seen
                    try:
                        self._project = load_project(self.root)
                        self.problem = None
                    except ConfigError as exc:
                        self.problem = (
                            f"the project files have errors; showing the last good load:\n{exc}"
                        )
            return self._project

    def reload(self) -> Project:
        """The project read again now, whatever the files' times say.

        Raises:
            ConfigError: the files do not load (the last good project stays).
        """
        with self._lock:
            project = load_project(self.root)
            self._project, self._seen = project, fingerprint(self.root)
            self._checked, self.problem = time.monotonic(), None
            return project

    def event_sink(self) -> EventSink | None:
        """The event log, or ``None`` when it is a SQLite file that does not exist yet (reading
        must not create it)."""
        project = self.project()
        url = project.url(project.settings.storage.events)
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
            return None
        return project.open_event_sink()

    def _report(self, name: str) -> Report:
        from sameday.analysis.report import build_report

        return build_report(self.project(), name)

    def _traffic(self, name: str) -> ExperimentStatus:
        from sameday.monitor.status import experiment_status

        experiment = self.project().experiments.get(name)
        if experiment is None or experiment.phase != "running":
            raise NotFound(f"experiment {name!r} is not running")
        sink = self.event_sink()
        try:
            return experiment_status(experiment, sink, self.now())
        finally:
            if sink is not None:
                sink.close()

    def close(self) -> None:
        """Stop the background threads and close the metadata store."""
        self.reports.close()
        self.traffic.close()
        self.meta.close()


@dataclass(frozen=True)
class Built(Generic[T]):
    """A value as last computed (or why it could not be), and when."""

    value: T | None
    error: str | None
    at: datetime


class Background(Generic[T]):
    """Values computed on one background thread of their own, one at a time, by name, and kept
    ``ttl`` seconds: a page shows the newest one and never waits for it."""

    def __init__(self, compute: Callable[[str], T], *, ttl: float, thread: str) -> None:
        self._compute = compute
        self._ttl = ttl
        self._built: dict[str, tuple[float, Built[T]]] = {}
        self._pending: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sameday-ui-{thread}")

    def get(self, name: str) -> Built[T] | None:
        """The newest value of ``name`` computed so far, asking for a new one when it is older
        than ``ttl`` (or there is none yet)."""
        with self._lock:
            entry = self._built.get(name)
            fresh = entry is not None and time.monotonic() - entry[0] < self._ttl
            if not fresh and name not in self._pending:
                self._pending[name] = self._pool.submit(self._run, name)
        return entry[1] if entry is not None else None

    def peek(self, name: str) -> Built[T] | None:
        """The newest value of ``name`` computed so far, however old, asking for nothing."""
        with self._lock:
            entry = self._built.get(name)
        return entry[1] if entry is not None else None

    def wait(self, name: str, timeout: float = 30.0) -> Built[T] | None:
        """The value of ``name``, waiting up to ``timeout`` seconds for one being computed."""
        self.get(name)
        with self._lock:
            pending = self._pending.get(name)
        if pending is not None:
            pending.result(timeout)
        with self._lock:
            entry = self._built.get(name)
        return entry[1] if entry is not None else None

    def forget(self, name: str) -> None:
        """Drop the value of ``name`` (what it is computed from changed)."""
        with self._lock:
            self._built.pop(name, None)

    def _run(self, name: str) -> None:
        try:
            built: Built[T] = Built(self._compute(name), None, utc_now())
        except SamedayError as exc:
            built = Built(None, str(exc), utc_now())
        except Exception as exc:  # a bug: said on the page, its traceback in the log
            log.exception("computing %r in the background failed", name)
            built = Built(
                None,
                f"unexpected {type(exc).__name__} (a bug in sameday; the dashboard's log has "
                "the traceback)",
                utc_now(),
            )
        with self._lock:
            self._built[name] = (time.monotonic(), built)
            self._pending.pop(name, None)

    def close(self) -> None:
        """Stop the thread, dropping what has not started."""
        self._pool.shutdown(wait=True, cancel_futures=True)
