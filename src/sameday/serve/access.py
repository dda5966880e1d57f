"""The server's access log: one line per HTTP request on the ``sameday.access`` logger.

uvicorn's own access log is off (``sameday.serve.server``): it knows the method, path and status
but not what was served. This one adds the request id, the surface, the experiment and arm, the
latency and the degraded flag, as structured fields (JSON keys with ``--log-format json``):

    {"time": "...", "level": "info", "logger": "sameday.access",
     "message": "GET /v1/recommend/home", "method": "GET", "path": "/v1/recommend/home",
     "status": 200, "latency_ms": 0.84,
     "client": "10.0.0.7", "request_id": "9f2c...", "surface": "home", "experiment": "exp",
     "arm": "b", "degraded": false}

The unit is not logged (it identifies a person; the exposure log has it). A call of the batch
endpoint is one line with ``lists`` (how many it served) and ``degraded`` true if any list was.
Below the ``info`` level (``--log-level warning``) a request costs one level check. When the
line would reach nothing but sameday's own handler (``sameday serve``), it is formatted and handed
to it directly, without a ``LogRecord`` (:meth:`~sameday.logs.LineHandler.put`): the same line,
at half the cost. Whether that is so is looked at once a second (:data:`RECHECK`), so a handler
added at run time sees the access lines from the next second on.

Even so a line costs a few microseconds, several percent of a request
(``benchmarks/access_log_bench.py``): ``sameday serve --access-log-sample 0.1`` logs a tenth of
the ordinary requests (and every error and degraded answer).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from random import random
from typing import Any

from sameday.logs import ACCESS_LOGGER, LineHandler, sole_handler
from sameday.serve.engine import Recommendation

INFO = logging.INFO
RECHECK = 1.0
"""Seconds an access log trusts its look at the logging configuration (see the module)."""


class AccessLog:
    """Writes access lines to ``sameday.access`` (see the module).

    Args:
        sample: the share of ordinary requests logged (``1``: all). A request answered with a
            status of 400 or more, or a degraded list, is always logged; the lines of sampled
            requests carry ``sample`` so counts can be scaled back.
    """

    def __init__(self, *, sample: float = 1.0) -> None:
        if not 0 < sample <= 1:
            raise ValueError(f"the access log sample must be in (0, 1], got {sample}")
        self._logger = logging.getLogger(ACCESS_LOGGER)
        self._sample = sample
        self._handler: LineHandler | None = None
        self._checked = 0.0

    def __call__(
        self,
        method: str,
        path: str,
        status: int,
        seconds: float,
        client: Sequence[Any] | None,
        surface: str | None = None,
        served: Recommendation | list[Recommendation] | None = None,
    ) -> None:
        """Log one request: ``served`` is what a recommend endpoint answered (a list of them for
        the batch endpoint), ``surface`` the one named in its path."""
        logger = self._logger
        if not logger.isEnabledFor(INFO):
            return
        sampled = self._sample < 1 and status < 400 and not _degraded(served)
        if sampled and random() >= self._sample:
            return
        address = client[0] if client else None
        latency = round(seconds * 1000, 3)
        fields: dict[str, Any]
        if type(served) is Recommendation:
            fields = {
                "method": method,
                "path": path,
                "status": status,
                "latency_ms": latency,
                "client": address,
                "request_id": served.request_id,
                "surface": served.surface,
                "experiment": served.experiment,
                "arm": served.arm,
                "degraded": served.degraded,
            }
        else:
            fields = {
                "method": method,
                "path": path,
                "status": status,
                "latency_ms": latency,
                "client": address,
            }
            if isinstance(served, list):
                fields["surface"] = surface
                fields["lists"] = len(served)
                fields["degraded"] = _degraded(served)
            elif surface is not None:
                fields["surface"] = surface
        if sampled:
            fields["sample"] = self._sample
        message = f"{method} {path}"
        now = time.time()
        if now - self._checked > RECHECK:
            self._handler, self._checked = sole_handler(logger), now
        handler = self._handler
        if handler is None or not handler.put(ACCESS_LOGGER, message, fields, now):
            record = logger.makeRecord(ACCESS_LOGGER, INFO, "", 0, message, (), None)
            record.fields = fields
            logger.handle(record)


def _degraded(served: Recommendation | list[Recommendation] | None) -> bool:
    """Whether what was served (any list of a batch) was served degraded."""
    if type(served) is Recommendation:
        return served.degraded
    return isinstance(served, list) and any(result.degraded for result in served)
