"""Rank and encode a snapshot a range of keys at a time, in a thread, while the caller loads.

Ranking two million rows (Arrow's sort) takes about as long as loading them into Redis, and both
spend their time outside the GIL (Arrow kernels; socket writes and the server's own work). Done
one after the other they add up; done a range of keys at a time, the store loads one range while
the next is ranked and encoded. Ranges hold whole chunks of ``CHUNK_KEYS`` keys, so the chunks,
and the content hash taken over them, are the same as when everything is ranked at once.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future

import duckdb
import numpy as np
import numpy.typing as npt

from sameday.results.encode import CHUNK_KEYS, ContentHash, EncodedLists
from sameday.results.read import Rows, Unranked
from sameday.store.batch import Batch
from sameday.store.codec import FLAG_PAYLOAD

PIECE_ROWS = 250_000
"""Rows ranked per range: big enough for Arrow's kernels, small enough that the load starts
soon (a 2,000,000-row snapshot is eight ranges)."""
_DONE = object()


def piece_bounds(starts: npt.NDArray[np.int64]) -> list[int]:
    """Key offsets cutting the keys into ranges of whole chunks and about ``PIECE_ROWS`` rows."""
    keys = len(starts) - 1
    bounds = [0]
    while bounds[-1] < keys:
        low = bounds[-1]
        wanted = int(np.searchsorted(starts, starts[low] + PIECE_ROWS, side="left"))
        high = low + max(CHUNK_KEYS, -(-(wanted - low) // CHUNK_KEYS) * CHUNK_KEYS)
        bounds.append(min(high, keys))
    return bounds if keys else [0, 0]


class RankedPieces:
    """Ranks, encodes and hashes ``unranked`` in a thread (:meth:`produce`); the caller iterates
    :meth:`chunks` as they come.

    Args:
        unranked: the rows, grouped by key.
        con: a DuckDB connection of the thread's own (payload columns are encoded with DuckDB);
            :meth:`produce` closes it.

    Attributes:
        rows: resolves to the whole ranked rows once the last range is ranked (for the SQL
            assertions, which may read ``rank``), or to the error that stopped the thread.
        content_hash: resolves to the snapshot's content hash at the same time.
    """

    def __init__(self, unranked: Unranked, con: duckdb.DuckDBPyConnection) -> None:
        self._unranked = unranked
        self._con = con
        self._queue: queue.SimpleQueue[Batch | BaseException | object] = queue.SimpleQueue()
        self._stop = threading.Event()
        self.rows: Future[Rows] = Future()
        self.content_hash: Future[str] = Future()

    def produce(self) -> None:
        """Rank, encode and hash every range; run it in a thread. Stops early on :meth:`cancel`."""
        try:
            self._produce()
        finally:
            self._con.close()

    def _produce(self) -> None:
        digest = ContentHash(FLAG_PAYLOAD if self._unranked.payload else 0)
        parts: list[Rows] = []
        bounds = piece_bounds(self._unranked.starts)
        try:
            for low, high in itertools.pairwise(bounds):
                if self._stop.is_set():
                    raise RuntimeError("publishing stopped before the lists were ranked")
                rows = self._unranked.rank(low, high)
                for chunk in EncodedLists(rows, self._con).chunks():
                    digest.update(chunk)
                    self._queue.put(chunk)
                parts.append(rows)
        except BaseException as exc:
            self._queue.put(exc)
            self.rows.set_exception(exc)
            self.content_hash.set_exception(exc)
            return
        self._queue.put(_DONE)
        self.rows.set_result(Rows.concat(parts))
        self.content_hash.set_result(digest.hexdigest())

    def chunks(self) -> Iterator[Batch]:
        """The encoded chunks in key order, as the thread makes them; re-raises its error."""
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Batch)
            yield item

    def cancel(self) -> None:
        """Ask the thread to stop after the range it is ranking (the load was abandoned)."""
        self._stop.set()
