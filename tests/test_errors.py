"""The error tree drawn in ``sameday.errors`` is the tree of classes; every error lives there."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import sameday
from sameday import errors
from sameday.errors import SamedayError

# "├── Name (Builtin)   why" -> (depth, name); the box-drawing prefix is 5 characters a level
_ENTRY = re.compile(r"^    (?P<indent>[ │]*)[├└]── (?P<name>\w+)")


def _drawn_parents() -> dict[str, str]:
    """Each class named in the docstring drawing, mapped to the class drawn above it."""
    doc = errors.__doc__ or ""
    parents: dict[str, str] = {}
    stack = ["SamedayError"]
    for line in doc.splitlines():
        match = _ENTRY.match(line)
        if match is None:
            continue
        depth = len(match["indent"]) // 5 + 1
        del stack[depth:]
        parents[match["name"]] = stack[-1]
        stack.append(match["name"])
    return parents


def _all_sameday_errors() -> set[type[BaseException]]:
    """Every subclass of ``SamedayError`` defined in the package, after importing every module."""
    for module in pkgutil.walk_packages(sameday.__path__, "sameday."):
        if ".scaffold.template" in module.name or module.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(module.name)
        except ImportError as exc:  # an optional extra that is not installed
            pytest.skip(f"cannot import {module.name}: {exc}")
    found: set[type[BaseException]] = set()
    todo: list[type[BaseException]] = [SamedayError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("sameday") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_every_error_is_defined_in_sameday_errors() -> None:
    elsewhere = sorted(
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in _all_sameday_errors()
        if cls.__module__ != "sameday.errors"
    )
    assert elsewhere == []


def test_the_drawing_matches_the_classes() -> None:
    drawn = _drawn_parents()
    actual = {
        cls.__name__: next(b.__name__ for b in cls.__bases__ if issubclass(b, SamedayError))
        for cls in _all_sameday_errors()
    }
    assert drawn == actual


def test_the_drawing_names_the_builtin_each_error_also_is() -> None:
    doc = errors.__doc__ or ""
    for cls in _all_sameday_errors():
        builtins = [b.__name__ for b in cls.__bases__ if not issubclass(b, SamedayError)]
        line = next(line for line in doc.splitlines() if re.search(rf"── {cls.__name__}\b", line))
        for name in builtins:
            assert f"({name})" in line, f"{cls.__name__} is also a {name}: say so in the drawing"


def test_every_error_is_importable_from_sameday_errors() -> None:
    for cls in _all_sameday_errors():
        assert getattr(errors, cls.__name__) is cls
