"""The JSON Schema and the loader agree, field by field, on a generated set of inputs.

For every field the schema of each file kind describes (nested ones too), the test puts each of
a set of candidate values (wrong types, bounds, shorthand forms, patterns) into a valid document
and asks both: the schema (as an editor or CI would) and the loader's model. They must agree,
with one exception: rules between fields or beyond what JSON Schema can say (weights summing to
1, a cron expression's ranges) are the loader's alone, and are listed here by their message.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from sameday.config.loader import KINDS, validate_document
from sameday.config.project import ProjectSettings
from sameday.config.schema import schemas

MODELS: dict[str, type[BaseModel]] = {"project": ProjectSettings}
MODELS.update({kind.name: kind.model for kind in KINDS})

BASES: dict[str, dict[str, Any]] = {
    "project": {"name": "p"},
    "pipeline": {"jobs": [{"name": "a", "command": "true"}]},
    "result_set": {"source": {"path": "x.csv"}},
    "surface": {"result_set": "r"},
    "experiment": {
        "surface": "home",
        "arms": [{"name": "a", "result_set": "x"}, {"name": "b", "result_set": "y"}],
    },
    "metric": {"type": "proportion", "event": "click"},
    "monitor": {},
    "notifier": {"slack": {"url": "https://hooks.slack.test/x"}},
}

CANDIDATES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    2,
    -1,
    0.0,
    0.5,
    1.5,
    52,
    1000,
    100_000,
    "",
    "x",
    "5",
    "0.5",
    "true",
    "ab",
    "a-b",
    "A_b",
    "5s",
    "0s",
    "500ms",
    "-1s",
    "1.5h",
    "soon",
    "0 3 * * *",
    "@daily",
    "UTC",
    "sqlite:///x.db",
    "a" * 53,
    "a" * 64,
    [],
    ["x"],
    ["a", "b"],
    [0, 1],
    [0.5, 0.2],
    [0.5, 1.0],
    {},
    {"limit": 1},
    {"x": 1},
    {"name": "l"},
]

LOADER_ONLY = (
    # Rules JSON Schema cannot express: between fields, over a list, or a language of its own.
    "arm names must be unique",
    "give a weight to every arm or to none",
    "arm weights must sum to 1",
    "arm weights apply to design 'ab' only",
    "'interleave' settings need design: interleave",
    "'bandit' settings need design: bandit",
    "balanced interleaving compares exactly two arms",
    "a concluded experiment names its 'winner' arm",
    "is not an arm (",
    "range must be [start, end) with 0 <= start < end <= 1",
    "a ratio metric needs",
    "a ratio metric takes",
    "metric needs 'event'",
    "'numerator' and 'denominator' are only for ratio metrics",
    "give exactly one of 'path' or 'query'",
    "is not a cron shortcut",
    "fields; a cron expression has five",
    "field; a cron expression has five",
    "unknown timezone",
    "give exactly one of 'slack', 'webhook' or 'email'",
    "give both 'username' and 'password' to log in, or neither",
    "would send the password in clear",
    "give exactly one of 'path' (files) or 'table' (with 'url')",
    "a table needs 'url'",
    "'url' goes with 'table'",
    "checks.max_age needs time_column",
    "health.max_harm names metrics the experiment does not list",
    "give 'model' or 'python', not both",
    "only with a scorer",
)


def loader_only(message: str) -> bool:
    return bool(message) and any(rule in message for rule in LOADER_ONLY)


def resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    return node


def objects(node: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    """The object schemas a node may be (through anyOf and $ref)."""
    node = resolve(node, defs)
    found = [node] if node.get("type") == "object" else []
    for option in node.get("anyOf", []):
        found += objects(option, defs)
    return found


def arrays(node: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    node = resolve(node, defs)
    found = [node] if node.get("type") == "array" else []
    for option in node.get("anyOf", []):
        found += arrays(option, defs)
    return found


def paths(
    node: dict[str, Any], defs: dict[str, Any], prefix: tuple[str | int, ...] = (), depth: int = 0
) -> Iterator[tuple[str | int, ...]]:
    """Every field path the schema describes, lists entered at index 0, maps at key 'k'."""
    if depth > 5:
        return
    for obj in objects(node, defs):
        for key, child in obj.get("properties", {}).items():
            yield (*prefix, key)
            yield from paths(child, defs, (*prefix, key), depth + 1)
        values = [obj.get("additionalProperties"), *obj.get("patternProperties", {}).values()]
        for extra in values:
            if isinstance(extra, dict):
                yield (*prefix, "k")
                yield (*prefix, "bad key!")  # a key the map's key pattern may refuse
                yield from paths(extra, defs, (*prefix, "k"), depth + 1)
    for array in arrays(node, defs):
        items = array.get("items")
        if isinstance(items, dict):
            yield (*prefix, 0)
            yield from paths(items, defs, (*prefix, 0), depth + 1)


def put(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """``document`` with ``value`` at ``path``, creating what is missing on the way."""
    document = copy.deepcopy(document)
    current = document
    for part, following in itertools.pairwise(path):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(part, int):
            if not current:
                current.append(empty)
            current = current[part]
        else:
            if not isinstance(current.get(part), dict | list):
                current[part] = empty
            current = current[part]
    last = path[-1]
    if isinstance(last, int):
        if current:
            current[last] = value
        else:
            current.append(value)
    else:
        current[last] = value
    return document


def loader_verdict(kind: str, document: dict[str, Any]) -> list[str] | None:
    """None when the loader accepts the document, else its messages (custom rules only)."""
    data = dict(document)
    if kind != "project":
        data.setdefault("name", "stem")
    try:
        validate_document(MODELS[kind], data)
    except ValidationError as exc:
        return [
            str(e["msg"]).removeprefix("Value error, ") if e["type"] == "value_error" else ""
            for e in exc.errors()
        ]
    return None


def disagreements(kind: str) -> list[str]:
    schema = schemas()[kind]
    defs = schema.get("$defs", {})
    validator = jsonschema.Draft202012Validator(schema)
    found = []
    for path in sorted(set(paths(schema, defs)), key=str):
        for value in CANDIDATES:
            document = put(BASES[kind], path, value)
            schema_ok = validator.is_valid(document)
            messages = loader_verdict(kind, document)
            if schema_ok == (messages is None):
                continue
            if schema_ok and messages and all(loader_only(m) for m in messages):
                continue
            side = "schema" if schema_ok else "loader"
            found.append(f"{kind} {path} = {value!r}: only the {side} accepts it {messages}")
    return found


@pytest.mark.parametrize("kind", list(MODELS))
def test_schema_and_loader_agree_on_every_field(kind: str) -> None:
    found = disagreements(kind)
    assert not found, "\n".join(found[:40]) + f"\n({len(found)} in all)"


@pytest.mark.parametrize("kind", list(MODELS))
def test_the_bases_are_valid_for_both(kind: str) -> None:
    assert jsonschema.Draft202012Validator(schemas()[kind]).is_valid(BASES[kind])
    assert loader_verdict(kind, BASES[kind]) is None


def test_the_walk_reaches_nested_fields() -> None:
    schema = schemas()["pipeline"]
    found = set(paths(schema, schema["$defs"]))
    assert ("jobs", 0, "retries", "backoff", "delay") in found
    assert ("params", "k", "default") in found
    assert ("schedule", "cron") in found
