"""``${VAR}`` environment interpolation, so secrets never sit in YAML.

``${VAR}`` is replaced by the variable's value; ``${VAR:-fallback}`` uses ``fallback`` when
the variable is unset or empty; ``$${`` writes a literal ``${``. A missing variable without a
fallback is a located error, not an empty string.

Interpolated values are often secrets, so error messages never show them: the text as written
(``${DB_PASSWORD}``) is kept in ``Located.templates`` and :func:`conceal` puts it back in place
of the value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sameday.config.located_yaml import Located, PathKey
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
        if isinstance(value, str) and "$" in value:
            result = substitute(value, path)
            if result != value:
                located.templates[path] = value
            return result
        if isinstance(value, dict):
            for key in list(value):
                value[key] = walk(value[key], (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                value[index] = walk(item, (*path, index))
        return value

    located.value = walk(located.value, ())
    return problems


def conceal(located: Located, path: PathKey, message: str, value: Any) -> str:
    """``message`` about the node at ``path`` with its interpolated ``value`` replaced by the
    text as written, so a validation error never shows what came from the environment.

    Values shorter than four characters are left alone: replacing them would garble ordinary
    words, and the ``(got …)`` part of a message is built from ``located.templates`` instead.
    """
    template = located.templates.get(path)
    if template is None or not isinstance(value, str) or len(value) < 4:
        return message
    return message.replace(value, template)


def variables(text: str) -> list[tuple[str, str | None]]:
    """``(name, fallback)`` of each ``${VAR}`` (fallback ``None``) or ``${VAR:-fallback}`` in
    ``text``, in order; ``$${`` escapes are skipped."""
    return [(m.group(1), m.group(2)) for m in _PATTERN.finditer(text) if m.group(1)]
