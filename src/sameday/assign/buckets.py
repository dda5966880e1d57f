"""Weights → contiguous bucket ranges → the chosen arm, with GrowthBook's exact edge cases.

Arm ``i`` owns ``[start_i, start_i + coverage * w_i)`` where ``start_i`` is the sum of the weights
before it. Ranges are contiguous and anchored at each arm's cumulative start, so:

- lowering coverage shrinks every range from its top and never moves an included unit to another
  arm (units only drop out, or come back in when coverage rises again);
- changing weights moves only the units whose bucket lies in the part of [0, 1) that changed
  owner: 50/50 → 60/40 moves exactly the units with a bucket in [0.5, 0.6) from arm 1 to arm 0.
  Everybody else keeps their arm. Re-randomising everyone is a deliberate act: change the seed
  (``bucket_version`` in the experiment file).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "WEIGHT_SUM_MAX",
    "WEIGHT_SUM_MIN",
    "Range",
    "choose_variation",
    "get_bucket_ranges",
    "get_equal_weights",
    "in_range",
]

Range = tuple[float, float]
"""A half-open bucket interval ``[start, end)`` within [0, 1]."""

WEIGHT_SUM_MIN = 0.99
WEIGHT_SUM_MAX = 1.01
"""Weights summing to within [0.99, 1.01] are used as given; others fall back to equal weights."""


def get_equal_weights(n: int) -> list[float]:
    """``n`` equal weights ``1/n``; an empty list when ``n`` is zero or negative."""
    if n <= 0:
        return []
    return [1 / n] * n


def get_bucket_ranges(
    num_variations: int, coverage: float = 1, weights: Sequence[float] | None = None
) -> list[Range]:
    """Each arm's bucket range, exactly as GrowthBook's ``getBucketRanges`` computes it.

    Args:
        num_variations: how many arms.
        coverage: share of units included; clamped to [0, 1] (GrowthBook logs and clamps).
        weights: each arm's share of the covered units. Missing, of the wrong length, or not
            summing to 1 ± 0.01, they are replaced by equal weights, as GrowthBook does. Only
            length and sum are checked, as in GrowthBook's reference SDK: callers that build
            weights from user input validate them first (the experiment config does).

    Returns:
        One ``(start, end)`` per arm; ``start`` is the cumulative weight before the arm, so ranges
        are disjoint and keep their place when coverage changes.
    """
    if coverage < 0:
        coverage = 0
    elif coverage > 1:
        coverage = 1
    equal = get_equal_weights(num_variations)
    chosen: Sequence[float] = equal if weights is None else weights
    if len(chosen) != num_variations:
        chosen = equal
    total = sum(chosen)
    if total < WEIGHT_SUM_MIN or total > WEIGHT_SUM_MAX:
        chosen = equal
    ranges: list[Range] = []
    cumulative = 0.0
    for weight in chosen:
        start = cumulative
        cumulative += weight
        ranges.append((start, start + coverage * weight))
    return ranges


def in_range(n: float, range_: Sequence[float]) -> bool:
    """Whether bucket ``n`` lies in the half-open ``[start, end)``."""
    return range_[0] <= n < range_[1]


def choose_variation(n: float, ranges: Sequence[Sequence[float]]) -> int:
    """Index of the first range holding bucket ``n``, or -1 when none does (not covered)."""
    for index, (start, end) in enumerate(ranges):
        if start <= n < end:
            return index
    return -1
