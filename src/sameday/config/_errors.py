"""Turn pydantic validation errors into located, actionable ``Problem`` lines."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from sameday.config.interpolate import conceal
from sameday.config.located_yaml import Located, PathKey
from sameday.errors import Problem

_SCALAR_TYPES = {"int_type", "float_type", "bool_type"}


def problems_from_validation(
    located: Located, model: type[BaseModel], exc: ValidationError
) -> list[Problem]:
    """One ``Problem`` per pydantic error, placed at the YAML node it is about."""
    schema = model.model_json_schema()
    problems = []
    for error in exc.errors(include_url=False):
        path = _data_path(located.value, error["loc"])
        kind = error["type"]
        if kind == "extra_forbidden":
            key = str(path[-1]) if path else "?"
            allowed = sorted(_allowed_keys(schema, path[:-1]))
            message = f"unknown key {key!r}"
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            if close:
                message += f"; did you mean {close[0]!r}?"
            elif allowed:
                message += f"; expected one of: {', '.join(allowed)}"
            problems.append(located.problem(path, message, key=True))
        elif kind == "missing":
            missing = error["loc"][-1]
            problems.append(located.problem(path[:-1], f"missing required key {missing!r}"))
        else:
            message = str(error["msg"])
            if message.startswith("Value error, "):
                message = message[len("Value error, ") :]
            given = error.get("input")
            if kind not in {"value_error", "assertion_error"} and not isinstance(
                given, dict | list
            ):
                message += f" (got {located.templates.get(path, given)!r})"
            if kind in _SCALAR_TYPES and isinstance(given, str):
                # Types are strict (as in the JSON Schema): "5" is text, not a number.
                message += ": write numbers and true/false without quotes"
            problems.append(located.problem(path, conceal(located, path, message, given)))
    return problems


def _data_path(data: Any, loc: tuple[Any, ...]) -> PathKey:
    """Follow pydantic's ``loc`` through the data, dropping union tags and validator names."""
    path: list[str | int] = []
    current = data
    for part in loc:
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and part == loc[-1]:
            path.append(part)  # a missing or unknown key: the last element names it
            current = None
    return tuple(path)


def _allowed_keys(schema: dict[str, Any], path: PathKey) -> set[str]:
    """Property names the JSON Schema allows for the mapping at ``path``."""
    defs = schema.get("$defs", {})
    nodes = [schema]
    for part in path:
        following: list[dict[str, Any]] = []
        for node in _expand(nodes, defs):
            if isinstance(part, int):
                items = node.get("items") or node.get("prefixItems")
                if isinstance(items, dict):
                    following.append(items)
                elif isinstance(items, list):
                    following.extend(items)
            else:
                properties = node.get("properties", {})
                if part in properties:
                    following.append(properties[part])
                elif isinstance(node.get("additionalProperties"), dict):
                    following.append(node["additionalProperties"])
        nodes = following
    keys: set[str] = set()
    for node in _expand(nodes, defs):
        keys.update(node.get("properties", {}))
    return keys


def _expand(nodes: list[dict[str, Any]], defs: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if "$ref" in node:
            stack.append(defs.get(node["$ref"].rsplit("/", 1)[-1], {}))
            continue
        for combinator in ("anyOf", "oneOf", "allOf"):
            stack.extend(node.get(combinator, []))
        out.append(node)
    return out
