"""The HTTP service, built (not decorated): ``create_app(client, ...)`` returns a Starlette app.

Bad input is always a 4xx with a JSON body ``{"error": {"status", "message", "field"}}`` (an
event no log can store included: a 400 naming it, the concurrent batches unaffected); the
store being down is never an error for the caller (``degraded: true``); the event log being down
is a 503 the client retries (events are idempotent by ``event_id``); a bug is a 500 in the same
shape, its traceback in the server's log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from sameday.errors import BadRequest, EventRejected, SamedayError, StoreUnavailable, UnknownSurface
from sameday.events.records import Outcome
from sameday.serve import requests as parse
from sameday.serve.access import AccessLog
from sameday.serve.batching import ReadBatcher, served, served_all
from sameday.serve.client import Client
from sameday.serve.engine import Recommendation
from sameday.serve.fastpath import fast_recommend, key_allowed
from sameday.serve.openapi import openapi_spec
from sameday.serve.prometheus import OTHER, ServerMetrics

Handler = Callable[[Request], Awaitable[Response]]
EVENTS_TIMEOUT = 5.0
logger = logging.getLogger("sameday.serve")
ADMIN_OFF = (
    "admin endpoints are off: set serve.api_keys.admin in sameday.yaml (as "
    "${SAMEDAY_ADMIN_KEY}) and send it as 'Authorization: Bearer KEY'"
)
WRONG_KEY = "missing or wrong API key: send 'Authorization: Bearer KEY'"
SERVED = "sameday.served"
"""The scope key a recommend handler leaves what it served under, for the metrics and the log."""


class JSON(Response):
    """A JSON response rendered by orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error(
    status: int, message: str, field: str | None = None, headers: Mapping[str, str] | None = None
) -> JSON:
    """The one error shape of the API."""
    body = parse.Error(error=parse.ErrorDetail(status=status, message=message, field=field))
    return JSON(body, status, headers=headers)


def _event_field(outcomes: list[Outcome], exc: EventRejected) -> str | None:
    """``events[i]`` (or ``events[i].field``) of the first event ``exc`` names."""
    for index, outcome in enumerate(outcomes):
        if outcome.event_id in exc.event_ids:
            return f"events[{index}]" + (f".{exc.field}" if exc.field else "")
    return None


class ServingApp(Starlette):
    """The Starlette app, with ``GET /v1/recommend/{surface}`` answered by a handler that
    skips Starlette's layers (see :mod:`sameday.serve.fastpath`); ``done(scope, status,
    seconds)`` is called once each other HTTP request is answered (it counts and logs it)."""

    def __init__(
        self,
        fast: Callable[[Scope, Send], Awaitable[bool]],
        done: Callable[[Scope, int, float], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._fast = fast
        self._done = done

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if await self._fast(scope, send):
            return
        started = time.perf_counter()
        status = 500  # what the caller gets if the app fails before answering

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await super().__call__(scope, receive, answer)
        finally:
            self._done(scope, status, time.perf_counter() - started)


def create_app(
    client: Client,
    *,
    serving_key: str | None = None,
    admin_key: str | None = None,
    max_body: int = parse.MAX_BODY,
    body_timeout: float = parse.BODY_TIMEOUT,
    access_log_sample: float = 1.0,
) -> Starlette:
    """The HTTP app over ``client``. With a key set, requests must carry it as
    ``Authorization: Bearer KEY`` or ``X-API-Key: KEY`` (the admin key also opens serving).

    Which endpoint needs which key (docs/serving.md, "Keys, health and metrics"): admin endpoints
    are closed unless ``admin_key`` is set and given; recommend, events and ``/metrics`` (it names
    surfaces, experiments and traffic) need the serving or admin key once either is set.
    ``/healthz`` and ``/readyz`` are open for load balancers and probes, and ``/openapi.json``
    for client generators and fuzzers: it is the same for every server of this version.

    A body over ``max_body`` bytes is a 413, one not received within ``body_timeout`` seconds a
    408 (see :func:`~sameday.serve.requests.read_body`). Every request is counted on
    ``/metrics`` and logged on ``sameday.access`` (``access_log_sample``: the share of ordinary
    requests logged, see :class:`~sameday.serve.access.AccessLog`).
    """
    batcher = ReadBatcher(client.store, deadline=client.read_deadline)
    metrics = ServerMetrics(client, batcher)
    spec = orjson.dumps(openapi_spec(secured=bool(serving_key or admin_key)))
    observe = metrics.latency.labels

    def allowed(request: Request, keys: tuple[str, ...]) -> bool:
        return key_allowed(request.scope["headers"], keys)

    serving_keys = tuple(key for key in (serving_key, admin_key) if key)

    def keyed(handler: Handler, keys: tuple[str, ...]) -> Handler:
        async def wrapped(request: Request) -> Response:
            if keys and not allowed(request, keys):
                return error(401, WRONG_KEY)
            return await handler(request)

        return wrapped

    def guarded(handler: Handler, endpoint: str, *, admin: bool = False) -> Handler:
        keys = ((admin_key,) if admin_key else ()) if admin else serving_keys
        timer = observe(endpoint)

        async def wrapped(request: Request) -> Response:
            started = time.perf_counter()
            if admin and not keys:
                return error(403, ADMIN_OFF)
            if keys and not allowed(request, keys):
                return error(401, WRONG_KEY)
            try:
                response = await handler(request)
            except BadRequest as exc:
                response = error(exc.status, str(exc), exc.field)
            except ClientDisconnect:  # nobody to answer: one line, not a traceback
                logger.warning(
                    "%s %s: the client disconnected before sending the whole body; ignored",
                    request.method,
                    request.url.path,
                )
                response = error(400, "the client disconnected before sending the whole body")
            except UnknownSurface as exc:
                response = error(404, str(exc), "surface")
            except ValueError as exc:
                response = error(400, str(exc))
            timer.observe(time.perf_counter() - started)
            return response

        return wrapped

    async def body(request: Request) -> Any:
        declared = request.headers.get("content-length")
        raw = await parse.read_body(
            request.stream(), declared, limit=max_body, timeout=body_timeout
        )
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from None

    async def recommend(request: Request) -> Response:
        if request.method == "POST":
            req = parse.recommend_body(await body(request))
        else:
            req = parse.recommend_query(request.query_params)
        prepared = client.engine.prepare(
            request.path_params["surface"],
            req.unit,
            attributes=req.attributes,
            n=req.n,
            exclude=req.exclude,
            request_id=req.request_id,
        )
        result = await served(client.engine, prepared, batcher)
        request.scope[SERVED] = result
        return Response(result.to_json(), media_type="application/json")

    async def recommend_batch(request: Request) -> Response:
        units, n, exclude = parse.batch_body(await body(request))
        surface = request.path_params["surface"]
        prepared = [
            client.engine.prepare(surface, unit, attributes=attrs, n=n, exclude=exclude)
            for unit, attrs in units
        ]
        results = await served_all(client.engine, prepared, batcher)
        request.scope[SERVED] = results
        lists = b",".join(r.to_json() for r in results)  # a BatchResponse
        return Response(b'{"results":[' + lists + b"]}", media_type="application/json")

    async def events(request: Request) -> Response:
        outcomes = parse.events_body(await body(request))
        try:
            ticket = client.track(outcomes)
            if ticket is not None:
                await ticket.wait_async(EVENTS_TIMEOUT)
        except EventRejected as exc:  # the log refused some (the others are stored)
            return error(400, str(exc), _event_field(outcomes, exc))
        except StoreUnavailable as exc:
            return error(503, f"{exc}; resend the same events (they are idempotent by event_id)")
        return JSON(parse.EventsAccepted(accepted=len(outcomes)))

    async def refresh(request: Request) -> Response:
        try:  # refreshing reads the store: never on the loop
            changed = await run_in_threadpool(client.refresh)
        except SamedayError as exc:  # e.g. a corrupt metadata file: keep the last good state
            logger.warning(
                "POST /v1/admin/refresh: the configuration could not be reloaded: %s", exc
            )
            return error(
                503,
                f"the configuration could not be reloaded: {exc}; the server keeps serving the "
                f"one it has (fingerprint {client.state.fingerprint[:12]})",
            )
        return JSON(parse.Refreshed(changed=changed, fingerprint=client.state.fingerprint))

    async def healthz(request: Request) -> Response:
        return JSON(parse.Status(status="ok"))  # the process answers; it asks no store

    async def readyz(request: Request) -> Response:
        state = client.state
        if not state.surfaces:
            return error(503, "no surfaces applied yet: run 'sameday apply'")
        # From the last refresh, never a store call: a stalled store must not stall probes.
        store_error = client.engine.cache.store_error
        return JSON(
            parse.Ready(
                status="ready" if store_error is None else "degraded",
                surfaces=sorted(state.surfaces),
                store="ok" if store_error is None else f"unreachable: {store_error}",
            )
        )

    async def prometheus(request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    async def openapi(request: Request) -> Response:
        return Response(spec, media_type="application/json")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error(exc.status_code, str(exc.detail), headers=exc.headers)

    async def server_error(request: Request, exc: Exception) -> Response:
        # Starlette answers with this, then re-raises: the traceback goes to the server's log.
        return error(500, f"internal error ({type(exc).__name__}); the server log has the details")

    routes = [
        Route("/v1/recommend/{surface}", guarded(recommend, "recommend"), methods=["GET", "POST"]),
        Route(
            "/v1/recommend/{surface}/batch",
            guarded(recommend_batch, "recommend_batch"),
            methods=["POST"],
        ),
        Route("/v1/events", guarded(events, "events"), methods=["POST"]),
        Route("/v1/admin/refresh", guarded(refresh, "refresh", admin=True), methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", keyed(prometheus, serving_keys), methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]

    lists = {route.path for route in routes[:2]}  # the recommend endpoints
    access = AccessLog(sample=access_log_sample)

    def done(scope: Scope, status: int, seconds: float) -> None:
        result: Recommendation | list[Recommendation] | None = scope.get(SERVED)
        surface = scope.get("path_params", {}).get("surface")
        route = scope.get("route")
        if isinstance(route, Route) and route.path in lists:
            if isinstance(result, list):
                for each in result:
                    metrics.count(status, each)
            else:
                metrics.count(status, result, surface or OTHER)
        client_address = scope.get("client")
        access(scope["method"], scope["path"], status, seconds, client_address, surface, result)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            batcher.close()

    return ServingApp(
        fast_recommend(
            client,
            serving_keys,
            observe("recommend"),
            batcher,
            count=metrics.count,
            access=access,
        ),
        done,
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
