"""Interleaving analysis: the sign test and the user-level bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sameday.analysis.stats.interleaving import preference_test, user_preference
from sameday.errors import StatsInputError


def test_sign_test_equals_scipy_binomtest() -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        wins_a, wins_b, ties = (int(v) for v in rng.integers(0, 500, size=3))
        if wins_a + wins_b == 0:
            continue
        result = preference_test(wins_a, wins_b, ties)
        reference = stats.binomtest(wins_b, wins_a + wins_b, 0.5)
        assert result.p_value == pytest.approx(reference.pvalue, rel=1e-12)
        interval = reference.proportion_ci(0.95, method="exact")
        assert (result.ci_low, result.ci_high) == pytest.approx((interval.low, interval.high))
        assert result.share_b == pytest.approx(wins_b / (wins_a + wins_b))
        assert result.delta == pytest.approx((wins_b - wins_a) / (wins_a + wins_b + ties))


def test_a_clear_preference_is_significant_and_a_coin_flip_is_not() -> None:
    assert preference_test(400, 600, 1000).significant
    assert not preference_test(500, 510, 1000).significant
    empty = preference_test(0, 0, 10)
    assert math.isnan(empty.share_b) and empty.p_value == 1.0
    with pytest.raises(StatsInputError, match=">= 0"):
        preference_test(-1, 2)


def _users(seed: int, users: int, prefer_b: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-user wins with heavy users: impressions per user are geometric."""
    rng = np.random.default_rng(seed)
    impressions = rng.geometric(0.05, users)
    bias = np.clip(rng.normal(prefer_b, 0.2, users), 0, 1)
    decided = rng.binomial(impressions, 0.3)
    wins_b = rng.binomial(decided, bias)
    return (decided - wins_b).astype(float), wins_b.astype(float)


def test_user_bootstrap_is_deterministic_with_a_seed() -> None:
    a, b = _users(2, 3000, 0.55)
    first = user_preference(a, b, seed=7)
    assert user_preference(a, b, seed=7) == first
    other = user_preference(a, b, seed=8)
    assert other.ci_low != first.ci_low
    assert other.share_b == first.share_b


def test_user_preference_counts_and_sign_test() -> None:
    a = np.array([3, 0, 1, 2, 0, 5])
    b = np.array([1, 2, 1, 4, 0, 6])
    result = user_preference(a, b, n_boot=500)
    assert (result.users, result.prefer_a, result.prefer_b, result.tied) == (6, 1, 3, 2)
    assert result.share_b == pytest.approx((3 + 0.5 * 2) / 6)
    assert result.p_value == pytest.approx(stats.binomtest(3, 4, 0.5).pvalue)
    assert result.impression_share_b == pytest.approx(14 / 25)
    assert result.ci_low <= result.share_b <= result.ci_high


def test_user_intervals_detect_a_preference_and_cover_under_the_null() -> None:
    a, b = _users(3, 4000, 0.6)
    preferred = user_preference(a, b)
    assert preferred.significant and preferred.ci_low > 0.5 and preferred.impression_ci_low > 0.5
    covered = 0
    for seed in range(40):
        a, b = _users(100 + seed, 1500, 0.5)
        result = user_preference(a, b, n_boot=400, seed=seed)
        covered += result.impression_ci_low <= 0.5 <= result.impression_ci_high
    assert covered >= 36


def test_user_bootstrap_is_wider_than_the_impression_level_interval_with_heavy_users() -> None:
    a, b = _users(4, 3000, 0.5)
    users = user_preference(a, b)
    impressions = preference_test(int(a.sum()), int(b.sum()))
    assert (users.impression_ci_high - users.impression_ci_low) > (
        impressions.ci_high - impressions.ci_low
    )


def test_bad_inputs() -> None:
    with pytest.raises(StatsInputError, match="one entry per user"):
        user_preference([1, 2], [1])
    with pytest.raises(StatsInputError, match=">= 0"):
        user_preference([1, -2], [1, 1])
    with pytest.raises(StatsInputError, match="n_boot"):
        user_preference([1, 2], [1, 1], n_boot=10)
