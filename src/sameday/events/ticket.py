"""``Ticket``: the acknowledgement an :class:`~sameday.events.writer.EventWriter` hands out.

A ticket is a future that the writer's flusher thread settles: resolved once every record queued
before it was committed, failed (``EventsUnavailable``) when the attempt to commit them failed.
Threads wait with :meth:`Ticket.wait`; the HTTP layer's ``async`` handlers with
:meth:`Ticket.wait_async`, which leaves the event loop free meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING

from sameday.errors import EventsUnavailable

if TYPE_CHECKING:
    import asyncio

    from sameday.events.records import Outcome


class Ticket:
    """A promise that records handed to an :class:`EventWriter` are committed.

    It resolves when they are, and fails with ``EventsUnavailable`` when the attempt to commit
    them failed; the writer still retries them, and resending is safe (see
    :mod:`sameday.events.writer`). The ticket of an outcome batch fails with ``EventRejected``
    when the sink refused some of its own outcomes (the others are stored).

    Args:
        records: the outcomes this ticket acknowledges (empty for a plain flush ticket).
    """

    __slots__ = ("_future", "records")

    def __init__(self, records: Sequence[Outcome] = ()) -> None:
        self._future: Future[None] = Future()
        self.records = records

    def done(self) -> bool:
        """Whether the ticket has resolved or failed."""
        return self._future.done()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the records are committed.

        Raises:
            EventsUnavailable: they could not be committed, or not within ``timeout`` seconds.
            EventRejected: the sink refused some of them as invalid; the others are stored.
        """
        try:
            self._future.result(timeout)
        except TimeoutError as exc:
            raise EventsUnavailable(
                f"the event log did not confirm the records within {timeout} s; retry later"
            ) from exc

    async def wait_async(self, timeout: float | None = None) -> None:
        """:meth:`wait` for ``async`` callers: the event loop keeps running meanwhile."""
        import asyncio  # here, not at the top: the serving path need not load asyncio

        wrapped = asyncio.wrap_future(self._future)
        wrapped.add_done_callback(_retrieve)
        try:
            await asyncio.wait_for(asyncio.shield(wrapped), timeout)
        except TimeoutError as exc:
            raise EventsUnavailable(
                f"the event log did not confirm the records within {timeout} s; retry later"
            ) from exc

    def _settle(self, error: str | Exception | None) -> None:
        if error is None:
            self._future.set_result(None)
        else:
            failure = EventsUnavailable(error) if isinstance(error, str) else error
            self._future.set_exception(failure)


def _retrieve(future: asyncio.Future[None]) -> None:
    """Mark a failure as seen, so asyncio does not log it when nobody awaits any more."""
    if not future.cancelled():
        future.exception()
