"""YAML reading that remembers where every node came from.

PyYAML's composer keeps a start mark on every node; we build plain Python values from the node tree
and keep a map from each value's path (a tuple of keys and indexes) to its 1-based line and column.
Validation errors are then reported at the offending node instead of at the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sameday.errors import Problem

PathKey = tuple[str | int, ...]


@dataclass
class Located:
    """A YAML document's value, with the position of each node and of each mapping key."""

    value: Any
    file: Path
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    templates: dict[PathKey, str] = field(default_factory=dict)
    """The text as written of each value ``${VAR}`` interpolation changed: errors show it."""

    def position(self, path: PathKey, *, key: bool = False) -> tuple[int | None, int | None]:
        """Line and column of the node at ``path``, or of its nearest located ancestor."""
        table = self.key_positions if key else self.positions
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if key:
                table = self.positions
                continue
            probe = probe[:-1]
        return self.positions.get((), (None, None))

    def problem(self, path: PathKey, message: str, *, key: bool = False) -> Problem:
        """A ``Problem`` located at ``path`` (at the key itself when ``key`` is true)."""
        line, column = self.position(path, key=key)
        return Problem(self.file, line, column, message, field=dotted(path) or None)


def dotted(path: PathKey) -> str:
    """``('jobs', 0, 'command')`` → ``jobs[0].command``: how users read a location."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


class _Loader(yaml.SafeLoader):
    """SafeLoader without the YAML 1.1 surprises that bite config files (``on``/``no`` as bools)."""


# YAML 1.1 reads `no`, `off`, `y` as booleans; users writing `country: no` mean a string.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# YAML 1.1 also reads `23:30` as the base-60 number 1410; a time of day (a pipeline's deadline)
# must stay the text it looks like, as YAML 1.2 and editors read it.
_SEXAGESIMAL = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def _no_colon(regexp: re.Pattern[str]) -> re.Pattern[str]:
    """``regexp``, refusing any value with a colon."""
    return re.compile("(?!.*:)" + regexp.pattern, regexp.flags)


_Loader.yaml_implicit_resolvers = {
    first: [
        (
            tag,
            _no_colon(regexp) if tag in _SEXAGESIMAL else regexp,
        )
        for tag, regexp in resolvers
    ]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def read_yaml(file: Path, text: str | None = None) -> Located:
    """Parse one YAML document from ``file``.

    Raises:
        yaml.YAMLError: on a syntax error; its ``problem_mark`` locates it.
    """
    if text is None:
        text = file.read_text(encoding="utf-8")
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        located = Located(value=None, file=file)
        if node is not None:
            located.value = _build(loader, node, (), located)
        return located
    finally:
        loader.dispose()


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _build(loader: _Loader, node: yaml.Node, path: PathKey, located: Located) -> Any:
    located.positions[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, int | float | bool) or key is None:
                key = str(key).lower() if isinstance(key, bool) or key is None else str(key)
            if key in result:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            child = (*path, key)
            located.key_positions[child] = _mark(key_node)
            result[key] = _build(loader, value_node, child, located)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(loader, item, (*path, index), located) for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def yaml_error_problem(file: Path, exc: yaml.YAMLError) -> Problem:
    """Turn a PyYAML error into a located, readable ``Problem``."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    return Problem(file, line, column, message)
