"""The OpenAPI 3.1 description of the HTTP service, served at ``/openapi.json``.

Every body's schema is derived from its model in :mod:`sameday.serve.requests` (the models the
handlers build their answers as), so the document cannot drift from the code: change a model and
the document follows. What a model cannot say — which route takes which body and answers what —
is written here, and ``tests/serve/test_openapi.py`` fails when a route of the app is missing
from it. The fuzz test drives the server from this document.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from sameday._version import __version__
from sameday.serve import requests as models

MODELS: tuple[type, ...] = (
    models.RecommendRequest,
    models.BatchRequest,
    models.EventsRequest,
    models.Recommendation,
    models.BatchResponse,
    models.EventsAccepted,
    models.Status,
    models.Ready,
    models.Refreshed,
    models.Error,
)
"""The models the document names; the models they hold (``Item``, ``Event``, ...) come along."""
_REF = "#/components/schemas/{model}"


@cache
def schemas() -> dict[str, Any]:
    """``components.schemas``: each model's JSON Schema, by the model's name."""
    adapters: list[tuple[str, JsonSchemaMode, TypeAdapter[Any]]] = [
        (model.__name__, "validation", TypeAdapter(model)) for model in MODELS
    ]
    _, definitions = TypeAdapter.json_schemas(adapters, ref_template=_REF)
    found: dict[str, Any] = _untitled(definitions["$defs"])
    return dict(sorted(found.items()))


def _untitled(schema: Any) -> Any:
    """``schema`` without pydantic's ``title`` keywords (names the document already gives)."""
    if isinstance(schema, list):
        return [_untitled(part) for part in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "properties":
            out[key] = {name: _untitled(prop) for name, prop in value.items()}
        elif key != "title":
            out[key] = _untitled(value)
    return out


def _json(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": _REF.format(model=ref)}}}}


_FAILURES = {
    400: "Malformed input",
    401: "Missing or wrong API key",
    403: "Admin endpoints are off: serve.api_keys.admin is not set",
    404: "Unknown surface",
    408: "The body did not arrive in time (serve.body_timeout)",
    413: "The body is over the size cap (serve.max_body)",
    503: "Unavailable: resend",
}


def _responses(ok: dict[str, Any], *codes: int, **descriptions: str) -> dict[str, Any]:
    out: dict[str, Any] = {"200": {"description": "OK", **ok}}
    for code in codes:
        text = descriptions.get(f"on{code}", _FAILURES[code])
        out[str(code)] = {"description": text, **_json("Error")}
    return out


def openapi_spec(*, secured: bool = True) -> dict[str, Any]:
    """The OpenAPI document of the service; ``secured`` when API keys are configured."""
    components = copy.deepcopy(schemas())
    body = components["RecommendRequest"]["properties"]
    surface = {"name": "surface", "in": "path", "required": True, "schema": body["unit"]}
    recommend_params = [
        surface,
        {"name": "unit", "in": "query", "required": True, "schema": body["unit"]},
        {"name": "n", "in": "query", "schema": body["n"]},
        {
            "name": "exclude",
            "in": "query",
            "description": "Comma-separated item ids not to serve.",
            "schema": {"type": "string"},
        },
        {"name": "request_id", "in": "query", "schema": body["request_id"]},
    ]
    serving: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]
    recommendation = _json("Recommendation")
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
                    "security": serving,
                    "responses": _responses(recommendation, 400, 401, 404),
                },
                "post": {
                    "operationId": "recommendPost",
                    "parameters": [surface],
                    "security": serving,
                    "requestBody": {"required": True, **_json("RecommendRequest")},
                    "responses": _responses(recommendation, 400, 401, 404, 408, 413),
                },
            },
            "/v1/recommend/{surface}/batch": {
                "post": {
                    "operationId": "recommendBatch",
                    "parameters": [surface],
                    "security": serving,
                    "requestBody": {"required": True, **_json("BatchRequest")},
                    "responses": _responses(_json("BatchResponse"), 400, 401, 404, 408, 413),
                }
            },
            "/v1/events": {
                "post": {
                    "operationId": "postEvents",
                    "security": serving,
                    "requestBody": {"required": True, **_json("EventsRequest")},
                    "responses": _responses(
                        _json("EventsAccepted"),
                        400,
                        401,
                        408,
                        413,
                        503,
                        on503="Event log unavailable: resend",
                    ),
                }
            },
            "/v1/admin/refresh": {
                "post": {
                    "operationId": "refresh",
                    "description": "Reload the applied configuration and the live snapshots now "
                    "(a server does it every serve.refresh_interval anyway).",
                    "security": serving,
                    "responses": _responses(
                        _json("Refreshed"),
                        401,
                        403,
                        503,
                        on503="The configuration could not be read: the server keeps the one "
                        "it has",
                    ),
                }
            },
            "/healthz": {
                "get": {"operationId": "healthz", "responses": _responses(_json("Status"))}
            },
            "/readyz": {
                "get": {
                    "operationId": "readyz",
                    "responses": _responses(
                        _json("Ready"), 503, on503="No surface applied yet: run 'sameday apply'"
                    ),
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "description": "Prometheus metrics (text exposition format 0.0.4).",
                    "security": serving,
                    "responses": _responses(
                        {"content": {"text/plain": {"schema": {"type": "string"}}}}, 401
                    ),
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "description": "This document.",
                    "responses": _responses(
                        {"content": {"application/json": {"schema": {"type": "object"}}}}
                    ),
                }
            },
        },
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }
    if not secured:  # no key set: none is asked for (the admin endpoint stays closed: 403)
        for operations in spec["paths"].values():
            for operation in operations.values():
                operation.pop("security", None)
                operation["responses"].pop("401", None)
        del spec["components"]["securitySchemes"]
    return spec
