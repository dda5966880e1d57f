"""Bucket ranges: GrowthBook's edge cases, and the properties that keep assignments stable."""

from __future__ import annotations

import math
from itertools import accumulate, pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sameday.assign import choose_variation, get_bucket_ranges, get_equal_weights, hash, in_range

buckets = st.integers(0, 9999).map(lambda k: k / 10000)


@st.composite
def weight_vectors(draw: st.DrawFn, arms: int | None = None) -> list[float]:
    """Weights that sum to 1 (the last arm takes the remainder)."""
    count = arms if arms is not None else draw(st.integers(2, 6))
    cuts = sorted(draw(st.lists(st.integers(0, 1000), min_size=count - 1, max_size=count - 1)))
    edges = [0, *cuts, 1000]
    return [(b - a) / 1000 for a, b in pairwise(edges)]


same_size_weight_pairs = st.integers(2, 5).flatmap(
    lambda k: st.tuples(weight_vectors(k), weight_vectors(k))
)


def test_equal_weights() -> None:
    assert get_equal_weights(0) == []
    assert get_equal_weights(-3) == []
    assert get_equal_weights(4) == [0.25] * 4


def test_weights_of_the_wrong_length_or_sum_fall_back_to_equal() -> None:
    assert get_bucket_ranges(2, 1, [1.0]) == [(0, 0.5), (0.5, 1)]
    assert get_bucket_ranges(2, 1, [0.3, 0.3]) == [(0, 0.5), (0.5, 1)]
    assert get_bucket_ranges(2, 1, []) == [(0, 0.5), (0.5, 1)]
    assert get_bucket_ranges(2, 1, [0.3, 0.705]) == [(0, 0.3), (0.3, 1.005)]


def test_coverage_is_clamped() -> None:
    assert get_bucket_ranges(2, -1) == [(0, 0), (0.5, 0.5)]
    assert get_bucket_ranges(2, 7) == [(0, 0.5), (0.5, 1)]


def test_no_range_means_minus_one() -> None:
    assert choose_variation(0.3, [(0, 0.25), (0.5, 0.75)]) == -1
    assert choose_variation(0.3, []) == -1
    assert in_range(0.25, (0, 0.25)) is False
    assert in_range(0, (0, 0.25)) is True


@settings(derandomize=True)
@given(weight_vectors(), st.floats(0, 1))
def test_ranges_are_disjoint_ordered_and_within_unit_interval(
    weights: list[float], coverage: float
) -> None:
    ranges = get_bucket_ranges(len(weights), coverage, weights)
    assert len(ranges) == len(weights)
    for (start, end), weight in zip(ranges, weights, strict=True):
        assert 0 <= start <= end <= 1 + 1e-9
        assert end - start == pytest.approx(coverage * weight, abs=1e-12)
    for (_, end), (start, _) in pairwise(ranges):
        assert end <= start + 1e-12


@settings(derandomize=True)
@given(weight_vectors(), buckets)
def test_full_coverage_assigns_every_bucket(weights: list[float], n: float) -> None:
    arm = choose_variation(n, get_bucket_ranges(len(weights), 1, weights))
    if n < math.fsum(weights) - 1e-9:
        assert arm >= 0


@settings(derandomize=True)
@given(
    st.integers(2, 5).flatmap(lambda k: st.tuples(weight_vectors(k), weight_vectors(k))), buckets
)
def test_changing_weights_moves_only_units_between_old_and_new_boundaries(
    pair: tuple[list[float], list[float]], n: float
) -> None:
    """Ranges are contiguous, so a unit changes arm only if a boundary crossed its bucket."""
    old, new = pair
    before = choose_variation(n, get_bucket_ranges(len(old), 1, old))
    after = choose_variation(n, get_bucket_ranges(len(new), 1, new))
    if before != after:
        old_edges = list(accumulate(old))[:-1]
        new_edges = list(accumulate(new))[:-1]
        assert any(min(a, b) <= n < max(a, b) for a, b in zip(old_edges, new_edges, strict=True))


def test_fifty_fifty_to_sixty_forty_moves_exactly_the_units_in_between() -> None:
    units = [f"user-{i}" for i in range(20_000)]
    old = get_bucket_ranges(2, 1, [0.5, 0.5])
    new = get_bucket_ranges(2, 1, [0.6, 0.4])
    for unit in units:
        n = hash("exp", unit, 2)
        assert n is not None
        before, after = choose_variation(n, old), choose_variation(n, new)
        if 0.5 <= n < 0.6:
            assert (before, after) == (1, 0)
        else:
            assert before == after


@settings(derandomize=True)
@given(weight_vectors(), st.floats(0, 1), st.floats(0, 1), buckets)
def test_lowering_coverage_only_drops_units(
    weights: list[float], low: float, high: float, n: float
) -> None:
    low, high = sorted((low, high))
    wide = choose_variation(n, get_bucket_ranges(len(weights), high, weights))
    narrow = choose_variation(n, get_bucket_ranges(len(weights), low, weights))
    assert narrow in (-1, wide)
