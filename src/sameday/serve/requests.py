r"""The bodies of the HTTP API — one model each, the API description's single source — and the
hand-written readers that check request input against them, with errors that name the field.

Each body the API takes or gives is a ``TypedDict`` below, its limits and descriptions in
``Annotated`` pydantic ``Field``\s: :mod:`sameday.serve.openapi` derives the OpenAPI document from
these models and nothing else, the handlers build their answers as these types (so mypy checks
them), and the tests check that what the engine serialises and what the readers accept match
them. The readers stay hand-written rather than validate through pydantic on purpose: each check
is one ``isinstance`` on the hot path, and every message says which field was wrong and what was
expected; they read their limits from the constants the models use.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import (
    Annotated,
    Any,
    Literal,
    NotRequired,  # pydantic reads only these on 3.11
)

from pydantic import Field
from typing_extensions import TypedDict

from sameday.errors import BadRequest, BodyTooLarge, BodyTooSlow
from sameday.events.records import Outcome, outcome_problem

MAX_BATCH = 1000
MAX_EXCLUDE = 1000
MAX_ID = 256
MAX_N = 10_000
MAX_BODY = 1 << 20
"""Default cap on a request body, in bytes (1 MiB: 1,000 events of 1 KB; ``serve.max_body``)."""
BODY_TIMEOUT = 30.0
"""Default seconds a client has to send a whole body (35 KB/s for a full 1 MiB)."""

# The models. A model's docstring and its fields' descriptions are the document's (Markdown).

Id = Annotated[str, Field(min_length=1, max_length=MAX_ID)]
StoredId = Annotated[Id, Field(pattern="^[^\\u0000]*$")]
"""What an event log can store: no NUL character (a lone surrogate cannot be sent in JSON)."""
Count = Annotated[int, Field(ge=1, le=MAX_N)]
Exclude = Annotated[list[Id], Field(max_length=MAX_EXCLUDE)]
Attributes = Annotated[dict[str, Any], Field(description="For targeting and surface rules.")]
RequestId = Annotated[
    Id,
    Field(
        description="Your id for the served list (an impression id), unique per list; by default "
        "sameday makes one. Outcomes refer to it, interleaving and bandit draws are seeded by "
        "it, and a repeated id is logged once."
    ),
]


class RecommendRequest(TypedDict):
    """The body of `POST /v1/recommend/{surface}`."""

    unit: Id
    attributes: NotRequired[Attributes]
    n: NotRequired[Count]
    exclude: NotRequired[Exclude]
    request_id: NotRequired[RequestId]


class BatchEntry(TypedDict):
    """One unit of a batch call."""

    unit: Id
    attributes: NotRequired[Attributes]


class BatchRequest(TypedDict):
    """The body of `POST /v1/recommend/{surface}/batch`: one list per unit."""

    requests: Annotated[list[BatchEntry], Field(min_length=1, max_length=MAX_BATCH)]
    n: NotRequired[Count]
    exclude: NotRequired[Exclude]


class Event(TypedDict):
    """An outcome event: a click, a purchase, any named event with a value."""

    event_id: Annotated[
        StoredId, Field(description="Unique per event; a resent event is stored once.")
    ]
    unit: StoredId
    name: Annotated[StoredId, Field(description="The event's name, e.g. click or purchase.")]
    value: NotRequired[Annotated[float, Field(json_schema_extra={"default": 1})]]
    time: NotRequired[Annotated[float, Field(description="Seconds since the epoch; default: now.")]]
    request_id: NotRequired[
        Annotated[StoredId | None, Field(description="The served list the event follows from.")]
    ]
    item: NotRequired[StoredId | None]


class EventsRequest(TypedDict):
    """The body of `POST /v1/events`."""

    events: Annotated[list[Event], Field(min_length=1, max_length=MAX_BATCH)]


class Item(TypedDict):
    """One slot of a served list."""

    item: str
    score: float
    position: Annotated[int, Field(ge=1, le=MAX_N)]
    source: Annotated[str, Field(description="The result set the item came from.")]
    payload: NotRequired[dict[str, Any]]


class Scoring(TypedDict):
    """How a scorer ordered the list (docs/models.md, "Online scoring")."""

    scorer: Annotated[
        str, Field(description="The arm's or surface's scorer: NAME@ALIAS, or python:MOD:FN.")
    ]
    version: Annotated[
        str | None,
        Field(description="The exact version that ordered the list; null when it fell back."),
    ]
    fallback: Annotated[
        Literal["timeout", "error", "unavailable", "store"] | None,
        Field(description="Why the list is in the batch order, or null when scored."),
    ]


class Recommendation(TypedDict):
    """A served list, and why it is this one."""

    request_id: str
    surface: str
    unit: str
    experiment: str | None
    arm: str | None
    degraded: Annotated[
        bool,
        Field(description="True when the store or a list was missing and fallbacks served."),
    ]
    snapshots: Annotated[
        dict[str, str],
        Field(description="Result set → snapshot version the list was read from."),
    ]
    items: list[Item]
    model: NotRequired[
        Annotated[Scoring, Field(description="Present when a scorer re-ranks this list.")]
    ]


class BatchResponse(TypedDict):
    """One list per unit of the request, in its order."""

    results: list[Recommendation]


class EventsAccepted(TypedDict):
    """The events are durable: committed to the event log."""

    accepted: int


class Status(TypedDict):
    """The process answers."""

    status: Literal["ok"]


class Ready(TypedDict):
    """A configuration is loaded; `degraded` while the store cannot be read (fallbacks serve)."""

    status: Literal["ready", "degraded"]
    surfaces: list[str]
    store: Annotated[str, Field(description="ok, or unreachable: and why.")]


class Refreshed(TypedDict):
    """The configuration and snapshots were reloaded."""

    changed: bool
    fingerprint: Annotated[str, Field(description="The applied configuration's fingerprint.")]


class ErrorDetail(TypedDict):
    """What went wrong."""

    status: int
    message: str
    field: Annotated[str | None, Field(description="The input field at fault, if one is.")]


class Error(TypedDict):
    """The one error shape of the API."""

    error: ErrorDetail


# The readers.


async def read_body(
    chunks: AsyncIterator[bytes], declared: str | None, *, limit: int, timeout: float
) -> bytes:
    """The request body from ``chunks``, refused as soon as it is known to pass ``limit`` bytes.

    ``declared`` is the ``Content-Length`` header: a length over the cap is refused before a byte
    is read; a chunked body (no length) is counted as it streams, so memory never holds more
    than ``limit`` bytes plus one chunk.

    Raises:
        BodyTooLarge: the body passes ``limit`` bytes.
        BodyTooSlow: the whole body did not arrive within ``timeout`` seconds.
    """
    too_large = (
        f"the body is larger than the {limit} bytes this server accepts; send fewer events "
        "or requests per call (or raise serve.max_body)"
    )
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(too_large)
    body = bytearray()
    try:
        async with asyncio.timeout(timeout):
            async for chunk in chunks:
                body += chunk
                if len(body) > limit:
                    raise BodyTooLarge(too_large)
    except TimeoutError:
        raise BodyTooSlow(
            f"the body did not arrive within {timeout:g} s ({len(body)} bytes came); "
            "send it at once, or in fewer bytes"
        ) from None
    return bytes(body)


@dataclass(frozen=True, slots=True)
class RecommendInput:
    """One recommend call's input, read from a ``RecommendRequest`` body or a query."""

    unit: str
    attributes: dict[str, Any]
    n: int | None
    exclude: tuple[str, ...]
    request_id: str | None = None


def text(value: Any, field: str, *, required: bool = True) -> str | None:
    """A non-empty string of at most ``MAX_ID`` characters."""
    if value is None:
        if required:
            raise BadRequest(f"'{field}' is required", field)
        return None
    if not isinstance(value, str):
        raise BadRequest(f"'{field}' must be a string", field)
    result = value
    if not result or len(result) > MAX_ID:
        raise BadRequest(f"'{field}' must be 1 to {MAX_ID} characters", field)
    return result


def count(value: Any, field: str = "n") -> int:
    """A list length from 1 to ``MAX_N`` given in JSON: a JSON integer (``3.0`` counts, JSON has
    one number type), never a string, a boolean or ``null``."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_N:
        got = "null" if value is None else repr(value)
        raise BadRequest(f"'{field}' must be an integer from 1 to {MAX_N}, got {got}", field)
    return value


def count_text(value: str | None, field: str = "n") -> int | None:
    """An optional list length from 1 to ``MAX_N`` in a query string: ASCII digits only.

    ``int()`` alone would take ``"٣"`` (any Unicode decimal), ``"+5"``, ``" 5"`` and ``"5_0"``.
    """
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()):
        raise BadRequest(
            f"'{field}' must be a positive integer in digits 0-9, got {value!r}", field
        )
    return count(int(value), field)


def optional_count(body: dict[str, Any], field: str = "n") -> int | None:
    """``body[field]`` read by :func:`count` when present (a ``null`` is refused, not ignored)."""
    return count(body[field], field) if field in body else None


def exclusions(value: Any) -> tuple[str, ...]:
    """Items the caller does not want (already seen): a list of ids, or a comma-separated text."""
    if value is None:
        return ()
    items = [part for part in value.split(",") if part] if isinstance(value, str) else value
    if not isinstance(items, list) or len(items) > MAX_EXCLUDE:
        raise BadRequest(f"'exclude' must be a list of at most {MAX_EXCLUDE} item ids", "exclude")
    out = []
    for item in items:
        if not isinstance(item, str) or not 1 <= len(item) <= MAX_ID:
            raise BadRequest(f"'exclude' must hold item ids (strings of 1 to {MAX_ID})", "exclude")
        out.append(item)
    return tuple(out)


def attributes(value: Any) -> dict[str, Any]:
    """Request attributes for targeting and rules: a JSON object."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest("'attributes' must be a JSON object", "attributes")
    return value


def recommend_body(body: Any) -> RecommendInput:
    """The JSON body of ``POST /v1/recommend/{surface}``."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object with 'unit'")
    return RecommendInput(
        unit=text(body.get("unit"), "unit") or "",
        attributes=attributes(body.get("attributes")),
        n=optional_count(body),
        exclude=exclusions(body.get("exclude")),
        request_id=text(body.get("request_id"), "request_id", required=False),
    )


def recommend_query(params: Mapping[str, str]) -> RecommendInput:
    """The query of ``GET /v1/recommend/{surface}``; ``attr.NAME=value`` gives attributes."""
    attrs = {key[5:]: value for key, value in params.items() if key.startswith("attr.")}
    return RecommendInput(
        unit=text(params.get("unit"), "unit") or "",
        attributes=attrs,
        n=count_text(params.get("n")),
        exclude=exclusions(params.get("exclude")),
        request_id=text(params.get("request_id"), "request_id", required=False),
    )


def batch_body(body: Any) -> tuple[list[tuple[str, dict[str, Any]]], int | None, tuple[str, ...]]:
    """The JSON body of ``POST /v1/recommend/{surface}/batch``."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object with 'requests'")
    requests = body.get("requests")
    if not isinstance(requests, list) or not 1 <= len(requests) <= MAX_BATCH:
        raise BadRequest(f"'requests' must be a list of 1 to {MAX_BATCH} objects", "requests")
    parsed = []
    for index, entry in enumerate(requests):
        if not isinstance(entry, dict):
            raise BadRequest(f"requests[{index}] must be an object with 'unit'", "requests")
        unit = text(entry.get("unit"), f"requests[{index}].unit") or ""
        parsed.append((unit, attributes(entry.get("attributes"))))
    return parsed, optional_count(body), exclusions(body.get("exclude"))


def events_body(body: Any, now: float | None = None) -> list[Outcome]:
    """The JSON body of ``POST /v1/events``: ``{"events": [{event_id, unit, name, ...}]}``."""
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise BadRequest("the body must be a JSON object with a list 'events'", "events")
    events = body["events"]
    if not 1 <= len(events) <= MAX_BATCH:
        raise BadRequest(f"'events' must hold 1 to {MAX_BATCH} events", "events")
    stamp = time.time() if now is None else now
    out = []
    for index, event in enumerate(events):
        where = f"events[{index}]"
        if not isinstance(event, dict):
            raise BadRequest(f"{where} must be an object", where)
        value = event.get("value", 1.0)
        when = event.get("time", stamp)
        for name, number in (("value", value), ("time", when)):
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise BadRequest(f"{where}.{name} must be a number", f"{where}.{name}")
            if not math.isfinite(number):
                raise BadRequest(f"{where}.{name} must be finite", f"{where}.{name}")
        outcome = Outcome(
            event_id=text(event.get("event_id"), f"{where}.event_id") or "",
            unit=text(event.get("unit"), f"{where}.unit") or "",
            name=text(event.get("name"), f"{where}.name") or "",
            value=float(value),
            time=float(when),
            request_id=text(event.get("request_id"), f"{where}.request_id", required=False),
            item=text(event.get("item"), f"{where}.item", required=False),
        )
        problem = outcome_problem(outcome)  # what no event log can store (a NUL, ...)
        if problem is not None:
            name, what = problem
            raise BadRequest(f"'{where}.{name}' {what}", f"{where}.{name}")
        out.append(outcome)
    return out
