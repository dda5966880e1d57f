"""Running the app under uvicorn, with bounds on how long a client may hold a connection.

uvicorn bounds some things itself, set here explicitly: ``timeout_keep_alive`` closes a
connection left idle after a response, and ``h11_max_incomplete_event_size`` caps the request
line and headers (a larger head is a 400). It has no deadline for receiving a request's head,
though: its keep-alive timer stops at a client's first byte, and nothing runs before a first
request. A client that connects and sends nothing, or a header byte now and then (slowloris),
would hold a connection, and a file descriptor, forever. :class:`HeadDeadline` adds that
deadline. The body has its own in the app (``serve.body_timeout``, a 408: see
:func:`~sameday.serve.requests.read_body`).

``HeadDeadline`` extends uvicorn's h11 protocol (the one uvicorn uses without httptools) through
four of its methods; ``tests/serve/test_server.py`` runs a real server to check it still works
after a uvicorn upgrade.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_TIMEOUT = 10.0
"""Seconds a client has to send a request's line and headers once connected (or after a
response, on a kept-alive connection)."""
KEEP_ALIVE = 5
"""Seconds an idle keep-alive connection stays open after a response (uvicorn's default)."""
MAX_HEAD = 16 * 1024
"""Most bytes of a request line plus headers (h11's default, said here on purpose)."""


class HeadDeadline(H11Protocol):
    """uvicorn's h11 protocol, with a deadline of ``head_timeout`` seconds for each request's
    head: armed when the connection opens and after each response, disarmed when a request's
    headers are complete; at the deadline the connection is closed."""

    head_timeout = HEAD_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self._disarm()  # a request's head is in: the app answers it (or its body times out)

    def on_response_complete(self) -> None:
        self._arm()  # before: a pipelined request handled inside disarms it
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


def server_config(
    app: ASGIApp,
    host: str,
    port: int,
    *,
    log_level: str = "warning",
    head_timeout: float = HEAD_TIMEOUT,
    keep_alive: int = KEEP_ALIVE,
    shutdown_timeout: float | None = None,
) -> uvicorn.Config:
    """The uvicorn configuration ``sameday serve`` runs ``app`` with (see the module).

    On SIGTERM uvicorn stops accepting and waits for the requests in flight; after
    ``shutdown_timeout`` seconds (rounded up to whole seconds; ``None``: no limit) it cancels
    those still running, so a stuck client cannot hold a terminating pod past its grace period.
    """
    protocol = type("HeadDeadline", (HeadDeadline,), {"head_timeout": head_timeout})
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_config=None,  # sameday.logs formats uvicorn's lines too
        access_log=False,  # sameday.serve.access writes one with what was served
        http=protocol,
        timeout_keep_alive=keep_alive,
        h11_max_incomplete_event_size=MAX_HEAD,
        timeout_graceful_shutdown=None if shutdown_timeout is None else math.ceil(shutdown_timeout),
    )
