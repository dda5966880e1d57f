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
  ``write``. A whole response (a ``Content-Length`` head and its only body message, what every
  sameday endpoint sends) is framed here in one pass (:meth:`OneWriteCycle.whole`), the same
  bytes and the same cycle state as uvicorn's two ``send`` calls, for a third of their cost
  (3.9 against 1.3 µs of CPU); anything else goes through them.

It extends uvicorn's ``HttpToolsProtocol`` through five of its callbacks and
``RequestResponseCycle.send``; ``tests/serve/test_server.py`` runs a real server to check that it
still works after a uvicorn upgrade.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

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
        if self.whole(head, message):
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

    def whole(self, head: Any, message: Any) -> bool:
        """Send ``head`` and ``message`` as uvicorn's ``send`` of each would, in one write, when
        they are a whole response whose framing is plain: a ``Content-Length`` equal to the one
        body's length, no ``Transfer-Encoding`` or ``Connection`` header, valid header names and
        values, not a ``HEAD`` request, no access log, the transport writable. Returns whether it
        did; when not, nothing has changed and uvicorn's ``send`` frames them (or refuses them).

        The order of the state changes is that of the two ``send`` calls with the writes
        collected: the cycle is complete and ``on_response`` called before the bytes are
        written and a connection not kept alive is closed.
        """
        if (
            message["type"] != "http.response.body"
            or message.get("more_body", False)
            or self.access_log
            or self.flow.write_paused
            or self.disconnected
            or self.scope["method"] == "HEAD"
        ):
            return False
        line = STATUS_LINE.get(head["status"])
        headers = self.default_headers + list(head.get("headers", []))
        if line is None or not headers:
            return False
        names, values = zip(*headers, strict=True)
        # Each pattern is one character class: a search of the joined text finds a match
        # exactly when a search of some part would.
        if HEADER_RE.search(b"".join(names)) or HEADER_VALUE_RE.search(b"".join(values)):
            return False
        lowered = [name.lower() for name in names]
        if b"transfer-encoding" in lowered or b"connection" in lowered:
            return False
        body = message.get("body", b"")
        try:  # uvicorn reads the first one
            length: bytes = values[lowered.index(b"content-length")]
        except ValueError:
            return False
        if not length.isdigit() or int(length) != len(body):
            return False
        lines = b"\r\n".join(map(b": ".join, zip(lowered, values, strict=True)))
        close = b"" if self.keep_alive else b"connection: close\r\n"
        self.response_started = True
        self.waiting_for_100_continue = False
        self.chunked_encoding = False
        self.expected_content_length = 0
        self.response_complete = True
        self.message_event.set()
        self.on_response()
        transport = self.transport
        transport.write(b"".join((line, lines, b"\r\n", close, b"\r\n", body)))
        if not self.keep_alive:
            transport.close()
        return True


class HeadDeadline(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline of ``head_timeout`` seconds and a cap of
    ``max_head`` bytes for each request's head, and one write per response (see the module)."""

    head_timeout = HEAD_TIMEOUT
    max_head = MAX_HEAD

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._head_since: float | None = None  # loop time the awaited head's deadline runs from
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
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().connection_lost(exc)

    def _arm(self) -> None:
        """Start the deadline of a head from now. One timer per connection, not one armed and
        cancelled per request (about 0.6 µs of CPU a request under uvloop): a response only
        notes the time, and a timer that fires while no head is awaited, or before the awaited
        head's own deadline, does nothing but wait again (at most once per ``head_timeout``)."""
        now = self.loop.time()
        self._head_since = now
        if self._deadline is None:
            self._deadline = self.loop.call_at(now + self.head_timeout, self._expire)

    def _disarm(self) -> None:
        self._head_since = None  # the timer, if any, finds nothing to cut off

    def _expire(self) -> None:
        self._deadline = None
        since = self._head_since
        if since is None:
            return
        due = since + self.head_timeout
        if self.loop.time() < due:  # the head awaited began after this timer was armed
            self._deadline = self.loop.call_at(due, self._expire)
        elif not self.transport.is_closing():
            self.transport.close()
