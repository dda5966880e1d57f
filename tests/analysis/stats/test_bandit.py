"""The bandit report: posteriors, probability of being best, regret."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from sameday.analysis.stats.bandit import bandit_summary, cumulative_regret, probability_best
from sameday.errors import StatsInputError


def test_two_arm_probability_best_matches_numerical_integration() -> None:
    a_post, b_post = stats.beta(31, 971), stats.beta(41, 961)
    exact, _ = integrate.quad(lambda x: b_post.pdf(x) * a_post.cdf(x), 0, 1, points=[0.04])
    best, expected_max = probability_best([31, 41], [971, 961], draws=200_000, seed=1)
    assert best[1] == pytest.approx(exact, abs=0.005)
    assert sum(best) == pytest.approx(1.0)
    assert expected_max >= max(a_post.mean(), b_post.mean())


def test_summary_posteriors_and_regret() -> None:
    summary = bandit_summary(
        ["a", "b", "c"], [30, 40, 2], [1000, 1000, 100], prior_alpha=1, prior_beta=1, seed=3
    )
    assert summary.best_arm == "b"
    b = summary.arms[1]
    assert (b.alpha, b.beta) == (41, 961)
    assert b.mean == pytest.approx(41 / 1002)
    assert (b.ci_low, b.ci_high) == pytest.approx(stats.beta(41, 961).ppf([0.025, 0.975]))
    assert b.allocation == pytest.approx(1000 / 2100)
    means = np.array([p.mean for p in summary.arms])
    assert summary.regret == pytest.approx(np.dot([1000, 1000, 100], means.max() - means))
    assert summary.expected_regret >= summary.regret
    assert sum(p.probability_best for p in summary.arms) == pytest.approx(1.0)


def test_monte_carlo_is_seeded() -> None:
    first = bandit_summary(["a", "b"], [10, 12], [100, 100], seed=5)
    assert bandit_summary(["a", "b"], [10, 12], [100, 100], seed=5) == first
    assert bandit_summary(["a", "b"], [10, 12], [100, 100], seed=6) != first


def test_cumulative_regret_over_periods() -> None:
    allocation = [[50, 50], [20, 80], [10, 90]]
    assert cumulative_regret(allocation, [0.1, 0.2]) == pytest.approx([5.0, 7.0, 8.0])
    with pytest.raises(StatsInputError, match="shape"):
        cumulative_regret([[1, 2, 3]], [0.1, 0.2])


def test_bad_inputs() -> None:
    with pytest.raises(StatsInputError, match="two arms"):
        bandit_summary(["a"], [1], [2])
    with pytest.raises(StatsInputError, match="successes <= trials"):
        bandit_summary(["a", "b"], [3, 1], [2, 2])
    with pytest.raises(StatsInputError, match="prior"):
        bandit_summary(["a", "b"], [1, 1], [2, 2], prior_alpha=0)
    with pytest.raises(StatsInputError, match="draws"):
        probability_best([1, 1], [1, 1], draws=0)
