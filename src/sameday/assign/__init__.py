"""GrowthBook-compatible assignment: hashing, bucket ranges, layers, filters and targeting.

Light on purpose (standard library only): the serving path imports it on every replica. The
building blocks mirror GrowthBook's SDK functions name for name (``hash``, ``get_bucket_ranges``,
``choose_variation``, ``in_namespace``, ``eval_condition``, ...) and pass its conformance suite;
``Allocation`` and ``compile_condition`` are the precomputed forms the serving path calls.
"""

from sameday.assign.allocation import Allocation
from sameday.assign.buckets import (
    Range,
    choose_variation,
    get_bucket_ranges,
    get_equal_weights,
    in_range,
)
from sameday.assign.compiled import compile_condition
from sameday.assign.conditions import eval_condition
from sameday.assign.filters import Filter, Namespace, hash_value, in_namespace, is_filtered_out
from sameday.assign.hashing import fnv1a32, hash
from sameday.errors import InvalidAllocation

__all__ = [
    "Allocation",
    "Filter",
    "InvalidAllocation",
    "Namespace",
    "Range",
    "choose_variation",
    "compile_condition",
    "eval_condition",
    "fnv1a32",
    "get_bucket_ranges",
    "get_equal_weights",
    "hash",
    "hash_value",
    "in_namespace",
    "in_range",
    "is_filtered_out",
]
