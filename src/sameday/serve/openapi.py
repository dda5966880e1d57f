"""The OpenAPI 3.1 description of the HTTP service, served at ``/openapi.json``.

Written out by hand to match ``sameday.serve.requests`` exactly; the fuzz test drives the server
from this document, so a drift between the two shows up as a failing test.
"""

from __future__ import annotations

from typing import Any

from sameday._version import __version__
from sameday.serve.requests import MAX_BATCH, MAX_EXCLUDE, MAX_ID, MAX_N

_ID = {"type": "string", "minLength": 1, "maxLength": MAX_ID}
_STORED = {"pattern": "^[^\\u0000]*$"}
"""What an event log can store: no NUL character (a lone surrogate cannot be sent in JSON)."""
_STORED_ID = {**_ID, **_STORED}
_ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "status": {"type": "integer"},
                "message": {"type": "string"},
                "field": {"type": ["string", "null"]},
            },
            "required": ["status", "message", "field"],
        }
    },
    "required": ["error"],
}
_ITEM = {
    "type": "object",
    "properties": {
        "item": {"type": "string"},
        "score": {"type": "number"},
        "position": {"type": "integer", "minimum": 1, "maximum": MAX_N},
        "source": {"type": "string", "description": "The result set the item came from."},
        "payload": {"type": "object"},
    },
    "required": ["item", "score", "position", "source"],
}
_RECOMMENDATION = {
    "type": "object",
    "properties": {
        "request_id": {"type": "string"},
        "surface": {"type": "string"},
        "unit": {"type": "string"},
        "experiment": {"type": ["string", "null"]},
        "arm": {"type": ["string", "null"]},
        "degraded": {
            "type": "boolean",
            "description": "True when the store or a list was missing and fallbacks served.",
        },
        "snapshots": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Result set → snapshot version the list was read from.",
        },
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
    },
    "required": [
        "request_id",
        "surface",
        "unit",
        "experiment",
        "arm",
        "degraded",
        "snapshots",
        "items",
    ],
}
_EXCLUDE = {"type": "array", "items": _ID, "maxItems": MAX_EXCLUDE}
_REQUEST_ID = {
    **_ID,
    "description": "Your id for the served list (an impression id), unique per list; by default "
    "sameday makes one. Outcomes refer to it, interleaving and bandit draws are seeded by it, "
    "and a repeated id is logged once.",
}
_RECOMMEND_BODY = {
    "type": "object",
    "properties": {
        "unit": _ID,
        "attributes": {"type": "object", "description": "For targeting and surface rules."},
        "n": {"type": "integer", "minimum": 1, "maximum": MAX_N},
        "exclude": _EXCLUDE,
        "request_id": _REQUEST_ID,
    },
    "required": ["unit"],
}
_BATCH_BODY = {
    "type": "object",
    "properties": {
        "requests": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_BATCH,
            "items": {
                "type": "object",
                "properties": {"unit": _ID, "attributes": {"type": "object"}},
                "required": ["unit"],
            },
        },
        "n": {"type": "integer", "minimum": 1, "maximum": MAX_N},
        "exclude": _EXCLUDE,
    },
    "required": ["requests"],
}
_EVENT = {
    "type": "object",
    "properties": {
        "event_id": {
            **_STORED_ID,
            "description": "Unique per event; a resent event is stored once.",
        },
        "unit": _STORED_ID,
        "name": {**_STORED_ID, "description": "The event's name, e.g. click or purchase."},
        "value": {"type": "number", "default": 1},
        "time": {"type": "number", "description": "Seconds since the epoch; default: now."},
        "request_id": {
            "type": ["string", "null"],
            "minLength": 1,
            "maxLength": MAX_ID,
            **_STORED,
            "description": "The served list the event follows from.",
        },
        "item": {"type": ["string", "null"], "minLength": 1, "maxLength": MAX_ID, **_STORED},
    },
    "required": ["event_id", "unit", "name"],
}
_EVENTS_BODY = {
    "type": "object",
    "properties": {
        "events": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": _EVENT}
    },
    "required": ["events"],
}


def _json(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _responses(ok: str, *codes: int) -> dict[str, Any]:
    out: dict[str, Any] = {"200": {"description": "OK", **_json(ok)}}
    descriptions = {
        400: "Malformed input",
        401: "Missing or wrong API key",
        404: "Unknown surface",
        408: "The body did not arrive in time (serve.body_timeout)",
        413: "The body is over the size cap (serve.max_body)",
        503: "Event log unavailable: resend",
    }
    for code in codes:
        out[str(code)] = {"description": descriptions[code], **_json("Error")}
    return out


_SURFACE = {"name": "surface", "in": "path", "required": True, "schema": _ID}
_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]


def openapi_spec(*, secured: bool = True) -> dict[str, Any]:
    """The OpenAPI document of the service; ``secured`` when API keys are configured."""
    recommend_params = [
        _SURFACE,
        {"name": "unit", "in": "query", "required": True, "schema": _ID},
        {"name": "n", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_N}},
        {
            "name": "exclude",
            "in": "query",
            "description": "Comma-separated item ids not to serve.",
            "schema": {"type": "string"},
        },
        {"name": "request_id", "in": "query", "schema": _REQUEST_ID},
    ]
    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "sameday",
            "version": __version__,
            "description": "Ranked lists under experiments, with fallbacks and exposure logging. "
            "Attributes may be passed to GET as attr.NAME=value query parameters.",
        },
        "paths": {
            "/v1/recommend/{surface}": {
                "get": {
                    "operationId": "recommendGet",
                    "parameters": recommend_params,
                    "security": _SECURITY,
                    "responses": _responses("Recommendation", 400, 401, 404),
                },
                "post": {
                    "operationId": "recommendPost",
                    "parameters": [_SURFACE],
                    "security": _SECURITY,
                    "requestBody": {"required": True, **_json("RecommendRequest")},
                    "responses": _responses("Recommendation", 400, 401, 404, 408, 413),
                },
            },
            "/v1/recommend/{surface}/batch": {
                "post": {
                    "operationId": "recommendBatch",
                    "parameters": [_SURFACE],
                    "security": _SECURITY,
                    "requestBody": {"required": True, **_json("BatchRequest")},
                    "responses": _responses("BatchResponse", 400, 401, 404, 408, 413),
                }
            },
            "/v1/events": {
                "post": {
                    "operationId": "postEvents",
                    "security": _SECURITY,
                    "requestBody": {"required": True, **_json("EventsRequest")},
                    "responses": _responses("EventsAccepted", 400, 401, 408, 413, 503),
                }
            },
            "/healthz": {"get": {"operationId": "healthz", "responses": _responses("Status")}},
            "/readyz": {"get": {"operationId": "readyz", "responses": _responses("Status", 503)}},
        },
        "components": {
            "schemas": {
                "Item": _ITEM,
                "Recommendation": _RECOMMENDATION,
                "RecommendRequest": _RECOMMEND_BODY,
                "BatchRequest": _BATCH_BODY,
                "BatchResponse": {
                    "type": "object",
                    "properties": {
                        "results": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Recommendation"},
                        }
                    },
                    "required": ["results"],
                },
                "EventsRequest": _EVENTS_BODY,
                "EventsAccepted": {
                    "type": "object",
                    "properties": {"accepted": {"type": "integer"}},
                    "required": ["accepted"],
                },
                "Status": {"type": "object", "properties": {"status": {"type": "string"}}},
                "Error": _ERROR,
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }
    if not secured:
        for operations in spec["paths"].values():
            for operation in operations.values():
                operation.pop("security", None)
                operation["responses"].pop("401", None)
        del spec["components"]["securitySchemes"]
    return spec
