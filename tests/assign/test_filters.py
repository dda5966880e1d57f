"""Layers (GrowthBook namespaces), filters, and which attribute values identify a unit."""

from __future__ import annotations

import math
from typing import Any

import pytest

from sameday.assign import Filter, hash, hash_value, in_namespace, is_filtered_out


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("u-1", "u-1"),
        (123, "123"),
        (1.0, "1"),
        (2.5, "2.5"),
        (1e21, "1e+21"),
        ("", ""),
        (0, ""),
        (True, ""),
        (math.nan, ""),
        (math.inf, ""),
        (10**400, ""),
        (None, ""),
        (["u"], ""),
    ],
)
def test_hash_value_is_the_js_string_of_a_hashable_attribute(value: Any, expected: str) -> None:
    assert hash_value({"id": value}, "id") == expected


def test_missing_attribute_has_no_hash_value() -> None:
    assert hash_value({}, "id") == ""


def test_filter_from_growthbook_json_defaults_to_id_and_version_two() -> None:
    flt = Filter.from_dict({"seed": "s", "ranges": [[0, 0.5]]})
    assert flt == Filter(seed="s", ranges=((0.0, 0.5),), hash_version=2, attribute="id")


def test_a_unit_must_pass_every_filter() -> None:
    n = hash("s", "u1", 2)
    assert n is not None
    around = Filter(seed="s", ranges=((max(0.0, n - 0.01), n + 0.01),))
    elsewhere = Filter(seed="s", ranges=((0.0, 0.0),))
    assert not is_filtered_out([around], {}, "u1")
    assert is_filtered_out([around, elsewhere], {}, "u1")
    assert is_filtered_out([around], {}, "")
    assert is_filtered_out([Filter(seed="s", ranges=((0.0, 1.0),), hash_version=9)], {}, "u1")
    assert not is_filtered_out([], {}, "")


def test_namespace_uses_the_version_one_hash_of_the_layer_name() -> None:
    n = hash("__layer", "u1", 1)
    assert n is not None
    assert in_namespace("u1", ("layer", n, n + 0.001))
    assert not in_namespace("u1", ("layer", 0.0, n))
