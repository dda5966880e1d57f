"""GrowthBook's cross-SDK conformance suite (``shared/vendor/growthbook/cases.json``, spec 0.8.0).

Every vector of the families sameday implements runs as its own test. Families that belong to a
full feature-flag SDK are listed in ``SKIPPED_FAMILIES`` with the reason; a new family in a newer
file fails ``test_every_family_is_run_or_skipped`` until someone decides which it is.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from tests.assign._growthbook import CASES_PATH, family, load_cases

from sameday.assign import (
    choose_variation,
    compile_condition,
    eval_condition,
    get_bucket_ranges,
    get_equal_weights,
    hash,
    in_namespace,
)

CASES_SHA256 = "1422cb1bfc6f6035f78aa21e5181ab91f758e37f1688e2c6142aface7d953886"
SPEC_VERSION = "0.8.0"

RUN_FAMILIES = {
    "hash",
    "getBucketRange",
    "chooseVariation",
    "inNamespace",
    "getEqualWeights",
    "evalCondition",
}
SKIPPED_FAMILIES = {
    "run": (
        "the whole GrowthBook.run (forcing, QA mode, query strings, prerequisites, tracking) is "
        "an SDK's job; its assignment cases run in test_allocation.py against Allocation"
    ),
    "feature": "feature flags and their rules: sameday serves lists, not flags",
    "getQueryStringOverride": "forcing an arm from the page URL is a browser-SDK feature",
    "decrypt": "encrypted SDK payloads: sameday reads experiments from project files",
    "stickyBucket": (
        "no per-user sticky-bucket store: assignments stay put through fixed seeds and "
        "contiguous ranges"
    ),
    "urlRedirect": "URL-redirect experiments run in browsers",
    "contextualBandit": "GrowthBook's bandit payload; sameday's bandits live in sameday.policies",
}


def ids(name: str, label: Any) -> list[str]:
    """Readable, unique test ids: the vector's position and its name or inputs."""
    return [f"{i:03d}:{label(case)}" for i, case in enumerate(family(name))]


def test_cases_file_is_the_vendored_one() -> None:
    assert CASES_PATH.exists(), f"{CASES_PATH} is missing; shared/ sits next to the repository"
    digest = hashlib.sha256(CASES_PATH.read_bytes()).hexdigest()
    assert digest == CASES_SHA256, "cases.json changed: update SOURCE.md, this digest and review"
    assert load_cases()["specVersion"] == SPEC_VERSION


def test_every_family_is_run_or_skipped() -> None:
    families = set(load_cases()) - {"specVersion"}
    assert not RUN_FAMILIES & set(SKIPPED_FAMILIES)
    assert families == RUN_FAMILIES | set(SKIPPED_FAMILIES)


@pytest.mark.parametrize("case", family("hash"), ids=ids("hash", lambda c: f"{c[0]!r}+{c[1]!r}"))
def test_hash(case: list[Any]) -> None:
    seed, value, version, expected = case
    assert hash(seed, value, version) == expected


@pytest.mark.parametrize(
    "case", family("getBucketRange"), ids=ids("getBucketRange", lambda c: c[0])
)
def test_get_bucket_range(case: list[Any]) -> None:
    _, (num_variations, coverage, weights), expected = case
    ranges = get_bucket_ranges(num_variations, coverage, weights)
    assert [[round(s, 6), round(e, 6)] for s, e in ranges] == expected


@pytest.mark.parametrize(
    "case", family("chooseVariation"), ids=ids("chooseVariation", lambda c: c[0])
)
def test_choose_variation(case: list[Any]) -> None:
    _, n, ranges, expected = case
    assert choose_variation(n, ranges) == expected


@pytest.mark.parametrize("case", family("inNamespace"), ids=ids("inNamespace", lambda c: c[0]))
def test_in_namespace(case: list[Any]) -> None:
    _, unit, (name, start, end), expected = case
    assert in_namespace(unit, (name, start, end)) is expected


@pytest.mark.parametrize(
    "case", family("getEqualWeights"), ids=ids("getEqualWeights", lambda c: f"n={c[0]}")
)
def test_get_equal_weights(case: list[Any]) -> None:
    n, expected = case
    assert [round(w, 8) for w in get_equal_weights(n)] == expected


@pytest.mark.parametrize("case", family("evalCondition"), ids=ids("evalCondition", lambda c: c[0]))
def test_eval_condition(case: list[Any]) -> None:
    _, condition, attributes, expected, *groups = case
    assert eval_condition(attributes, condition, *groups) is expected


@pytest.mark.parametrize("case", family("evalCondition"), ids=ids("evalCondition", lambda c: c[0]))
def test_compiled_condition_agrees(case: list[Any]) -> None:
    _, condition, attributes, expected, *groups = case
    assert compile_condition(condition, *groups)(attributes) is expected
