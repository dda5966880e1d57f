"""``compile_condition`` must answer exactly as ``eval_condition`` on any input.

The conformance cases run through both (test_growthbook_cases.py); here hypothesis generates
conditions over every operator, nested logic and paths, and JSON-shaped attributes with the
awkward values (NaN, infinities, lone strings that look like numbers, non-BMP text).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sameday.assign import compile_condition, eval_condition

STRINGS = st.sampled_from(
    ["", "a", "A", "b", "1", " 2 ", "0x10", "1.2.3", "v2.0.0-rc.1", "null", "\U0001f600"]
)
SCALARS = (
    st.sampled_from([None, True, False, 0, 1, 2, -1, 1.0, 0.5, math.nan, math.inf, 2**53 + 1])
    | STRINGS
    | st.floats(allow_nan=True, allow_infinity=True)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "0", "$eq"]), inner, max_size=3)
    ),
    max_leaves=8,
)
PATHS = st.sampled_from(["a", "b", "a.b", "a.0", "a.length", "$groups", "missing"])
GROUPS = {"g1": ["a", 1, "A"], "g2": [], "g3": "not-a-list"}
SCALAR_LISTS = st.lists(SCALARS, max_size=4) | st.lists(STRINGS, max_size=4)


ELEMENT_CONDITIONS = st.sampled_from(
    [{"$eq": 0}, {"$eq": ""}, {"$gt": 0}, {"$in": ["a", 1]}, {"a": 1}, {"a": {"$exists": True}}, {}]
)


def operator_arguments(conditions: st.SearchStrategy[Any]) -> dict[str, st.SearchStrategy[Any]]:
    """Per operator, arguments that fit it most of the time (and sometimes don't)."""
    return {
        "$eq": SCALARS,
        "$ne": SCALARS,
        "$lt": SCALARS,
        "$lte": SCALARS,
        "$gt": SCALARS,
        "$gte": SCALARS,
        "$veq": st.sampled_from(["1.2.3", "v1.2.3", "1.2.3-beta", "2"]) | SCALARS,
        "$vne": st.sampled_from(["1.2.3", "0"]),
        "$vlt": st.sampled_from(["1.10.0", "1.2.3-rc.1"]),
        "$vlte": st.sampled_from(["1.2.3", "0.0.1"]),
        "$vgt": st.sampled_from(["0.9.9", "1.2.3-alpha"]),
        "$vgte": st.sampled_from(["1.2.3", "10.0.0"]),
        "$in": SCALAR_LISTS | SCALARS,
        "$nin": SCALAR_LISTS | SCALARS,
        "$ini": SCALAR_LISTS,
        "$nini": SCALAR_LISTS,
        "$all": SCALAR_LISTS | SCALARS,
        "$alli": SCALAR_LISTS,
        "$exists": SCALARS,
        "$type": st.sampled_from(["null", "number", "string", "boolean", "array", "object"]),
        "$regex": st.sampled_from(["^a", "A$", "[", "\\d", "(?<n>a)\\k<n>", "^nu", "."]) | SCALARS,
        "$regexi": st.sampled_from(["^a", "NULL", "\U0001f600"]),
        "$size": st.integers(0, 3) | st.just({"$gt": 1}),
        "$elemMatch": conditions,
        "$not": SCALARS | st.just({"$in": ["a", 1]}),
        "$inGroup": st.sampled_from(["g1", "g2", "g3", "nope"]),
        "$notInGroup": st.sampled_from(["g1", "g3"]),
        "$unknown": SCALARS,
    }


OPERATORS = sorted(operator_arguments(ELEMENT_CONDITIONS))


def operator_objects(conditions: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``{"$op": argument, ...}`` with one to three operators."""
    arguments = operator_arguments(conditions)
    entries = st.sampled_from(OPERATORS).flatmap(lambda op: st.tuples(st.just(op), arguments[op]))
    return st.lists(entries, min_size=1, max_size=3).map(dict)


def conditions_strategy() -> st.SearchStrategy[dict[str, Any]]:
    def extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        field = st.tuples(PATHS, VALUES | operator_objects(inner))
        logic = st.tuples(
            st.sampled_from(["$or", "$and", "$nor"]), st.lists(inner, max_size=3)
        ) | st.tuples(st.just("$not"), inner)
        return st.lists(field | logic, max_size=3).map(dict)

    leaf = st.tuples(PATHS, VALUES | operator_objects(st.just({"a": "a"})))
    return st.recursive(st.lists(leaf, min_size=1, max_size=2).map(dict), extend, max_leaves=6)


ATTRIBUTES = st.dictionaries(
    st.sampled_from(["a", "b", "$groups"]),
    VALUES | st.fixed_dictionaries({"b": VALUES}),
    max_size=3,
)


def assert_same(condition: dict[str, Any], attributes: dict[str, Any]) -> None:
    expected = eval_condition(attributes, condition, GROUPS)
    assert compile_condition(condition, GROUPS)(attributes) is expected


@pytest.mark.parametrize("op", OPERATORS)
@settings(max_examples=120, deadline=None, derandomize=True)
@given(data=st.data())
def test_each_operator_compiles_faithfully(op: str, data: st.DataObject) -> None:
    argument = data.draw(operator_arguments(ELEMENT_CONDITIONS)[op], label="argument")
    value = data.draw(SCALARS | SCALAR_LISTS | VALUES, label="value")
    assert_same({"x": {op: argument}}, {"x": value})


@settings(max_examples=300, deadline=None, derandomize=True)
@given(SCALARS | VALUES, VALUES)
def test_literal_conditions_compile_faithfully(literal: Any, value: Any) -> None:
    assert_same({"x": literal}, {"x": value})


@settings(max_examples=300, deadline=None, derandomize=True)
@given(conditions_strategy(), ATTRIBUTES)
def test_nested_conditions_compile_faithfully(
    condition: dict[str, Any], attributes: dict[str, Any]
) -> None:
    assert_same(condition, attributes)


def test_compiled_condition_is_reusable_across_attributes() -> None:
    check = compile_condition({"country": {"$in": ["DE", "FR"]}, "age": {"$gte": 18}})
    assert check({"country": "DE", "age": 30}) is True
    assert check({"country": "US", "age": 30}) is False
    assert check({"country": ["US", "FR"], "age": "18"}) is True
    assert check({}) is False
