"""GrowthBook targeting conditions: a Mongo-like query over request attributes (spec 0.8.0).

``eval_condition`` is the reference interpreter, a line-by-line reading of GrowthBook's JS
``evalCondition`` with JS coercions (see ``_js``): string conditions compare ``String(value)``,
number conditions ``Number(value)``, order operators use JS's ``<`` (so a missing attribute counts
as ``0`` and ``"8" > 5``), ``$in`` uses ``Array.prototype.includes``. ``compile_condition`` (in
``compiled``) gives the same answers faster, for the serving path.

Behaviours worth knowing, all GrowthBook's own:

- a missing attribute is ``null``: ``{"x": null}`` matches it and ``{"x": {"$exists": false}}``
  too, ``{"x": {"$ne": 1}}`` matches it, and ``$regex`` tests the text ``"null"``;
- an array attribute makes ``$in``/``$nin`` test the intersection;
- ``$elemMatch`` skips falsy elements (``0``, ``""``, ``false``, ``null``);
- ``$inGroup`` with an unknown saved group matches nothing, ``$notInGroup`` everything;
- unknown operators and invalid regular expressions make the operator false;
- ``$or: []`` is true; malformed ``$or``/``$and`` arguments (not lists) are true, ``$nor`` false.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sameday.assign import _js
from sameday.assign._regex import compile_js_regex

__all__ = ["eval_condition", "get_path", "is_operator_object"]

ARRAY = _js.ARRAY
_EMPTY: Mapping[str, Any] = {}


def eval_condition(
    attributes: Mapping[str, Any],
    condition: Mapping[str, Any],
    saved_groups: Mapping[str, Any] | None = None,
) -> bool:
    """Whether ``attributes`` satisfy ``condition``, exactly as GrowthBook decides.

    Args:
        attributes: the request's attributes (JSON-shaped: nested dicts and lists allowed).
        condition: a GrowthBook condition; keys are dotted attribute paths or ``$or``, ``$nor``,
            ``$and``, ``$not``; values are literals or operator objects.
        saved_groups: saved group id → list of member values, for ``$inGroup``/``$notInGroup``.
    """
    return _eval(attributes, condition, saved_groups or _EMPTY)


def get_path(obj: Any, path: str) -> Any:
    """The value at a dotted path, or ``None`` when any step is missing (JS ``getPath``).

    Objects are entered by key; arrays by canonical index (``"0"``, ``"12"``) or ``"length"``.
    """
    current = obj
    for part in path.split("."):
        current = step(current, part)
        if current is None:
            return None
    return current


def step(current: Any, part: str) -> Any:
    """One step of :func:`get_path`."""
    if isinstance(current, Mapping):
        return current.get(part)
    if isinstance(current, ARRAY):
        if part == "length":
            return len(current)
        if part.isascii() and part.isdigit() and (part == "0" or part[0] != "0"):
            index = int(part)
            return current[index] if index < len(current) else None
    return None


def is_operator_object(value: Any) -> bool:
    """A non-empty object whose keys all start with ``$``: operators, not a literal to compare."""
    return (
        isinstance(value, Mapping)
        and len(value) > 0
        and all(isinstance(k, str) and k.startswith("$") for k in value)
    )


def _eval(obj: Any, condition: Mapping[str, Any], groups: Mapping[str, Any]) -> bool:
    for key, value in condition.items():
        if key == "$or":
            if not _any(obj, value, groups):
                return False
        elif key == "$nor":
            if _any(obj, value, groups):
                return False
        elif key == "$and":
            if isinstance(value, ARRAY) and not all(
                _eval(obj, _as_condition(c), groups) for c in value
            ):
                return False
        elif key == "$not":
            if _eval(obj, _as_condition(value), groups):
                return False
        elif not _eval_value(value, get_path(obj, key), groups):
            return False
    return True


def _as_condition(value: Any) -> Mapping[str, Any]:
    """A sub-condition; a non-object has no entries in JS, so it acts as the empty condition."""
    return value if isinstance(value, Mapping) else _EMPTY


def _any(obj: Any, conditions: Any, groups: Mapping[str, Any]) -> bool:
    """GrowthBook's ``evalOr``: true when empty (or not a list), else when any branch holds."""
    if not isinstance(conditions, ARRAY) or not conditions:
        return True
    return any(_eval(obj, _as_condition(c), groups) for c in conditions)


def _eval_value(
    condition: Any, value: Any, groups: Mapping[str, Any], insensitive: bool = False
) -> bool:
    """GrowthBook's ``evalConditionValue``: a literal comparison or a set of operators."""
    if isinstance(condition, str):
        if insensitive:
            return _js.to_string(value).lower() == condition.lower()
        return _js.to_string(value) == condition
    if isinstance(condition, bool):
        return value is not None and _js.truthy(value) is condition
    if isinstance(condition, int | float):
        return _js.to_number(value) == _js.to_float(condition)
    if condition is None:
        return value is None
    if not is_operator_object(condition):
        return _js.json_equal(value, condition)
    return all(_operator(op, value, expected, groups) for op, expected in condition.items())


def is_in(actual: Any, expected: Any, insensitive: bool = False) -> bool:
    """GrowthBook's ``isIn``: membership, or intersection when ``actual`` is an array."""
    if insensitive:
        folded = [_fold(e) for e in expected]
        if isinstance(actual, ARRAY):
            return any(_js.strict_equal(_fold(a), e) for a in actual for e in folded)
        return any(_js.strict_equal(_fold(actual), e) for e in folded)
    if isinstance(actual, ARRAY):
        return any(_js.includes(expected, a) for a in actual)
    return _js.includes(expected, actual)


def _fold(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def group_members(groups: Mapping[str, Any], group_id: Any) -> Any:
    """``savedGroups[id] || []``; a value that is not a list counts as an empty group."""
    members = groups.get(group_id if isinstance(group_id, str) else _js.to_string(group_id))
    return members if isinstance(members, ARRAY) else ()


def regex_matches(pattern: Any, value: Any, insensitive: bool) -> bool:
    """``getRegex(pattern).test(value)``: false for a non-string or invalid pattern."""
    if not isinstance(pattern, str):
        return False
    compiled = compile_js_regex(pattern, insensitive)
    return compiled is not None and compiled.search(_js.to_string(value)) is not None


def _is_in_all(actual: Any, expected: Any, groups: Mapping[str, Any], insensitive: bool) -> bool:
    if not isinstance(expected, ARRAY) or not isinstance(actual, ARRAY):
        return False
    return all(any(_eval_value(e, a, groups, insensitive) for a in actual) for e in expected)


def _elem_match(actual: Any, expected: Any, groups: Mapping[str, Any]) -> bool:
    if not isinstance(actual, ARRAY):
        return False
    if is_operator_object(expected):
        return any(_js.truthy(a) and _eval_value(expected, a, groups) for a in actual)
    condition = _as_condition(expected)
    return any(_js.truthy(a) and _eval(a, condition, groups) for a in actual)


def _operator(op: str, actual: Any, expected: Any, groups: Mapping[str, Any]) -> bool:
    """GrowthBook's ``evalOperatorCondition``; unknown operators are false."""
    if op in VERSION_TESTS:
        return VERSION_TESTS[op](_js.padded_version(actual), _js.padded_version(expected))
    if op == "$eq":
        return _js.strict_equal(actual, expected)
    if op == "$ne":
        return not _js.strict_equal(actual, expected)
    if op == "$lt":
        return _js.less_than(actual, expected) is True
    if op == "$lte":
        return _js.less_than(expected, actual) is False
    if op == "$gt":
        return _js.less_than(expected, actual) is True
    if op == "$gte":
        return _js.less_than(actual, expected) is False
    if op == "$exists":
        return (actual is not None) if _js.truthy(expected) else (actual is None)
    if op in ("$in", "$ini", "$nin", "$nini"):
        if not isinstance(expected, ARRAY):
            return False
        found = is_in(actual, expected, insensitive=op.endswith("i"))
        return found if op in ("$in", "$ini") else not found
    if op == "$inGroup":
        return is_in(actual, group_members(groups, expected))
    if op == "$notInGroup":
        return not is_in(actual, group_members(groups, expected))
    if op == "$not":
        return not _eval_value(expected, actual, groups)
    if op == "$size":
        return isinstance(actual, ARRAY) and _eval_value(expected, len(actual), groups)
    if op == "$elemMatch":
        return _elem_match(actual, expected, groups)
    if op in ("$all", "$alli"):
        return _is_in_all(actual, expected, groups, insensitive=op == "$alli")
    if op in ("$regex", "$regexi"):
        return regex_matches(expected, actual, insensitive=op == "$regexi")
    if op == "$type":
        return bool(_js.type_of(actual) == expected)
    return False


def version_less(a: str, b: str) -> bool:
    """Order of two padded version strings (JS string order)."""
    return _js.utf16_less(a, b)


VERSION_TESTS: dict[str, Callable[[str, str], bool]] = {
    "$veq": lambda a, b: a == b,
    "$vne": lambda a, b: a != b,
    "$vgt": lambda a, b: version_less(b, a),
    "$vgte": lambda a, b: not version_less(a, b),
    "$vlt": lambda a, b: version_less(a, b),
    "$vlte": lambda a, b: not version_less(b, a),
}
