"""``Allocation``: GrowthBook's assignment, precomputed, checked and fast."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.assign._growthbook import family

from sameday.assign import (
    Allocation,
    Filter,
    choose_variation,
    eval_condition,
    get_bucket_ranges,
    hash,
    hash_value,
    in_namespace,
)
from sameday.config.experiment import Experiment
from sameday.errors import InvalidAllocation

ASSIGNMENT_KEYS = {
    "key",
    "variations",
    "weights",
    "coverage",
    "namespace",
    "filters",
    "ranges",
    "seed",
    "hashVersion",
    "hashAttribute",
    "condition",
}


def seeded_units(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.getrandbits(64):016x}" for _ in range(count)]


def run_like_growthbook(context: dict[str, Any], experiment: dict[str, Any]) -> int | None:
    """The assignment part of GrowthBook's ``run``, built from sameday's pieces."""
    attributes = context.get("attributes", {})
    unit = hash_value(attributes, experiment.get("hashAttribute") or "id")
    if not unit:
        return None
    condition = experiment.get("condition")
    if condition and not eval_condition(attributes, condition, context.get("savedGroups")):
        return None
    allocation = Allocation(
        seed=experiment.get("seed") or experiment["key"],
        arms=len(experiment["variations"]),
        weights=experiment.get("weights"),
        coverage=experiment.get("coverage", 1.0),
        hash_version=experiment.get("hashVersion") or 1,
        namespace=tuple(experiment["namespace"]) if "namespace" in experiment else None,
        filters=tuple(Filter.from_dict(f) for f in experiment.get("filters", ())),
        explicit_ranges=experiment.get("ranges"),
    )
    return allocation.assign(unit, attributes)


def assignment_cases() -> list[Any]:
    """The ``run`` vectors that exercise assignment only (no forcing, QA mode, URLs...)."""
    return [
        case
        for case in family("run")
        if set(case[2]) <= ASSIGNMENT_KEYS
        and set(case[1]) <= {"attributes", "savedGroups"}
        and len(case[2]["variations"]) >= 2
    ]


@pytest.mark.parametrize("case", assignment_cases(), ids=lambda c: str(c[0]))
def test_allocation_matches_growthbook_run_cases(case: list[Any]) -> None:
    _, context, experiment, value, in_experiment, _hash_used = case
    arm = run_like_growthbook(context, experiment)
    assert (arm is not None) is in_experiment
    if in_experiment:
        assert experiment["variations"][arm] == value


def test_enough_run_cases_are_checked() -> None:
    assert len(assignment_cases()) >= 50


@settings(derandomize=True)
@given(st.text(min_size=1, max_size=40), st.floats(0, 1), st.sampled_from([1, 2]))
def test_assign_is_deterministic_and_equals_the_building_blocks(
    unit: str, coverage: float, version: int
) -> None:
    allocation = Allocation(seed="exp", arms=3, coverage=coverage, hash_version=version)
    n = hash("exp", unit, version)
    assert n is not None
    expected = choose_variation(n, get_bucket_ranges(3, coverage))
    first, second = allocation.assign(unit), allocation.assign(unit)
    assert first == second == (None if expected < 0 else expected)
    assert allocation.bucket(unit) == n
    assert Allocation(seed="exp", arms=3, coverage=coverage, hash_version=version) == allocation


def test_split_follows_the_weights() -> None:
    allocation = Allocation(seed="split", arms=3, weights=(0.2, 0.3, 0.5), coverage=0.9)
    counts = Counter(allocation.assign(unit) for unit in seeded_units(100_000))
    assert counts[None] / 100_000 == pytest.approx(0.1, abs=0.005)
    for arm, weight in enumerate((0.2, 0.3, 0.5)):
        assert counts[arm] / 100_000 == pytest.approx(0.9 * weight, abs=0.005)


def test_experiments_in_disjoint_slices_of_a_layer_never_share_a_unit() -> None:
    left = Allocation(seed="a", namespace=("ranking", 0.0, 0.5))
    right = Allocation(seed="b", namespace=("ranking", 0.5, 1.0))
    units = seeded_units(5_000)
    in_left = {u for u in units if left.assign(u) is not None}
    in_right = {u for u in units if right.assign(u) is not None}
    assert in_left and in_right and not in_left & in_right
    assert in_left | in_right == set(units)
    assert all(in_namespace(u, ("ranking", 0.0, 0.5)) for u in in_left)


def test_filters_replace_the_namespace_and_may_read_other_attributes() -> None:
    admitted = Filter(seed="f", ranges=((0.0, 1.0),), attribute="device")
    allocation = Allocation(seed="x", namespace=("layer", 0.0, 0.0), filters=(admitted,))
    assert allocation.assign("u1", {"device": "d-9"}) is not None
    assert allocation.assign("u1", {}) is None
    on_unit = Allocation(seed="x", filters=(Filter(seed="f", ranges=((0.0, 0.0),)),))
    assert on_unit.assign("u1") is None


def test_empty_unit_is_never_assigned() -> None:
    assert Allocation(seed="x").assign("") is None


def test_non_ascii_units_use_utf16_code_units() -> None:
    allocation = Allocation(seed="emoji", arms=2)
    for unit in ("\U0001f600", "müller", "東京-42"):
        n = hash("emoji", unit, 2)
        assert n is not None
        assert allocation.assign(unit) == choose_variation(n, [(0, 0.5), (0.5, 1)])


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"arms": 1}, "at least two arms"),
        ({"hash_version": 3}, "hash_version must be 1 or 2"),
        ({"coverage": 1.5}, "coverage must be within [0, 1]"),
        ({"weights": (0.5, 0.3)}, "must sum to 1, they sum to 0.8"),
        ({"weights": (1.0,)}, "1 weights given for 2 arms"),
        ({"weights": (1.2, -0.2)}, "finite and non-negative"),
        ({"namespace": ("layer", 0.6, 0.4)}, "layer 'layer' slice"),
        ({"explicit_ranges": ((0.0, 0.5),)}, "ranges must be 2 pairs"),
    ],
)
def test_impossible_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidAllocation, match=message.replace("[", r"\[")) as caught:
        Allocation(seed="exp", **settings)
    assert isinstance(caught.value, ValueError)
    assert "'exp'" in str(caught.value)


def test_explicit_ranges_override_weights_and_coverage() -> None:
    allocation = Allocation(seed="r", explicit_ranges=((0.0, 0.1), (0.1, 0.2)))
    assert allocation.ranges == ((0.0, 0.1), (0.1, 0.2))


def test_from_experiment_uses_seed_weights_coverage_and_layer() -> None:
    experiment = Experiment.model_validate(
        {
            "name": "ranker",
            "surface": "home",
            "arms": [
                {"name": "control", "result_set": "popular", "weight": 0.7},
                {"name": "treatment", "result_set": "als", "weight": 0.3},
            ],
            "coverage": 0.5,
            "layer": {"name": "home", "range": [0.2, 0.8]},
            "hashing": {"bucket_version": 2},
        }
    )
    allocation = Allocation.from_experiment(experiment)
    assert allocation.seed == "ranker:v2"
    assert allocation.hash_version == 2
    assert allocation.namespace == ("home", 0.2, 0.8)
    assert [x for r in allocation.ranges for x in r] == pytest.approx([0.0, 0.35, 0.7, 0.85])


def test_agrees_with_growthbook_python_on_ten_thousand_units() -> None:
    growthbook = pytest.importorskip(
        "growthbook", reason='growthbook-python is a benchmark extra: pip install "sameday[bench]"'
    )
    allocation = Allocation(seed="agree", weights=(0.3, 0.7), coverage=0.8)
    experiment = growthbook.Experiment(
        key="agree", variations=[0, 1], weights=[0.3, 0.7], coverage=0.8, hashVersion=2
    )
    gb = growthbook.GrowthBook(attributes={})
    for unit in seeded_units(10_000, seed=3):
        gb.set_attributes({"id": unit})
        result = gb.run(experiment)
        assert allocation.assign(unit) == (result.variationId if result.inExperiment else None)
