"""Fieller's interval of the relative lift: the inverted test, the metric's range, agreement."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sameday.analysis.stats.fieller import fieller_arrays
from sameday.analysis.stats.frequentist import compare_means, compare_proportions
from sameday.analysis.stats.sequential import (
    DEFAULT_N_STAR,
    halfwidth_arrays,
    sequential_comparison,
)
from sameday.analysis.stats.summary import ArmSummary

# An A/A pair from the heavy-tailed simulation (5% buyers × lognormal(3, 1.5), 500 units per arm)
# on which the delta method reported -68.6% [-112%, -25%] and "stop for harm".
FEW_BUYERS = (
    ArmSummary(n=500, sum=1910.5283547398046, sum_sq=427097.21224845946, n_nonzero=32),
    ArmSummary(n=500, sum=599.8935072971371, sum_sq=31461.176532711437, n_nonzero=24),
)


def _statistic(lift: np.ndarray, d, vd, b, vb, c):  # type: ignore[no-untyped-def]
    return np.abs(d - lift * b) / np.sqrt(vd - 2 * lift * c + lift**2 * vb)


def test_ends_are_where_the_inverted_test_reaches_its_critical_value() -> None:
    rng = np.random.default_rng(1)
    d, b = rng.normal(0, 1, 200), rng.uniform(2, 5, 200)
    vd, vb = rng.uniform(0.1, 0.5, 200), rng.uniform(0.01, 0.2, 200)
    c = -rng.uniform(0, 1, 200) * np.sqrt(vd * vb)
    low, high = fieller_arrays(d, vd, b, vb, c, 1.96, lower=-math.inf)
    assert np.all(np.isfinite(low) & np.isfinite(high))
    assert _statistic(low, d, vd, b, vb, c) == pytest.approx(1.96)
    assert _statistic(high, d, vd, b, vb, c) == pytest.approx(1.96)
    inside = (low + high) / 2
    assert np.all(_statistic(inside, d, vd, b, vb, c) < 1.96)
    assert np.all((low <= d / b) & (d / b <= high))
    # diff / |base| for a negative base: the same interval as for -base, whose covariance is -cov.
    flipped = fieller_arrays(d, vd, -b, vb, -c, 1.96, lower=-math.inf)
    assert flipped[0] == pytest.approx(low) and flipped[1] == pytest.approx(high)


def test_unbounded_when_the_control_cannot_be_told_from_zero() -> None:
    low, high = fieller_arrays(1.0, 1.0, 0.5, 1.0, 0.0, 1.96, lower=-1.0)
    assert (float(low), float(high)) == (-1.0, math.inf)
    low, high = fieller_arrays(1.0, 1.0, 0.0, 1.0, 0.0, 1.96)
    assert math.isnan(float(low)) and math.isnan(float(high))


def test_relative_interval_never_goes_below_minus_100_percent() -> None:
    fixed = compare_means(*FEW_BUYERS)
    always = sequential_comparison(fixed, n_star=2000)
    for estimate in (fixed.relative, always.relative):
        assert estimate.ci_low >= -1.0
        assert estimate.ci_low <= estimate.point <= estimate.ci_high
    # Two buyers in the treatment: its mean cannot be told from zero, nor the ratio from -100%.
    control = ArmSummary(n=500, sum=2000.0, sum_sq=400_000.0, n_nonzero=30)
    treatment = ArmSummary(n=500, sum=100.0, sum_sq=9000.0, n_nonzero=2)
    assert compare_means(control, treatment).relative.ci_low == -1.0
    # A metric whose values may be negative keeps Fieller's own lower end.
    assert compare_means(control, treatment, nonnegative=False).relative.ci_low < -1.0


def test_a_few_buyers_are_not_evidence_of_harm() -> None:
    fixed = compare_means(*FEW_BUYERS)
    always = sequential_comparison(fixed, n_star=2000)
    assert fixed.relative.p_value > 0.05 and always.relative.p_value > 0.05
    # The always-valid sequence cannot bound the ratio above yet: it says so instead of
    # inventing a width.
    rel = always.relative
    assert rel.ci_high == math.inf and -1.0 <= rel.ci_low < rel.point


@pytest.mark.parametrize("seed", range(5))
def test_relative_and_absolute_agree_on_significance(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(100):
        a = ArmSummary.from_values(rng.exponential(1.0, 300))
        b = ArmSummary.from_values(rng.exponential(rng.uniform(0.8, 1.3), 300))
        for comparison in (compare_means(a, b), sequential_comparison(compare_means(a, b))):
            rel, ab = comparison.relative, comparison.absolute
            assert rel.p_value == ab.p_value
            assert (rel.ci_low > 0 or rel.ci_high < 0) == (ab.ci_low > 0 or ab.ci_high < 0)


def test_proportions_large_sample_matches_the_delta_method() -> None:
    """With 20,000 units per arm the skew of 1/b is negligible: the two intervals agree."""
    rel = compare_proportions(
        ArmSummary.from_proportion(2000, 20000), ArmSummary.from_proportion(2200, 20000)
    ).relative
    delta_half = 1.96 * rel.se
    assert rel.ci_low == pytest.approx(rel.point - delta_half, abs=2e-3)
    assert rel.ci_high == pytest.approx(rel.point + delta_half, abs=2e-3)


def test_a_clear_gain_over_a_control_near_zero_is_bounded_below() -> None:
    """The control cannot be told from zero, the treatment clearly beats it: the ratio's set is
    two rays, and within the metric's range (>= -100%) only the upper one remains, above zero."""
    control = ArmSummary(n=500, sum=50.0, sum_sq=2000.0, n_nonzero=5)
    treatment = ArmSummary(n=500, sum=1500.0, sum_sq=60_000.0, n_nonzero=60)
    fixed = compare_means(control, treatment)
    always = sequential_comparison(fixed, n_star=DEFAULT_N_STAR)
    multipliers = (
        stats.t.ppf(0.975, fixed.relative.df),
        float(halfwidth_arrays(1.0, 1000, n_star=DEFAULT_N_STAR, alpha=0.05)),
    )
    for comparison, q in zip((fixed, always), multipliers, strict=True):
        rel, ratio = comparison.relative, comparison.ratio
        assert rel.p_value < 0.05
        assert 0 < rel.ci_low < rel.point and rel.ci_high == math.inf
        # The lower end is where the inverted test reaches its critical value.
        low = np.array(rel.ci_low)
        at_low = _statistic(low, ratio.diff, ratio.var_diff, ratio.base, ratio.var_base, ratio.cov)
        assert float(at_low) == pytest.approx(q)


def test_interval_excludes_zero_exactly_when_the_test_rejects_for_non_negative_means() -> None:
    """Random non-negative arm means, many with a control indistinguishable from zero."""
    rng = np.random.default_rng(9)
    m_a, m_b = rng.uniform(0, 1, 5000), rng.uniform(0, 3, 5000)
    v_a, v_b = rng.uniform(0.01, 1, 5000), rng.uniform(0.01, 1, 5000)
    d, vd, b, vb, c = m_b - m_a, v_a + v_b, m_a, v_a, -v_a
    low, high = fieller_arrays(d, vd, b, vb, c, 1.96)
    assert np.mean(np.isinf(high)) > 0.3  # the unbounded cases are well represented
    rejects = _statistic(np.zeros(5000), d, vd, b, vb, c) > 1.96
    assert np.array_equal((low > 0) | (high < 0), rejects)
    assert np.all(low >= -1.0) and np.all((low <= d / b) & (d / b <= high))
