"""Running the app under uvicorn, with bounds on how long a client may hold a connection.

uvicorn bounds some things itself, set here explicitly: ``timeout_keep_alive`` closes a
connection left idle after a response. The protocol, :class:`~sameday.serve.protocol.HeadDeadline`
(uvicorn's httptools protocol), adds a deadline and a size cap for receiving a request's head,
which uvicorn lacks, and writes each response in one call. The body has its own deadline in the
app (``serve.body_timeout``, a 408: see :func:`~sameday.serve.requests.read_body`).
"""

from __future__ import annotations

import math

import uvicorn
from starlette.types import ASGIApp

from sameday.serve.protocol import HEAD_TIMEOUT, HeadDeadline

KEEP_ALIVE = 5
"""Seconds an idle keep-alive connection stays open after a response (uvicorn's default)."""


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
        timeout_graceful_shutdown=None if shutdown_timeout is None else math.ceil(shutdown_timeout),
    )
