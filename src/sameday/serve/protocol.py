"""The HTTP/1.1 protocol ``sameday serve`` runs: uvicorn's httptools protocol, bounded, one write
per response.

Why httptools, not h11: uvicorn's h11 protocol parses and frames every request in pure Python.
Measured with the serving benchmark's project (wrk, 32 connections, three alternating rounds on
a loaded two-core host), the whole server used 214-272 µs of CPU per request on h11 and 102-140
µs on httptools, whose parser is C.

What it adds to uvicorn's protocol:

* **A deadline for each request's head** (``head_timeout``): uvicorn has none (its keep-alive
  timer stops at a client's first byte), so a client sending nothing, or a header byte now and
  then (slowloris), would hold a connection and a file descriptor forever. The deadline is armed
  when the connection opens and after each response, and disarmed when a request's head is
  complete; the body has its own (``serve.body_timeout``, a 408 from the app).
* **A cap on the head's size** (``max_head`` bytes, counted as they arrive, so at most one read
  more than the cap is buffered): llhttp has no limit of its own. A larger head is a 400.
* **One write per response** (:class:`OneWriteCycle`): uvicorn writes the status line and
  headers when the app sends ``http.response.start`` and the body when it sends
  ``http.response.body``: two ``write`` calls, two ``send`` system calls, often two TCP
  segments per response. The head is held until the first body message and both go out in one
  ``write``.

It extends uvicorn's ``HttpToolsProtocol`` through five of its callbacks and
``RequestResponseCycle.send``; ``tests/serve/test_server.py`` runs a real server to check that it
still works after a uvicorn upgrade.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

HEAD_TIMEOUT = 10.0
"""Seconds a client has to send a request's line and headers once connected (or after a
response, on a kept-alive connection)."""
MAX_HEAD = 16 * 1024
"""Most bytes of a request line plus headers (h11's default, said here on purpose)."""
HEAD_TOO_LARGE = "Request line and headers are too large."


class _Collected:
    """Stands in for the transport while a cycle sends its head and first body message: keeps
    what is written, and the close asked for, until :meth:`flush` writes them at once."""

    __slots__ = ("_closing", "_parts", "transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self._parts: list[bytes] = []
        self._closing = False

    def write(self, data: bytes) -> None:
        self._parts.append(data)

    def close(self) -> None:
        self._closing = True

    def is_closing(self) -> bool:
        return self._closing or self.transport.is_closing()

    def flush(self) -> None:
        if self._parts:
            self.transport.write(b"".join(self._parts))
        if self._closing:
            self.transport.close()


class OneWriteCycle(RequestResponseCycle):
    """uvicorn's request-response cycle, holding ``http.response.start`` until the first body
    message so the head and that body go out in one ``transport.write``."""

    _head: Any = None  # the held http.response.start message

    async def send(self, message: Any) -> None:  # ASGISendEvent: uvicorn's typed dicts
        if message["type"] == "http.response.start" and not self.response_started:
            self._head = message  # a second start (uvicorn's 500 after a failure) replaces it
            return
        head, self._head = self._head, None
        if head is None:
            await super().send(message)
            return
        transport = self.transport
        collected = _Collected(transport)
        self.transport = collected  # type: ignore[assignment]
        try:
            await super().send(head)
            await super().send(message)
        finally:
            self.transport = transport
            collected.flush()


class HeadDeadline(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline of ``head_timeout`` seconds and a cap of
    ``max_head`` bytes for each request's head, and one write per response (see the module)."""

    head_timeout = HEAD_TIMEOUT
    max_head = MAX_HEAD

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._head_bytes: int | None = 0  # bytes of the head being received; None: it is in

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._head_bytes is not None:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head:
                self._disarm()
                self.send_400_response(HEAD_TOO_LARGE)  # and closes the connection
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._head_bytes = None
        self._disarm()  # a request's head is in: the app answers it (or its body times out)
        cycle = self.cycle
        if cycle is not None and type(cycle) is RequestResponseCycle:
            cycle.__class__ = OneWriteCycle  # no state of its own: a class swap, not a copy

    def on_response_complete(self) -> None:
        self._arm()  # before: a pipelined request started inside disarms it
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.head_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()
