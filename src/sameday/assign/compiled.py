"""Targeting conditions compiled once into closures, for the serving path.

``compile_condition(condition)`` walks the condition once and returns a function of the
attributes. Every decision that depends only on the condition is taken up front: paths are split,
regular expressions compiled, version strings padded, string lists turned into frozensets, saved
groups looked up, operators dispatched. Per request only the attribute side is left to do.

The result is the same as :func:`sameday.assign.conditions.eval_condition` on every input; the
tests check that on GrowthBook's conformance cases and on generated conditions. Compile again
when the condition or the saved groups change: the closures keep what they saw at compile time.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from sameday.assign import _js
from sameday.assign._regex import compile_js_regex
from sameday.assign.conditions import (
    VERSION_TESTS,
    group_members,
    is_in,
    is_operator_object,
    step,
)

__all__ = ["Matcher", "compile_condition"]

Matcher = Callable[[Any], bool]
"""A compiled test of one value (an attribute value, or the whole attributes object)."""

ARRAY = _js.ARRAY
_SAFE_INT = 2**53


def _always(_: Any) -> bool:
    return True


def _never(_: Any) -> bool:
    return False


def compile_condition(
    condition: Mapping[str, Any], saved_groups: Mapping[str, Any] | None = None
) -> Callable[[Mapping[str, Any]], bool]:
    """A function ``attributes -> bool`` equivalent to ``eval_condition(attributes, condition,
    saved_groups)``, built once so that each call does only the per-request work."""
    return _compile(condition, saved_groups or {})


def _all_of(checks: list[Matcher]) -> Matcher:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)

    def every(value: Any) -> bool:
        return all(check(value) for check in checks)

    return every


def _compile(condition: Any, groups: Mapping[str, Any]) -> Matcher:
    """Compile a condition object (a non-object acts as the empty condition, as in JS)."""
    if not isinstance(condition, Mapping):
        return _always
    return _all_of([_compile_entry(k, v, groups) for k, v in condition.items()])


def _compile_entry(key: str, value: Any, groups: Mapping[str, Any]) -> Matcher:
    if key in ("$or", "$nor"):
        if not isinstance(value, ARRAY) or not value:
            return _always if key == "$or" else _never
        branches = [_compile(c, groups) for c in value]
        if key == "$or":
            return lambda obj: any(branch(obj) for branch in branches)
        return lambda obj: not any(branch(obj) for branch in branches)
    if key == "$and":
        if not isinstance(value, ARRAY):
            return _always
        return _all_of([_compile(c, groups) for c in value])
    if key == "$not":
        inner = _compile(value, groups)
        return lambda obj: not inner(obj)
    return _on_path(key, _compile_value(value, groups))


def _on_path(path: str, test: Matcher) -> Matcher:
    """Apply ``test`` to the value at ``path``; plain dicts take a fast lane."""
    parts = path.split(".")
    if len(parts) == 1:

        def at_key(obj: Any) -> bool:
            if type(obj) is dict:
                return test(obj.get(path))
            return test(step(obj, path))

        return at_key

    def at_path(obj: Any) -> bool:
        current = obj
        for part in parts:
            current = current.get(part) if type(current) is dict else step(current, part)
            if current is None:
                break
        return test(current)

    return at_path


def _compile_value(condition: Any, groups: Mapping[str, Any], insensitive: bool = False) -> Matcher:
    """Compile GrowthBook's ``evalConditionValue`` for one condition value."""
    if isinstance(condition, str):
        if insensitive:
            lowered = condition.lower()
            return lambda v: _js.to_string(v).lower() == lowered
        return lambda v: (v == condition) if type(v) is str else _js.to_string(v) == condition
    if isinstance(condition, bool):
        return lambda v: v is not None and _js.truthy(v) is condition
    if isinstance(condition, int | float):
        number = _js.to_float(condition)
        return lambda v: (v == number) if type(v) is float else _js.to_number(v) == number
    if condition is None:
        return lambda v: v is None
    if not is_operator_object(condition):
        return lambda v: _js.json_equal(v, condition)
    return _all_of([_compile_operator(op, exp, groups) for op, exp in condition.items()])


# For each order operator: the Python operator, whether JS evaluates IsLessThan with swapped
# operands, and which IsLessThan result makes the operator true (undefined never does).
_ORDER: dict[str, tuple[Callable[[Any, Any], bool], bool, bool]] = {
    "$lt": (operator.lt, False, True),
    "$lte": (operator.le, True, False),
    "$gt": (operator.gt, True, True),
    "$gte": (operator.ge, False, False),
}


def _compile_order(op: str, expected: Any) -> Matcher:
    python_op, swapped, wanted = _ORDER[op]

    def generic(v: Any) -> bool:
        result = _js.less_than(expected, v) if swapped else _js.less_than(v, expected)
        return result is wanted

    if _js.is_number(expected):
        bound = _js.to_float(expected)

        def numeric(v: Any) -> bool:
            kind = type(v)
            if kind is float or (kind is int and -_SAFE_INT <= v <= _SAFE_INT):
                return python_op(v, bound)
            return generic(v)

        return numeric
    if isinstance(expected, str) and expected.isascii():

        def textual(v: Any) -> bool:
            if type(v) is str and v.isascii():
                return python_op(v, expected)
            return generic(v)

        return textual
    return generic


def _membership(expected: Any, insensitive: bool) -> Matcher:
    """``isIn(actual, expected)``; a list of strings becomes a frozenset lookup."""
    if not all(isinstance(e, str) for e in expected):
        return lambda v: is_in(v, expected, insensitive)
    if insensitive:
        folded = frozenset(e.lower() for e in expected)

        def in_folded(v: Any) -> bool:
            if isinstance(v, str):
                return v.lower() in folded
            if isinstance(v, ARRAY):
                return any(isinstance(x, str) and x.lower() in folded for x in v)
            return False

        return in_folded
    members = frozenset(expected)

    def in_members(v: Any) -> bool:
        if isinstance(v, str):
            return v in members
        if isinstance(v, ARRAY):
            return any(isinstance(x, str) and x in members for x in v)
        return False

    return in_members


def _compile_operator(op: str, expected: Any, groups: Mapping[str, Any]) -> Matcher:
    """Compile GrowthBook's ``evalOperatorCondition`` for one operator; unknown ones are false."""
    if op in VERSION_TESTS:
        version_test, padded = VERSION_TESTS[op], _js.padded_version(expected)
        return lambda v: version_test(_js.padded_version(v), padded)
    if op in ("$eq", "$ne"):
        negate = op == "$ne"
        if isinstance(expected, str):
            return lambda v: (isinstance(v, str) and v == expected) is not negate
        return lambda v: _js.strict_equal(v, expected) is not negate
    if op in _ORDER:
        return _compile_order(op, expected)
    if op == "$exists":
        return (lambda v: v is not None) if _js.truthy(expected) else (lambda v: v is None)
    if op in ("$in", "$ini", "$nin", "$nini"):
        if not isinstance(expected, ARRAY):
            return _never
        found = _membership(expected, insensitive=op.endswith("i"))
        return found if op in ("$in", "$ini") else (lambda v: not found(v))
    if op in ("$inGroup", "$notInGroup"):
        in_group = _membership(group_members(groups, expected), insensitive=False)
        return in_group if op == "$inGroup" else (lambda v: not in_group(v))
    if op == "$not":
        negated = _compile_value(expected, groups)
        return lambda v: not negated(v)
    if op == "$size":
        size_test = _compile_value(expected, groups)
        return lambda v: isinstance(v, ARRAY) and size_test(len(v))
    if op == "$elemMatch":
        if is_operator_object(expected):
            element = _compile_value(expected, groups)
        else:
            element = _compile(expected, groups)
        return lambda v: isinstance(v, ARRAY) and any(_js.truthy(x) and element(x) for x in v)
    if op in ("$all", "$alli"):
        if not isinstance(expected, ARRAY):
            return _never
        wanted = [_compile_value(e, groups, insensitive=op == "$alli") for e in expected]
        return lambda v: isinstance(v, ARRAY) and all(any(w(x) for x in v) for w in wanted)
    if op in ("$regex", "$regexi"):
        pattern = compile_js_regex(expected, op == "$regexi") if isinstance(expected, str) else None
        if pattern is None:
            return _never
        return lambda v: pattern.search(v if type(v) is str else _js.to_string(v)) is not None
    if op == "$type":
        return lambda v: _js.type_of(v) == expected
    return _never
