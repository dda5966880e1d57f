"""Sample size, power, MDE and duration: the reference table and statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.power import TTestIndPower
from statsmodels.stats.proportion import (
    power_proportions_2indep,
    samplesize_proportions_2indep_onetail,
)

from sameday.analysis.stats.power import (
    cuped_factor,
    duration_days,
    mde_means,
    mde_proportions,
    plan,
    power_means,
    power_proportions,
    sample_size_means,
    sample_size_proportions,
)
from sameday.errors import StatsInputError


@pytest.mark.parametrize(
    ("baseline", "target", "pooled", "unpooled", "corrected"),
    [
        (0.10, 0.11, 14_751, 14_749, 14_951),
        (0.10, 0.105, 57_763, 57_760, None),
        (0.05, 0.055, 31_234, None, None),
        (0.20, 0.22, 6_510, None, None),
    ],
)
def test_golden_sample_sizes(
    baseline: float, target: float, pooled: int, unpooled: int | None, corrected: int | None
) -> None:
    assert math.ceil(sample_size_proportions(baseline, target)) == pooled
    if unpooled is not None:
        n = sample_size_proportions(baseline, target, variance="unpooled")
        assert math.ceil(n) == unpooled
    if corrected is not None:
        assert math.ceil(sample_size_proportions(baseline, target, continuity=True)) == corrected


def test_golden_statsmodels_value_and_cohens_d() -> None:
    assert sample_size_proportions(0.10, 0.11) == pytest.approx(14750.79, abs=1e-2)
    assert math.ceil(sample_size_means(0.1)) == 1571
    assert plan(0.0, 0.1, relative=False, sd=1.0).per_arm == 1571


def test_sample_sizes_equal_statsmodels_on_random_inputs() -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        p1 = rng.uniform(0.01, 0.8)
        p2 = p1 * (1 + rng.choice([-1, 1]) * rng.uniform(0.02, 0.3))
        alpha, power = rng.uniform(0.01, 0.1), rng.uniform(0.6, 0.95)
        expected = samplesize_proportions_2indep_onetail(
            diff=p2 - p1, prop2=p1, power=power, alpha=alpha, alternative="two-sided"
        )
        assert sample_size_proportions(p1, p2, alpha=alpha, power=power) == pytest.approx(
            expected, rel=1e-9
        )
        d = rng.uniform(0.02, 1.0)
        assert sample_size_means(d, alpha=alpha, power=power) == pytest.approx(
            TTestIndPower().solve_power(effect_size=d, alpha=alpha, power=power), rel=1e-6
        )


def test_power_equals_statsmodels_on_random_inputs() -> None:
    rng = np.random.default_rng(2)
    for _ in range(50):
        p1 = rng.uniform(0.01, 0.8)
        p2 = p1 * rng.uniform(1.02, 1.2)
        n = float(rng.integers(100, 200_000))
        alpha = rng.uniform(0.01, 0.1)
        expected = power_proportions_2indep(
            p2 - p1, p1, n, ratio=1, alpha=alpha, alternative="two-sided", return_results=False
        )
        assert power_proportions(p1, p2, n, alpha=alpha) == pytest.approx(expected, rel=1e-9)
        # Noncentrality up to 6: beyond it statsmodels' own noncentral t returns NaN.
        n_t = float(rng.integers(5, 20_000))
        d = rng.uniform(0.1, 6) / math.sqrt(n_t / 2)
        assert power_means(d, n_t, alpha=alpha) == pytest.approx(
            TTestIndPower().power(effect_size=d, nobs1=n_t, alpha=alpha), rel=1e-6
        )


def test_mde_inverts_the_sample_size() -> None:
    # The sample-size formula ignores the far tail that power counts (~1e-6 of power).
    n = sample_size_proportions(0.1, 0.11)
    assert mde_proportions(0.1, n) == pytest.approx(0.1, rel=1e-5)
    assert mde_proportions(0.1, n, relative=False) == pytest.approx(0.01, rel=1e-5)
    assert mde_means(sample_size_means(0.25)) == pytest.approx(0.25, rel=1e-6)
    assert power_means(0.1, 1e7) == pytest.approx(1.0)
    with pytest.raises(StatsInputError, match="cannot reach power"):
        mde_proportions(0.5, 3)


def test_cuped_and_duration() -> None:
    assert cuped_factor(0.5) == pytest.approx(0.75)
    base = plan(0.1, 0.1)
    with_cuped = plan(0.1, 0.1, cuped_rho=0.5)
    assert with_cuped.per_arm == math.ceil(base.per_arm_exact * 0.75)
    assert duration_days(29_502, 5_000) == 6
    assert duration_days(10, 5_000) == 1
    with pytest.raises(StatsInputError, match="daily units"):
        duration_days(10, 0)
    with pytest.raises(StatsInputError, match="correlation"):
        cuped_factor(1.0)


def test_plan_combines_arms_alpha_and_traffic() -> None:
    two = plan(0.1, 0.1, daily_units=5_000)
    assert (two.per_arm, two.total, two.days) == (14_751, 29_502, 6)
    assert two.metric == "proportion" and two.effect == pytest.approx(0.01)
    three = plan(0.1, 0.1, arms=3)
    assert three.comparison_alpha == pytest.approx(0.025)
    assert three.per_arm == math.ceil(sample_size_proportions(0.1, 0.11, alpha=0.025))
    assert three.total == 3 * three.per_arm
    absolute = plan(0.1, 0.01, relative=False)
    assert absolute.per_arm == two.per_arm


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"baseline": 0.1, "mde": 0.1, "arms": 1}, "two arms"),
        ({"baseline": 0.1, "mde": -0.1}, "> 0"),
        ({"baseline": 0.95, "mde": 0.1}, "target rate"),
        ({"baseline": 1.5, "mde": 0.1}, "baseline rate"),
        ({"baseline": 0.1, "mde": 0.1, "alpha": 0}, "alpha"),
        ({"baseline": 0.1, "mde": 0.1, "power": 1}, "power"),
        ({"baseline": 5, "mde": 0.1, "sd": -1}, "standard deviation"),
    ],
)
def test_plan_refuses_bad_hypotheses(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(StatsInputError, match=message):
        plan(**kwargs)  # type: ignore[arg-type]
