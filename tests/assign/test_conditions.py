"""JS semantics the conformance suite does not pin, checked on both evaluators.

Each row is what GrowthBook's reference (JavaScript) SDK answers; the comment says why.
"""

from __future__ import annotations

from typing import Any

import pytest

from sameday.assign import compile_condition, eval_condition
from sameday.assign._regex import compile_js_regex
from sameday.assign.conditions import get_path

JS_SEMANTICS: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    # Number conditions compare Number(value).
    ("number vs numeric string", {"n": 1}, {"n": " 1.0 "}, True),
    ("number vs hex string", {"n": 31}, {"n": "0x1f"}, True),
    ("number vs true", {"n": 1}, {"n": True}, True),
    ("number vs one-element array", {"n": 5}, {"n": [5]}, True),
    ("number vs word", {"n": 0}, {"n": "zero"}, False),
    ("number vs missing", {"n": 0}, {}, True),
    # String conditions compare String(value).
    ("string vs float", {"s": "1"}, {"s": 1.0}, True),
    ("string vs bool", {"s": "true"}, {"s": True}, True),
    ("string vs array", {"s": "a,b"}, {"s": ["a", "b"]}, True),
    ("string 'null' vs missing", {"s": "null"}, {}, True),
    ("string vs big float", {"s": "1e+21"}, {"s": 1e21}, True),
    # Literal objects compare as JSON text: key order matters, 1.0 is 1.
    ("object key order", {"o": {"a": 1, "b": 2}}, {"o": {"b": 2, "a": 1}}, False),
    ("object float vs int", {"o": {"a": 1, "b": [2]}}, {"o": {"a": 1.0, "b": [2.0]}}, True),
    ("object integer keys first", {"o": {"1": 0, "a": 0}}, {"o": {"a": 0, "1": 0}}, True),
    # $eq is ===: types must match, arrays never equal a fresh array.
    ("$eq array", {"x": {"$eq": [1]}}, {"x": [1]}, False),
    ("$eq int float", {"x": {"$eq": 2}}, {"x": 2.0}, True),
    ("$eq bool int", {"x": {"$eq": 1}}, {"x": True}, False),
    ("$ne missing", {"x": {"$ne": 1}}, {}, True),
    # Order operators use JS's < with its coercions.
    ("$lt NaN", {"x": {"$lt": 5}}, {"x": "abc"}, False),
    ("$gte NaN", {"x": {"$gte": 5}}, {"x": "abc"}, False),
    ("$gte missing is 0", {"x": {"$gte": 0}}, {}, True),
    ("$lt array as string", {"x": {"$lt": "b"}}, {"x": ["a"]}, True),
    ("$gt UTF-16 order", {"x": {"$gt": "\uffff"}}, {"x": "\U0001f600"}, False),
    ("$lt UTF-16 order", {"x": {"$lt": "\uffff"}}, {"x": "\U0001f600"}, True),
    ("$lte bool", {"x": {"$lte": 1}}, {"x": True}, True),
    ("$gt object", {"x": {"$gt": 0}}, {"x": {"a": 1}}, False),
    # Membership is Array.prototype.includes: strict types.
    ("$in bool vs 1", {"x": {"$in": [1]}}, {"x": True}, False),
    ("$in float vs int", {"x": {"$in": [1]}}, {"x": 1.0}, True),
    ("$in mixed list", {"x": {"$in": ["1", 2, None]}}, {}, True),
    ("$nin not list", {"x": {"$nin": "abc"}}, {"x": "z"}, False),
    ("$ini non-string", {"x": {"$ini": ["A", 3]}}, {"x": 3}, True),
    ("$all empty", {"x": {"$all": []}}, {"x": []}, True),
    ("$alli number condition coerces", {"x": {"$alli": [1]}}, {"x": ["1"]}, True),
    # $elemMatch skips falsy elements.
    ("$elemMatch skips 0", {"x": {"$elemMatch": {"$eq": 0}}}, {"x": [0]}, False),
    ("$elemMatch skips empty string", {"x": {"$elemMatch": {"$eq": ""}}}, {"x": [""]}, False),
    ("$elemMatch object", {"x": {"$elemMatch": {"a": 2}}}, {"x": [{"a": 1}, {"a": 2}]}, True),
    # $exists takes any truthy value; $type knows JS types.
    ("$exists 1", {"x": {"$exists": 1}}, {"x": 0}, True),
    ("$exists 0", {"x": {"$exists": 0}}, {"x": 0}, False),
    ("$type number float", {"x": {"$type": "number"}}, {"x": 1.5}, True),
    ("$type boolean not number", {"x": {"$type": "number"}}, {"x": False}, False),
    # Versions.
    ("$veq number", {"v": {"$veq": "1"}}, {"v": 1}, True),
    ("$vgt non-string is 0", {"v": {"$vgt": "0.0.1"}}, {"v": None}, False),
    ("$vlt missing", {"v": {"$vlt": "1.0.0"}}, {}, True),
    # Paths: array indexes and length, nothing through strings.
    ("path index", {"a.1.b": 2}, {"a": [{"b": 1}, {"b": 2}]}, True),
    ("path non-canonical index", {"a.01": 2}, {"a": [1, 2]}, False),
    ("path length", {"a.length": 2}, {"a": [1, 2]}, True),
    ("path through string", {"a.length": 3}, {"a": "abc"}, False),
    # Saved groups.
    ("$inGroup not a list", {"x": {"$inGroup": "g"}}, {"x": "a"}, False),
    ("$notInGroup missing groups", {"x": {"$notInGroup": "g"}}, {"x": "a"}, True),
    # Regular expressions: JS syntax and meaning.
    ("$regex tests String(null)", {"x": {"$regex": "^nu"}}, {}, True),
    ("$regex $ is end of input", {"x": {"$regex": "a$"}}, {"x": "a\n"}, False),
    ("$regex \\d is ASCII", {"x": {"$regex": "^\\d$"}}, {"x": "\u0663"}, False),
    ("$regex . stops at \\r", {"x": {"$regex": "a.b"}}, {"x": "a\rb"}, False),
    ("$regex named group", {"x": {"$regex": "(?<y>a)\\k<y>"}}, {"x": "aa"}, True),
    ("$regex identity escape", {"x": {"$regex": "\\e"}}, {"x": "e"}, True),
    ("$regex [^] any", {"x": {"$regex": "a[^]b"}}, {"x": "a\nb"}, True),
    ("$regex nested [ literal", {"x": {"$regex": "[[]"}}, {"x": "["}, True),
    ("$regex not a string", {"x": {"$regex": 5}}, {"x": "5"}, False),
    ("$regexi", {"x": {"$regexi": "^ABC$"}}, {"x": "abc"}, True),
    # Logic and malformed input.
    ("$not of non-object", {"$not": 5}, {}, False),
    ("$and not a list", {"$and": {"x": 1}}, {}, True),
    ("$or not a list", {"$or": {"x": 1}}, {}, True),
    ("$nor not a list", {"$nor": {"x": 1}}, {}, False),
    ("$nor empty", {"$nor": []}, {}, False),
    ("empty operator object", {"x": {}}, {"x": {}}, True),
    ("unknown operator", {"x": {"$near": 1}}, {"x": 1}, False),
]


@pytest.mark.parametrize(
    ("condition", "attributes", "expected"),
    [row[1:] for row in JS_SEMANTICS],
    ids=[row[0] for row in JS_SEMANTICS],
)
def test_js_semantics(
    condition: dict[str, Any], attributes: dict[str, Any], expected: bool
) -> None:
    assert eval_condition(attributes, condition) is expected
    assert compile_condition(condition)(attributes) is expected


def test_saved_groups_are_read_at_eval_or_compile_time() -> None:
    condition = {"id": {"$inGroup": "beta"}}
    groups = {"beta": ["u1", 7]}
    assert eval_condition({"id": "u1"}, condition, groups) is True
    assert eval_condition({"id": 7.0}, condition, groups) is True
    assert eval_condition({"id": "u1"}, condition) is False
    assert compile_condition(condition, groups)({"id": 7}) is True


def test_get_path() -> None:
    attributes = {"a": {"b": [{"c": None}]}}
    assert get_path(attributes, "a.b.0") == {"c": None}
    assert get_path(attributes, "a.b.0.c") is None
    assert get_path(attributes, "a.x.y") is None
    assert get_path(attributes, "a.b.5") is None


def test_regexes_are_compiled_once() -> None:
    compile_js_regex.cache_clear()
    for _ in range(3):
        eval_condition({"x": "abc"}, {"x": {"$regex": "^a.c$"}})
    info = compile_js_regex.cache_info()
    assert (info.misses, info.hits) == (1, 2)
