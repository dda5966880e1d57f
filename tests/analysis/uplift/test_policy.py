"""The policy tree: the rule it finds, the rule as a GrowthBook condition, its honest value."""

from __future__ import annotations

import numpy as np
import pytest

from sameday.analysis.uplift.data import Feature, UpliftData
from sameday.analysis.uplift.learners import Scores
from sameday.analysis.uplift.policy import Leaf, apply, learn_policy
from sameday.assign import compile_condition

FEATURES = (
    Feature("platform", "category", ("ios", "android", "web")),
    Feature("is_new", "category", ("false", "true")),
    Feature("visits", "number"),
    Feature("noise", "category", tuple("abcde")),
)


def _world(n: int, seed: int, effect: np.ndarray | None = None) -> tuple[UpliftData, Scores]:
    """Units with the four features, and scores whose Γ is the effect plus noise."""
    rng = np.random.default_rng(seed)
    platform = rng.integers(0, 3, n).astype(float)
    is_new = (rng.random(n) < 0.3).astype(float)
    visits = rng.integers(0, 21, n).astype(float)
    visits[rng.random(n) < 0.1] = np.nan
    noise = rng.integers(0, 5, n).astype(float)
    x = np.column_stack([platform, is_new, visits, noise])
    if effect is None:
        heavy = np.nan_to_num(visits) > 10
        effect = np.where(is_new == 1, -0.1, np.where(heavy, 0.15, -0.05))
    t = rng.random(n) < 0.5
    mu0 = np.full(n, 0.2)
    mu1 = mu0 + effect
    y = (rng.random(n) < np.where(t, mu1, mu0)).astype(float)
    gamma = mu1 - mu0 + np.where(t, (y - mu1) / 0.5, -(y - mu0) / 0.5)
    data = UpliftData(x, FEATURES, t, y, "binary", "ctr", "control", "new")
    scores = Scores({}, mu0, mu1, gamma, np.zeros(n, dtype=np.int64), 0.5)
    return data, scores


def test_the_rule_finds_the_units_that_gain() -> None:
    data, scores = _world(60_000, seed=1)
    policy = learn_policy(data, scores, seed=0)
    assert policy.condition == {"visits": {"$gt": 10}, "is_new": {"$in": [False]}}
    assert policy.rule == "visits > 10 and is_new is false"
    assert policy.gain_vs_all.low > 0 and policy.gain_vs_none.low > 0
    assert policy.learn_units + policy.evaluation_units == 60_000


def test_the_condition_says_what_the_tree_does() -> None:
    data, scores = _world(60_000, seed=2)
    policy = learn_policy(data, scores, seed=0)
    assert policy.condition is not None
    check = compile_condition(policy.condition)
    labels = [f.labels for f in FEATURES]
    for row in data.x[:3000]:
        attributes: dict[str, object] = {}
        for feature, value, names in zip(FEATURES, row, labels, strict=True):
            if np.isnan(value):
                continue  # an attribute the request does not send
            if feature.kind == "number":
                attributes[feature.name] = int(value)
            else:
                label = names[int(value)]
                attributes[feature.name] = {"true": True, "false": False}.get(label, label)
        assert check(attributes) == bool(apply(policy.tree, row[None, :])[0]), attributes


def test_values_are_estimated_on_the_held_out_half() -> None:
    data, scores = _world(20_000, seed=3)
    policy = learn_policy(data, scores, seed=5)
    judge = ~(np.random.default_rng(5 + 2).random(20_000) < 0.5)
    treat = apply(policy.tree, data.x[judge])
    gamma = scores.gamma[judge]
    assert policy.evaluation_units == judge.sum()
    assert policy.targeted == pytest.approx(treat.mean())
    assert policy.gain_vs_none.point == pytest.approx(float(np.mean(treat * gamma)))
    assert policy.gain_vs_all.point == pytest.approx(float(np.mean((treat - 1) * gamma)))
    assert policy.value_rule.point == pytest.approx(
        policy.value_none.point + policy.gain_vs_none.point
    )


def test_no_difference_between_units_gives_no_split() -> None:
    for seed, effect in ((4, 0.05), (5, -0.05)):
        data, scores = _world(30_000, seed=seed, effect=np.full(30_000, effect))
        policy = learn_policy(data, scores, seed=0)
        assert isinstance(policy.tree, Leaf)
        assert (policy.rule, policy.condition) == (
            ("everyone", {}) if effect > 0 else ("no one", None)
        )
