"""Ratio metrics by the delta method, and CUPED with a pooled theta."""

from __future__ import annotations

import numpy as np
import pytest

from sameday.analysis.stats.adjusted import compare_cuped, compare_ratios, pooled_theta, ratio
from sameday.analysis.stats.frequentist import compare_means
from sameday.analysis.stats.summary import ArmSummary
from sameday.errors import StatsInputError


def _sessions(rng: np.random.Generator, n: int, ctr: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-user sessions (denominator) and clicks (numerator), clustered within users."""
    sessions = rng.poisson(3, n) + 1
    propensity = rng.beta(0.5, 0.5 / ctr - 0.5, n)
    return rng.binomial(sessions, propensity).astype(float), sessions.astype(float)


def test_ratio_variance_equals_the_linearised_variance() -> None:
    """Delta method: var(Σy/Σx) = var((y - r·x)/x̄) / n, an algebraic identity."""
    y, x = _sessions(np.random.default_rng(1), 4000, 0.1)
    value, var = ratio(ArmSummary.from_values(y, x))
    r = y.sum() / x.sum()
    assert value == pytest.approx(r)
    assert var == pytest.approx(((y - r * x) / x.mean()).var(ddof=1) / y.size)


def test_ratio_standard_error_matches_simulation_and_intervals_cover() -> None:
    rng = np.random.default_rng(2)
    estimates, ses, covered = [], [], 0
    truth = None
    for _ in range(400):
        control = ArmSummary.from_values(*_sessions(rng, 1500, 0.1))
        treatment = ArmSummary.from_values(*_sessions(rng, 1500, 0.1))
        result = compare_ratios(control, treatment)
        estimates.append(result.absolute.point)
        ses.append(result.absolute.se)
        truth = 0.0
        covered += result.absolute.ci_low <= truth <= result.absolute.ci_high
        assert result.method == "ratio"
    assert np.std(estimates) == pytest.approx(np.mean(ses), rel=0.1)
    assert covered / 400 >= 0.93


def test_ratio_ignoring_clustering_would_be_too_narrow() -> None:
    """Treating sessions as independent understates the variance: the delta method does not."""
    y, x = _sessions(np.random.default_rng(3), 5000, 0.1)
    _, var = ratio(ArmSummary.from_values(y, x))
    r = y.sum() / x.sum()
    naive = r * (1 - r) / x.sum()
    assert var > 1.2 * naive


def _correlated(
    rng: np.random.Generator, n: int, rho: float, effect: float
) -> tuple[np.ndarray, np.ndarray]:
    pre = rng.normal(10, 2, n)
    noise = rng.normal(0, 2, n)
    post = 10 + effect + rho * (pre - 10) + np.sqrt(1 - rho**2) * noise
    return post, pre


def test_cuped_reduces_variance_by_rho_squared_and_stays_unbiased() -> None:
    rng = np.random.default_rng(4)
    rho, effect, sims = 0.7, 0.2, 400
    adjusted, plain, reductions = [], [], []
    for _ in range(sims):
        control = ArmSummary.from_values(*_correlated(rng, 1000, rho, 0.0))
        treatment = ArmSummary.from_values(*_correlated(rng, 1000, rho, effect))
        result = compare_cuped(control, treatment)
        adjusted.append(result.absolute.point)
        plain.append(compare_means(control, treatment).absolute.point)
        assert result.variance_reduction is not None
        reductions.append(result.variance_reduction)
        assert result.theta == pytest.approx(rho, abs=0.1)
    assert np.mean(reductions) == pytest.approx(rho**2, abs=0.02)
    assert np.var(adjusted) / np.var(plain) == pytest.approx(1 - rho**2, abs=0.08)
    standard_error = np.std(adjusted) / np.sqrt(sims)
    assert abs(np.mean(adjusted) - effect) < 3 * standard_error


def test_cuped_intervals_cover_absolute_and_relative_effects() -> None:
    rng = np.random.default_rng(5)
    covered_abs = covered_rel = 0
    for _ in range(400):
        control = ArmSummary.from_values(*_correlated(rng, 800, 0.6, 0.0))
        treatment = ArmSummary.from_values(*_correlated(rng, 800, 0.6, 0.3))
        result = compare_cuped(control, treatment)
        covered_abs += result.absolute.ci_low <= 0.3 <= result.absolute.ci_high
        covered_rel += result.relative.ci_low <= 0.03 <= result.relative.ci_high
    assert covered_abs / 400 >= 0.93
    assert covered_rel / 400 >= 0.93


def test_cuped_with_an_uninformative_covariate_is_the_plain_test() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    flat = np.ones_like(y)
    control = ArmSummary.from_values(y, flat)
    treatment = ArmSummary.from_values(y + 1, flat)
    assert pooled_theta(control, treatment) == 0.0
    cuped = compare_cuped(control, treatment)
    plain = compare_means(control, treatment)
    assert cuped.absolute.point == pytest.approx(plain.absolute.point)
    assert cuped.absolute.se == pytest.approx(plain.absolute.se)
    assert cuped.relative.se == pytest.approx(plain.relative.se)
    assert cuped.variance_reduction == pytest.approx(0.0)


def test_theta_can_be_given() -> None:
    rng = np.random.default_rng(6)
    control = ArmSummary.from_values(*_correlated(rng, 500, 0.5, 0.0))
    treatment = ArmSummary.from_values(*_correlated(rng, 500, 0.5, 0.0))
    assert compare_cuped(control, treatment, theta=0.0).absolute.point == pytest.approx(
        compare_means(control, treatment).absolute.point
    )


def test_missing_x_and_zero_denominators_are_explained() -> None:
    bare = ArmSummary(10, 5.0, 5.0)
    with pytest.raises(StatsInputError, match="no x sums"):
        compare_cuped(bare, bare)
    zero = ArmSummary.from_values([1.0, 0.0, 1.0], [0.0, 0.0, 0.0])
    with pytest.raises(StatsInputError, match="denominator"):
        compare_ratios(zero, zero)
