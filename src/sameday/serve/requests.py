"""Reading HTTP request input into plain values, with errors that name the field at fault.

Hand-written rather than a model library on purpose: each check is one ``isinstance`` on the hot
path, and every message says which field was wrong and what was expected.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sameday.errors import BadRequest
from sameday.events.records import Outcome

MAX_BATCH = 1000
MAX_EXCLUDE = 1000
MAX_ID = 256
MAX_N = 10_000


@dataclass(frozen=True, slots=True)
class RecommendRequest:
    """One recommend call's input."""

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


def count(value: Any, field: str = "n") -> int | None:
    """An optional list length from 1 to ``MAX_N`` (``3.0`` counts as an integer, as in JSON)."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.isdigit():
            raise BadRequest(f"'{field}' must be a positive integer, got {value!r}", field)
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_N:
        raise BadRequest(f"'{field}' must be an integer from 1 to {MAX_N}", field)
    return value


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


def recommend_body(body: Any) -> RecommendRequest:
    """The JSON body of ``POST /v1/recommend/{surface}``."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object with 'unit'")
    return RecommendRequest(
        unit=text(body.get("unit"), "unit") or "",
        attributes=attributes(body.get("attributes")),
        n=count(body.get("n")),
        exclude=exclusions(body.get("exclude")),
        request_id=text(body.get("request_id"), "request_id", required=False),
    )


def recommend_query(params: Mapping[str, str]) -> RecommendRequest:
    """The query of ``GET /v1/recommend/{surface}``; ``attr.NAME=value`` gives attributes."""
    attrs = {key[5:]: value for key, value in params.items() if key.startswith("attr.")}
    return RecommendRequest(
        unit=text(params.get("unit"), "unit") or "",
        attributes=attrs,
        n=count(params.get("n")),
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
    return parsed, count(body.get("n")), exclusions(body.get("exclude"))


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
        out.append(
            Outcome(
                event_id=text(event.get("event_id"), f"{where}.event_id") or "",
                unit=text(event.get("unit"), f"{where}.unit") or "",
                name=text(event.get("name"), f"{where}.name") or "",
                value=float(value),
                time=float(when),
                request_id=text(event.get("request_id"), f"{where}.request_id", required=False),
                item=text(event.get("item"), f"{where}.item", required=False),
            )
        )
    return out
