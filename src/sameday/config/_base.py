"""Building blocks shared by every project-file model: strictness, names and durations.

The modules that define models do not write ``from __future__ import annotations``: pydantic
would turn every annotation, kept as a string, back into a type as it creates each class
(``ForwardRef`` compiles and evaluates it), ~8 ms of every command that loads a project. Python
evaluates the annotations itself instead, so a method returning its own class names it in quotes
(``-> "Experiment"``). ``tests/config/test_base.py`` checks it.
"""

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


class StrictModel(BaseModel):
    """Base of every project-file model: unknown keys are errors and values are immutable.

    Types are strict, as the JSON Schema is: ``n: "5"`` is a string and ``fail_fast: 1`` a
    number, not silently coerced, so an editor using the schema and ``sameday validate`` give
    the same verdict (``tests/config/test_schema_agreement.py`` keeps them in step).
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, strict=True, defer_build=True
    )


def empty_list() -> list[Any]:
    """``[]``: the default factory of list fields, in place of ``list``.

    Pydantic inspects every default factory's signature when it builds a model's schema, and
    ``inspect.signature(list)`` parses the text signature of a builtin with the tokenizer (its
    first use compiles a large pattern): ~4 ms of ``load_project``, on every command. A Python
    function's signature costs microseconds. ``tests/config/test_base.py`` keeps ``list`` out.
    """
    return []


def parse_duration(value: Any) -> Any:
    """Read ``90``, ``"90s"``, ``"15m"``, ``"2h"``, ``"1d"`` or ``"500ms"`` as seconds.

    Anything else is passed on unchanged so pydantic reports it with its usual wording.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(
                f"{value!r} is not a duration: write a number of seconds or a number with a unit "
                "(500ms, 30s, 15m, 2h, 1d, 1w)"
            )
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    return value


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    Field(ge=0),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d|w)?\s*$"},
            ],
            "description": "Seconds, or a number with a unit: 500ms, 30s, 15m, 2h, 1d, 1w.",
        }
    ),
]
"""A length of time in seconds, written as a number or with a unit."""

PositiveDuration = Annotated[
    float,
    BeforeValidator(parse_duration),
    Field(gt=0),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                # The lookahead asks for a non-zero digit: "0s" and "0.0" are refused.
                {
                    "type": "string",
                    "pattern": r"^\s*(?=[\d.]*[1-9])\d+(\.\d+)?\s*(ms|s|m|h|d|w)?\s*$",
                },
            ],
            "description": "More than zero seconds, or a number with a unit: 500ms, 30s, 15m, 2h.",
        }
    ),
]
"""A length of time that must be more than zero."""

NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
Name = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN,
        description="Lower-case letters, digits and '-', at most 63 characters, starting and "
        "ending with a letter or digit (what Kubernetes and Argo accept).",
    ),
]
"""A name that is valid everywhere it travels: URLs, Redis keys, Argo templates."""

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
Key = Annotated[
    str,
    Field(
        pattern=KEY_PATTERN,
        description="Letters, digits, '_', '.', '-', at most 128 characters.",
    ),
]
"""A looser identifier for things that never become Kubernetes objects (metrics, arms, events)."""
