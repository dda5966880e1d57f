"""``EventWriter``: the serving path hands records over in a deque append; a thread commits them.

The contract, in the order a record lives through it:

1. **Hand-over never blocks.** ``log_exposure`` appends to an in-memory queue (a ``deque``:
   well under a microsecond) and returns. ``log_outcomes`` appends its batch and a
   :class:`Ticket`, and wakes the flusher so the batch is committed at once.
2. **Batches.** One background thread commits what is waiting — when ``batch_size`` records
   are, when ``flush_interval`` has passed, or at once when a ticket is waiting — through the
   sink (exposures, then outcomes; each call atomic). A backlog is taken up to ``max_batch``
   records at a time: fewer, larger transactions catch up faster (a commit has a fixed cost,
   an ``fsync`` on PostgreSQL).
3. **Acknowledgement means durable.** A ticket resolves only after every record queued before it
   was committed, so a record is *acknowledged* when a ticket covering it resolves: the outcome
   batch's own ticket, or one from :meth:`EventWriter.ticket` / :meth:`EventWriter.flush` for
   exposures. Acknowledged records survive the process being killed (SQLite: see its sink).
   Records merely queued are lost if the process dies; that is the price of never blocking.
4. **Sink down.** A failed commit keeps its batch and retries it, backing off from
   ``flush_interval`` to ``retry_max`` seconds, until the sink is back. Tickets of the failed
   batch fail at once (``EventsUnavailable``): the HTTP layer answers 503 and the client resends;
   the sinks skip repeated request and event ids, so the resend and the retry store one copy.
   While the sink is down, ``log_outcomes`` refuses new batches (``EventsUnavailable``, nothing
   queued), so clients keep them and retry instead of filling the buffer.
5. **Bound.** At most ``max_queued`` records wait in memory (default 100,000; an exposure of
   10 items holds about 1.7 KB, so up to ~170 MB), plus the batch being committed.
   Beyond it, **new exposures are dropped** and counted in ``dropped`` — never the older ones, so
   what was queued first is written first and a gap in the log is one contiguous stretch of time
   — and **outcomes are refused** (``EventsUnavailable``): outcomes are never dropped silently.
6. **Invalid records.** An outcome no log can store (a NUL or a lone surrogate in a text field,
   an empty id, a number that is not finite: :func:`~sameday.events.records.outcome_problem`) is
   refused by ``log_outcomes`` before anything is queued (``EventRejected``, naming the field).
   An exposure is never refused, since its list was served: ids the caller chose that no log can
   store are escaped (:func:`~sameday.events.records.storable_exposure`), flagged in
   ``extra["escaped"]``, counted in ``escaped`` and logged. A record a sink still refuses
   (``EventRejected``) is isolated by bisecting its batch (a few dozen commits, not one per record);
   it alone is dropped, counted in ``dropped`` and logged with the reason. Only the ticket of the
   outcome batch it came in fails (``EventRejected``, naming its event ids: resending will not
   help); every other ticket of the batch resolves, since everything else is stored.

Warnings go to the ``sameday.events`` logger, at most one a second (the next one says how many
were held back); the counters count every case. Changes of state are logged once each: the sink
down (a warning) and back, the buffer full (a warning) and with room again.

:meth:`EventWriter.stats` returns the counters the HTTP layer exports to Prometheus.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sameday._closing import Closing
from sameday.errors import EventRejected, EventsUnavailable, StoreUnavailable
from sameday.events.records import Exposure, Outcome, outcome_problem, storable_exposure
from sameday.events.sink import EventSink
from sameday.events.ticket import Ticket

logger = logging.getLogger("sameday.events")


@dataclass(frozen=True)
class WriterStats:
    """A snapshot of an :class:`EventWriter`'s counters (monotonic, except ``queued``).

    Attributes:
        queued: records waiting in memory, the batch being committed included.
        written: records committed (repeats the sink skipped included).
        dropped: exposures dropped because the buffer was full, plus records the sink refused
            or that were still queued when the writer closed.
        rejected: outcomes refused to the caller (buffer full, sink down, writer closed).
        escaped: exposures logged with ids escaped because no log could store them as given.
        failed_flushes: commit attempts that failed.
        last_error: the most recent failure, or ``None`` if there was none.
        sink_down: the last commit attempt failed and the batch is waiting for a retry.
    """

    queued: int
    written: int
    dropped: int
    rejected: int
    failed_flushes: int
    last_error: str | None
    sink_down: bool
    escaped: int = 0


@dataclass
class _Batch:
    exposures: list[Exposure] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    refused: list[tuple[Exposure | Outcome, str]] = field(default_factory=list)

    def size(self) -> int:
        return len(self.exposures) + len(self.outcomes)


class EventWriter(Closing):
    """Batches records to an :class:`EventSink` from a background thread (see the module).

    Args:
        sink: where batches are committed; the writer does not close it.
        batch_size: queued records that trigger a commit without waiting for the interval.
        max_batch: most records per commit.
        flush_interval: seconds between commits of a partial batch; the first retry delay.
        max_queued: most records held in memory (see the module docstring, point 5).
        retry_max: longest pause between retries while the sink is down, in seconds.
    """

    def __init__(
        self,
        sink: EventSink,
        *,
        batch_size: int = 1000,
        max_batch: int = 10_000,
        flush_interval: float = 0.05,
        max_queued: int = 100_000,
        retry_max: float = 2.0,
    ) -> None:
        if not 1 <= batch_size <= max_batch <= max_queued:
            raise ValueError("need 1 <= batch_size <= max_batch <= max_queued")
        if flush_interval <= 0 or retry_max <= 0:
            raise ValueError("flush_interval and retry_max must be positive")
        self.sink = sink
        self._batch_size = batch_size
        self._max_batch = max_batch
        self._interval = flush_interval
        self._max_queued = max_queued
        self._retry_max = retry_max
        self._queue: deque[Exposure | Outcome | Ticket] = deque()
        self._wake = threading.Event()
        self._urgent = False  # a ticket is waiting: commit without waiting for the interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._closed = False
        self._deadline = 0.0
        self._pending = 0
        self._written = 0
        self._dropped = 0
        self._rejected = 0
        self._failures = 0
        self._last_error: str | None = None
        self._sink_down = False
        self._down_since = 0.0
        self._full = False  # the buffer refused records; logged once, until it has room again
        self._escaped = 0
        self._quiet_until = 0.0  # warnings held back until then (flusher thread only)
        self._held = 0
        self._thread = threading.Thread(target=self._run, name="sameday-events", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"EventWriter({self.sink!r}, queued={len(self._queue) + self._pending})"

    def log_exposure(self, exposure: Exposure) -> None:
        """Queue one exposure; never blocks, never raises (beyond the bound it is dropped)."""
        queue = self._queue
        length = len(queue)
        if length < self._max_queued and not self._closed:
            queue.append(exposure)
            if length + 1 == self._batch_size:
                self._wake.set()
        else:
            with self._lock:
                self._dropped += 1
            if not self._full and not self._closed:
                self._buffer_full()

    def _buffer_full(self) -> None:
        """Say once that the buffer is full (the flusher says when it has room again)."""
        self._full = True
        logger.warning(
            "event buffer full (%d records waiting for %r): new exposures are dropped and "
            "outcomes refused with a 503 until the event log catches up",
            self._max_queued,
            self.sink,
        )

    def log_outcomes(self, outcomes: Sequence[Outcome]) -> Ticket:
        """Queue a batch of outcomes for an immediate commit; wait on the ticket to know it is.

        Raises:
            EventRejected: an outcome no log can store (see the module, point 6); nothing was
                queued, and resending it unchanged will not help (answer 400).
            EventsUnavailable: nothing was queued — the buffer is full, the sink is down or the
                writer is closed; the caller should retry later (answer 503).
        """
        for index, outcome in enumerate(outcomes):
            problem = outcome_problem(outcome)
            if problem is not None:
                name, what = problem
                raise EventRejected(
                    f"outcome {index} (event_id {outcome.event_id!r}): {name!r} {what}; "
                    "nothing was queued",
                    field=name,
                    event_ids=(str(outcome.event_id),),
                )
        ticket = Ticket(outcomes)
        if not outcomes:
            ticket._settle(None)
            return ticket
        reason = None
        if self._closed:
            reason = "the event writer is closed"
        elif self._sink_down:
            reason = f"the event log {self.sink!r} is unavailable ({self._last_error})"
        elif len(self._queue) + len(outcomes) > self._max_queued:
            reason = f"the event buffer is full ({self._max_queued} records waiting)"
            if not self._full:
                self._buffer_full()
        if reason is not None:
            with self._lock:
                self._rejected += len(outcomes)
            raise EventsUnavailable(f"{reason}; nothing was queued, retry later")
        self._queue.extend(outcomes)
        self._queue.append(ticket)
        self._urgent = True
        self._wake.set()
        return ticket

    def ticket(self) -> Ticket:
        """A ticket that resolves once everything queued so far is committed."""
        ticket = Ticket()
        if self._closed:
            ticket._settle("the event writer is closed")
        else:
            self._queue.append(ticket)
            self._urgent = True
            self._wake.set()
        return ticket

    def flush(self, timeout: float | None = 5.0) -> None:
        """Block until everything queued so far is committed.

        Raises:
            EventsUnavailable: the sink failed, or ``timeout`` seconds passed first.
        """
        self.ticket().wait(timeout)

    def stats(self) -> WriterStats:
        """The current counters (see :class:`WriterStats`)."""
        with self._lock:
            return WriterStats(
                queued=len(self._queue) + self._pending,
                written=self._written,
                dropped=self._dropped,
                rejected=self._rejected,
                failed_flushes=self._failures,
                last_error=self._last_error,
                sink_down=self._sink_down,
                escaped=self._escaped,
            )

    def close(self, timeout: float = 5.0) -> None:
        """Commit what is queued (retrying for up to ``timeout`` seconds), then stop the thread.

        Raises:
            EventsUnavailable: some records could not be committed in time; they are counted
                in ``dropped`` and lost.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._deadline = time.monotonic() + timeout
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout + 30.0)
        left = sum(1 for item in self._queue if not isinstance(item, Ticket)) + self._pending
        if left:
            with self._lock:
                self._dropped += left
            raise EventsUnavailable(
                f"{left} records could not be written to {self.sink!r} before closing: "
                f"{self._last_error}"
            )

    # The flusher thread.

    def _run(self) -> None:
        batch = _Batch()
        backoff = 0.0
        while not self._closed or (
            (batch.size() or self._queue) and time.monotonic() < self._deadline
        ):
            if backoff and self._closed:
                time.sleep(max(0.0, min(backoff, self._deadline - time.monotonic())))
            elif backoff:
                self._stop.wait(backoff)  # close() cuts the pause short
            elif not (self._closed or self._urgent or len(self._queue) >= self._batch_size):
                self._wake.wait(self._interval)
            self._wake.clear()
            urgent, self._urgent = self._urgent, False
            self._fill(batch)
            if urgent and self._queue:
                self._urgent = True  # the ticket may be further down: keep draining
            self._pending = batch.size()
            try:
                self._commit(self.sink.write_exposures, batch.exposures, batch)
                self._commit(self.sink.write_outcomes, batch.outcomes, batch)
            except StoreUnavailable as exc:
                if not self._sink_down:
                    self._down_since = time.monotonic()
                    logger.warning(
                        "event log %r unavailable (%s): buffering exposures (%d waiting) and "
                        "refusing outcomes with a 503 until it is back",
                        self.sink,
                        exc,
                        len(self._queue) + batch.size(),
                    )
                with self._lock:
                    self._failures += 1
                    self._last_error = str(exc)
                    self._sink_down = True
                for ticket in batch.tickets:
                    ticket._settle(f"the event log could not commit the records: {exc}")
                batch.tickets.clear()
                backoff = min(max(backoff * 2, self._interval), self._retry_max)
                continue
            backoff = 0.0
            if self._sink_down:
                logger.info(
                    "event log %r is back after %.1f s: writing the buffered records",
                    self.sink,
                    time.monotonic() - self._down_since,
                )
            self._sink_down = False
            if self._full and len(self._queue) < self._max_queued:
                self._full = False
                logger.info(
                    "event buffer has room again (%d records waiting); exposures are logged again",
                    len(self._queue),
                )
            refused = {id(record): reason for record, reason in batch.refused}
            for ticket in batch.tickets:
                own = [o for o in ticket.records if id(o) in refused] if refused else []
                ticket._settle(_rejection(own, refused, len(ticket.records)) if own else None)
            batch = _Batch()
            self._pending = 0
        for item in [*batch.tickets, *self._queue]:
            if isinstance(item, Ticket) and not item.done():
                item._settle("the event writer closed before the records were committed")

    def _fill(self, batch: _Batch) -> None:
        """Move up to a batch of records (and the tickets among and right after them)."""
        queue = self._queue
        room = self._max_batch - batch.size()
        while queue and (room > 0 or type(queue[0]) is Ticket):
            item = queue.popleft()
            if type(item) is Exposure:  # the usual record first: one test each
                ids = f"{item.request_id}{item.unit}{item.hash_value}"
                if "\x00" in ids or not ids.isascii():  # rare: then look closer
                    item = self._storable(item)
                batch.exposures.append(item)
                room -= 1
            elif isinstance(item, Ticket):
                batch.tickets.append(item)
            elif isinstance(item, Outcome):
                batch.outcomes.append(item)
                room -= 1
            else:  # an Exposure subclass, or anything logged by mistake (the sink refuses it)
                batch.exposures.append(item)
                room -= 1

    def _storable(self, exposure: Exposure) -> Exposure:
        """``exposure`` with the ids no log can store escaped, counted and logged."""
        storable, escaped = storable_exposure(exposure)
        if escaped:
            with self._lock:
                self._escaped += 1
            self._warn(
                "exposure %r: %s cannot be stored as given (unit %r); logged escaped, "
                "flagged in extra['escaped']",
                storable.request_id,
                " and ".join(escaped),
                exposure.unit,
            )
        return storable

    def _warn(self, message: str, *args: object) -> None:
        """Log a warning, at most one a second; the next one says how many were held back."""
        now = time.monotonic()
        if now < self._quiet_until:
            self._held += 1
            return
        if self._held:
            message += " (%d similar warnings held back)"
            args = (*args, self._held)
        self._held = 0
        self._quiet_until = now + 1.0
        logger.warning(message, *args)

    def _commit(self, write: Callable[[Any], int], records: list[Any], batch: _Batch) -> None:
        """Write ``records``, emptying the list; bisect to isolate and drop records refused.

        ``StoreUnavailable`` propagates with the list still holding every record not known to
        be written (some may be: the sinks skip them when the batch is retried).
        """
        if not records:
            return
        try:
            write(records)
        except StoreUnavailable:
            raise
        except Exception as exc:  # a refused record (or a sink bug): find it, keep the others
            if len(records) > 1:
                middle = len(records) // 2
                self._commit(write, records[:middle], batch)
                del records[:middle]
                self._commit(write, records, batch)
                return
            record = records[0]
            reason = f"{type(exc).__name__}: {exc}"
            batch.refused.append((record, reason))
            with self._lock:
                self._dropped += 1
                self._last_error = reason
            kind, key = (
                ("outcome", record.event_id)
                if isinstance(record, Outcome)
                else ("exposure", getattr(record, "request_id", None))
            )
            self._warn("dropped %s %r: the event log refused it (%s)", kind, key, reason)
        else:
            with self._lock:
                self._written += len(records)
        records.clear()


def _rejection(own: list[Outcome], refused: dict[int, str], total: int) -> EventRejected:
    """The failure of a ticket whose batch held ``own`` outcomes the sink refused."""
    ids = tuple(o.event_id for o in own)
    return EventRejected(
        f"the event log refused {len(own)} of {total} events as invalid "
        f"({refused[id(own[0])]}): event ids {', '.join(map(repr, ids))}; the other "
        f"{total - len(own)} are stored; do not resend the refused ones unchanged",
        event_ids=ids,
    )
