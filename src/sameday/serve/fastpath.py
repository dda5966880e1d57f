"""The hot endpoint, ``GET /v1/recommend/{surface}``, answered straight from the ASGI scope.

Why a second path: under load, Starlette's layers around one handler (the error and exception
middleware wrapping ``send``, the router, a ``Request`` and its ``QueryParams``, ``Response``
header building) cost more than serving the list itself (measured: about 35 µs of a 64 µs request
at the ASGI level). This path does the same work with the same outcome — the API-key check, the
query read by :func:`~sameday.serve.requests.recommend_query`, the same JSON bodies and error
shapes, the latency histogram — with none of those layers. Everything else (``POST``, other paths,
a trailing slash, a mounted root path) goes to the Starlette app unchanged.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import unquote_plus

import orjson
from starlette.types import Scope, Send

from sameday.errors import BadRequest, UnknownSurface
from sameday.serve import requests as parse
from sameday.serve.access import AccessLog
from sameday.serve.batching import ReadBatcher, served
from sameday.serve.client import Client
from sameday.serve.engine import Recommendation
from sameday.serve.prometheus import Observed

logger = logging.getLogger("sameday.serve")
PREFIX = "/v1/recommend/"
"""Paths under it with one more segment are the hot endpoint."""

Count = Callable[[int, Recommendation | None, str], None]
"""Counts a request by status, what it served and the surface its path named."""


def key_allowed(headers: Sequence[tuple[bytes, bytes]], keys: tuple[str, ...]) -> bool:
    """Whether the request carries one of ``keys`` (``Authorization: Bearer KEY`` or
    ``X-API-Key: KEY``), compared against every key in constant time so timing reveals none."""
    given = auth = ""
    seen_key = seen_auth = False
    for name, value in headers:
        if name == b"x-api-key" and not seen_key:
            given, seen_key = value.decode("latin-1"), True
        elif name == b"authorization" and not seen_auth:
            auth, seen_auth = value.decode("latin-1"), True
    if auth[:7].lower() == "bearer ":
        given = auth[7:]
    matches = [hmac.compare_digest(given.encode(), key.encode()) for key in keys]
    return any(matches)


def query_params(raw: bytes) -> dict[str, str]:
    """``dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))``, the same answer
    (the last of a repeated name wins), for less: a field is only unquoted when it holds a
    ``%`` or a ``+``, which the usual recommend query does not (a fifth of the fast path's
    parsing time went to ``parse_qsl``'s generality)."""
    query = raw.decode("latin-1")
    params: dict[str, str] = {}
    for field in query.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "%" in field or "+" in field:
            name, value = (
                unquote_plus(name, errors="replace"),
                unquote_plus(value, errors="replace"),
            )
        params[name] = value
    return params


def error_body(status: int, message: str, field: str | None = None) -> bytes:
    """The one error shape of the API, as bytes."""
    return orjson.dumps({"error": {"status": status, "message": message, "field": field}})


def fast_recommend(
    client: Client,
    keys: tuple[str, ...],
    timer: Observed,
    batcher: ReadBatcher,
    *,
    count: Count,
    access: AccessLog,
) -> Callable[[Scope, Send], Awaitable[bool]]:
    """A handler that answers ``GET /v1/recommend/{surface}`` and returns ``True``, or returns
    ``False`` at once for any other request (the caller then hands it to Starlette).

    The request's store reads go through ``batcher`` (:mod:`sameday.serve.batching`): off the
    event loop, coalesced with those of concurrent requests, under its deadline. Each request
    is counted (``count``: :meth:`~sameday.serve.prometheus.ServerMetrics.count`) and logged
    (``access``), as the Starlette routes are.
    """
    engine = client.engine
    observe = timer.observe
    prefix_length = len(PREFIX)

    async def handle(scope: Scope, send: Send) -> bool:
        path: str = scope["path"]
        if (
            scope["method"] != "GET"
            or not path.startswith(PREFIX)
            or scope.get("root_path")
            or "/" in path[prefix_length:]
            or len(path) == prefix_length
        ):
            return False
        started = time.perf_counter()
        status = 200
        surface = path[prefix_length:]
        result = None
        try:
            if keys and not key_allowed(scope["headers"], keys):
                status = 401
                body = error_body(401, "missing or wrong API key: send 'Authorization: Bearer KEY'")
            else:
                req = parse.recommend_query(query_params(scope["query_string"]))
                prepared = engine.prepare(
                    surface,
                    req.unit,
                    attributes=req.attributes,
                    n=req.n,
                    exclude=req.exclude,
                    request_id=req.request_id,
                )
                result = await served(engine, prepared, batcher)
                body = result.to_json()
        except BadRequest as exc:
            status, body = 400, error_body(400, str(exc), exc.field)
        except UnknownSurface as exc:
            status, body = 404, error_body(404, str(exc), "surface")
        except ValueError as exc:
            status, body = 400, error_body(400, str(exc))
        except Exception as exc:  # a bug: the API's error shape to the caller, the traceback logged
            logger.exception("GET %s failed", path)
            message = f"internal error ({type(exc).__name__}); the server log has the details"
            status, body = 500, error_body(500, message)
        elapsed = time.perf_counter() - started
        if status != 401:
            observe(elapsed)
        count(status, result, surface)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        access("GET", path, status, elapsed, scope.get("client"), surface, result)
        return True

    return handle
