"""``ReadBatcher``: the store reads of concurrent HTTP requests, coalesced into one round trip.

Why: with a networked store (Redis), a server that reads synchronously in its event loop waits
one round trip per request, and nothing else runs meanwhile; on a busy machine that round trip
(two context switches, the store's own turn on the CPU) costs more than the rest of the request.
Here each request hands its first read (``Prepared.first_read``) to the batcher and awaits it;
the batcher sends every read waiting at that moment in one ``store.get_reads`` call, on a worker
thread, so the event loop keeps parsing and answering requests meanwhile. One batch is in flight
at a time: the reads that arrive during it form the next one, so batches grow with the load and
an idle server still answers a lone request after a single round trip.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress

from sameday.errors import NotFound, StoreUnavailable
from sameday.serve.engine import Engine, Prepared, Recommendation
from sameday.store.base import Item, Read, ServingStore

Answer = list[Item] | NotFound | StoreUnavailable
"""What ``store.get_reads`` gives for one read."""

_Waiting = list[tuple[Read, "asyncio.Future[Answer]"]]


class ReadBatcher:
    """Coalesces reads for one event loop; see the module docstring."""

    def __init__(self, store: ServingStore) -> None:
        self.store = store
        self._waiting: _Waiting = []
        self._busy = False
        self._closed = False
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="sameday-reads")
        self.batches = 0
        """Batches sent (``/metrics``: reads per batch = ``reads / batches``)."""
        self.reads = 0
        """Reads sent, over all batches."""

    async def read(self, read: Read) -> Answer:
        """The answer to ``read``, from the next batch sent."""
        if self._closed:
            return self._shut()
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Answer] = loop.create_future()
        self._waiting.append((read, answer))
        if not self._busy:
            self._busy = True
            loop.call_soon(self._send, loop)  # after the requests already in this loop turn
        return await answer

    def _send(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._waiting = self._waiting, []
        if not batch or self._closed:
            self._busy = False
            for _, answer in batch:  # arrived while the server was shutting down
                if not answer.done():
                    answer.set_result(self._shut())
            return
        self.batches += 1
        self.reads += len(batch)
        job = self._pool.submit(self.store.get_reads, [read for read, _ in batch])
        job.add_done_callback(lambda done: self._completed(loop, batch, done))

    def _completed(
        self, loop: asyncio.AbstractEventLoop, batch: _Waiting, done: Future[list[Answer]]
    ) -> None:
        """On the worker thread: hand the answers to the event loop, unless it has gone."""
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
            answers = [failed] * len(batch)
        for (_, answer), value in zip(batch, answers, strict=True):
            if not answer.done():  # the request may have been cancelled (client gone)
                answer.set_result(value)
        self._send(loop)  # the reads that arrived meanwhile

    def _shut(self) -> StoreUnavailable:
        return StoreUnavailable(f"the reads of {self.store!r} are closed (shutting down)")

    def close(self) -> None:
        """Stop the worker thread once the batch in flight, if any, is done; later reads are
        answered ``StoreUnavailable`` at once."""
        self._closed = True
        self._pool.shutdown(wait=False)


async def served(engine: Engine, prepared: Prepared, batcher: ReadBatcher | None) -> Recommendation:
    """``engine.finish(prepared)``, its first store read coalesced through ``batcher`` if any."""
    first = None
    if batcher is not None and (read := prepared.first_read) is not None:
        first = await batcher.read(read)
    return engine.finish(prepared, first)
