"""``${VAR}`` environment interpolation, so secrets never sit in YAML.

``${VAR}`` is replaced by the variable's value; ``${VAR:-fallback}`` uses ``fallback`` when
the variable is unset or empty; ``$${`` writes a literal ``${``. A missing variable without a
fallback is a located error, not an empty string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sameday.config._yaml import Located, PathKey
from sameday.errors import Problem

_PATTERN = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(located: Located, environ: Mapping[str, str]) -> list[Problem]:
    """Replace ``${VAR}`` in every string of ``located.value`` in place; return what was missing."""
    problems: list[Problem] = []

    def substitute(text: str, path: PathKey) -> str:
        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            name, fallback = match.group(1), match.group(2)
            value = environ.get(name)
            if value:
                return value
            if fallback is not None:
                return fallback
            problems.append(
                located.problem(
                    path,
                    f"environment variable {name} is not set: export it, or write "
                    f"${{{name}:-default}} to give a default",
                )
            )
            return ""

        return _PATTERN.sub(replace, text)

    def walk(value: Any, path: PathKey) -> Any:
        if isinstance(value, str):
            return substitute(value, path) if "$" in value else value
        if isinstance(value, dict):
            for key in list(value):
                value[key] = walk(value[key], (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                value[index] = walk(item, (*path, index))
        return value

    located.value = walk(located.value, ())
    return problems


def variables(text: str) -> list[tuple[str, str | None]]:
    """``(name, fallback)`` of each ``${VAR}`` (fallback ``None``) or ``${VAR:-fallback}`` in
    ``text``, in order; ``$${`` escapes are skipped."""
    return [(m.group(1), m.group(2)) for m in _PATTERN.finditer(text) if m.group(1)]
