"""``ReadBatcher``: every store read of the HTTP server, off the event loop, batched, on a deadline.

Why off the loop: a store call on the event loop stops every request of the server while it
waits; a stalled store (a Redis server stopped, not dead) would hold each request for the
client's whole socket timeout, ``/healthz`` included. Here each request hands its reads
(``Prepared.first_reads``, then the fallbacks ``Engine.finish`` asks for) to the batcher and
awaits them; the batcher sends every read waiting at that moment in one ``store.get_reads`` call,
on a worker thread, so the event loop keeps parsing and answering requests meanwhile. One batch
is in flight at a time: the reads that arrive during it form the next one, so batches grow with
the load and an idle server still answers a lone request after a single round trip (with a
networked store, one round trip per batch instead of one per request).

Why a deadline: a request waits at most ``deadline`` seconds for its reads (all of them, both
rounds; a call of the batch endpoint, one deadline per ``UNITS_PER_DEADLINE`` units); a read not
answered by then is answered ``StoreUnavailable`` and the engine serves the last-known-good
lists, flagged ``degraded``. Once every request of the batch in flight has given up on it, the
store is taken as stalled: new reads are answered at once, without waiting, until that batch
comes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress

from sameday.errors import StoreUnavailable
from sameday.serve.engine import Engine, Prepared, Recommendation, answered
from sameday.serve.held import from_memory
from sameday.store.base import Answer, Read, ServingStore

READ_DEADLINE = 0.1
"""Seconds a request waits for the store by default (``serve.read_deadline``): well under the
latency a product allows a list, far above a healthy read (tens of microseconds to a few
milliseconds)."""

UNITS_PER_DEADLINE = 100
"""A call of the batch endpoint waits one deadline per this many units (1,000 units: ten):
its reads are one pipelined round trip, but a long one, and an e-mail job would rather wait
than get everyone the fallback list."""

_Waiting = list[tuple[Sequence[Read], "asyncio.Future[list[Answer]]", float]]


class ReadBatcher:
    """Coalesces reads for one event loop; see the module docstring.

    Args:
        store: the store to read.
        deadline: seconds a request waits for its reads before it is served degraded.
    """

    def __init__(self, store: ServingStore, *, deadline: float = READ_DEADLINE) -> None:
        if deadline <= 0:
            raise ValueError(f"the read deadline must be positive, got {deadline}")
        self.store = store
        self.deadline = deadline
        self._waiting: _Waiting = []
        self._in_flight: _Waiting = []
        self._timer: asyncio.TimerHandle | None = None  # one for all requests: see _sweep
        self._busy = False
        self._stall_at: float | None = None  # loop time the batch in flight is late at, if any
        self._closed = False
        self._late = StoreUnavailable(
            f"the serving store {store!r} did not answer within {deadline * 1000:g} ms; "
            "served the last-known-good lists (serve.read_deadline in sameday.yaml sets the wait)"
        )
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="sameday-reads")
        self.batches = 0
        """Batches sent (``/metrics``: reads per batch = ``reads / batches``)."""
        self.reads = 0
        """Reads sent, over all batches."""
        self.late = 0
        """Reads answered ``StoreUnavailable`` because the store missed the deadline."""

    async def read(self, reads: Sequence[Read], until: float | None = None) -> list[Answer]:
        """The answers to ``reads``, from the next batch sent, or ``StoreUnavailable`` for all
        of them at ``until`` (the event loop's clock; default: ``deadline`` from now)."""
        if not reads:
            return []
        if self._closed:
            return [self._shut()] * len(reads)
        loop = asyncio.get_running_loop()
        now = loop.time()
        until = now + self.deadline if until is None else until
        stall_at = self._stall_at
        if until <= now or (stall_at is not None and now > stall_at):
            self.late += len(reads)
            return [self._late] * len(reads)
        answer: asyncio.Future[list[Answer]] = loop.create_future()
        self._waiting.append((reads, answer, until))
        if not self._busy:
            self._busy = True
            loop.call_soon(self._send, loop)  # after the requests already in this loop turn
        if self._timer is None or until < self._timer.when():
            self._arm(loop, until)
        return await answer

    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(when, self._sweep, loop)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        """Answer every request past its deadline, and wake up again at the next deadline.

        One timer for all requests, not one each: a timer per request cost about a tenth of a
        request's CPU (the event loop's heap of timers compares them in Python). Deadlines come
        in order (each is "now plus the deadline"), so the timer rarely moves.
        """
        self._timer = None
        now = loop.time() + 0.001  # a timer may fire a little early (uvloop counts in ms)
        pending = [entry for entry in (*self._in_flight, *self._waiting) if not entry[1].done()]
        for reads, answer, until in pending:
            if until <= now:
                self.late += len(reads)
                answer.set_result([self._late] * len(reads))
        left = [until for _, answer, until in pending if not answer.done()]
        if left:
            self._arm(loop, min(left))

    def _send(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = [entry for entry in self._waiting if not entry[1].done()]
        self._waiting = []
        if not batch or self._closed:
            self._busy = False
            self._stall_at = None
            for reads, answer, _ in batch:  # arrived while the server was shutting down
                answer.set_result([self._shut()] * len(reads))
            return
        flat = [read for reads, _, _ in batch for read in reads]
        self.batches += 1
        self.reads += len(flat)
        self._stall_at = max(until for _, _, until in batch)  # all its requests have given up
        self._in_flight = batch
        job = self._pool.submit(self.store.get_reads, flat)
        job.add_done_callback(lambda done: self._completed(loop, batch, done))

    def _completed(
        self, loop: asyncio.AbstractEventLoop, batch: _Waiting, done: Future[list[Answer]]
    ) -> None:
        """On the worker thread: hand the answers to the event loop, unless it has gone."""
        self._stall_at = None  # the store answered: not stalled, even before the loop delivers
        with suppress(RuntimeError):  # the loop closed (the server stopped) during the batch
            loop.call_soon_threadsafe(self._deliver, loop, batch, done)

    def _deliver(
        self, loop: asyncio.AbstractEventLoop, batch: _Waiting, done: Future[list[Answer]]
    ) -> None:
        error = done.exception()
        answers: list[Answer]
        if error is None:
            answers = done.result()
        else:  # get_reads answers store errors per read; anything else is the store's bug
            failed = StoreUnavailable(f"reading {self.store!r} failed: {error!r}")
            answers = [failed] * sum(len(reads) for reads, _, _ in batch)
        start = 0
        for reads, answer, _ in batch:
            if not answer.done():  # it may have expired, or been cancelled (client gone)
                answer.set_result(answers[start : start + len(reads)])
            start += len(reads)
        self._in_flight = []
        self._send(loop)  # the reads that arrived meanwhile

    def _shut(self) -> StoreUnavailable:
        return StoreUnavailable(f"the reads of {self.store!r} are closed (shutting down)")

    def close(self) -> None:
        """Stop the worker thread once the batch in flight, if any, is done; later reads are
        answered ``StoreUnavailable`` at once."""
        self._closed = True
        self._pool.shutdown(wait=False)


class Rounds:
    """Many prepared requests served in rounds of store reads, the reads of every request in a
    round made at once: the first reads, then (only if some list is short) its fallbacks
    (a batch of units; one request is served the same way by a plain loop, which costs less).
    ``Client.recommend_batch`` reads each round with ``store.get_reads``, the HTTP server with
    the batcher.

    The caller reads :attr:`reads` (``store.get_reads``, or a batcher), hands the answers to
    :meth:`answer`, and repeats until :attr:`done`; :attr:`results` then holds one
    recommendation per request, in order. Before each :meth:`answer`, it scores the requests of
    :attr:`to_score` (``Scoring.score_many``, or its ``async`` twin): their lists are finished
    by the next :meth:`answer`.
    """

    def __init__(self, engine: Engine, prepared: Sequence[Prepared]) -> None:
        self._engine = engine
        self._prepared = prepared
        self._answers: list[dict[str, Answer]] = [{} for _ in prepared]
        self._wanted = {
            index: from_memory(request.cache.held, request.first_reads, self._answers[index])
            for index, request in enumerate(prepared)
        }
        self._served: dict[int, Recommendation] = {}
        self.reads = [read for reads in self._wanted.values() for read in reads]
        """The reads of the next round, in order (possibly none: still call :meth:`answer`)."""
        self.to_score: list[tuple[Prepared, dict[str, Answer]]] = []
        """Requests whose candidates are read and wait for their scorer (``serve.scoring``)."""

    @property
    def done(self) -> bool:
        """Whether every request is served."""
        return not self._wanted

    def answer(self, answers: Sequence[Answer]) -> None:
        """Take the answers to :attr:`reads` and serve every request that needs no more."""
        start = 0
        wanted: dict[int, list[Read]] = {}
        to_score: list[tuple[Prepared, dict[str, Answer]]] = []
        for index, reads in self._wanted.items():
            mine = self._answers[index]
            mine.update(answered(reads, answers[start : start + len(reads)]))
            start += len(reads)
            request = self._prepared[index]
            if request.scoring is not None and request.scored is None:
                to_score.append((request, mine))
                wanted[index] = []  # finished by the next answer, once scored
                continue
            done = self._engine.finish(request, mine)
            while not isinstance(done, Recommendation):  # fallbacks: held ones answered now
                rest = from_memory(request.cache.held, done, mine)
                if rest:
                    wanted[index] = rest
                    break
                done = self._engine.finish(request, mine)
            else:
                self._served[index] = done
        self._wanted = wanted
        self.to_score = to_score
        self.reads = [read for reads in wanted.values() for read in reads]

    @property
    def results(self) -> list[Recommendation]:
        """The recommendations, one per prepared request (once :attr:`done`)."""
        return [self._served[index] for index in range(len(self._prepared))]


async def served(engine: Engine, prepared: Prepared, batcher: ReadBatcher) -> Recommendation:
    """``engine.finish(prepared, ...)`` with every store read made through ``batcher``, all
    within one deadline (as :func:`served_all` serves many)."""
    until = asyncio.get_running_loop().time() + batcher.deadline
    answers: dict[str, Answer] = {}
    reads = prepared.first_reads
    held = prepared.cache.held
    while True:  # at most twice: the first reads, then the fallbacks still needed
        reads = from_memory(held, reads, answers)  # no thread hop for what is held
        if reads:
            answers.update(answered(reads, await batcher.read(reads, until)))
        if prepared.scoring is not None and prepared.scored is None:
            await engine.scoring.score_async(prepared, answers)
        done = engine.finish(prepared, answers)
        if isinstance(done, Recommendation):
            return done
        reads = done


async def served_all(
    engine: Engine, prepared: Sequence[Prepared], batcher: ReadBatcher
) -> list[Recommendation]:
    """Serve many prepared requests (a call of the batch endpoint): each round of reads of all
    of them is one batcher read, and all rounds share one deadline per ``UNITS_PER_DEADLINE``
    units."""
    deadlines = max(1, -(-len(prepared) // UNITS_PER_DEADLINE))  # rounded up
    until = asyncio.get_running_loop().time() + batcher.deadline * deadlines
    rounds = Rounds(engine, prepared)
    while not rounds.done:
        if rounds.to_score:
            await engine.scoring.score_many_async(rounds.to_score)
        rounds.answer(await batcher.read(rounds.reads, until))
    return rounds.results
