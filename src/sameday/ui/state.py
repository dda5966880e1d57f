"""What every page of the dashboard reads: the project, its metadata store, its reports.

One :class:`Dashboard` lives as long as the server. It keeps the metadata store open (opening
one costs a schema check), and reloads the project files when they change (someone pulled,
or an action edited an experiment), at most once per ``recheck`` seconds: a page never parses
two hundred YAML files. A reload that fails keeps the last good project and says why on every
page until the files are fixed.

Reports read the whole event log of an experiment (DuckDB), which takes longer than a page
may: :class:`ReportCache` builds them on one background thread, one at a time (a busy machine
is not made busier by visitors), and pages show the newest one built, saying when it was.
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
from typing import TYPE_CHECKING

from sameday.config import load_project
from sameday.config.loader import Project
from sameday.errors import ConfigError, SamedayError

if TYPE_CHECKING:
    from sameday.analysis.report import Report
    from sameday.events import EventSink
    from sameday.metadata import MetadataStore

log = logging.getLogger("sameday.ui")

FOLDERS = ("pipelines", "results", "surfaces", "experiments", "metrics", "monitors", "notifiers")
"""The project's folders of YAML files (see :mod:`sameday.config.loader`)."""
REPORT_TTL = 60.0
"""Seconds a built report is shown before a visit asks for a fresh one."""


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
        self.reports = ReportCache(self, ttl=report_ttl)

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

    def close(self) -> None:
        """Stop building reports and close the metadata store."""
        self.reports.close()
        self.meta.close()


@dataclass(frozen=True)
class Built:
    """A report as last built (or why it could not be), and when."""

    report: Report | None
    error: str | None
    at: datetime


class ReportCache:
    """Experiment reports built in the background, one at a time, kept ``ttl`` seconds."""

    def __init__(self, dashboard: Dashboard, *, ttl: float) -> None:
        self._dashboard = dashboard
        self._ttl = ttl
        self._built: dict[str, tuple[float, Built]] = {}
        self._pending: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sameday-ui-report")

    def get(self, name: str) -> Built | None:
        """The newest report of experiment ``name`` built so far, asking for a new one when
        it is older than the cache's ``ttl`` (or there is none yet)."""
        with self._lock:
            entry = self._built.get(name)
            fresh = entry is not None and time.monotonic() - entry[0] < self._ttl
            if not fresh and name not in self._pending:
                self._pending[name] = self._pool.submit(self._build, name)
        return entry[1] if entry is not None else None

    def wait(self, name: str, timeout: float = 30.0) -> Built | None:
        """The report of ``name``, waiting up to ``timeout`` seconds for one being built."""
        self.get(name)
        with self._lock:
            pending = self._pending.get(name)
        if pending is not None:
            pending.result(timeout)
        with self._lock:
            entry = self._built.get(name)
        return entry[1] if entry is not None else None

    def forget(self, name: str) -> None:
        """Drop the report of ``name`` (its experiment changed): the next visit rebuilds it."""
        with self._lock:
            self._built.pop(name, None)

    def _build(self, name: str) -> None:
        from sameday.analysis.report import build_report

        try:
            built = Built(build_report(self._dashboard.project(), name), None, utc_now())
        except SamedayError as exc:
            built = Built(None, str(exc), utc_now())
        except Exception as exc:  # a bug: said on the page, its traceback in the log
            log.exception("building the report of %r failed", name)
            built = Built(
                None,
                f"unexpected {type(exc).__name__} while building the report (a bug in sameday; "
                "the server log has the traceback)",
                utc_now(),
            )
        with self._lock:
            self._built[name] = (time.monotonic(), built)
            self._pending.pop(name, None)

    def close(self) -> None:
        """Stop the builder thread, dropping reports not yet started."""
        self._pool.shutdown(wait=True, cancel_futures=True)
