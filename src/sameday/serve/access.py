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
Below the ``info`` level (``--log-level warning``) a request costs one level check.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sameday.logs import ACCESS_LOGGER
from sameday.serve.engine import Recommendation

INFO = logging.INFO


class AccessLog:
    """Writes access lines to ``sameday.access`` (see the module)."""

    def __init__(self) -> None:
        self._logger = logging.getLogger(ACCESS_LOGGER)

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
        fields: dict[str, Any] = {
            "method": method,
            "path": path,
            "status": status,
            "latency_ms": round(seconds * 1000, 3),
            "client": client[0] if client else None,
        }
        if type(served) is Recommendation:
            fields["request_id"] = served.request_id
            fields["surface"] = served.surface
            fields["experiment"] = served.experiment
            fields["arm"] = served.arm
            fields["degraded"] = served.degraded
        elif isinstance(served, list):
            fields["surface"] = surface
            fields["lists"] = len(served)
            fields["degraded"] = any(result.degraded for result in served)
        elif surface is not None:
            fields["surface"] = surface
        record = logger.makeRecord(ACCESS_LOGGER, INFO, "", 0, f"{method} {path}", (), None)
        record.fields = fields
        logger.handle(record)
