"""Attempt records of one run, queued by the scheduler and written in batches.

A metadata transaction costs more than starting a no-op job, so the scheduler never makes a
free slot wait for one: it queues each record here, starts what is ready, and writes only while
it would otherwise sleep, and once more before the run's end is recorded. A write sends
everything queued in one ``MetadataStore.record_attempts`` transaction, and happens once the
oldest queued record is ``interval`` seconds old (:attr:`Journal.due_at`), not at every idle
moment: between no-op jobs the scheduler is idle about once per job, and a transaction per idle
moment still cost 0.3 s of a 0.5 s 200-job run on a loaded 2-core machine, where batching by
time costs a few milliseconds. Another process reading the run sees its attempts at most
``interval`` late.

Records are kept as one entry per attempt, keyed by job and attempt number: an attempt that
starts and ends between two writes is written once, already final, and one that ends after its
start was written is updated in place. So a finish can never be written before its start, and
nothing waits for the database to hand out an attempt id. Times are stamped here, when things
happen, so a late write does not move them. Only the scheduler's thread uses a journal, so the
store never sees two threads. (A writer thread was measured and rejected: it competes with the
scheduler for the GIL and made a 200-job run slower, not faster.)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from sameday.metadata.records import AttemptEntry, AttemptStatus

WRITE_INTERVAL = 0.2
"""Seconds a queued record may wait for the next batch while the scheduler is idle."""


def _now() -> datetime:
    return datetime.now(UTC)


class AttemptRecorder(Protocol):
    """Where a journal writes: ``MetadataStore`` in a run, a list-backed double in tests."""

    def record_attempts(self, run_id: str, attempts: Sequence[AttemptEntry]) -> None:
        """Insert or update ``attempts`` of run ``run_id`` in one transaction."""


class Journal:
    """Queues the attempt records of run ``run_id`` and writes them to ``metadata`` in batches.

    ``metadata`` needs one method, ``record_attempts(run_id, entries)``, as ``MetadataStore`` has.
    """

    def __init__(
        self, metadata: AttemptRecorder, run_id: str, *, interval: float = WRITE_INTERVAL
    ) -> None:
        self.metadata = metadata
        self.run_id = run_id
        self.interval = interval
        self.due_at: float | None = None
        """``time.monotonic()`` by which the queued records should be written (``None``: none)."""
        self._started: dict[tuple[str, int], AttemptEntry] = {}
        self._queued: dict[tuple[str, int], AttemptEntry] = {}

    def __repr__(self) -> str:
        return f"Journal(run_id={self.run_id!r}, queued={len(self._queued)})"

    def __len__(self) -> int:
        """How many attempts have records waiting to be written."""
        return len(self._queued)

    def start(self, job: str, attempt: int, log_path: str) -> None:
        """Queue the record of attempt ``attempt`` of ``job``, starting now."""
        entry = AttemptEntry(job, attempt, "running", _now(), log_path)
        self._started[(job, attempt)] = entry
        self._queue(entry)

    def finish(
        self,
        job: str,
        attempt: int,
        status: AttemptStatus,
        exit_code: int | None,
        reason: str | None,
    ) -> None:
        """Queue how a started attempt ended, now; it replaces a start not yet written."""
        started = self._started.pop((job, attempt))
        ended = dataclasses.replace(
            started, status=status, exit_code=exit_code, ended_at=_now(), reason=reason
        )
        self._queue(ended)

    def skip(self, job: str, reason: str) -> None:
        """Queue the record of a job that did not run (attempt 1, no log), and why."""
        now = _now()
        self._queue(AttemptEntry(job, 1, "skipped", now, "", ended_at=now, reason=reason))

    def write(self) -> None:
        """Write every queued record in one transaction (nothing when none is queued).

        Records stay queued if the metadata store raises, so a later call can write them.
        """
        if self._queued:
            self.metadata.record_attempts(self.run_id, list(self._queued.values()))
            self._queued.clear()
            self.due_at = None

    def _queue(self, entry: AttemptEntry) -> None:
        """Queue ``entry`` in place of any unwritten one of the same attempt, keeping its turn."""
        self._queued[(entry.job, entry.attempt)] = entry
        if self.due_at is None:
            self.due_at = time.monotonic() + self.interval
