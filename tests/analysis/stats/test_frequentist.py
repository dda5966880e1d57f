"""Welch t with absolute and relative lift: golden vectors, scipy, and simulated error rates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from sameday.analysis.stats.frequentist import (
    Comparison,
    compare_means,
    compare_proportions,
    lift_arrays,
    relative_interval_arrays,
    t_interval,
)
from sameday.analysis.stats.summary import ArmSummary
from sameday.errors import StatsInputError
from tests.analysis.stats._simulate import bernoulli_looks, normal_batches

TOL = 1e-4
CONTROL = ArmSummary(n=3407, sum=1396.87, sum_sq=52377.9767)
TREATMENT = ArmSummary(n=3461, sum=2422.7, sum_sq=134698.29)


def _fieller_by_search(result: Comparison, q: float) -> tuple[float, float]:
    """Fieller's interval by brute force: the lifts L where |D - L·b| / se(D - L·b) <= q."""
    ratio = result.ratio
    grid = np.linspace(-0.99, 3.0, 400_001)
    sd = np.sqrt(ratio.var_diff - 2 * grid * ratio.cov + grid**2 * ratio.var_base)
    inside = grid[np.abs(ratio.diff - grid * ratio.base) / sd <= q]
    return float(inside.min()), float(inside.max())


def test_golden_relative_lift_of_means() -> None:
    """GrowthBook's vector pins the point and the delta-method standard error (its interval is
    point ± t·se); the interval shown is Fieller's and the p-value the absolute lift's."""
    result = compare_means(CONTROL, TREATMENT)
    rel = result.relative
    assert rel.point == pytest.approx(0.70732, abs=TOL)
    t = stats.t.ppf(0.975, rel.df)
    assert rel.point - t * rel.se == pytest.approx(-0.03526, abs=TOL)
    assert rel.point + t * rel.se == pytest.approx(1.44989, abs=TOL)
    assert (rel.ci_low, rel.ci_high) == pytest.approx(_fieller_by_search(result, t), abs=2e-5)
    assert rel.p_value == result.absolute.p_value == pytest.approx(0.02016, abs=TOL)
    assert rel.significant and rel.ci_low > 0


def test_golden_absolute_lift_of_means() -> None:
    result = compare_means(CONTROL, TREATMENT)
    ab = result.absolute
    assert ab.point == pytest.approx(0.29, abs=TOL)
    assert ab.ci_low == pytest.approx(0.04538, abs=TOL)
    assert ab.ci_high == pytest.approx(0.53462, abs=TOL)
    assert ab.p_value == pytest.approx(0.02016, abs=TOL)
    assert ab.significant
    assert (result.control, result.treatment) == pytest.approx((0.41, 0.7))
    assert (result.n_control, result.n_treatment) == (3407, 3461)
    assert result.method == "mean"
    assert not result.sequential


def test_golden_relative_lift_of_proportions() -> None:
    result = compare_proportions(
        ArmSummary.from_proportion(14, 28), ArmSummary.from_proportion(16, 30)
    )
    rel = result.relative
    assert rel.point == pytest.approx(0.06667, abs=TOL)
    t = stats.t.ppf(0.975, rel.df)
    assert rel.point - t * rel.se == pytest.approx(-0.47767, abs=TOL)
    assert rel.point + t * rel.se == pytest.approx(0.61101, abs=TOL)
    assert (rel.ci_low, rel.ci_high) == pytest.approx(_fieller_by_search(result, t), abs=2e-5)
    assert rel.p_value == result.absolute.p_value
    assert result.method == "proportion"


def test_absolute_p_value_equals_scipy_on_random_inputs() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        n_a, n_b = rng.integers(2, 5000, size=2)
        a = ArmSummary.from_values(rng.normal(rng.normal(), rng.uniform(0.1, 5), n_a))
        b = ArmSummary.from_values(rng.normal(rng.normal(), rng.uniform(0.1, 5), n_b))
        expected = stats.ttest_ind_from_stats(
            b.mean,
            math.sqrt(b.variance()),
            b.n,
            a.mean,
            math.sqrt(a.variance()),
            a.n,
            equal_var=False,
        )
        result = compare_means(a, b).absolute
        assert result.p_value == pytest.approx(expected.pvalue, rel=1e-8, abs=1e-12)
        assert result.point / result.se == pytest.approx(expected.statistic, rel=1e-9)


def test_vectorised_kernel_matches_the_public_function() -> None:
    rng = np.random.default_rng(8)
    sums, squares = normal_batches(rng, (50,), 40, 1.0, 2.0)
    arms = [ArmSummary(40, float(s), float(q)) for s, q in zip(sums, squares, strict=True)]
    pairs = list(zip(arms[::2], arms[1::2], strict=True))
    mean = np.array([[a.mean, b.mean] for a, b in pairs])
    var = np.array([[a.variance() / a.n, b.variance() / b.n] for a, b in pairs])
    lift = lift_arrays(mean[:, 0], var[:, 0], 40, mean[:, 1], var[:, 1], 40)
    _, _, p = t_interval(lift.absolute, lift.se_absolute, lift.df, 0.05)
    low, high = relative_interval_arrays(lift, special.stdtrit(lift.df, 0.975))
    for i, (a, b) in enumerate(pairs):
        rel = compare_means(a, b).relative
        assert (rel.point, rel.se, rel.ci_low, rel.ci_high, rel.p_value) == pytest.approx(
            (lift.relative[i], lift.se_relative[i], low[i], high[i], p[i])
        )


def test_aa_false_positive_rate_is_alpha() -> None:
    """2,000 seeded A/A tests through the public API: about 5% significant at alpha 0.05."""
    rng = np.random.default_rng(20240601)
    tests, n = 2000, 500
    sums, squares = normal_batches(rng, (tests, 2), n, 3.0, 2.0)
    rejected_abs = rejected_rel = 0
    for (s_a, s_b), (q_a, q_b) in zip(sums, squares, strict=True):
        result = compare_means(ArmSummary(n, s_a, q_a), ArmSummary(n, s_b, q_b))
        rejected_abs += result.absolute.significant
        rejected_rel += result.relative.significant
    assert 0.035 <= rejected_abs / tests <= 0.065
    assert 0.035 <= rejected_rel / tests <= 0.065


def test_aa_false_positive_rate_of_proportions() -> None:
    arms = bernoulli_looks(11, 5000, 1, 2000, p_a=0.05, p_b=0.05)
    lift = lift_arrays(
        arms.mean_a, arms.var_a / arms.n, arms.n, arms.mean_b, arms.var_b / arms.n, arms.n
    )
    for point, se in ((lift.absolute, lift.se_absolute), (lift.relative, lift.se_relative)):
        _, _, p = t_interval(point, se, lift.df, 0.05)
        assert 0.035 <= float(np.mean(p < 0.05)) <= 0.065


@pytest.mark.parametrize("kind", ["normal", "bernoulli"])
def test_intervals_cover_a_known_effect(kind: str) -> None:
    if kind == "normal":
        rng = np.random.default_rng(3)
        s_a, q_a = normal_batches(rng, (4000,), 800, 10.0, 4.0)
        s_b, q_b = normal_batches(rng, (4000,), 800, 10.5, 4.0)
        n, ddof, truth_abs, truth_rel = 800, 1, 0.5, 0.05
    else:
        rng = np.random.default_rng(4)
        s_a = q_a = rng.binomial(3000, 0.10, 4000).astype(float)
        s_b = q_b = rng.binomial(3000, 0.11, 4000).astype(float)
        n, ddof, truth_abs, truth_rel = 3000, 0, 0.01, 0.1
    mean_a, mean_b = s_a / n, s_b / n
    var_a = (q_a - s_a**2 / n) / (n - ddof) / n
    var_b = (q_b - s_b**2 / n) / (n - ddof) / n
    lift = lift_arrays(mean_a, var_a, n, mean_b, var_b, n)
    low, high, _ = t_interval(lift.absolute, lift.se_absolute, lift.df, 0.05)
    assert np.mean((low <= truth_abs) & (truth_abs <= high)) >= 0.93
    # The relative interval the report shows: Fieller's.
    low, high = relative_interval_arrays(lift, special.stdtrit(lift.df, 0.975))
    assert np.mean((low <= truth_rel) & (truth_rel <= high)) >= 0.93


def test_zero_variance_and_zero_control_are_handled() -> None:
    same = compare_proportions(ArmSummary.from_proportion(0, 50), ArmSummary.from_proportion(0, 50))
    assert same.absolute.p_value == 1.0
    assert same.absolute.ci_low == same.absolute.ci_high == 0.0
    assert math.isnan(same.relative.point)
    assert not same.relative.significant
    apart = compare_proportions(
        ArmSummary.from_proportion(0, 50), ArmSummary.from_proportion(50, 50)
    )
    assert apart.absolute.p_value == 0.0
    assert apart.absolute.significant


def test_negative_control_mean_uses_its_magnitude() -> None:
    a = ArmSummary.from_values([-2.0, -1.0, -3.0, -2.0])
    b = ArmSummary.from_values([-1.0, -1.5, -0.5, -1.0])
    assert compare_means(a, b).relative.point == pytest.approx(0.5)
    rel = compare_means(a, b, nonnegative=False).relative
    assert rel.ci_low < 0.5 < rel.ci_high
    assert (rel.ci_low > 0) == (rel.p_value < 0.05)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(StatsInputError, match="at least 2"):
        compare_means(ArmSummary(1, 1.0, 1.0), TREATMENT)
    with pytest.raises(StatsInputError, match="alpha"):
        compare_means(CONTROL, TREATMENT, alpha=1.5)
