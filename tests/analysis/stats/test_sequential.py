"""The asymptotic confidence sequence: formulas, peeking, coverage and width."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sameday.analysis.stats.frequentist import (
    compare_means,
    lift_arrays,
    relative_interval_arrays,
    t_interval,
)
from sameday.analysis.stats.sequential import (
    DEFAULT_N_STAR,
    halfwidth_arrays,
    p_value_arrays,
    rho,
    sequential_comparison,
    tuning_from_plan,
)
from sameday.analysis.stats.summary import ArmSummary
from sameday.errors import StatsInputError
from tests.analysis.stats._simulate import Arms, bernoulli_looks, normal_looks

LOOKS = 30


def test_formulas_as_specified() -> None:
    alpha, n_star = 0.05, 5000.0
    expected_rho = math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / n_star)
    assert rho(n_star, alpha) == pytest.approx(expected_rho, rel=1e-12)
    se, n, est = 0.12, 6868, 0.29
    k = n * expected_rho**2
    half = se * math.sqrt(2 * (k + 1) / k * math.log(math.sqrt(k + 1) / alpha))
    assert float(halfwidth_arrays(se, n, n_star=n_star, alpha=alpha)) == pytest.approx(half)
    z = est / se
    p = min(1.0, math.sqrt(k + 1) * math.exp(-k * z**2 / (2 * (k + 1))))
    assert float(p_value_arrays(est, se, n, n_star=n_star, alpha=alpha)) == pytest.approx(p)


def test_p_value_is_the_msprt_with_a_normal_mixture() -> None:
    """p = 1 / Λ, Λ the mSPRT likelihood ratio with mixing variance τ² = ρ²·n·se²."""
    alpha, n_star = 0.05, 12000.0
    rng = np.random.default_rng(5)
    est, se, n = rng.normal(0, 1, 100), rng.uniform(0.2, 2, 100), rng.integers(10, 50000, 100)
    v = se**2
    tau2 = rho(n_star, alpha) ** 2 * n * v
    lam = np.sqrt(v / (v + tau2)) * np.exp(tau2 * est**2 / (2 * v * (v + tau2)))
    assert p_value_arrays(est, se, n, n_star=n_star, alpha=alpha) == pytest.approx(
        np.minimum(1, 1 / lam)
    )


def test_p_value_below_alpha_exactly_when_the_interval_excludes_zero() -> None:
    rng = np.random.default_rng(6)
    est, se, n = rng.normal(0, 3, 5000), rng.uniform(0.5, 1.5, 5000), rng.integers(1, 10**5, 5000)
    half = halfwidth_arrays(se, n, n_star=8000, alpha=0.05)
    p = p_value_arrays(est, se, n, n_star=8000, alpha=0.05)
    assert np.array_equal(p < 0.05, np.abs(est) > half)


def test_sequential_comparison_keeps_the_point_and_widens_the_interval() -> None:
    fixed = compare_means(
        ArmSummary(n=3407, sum=1396.87, sum_sq=52377.9767),
        ArmSummary(n=3461, sum=2422.7, sum_sq=134698.29),
    )
    seq = sequential_comparison(fixed, n_star=DEFAULT_N_STAR)
    assert seq.sequential and not fixed.sequential
    for before, after in ((fixed.absolute, seq.absolute), (fixed.relative, seq.relative)):
        assert after.point == before.point and after.se == before.se
        assert after.ci_low < before.ci_low and after.ci_high > before.ci_high
        assert after.p_value > before.p_value
        assert after.df == math.inf
    # Significant at a single look (p 0.020), not once peeking is allowed for.
    assert fixed.absolute.significant and not seq.absolute.significant


def test_sequential_intervals_are_about_1_5_to_1_7_times_wider_near_n_star() -> None:
    n_star = 20000.0
    z = stats.norm.ppf(0.975)
    n = np.linspace(n_star / 2, 2 * n_star, 50)
    ratio = halfwidth_arrays(1.0, n, n_star=n_star, alpha=0.05) / z
    assert np.all((ratio > 1.5) & (ratio < 1.7))
    assert float(halfwidth_arrays(1.0, n_star, n_star=n_star, alpha=0.05) / z) == pytest.approx(
        1.549, abs=0.001
    )
    far = np.array([n_star / 100, n_star * 100])
    assert np.all(halfwidth_arrays(1.0, far, n_star=n_star, alpha=0.05) / z > 1.7)


def _peeking(arms: Arms, n_star: float) -> tuple[np.ndarray, np.ndarray]:
    """Rejection at any of the looks: (sequential, naive fixed-horizon), absolute lift."""
    lift = lift_arrays(
        arms.mean_a, arms.var_a / arms.n, arms.n, arms.mean_b, arms.var_b / arms.n, arms.n
    )
    seq_p = p_value_arrays(lift.absolute, lift.se_absolute, 2 * arms.n, n_star=n_star, alpha=0.05)
    _, _, fixed_p = t_interval(lift.absolute, lift.se_absolute, lift.df, 0.05)
    return np.any(seq_p < 0.05, axis=1), np.any(fixed_p < 0.05, axis=1)


@pytest.mark.parametrize("kind", ["bernoulli", "normal"])
def test_peeking_30_times_keeps_the_false_positive_rate_below_alpha(kind: str) -> None:
    """2,000 A/A tests looked at 30 times each, stopping at the first significant look."""
    m = 400
    if kind == "bernoulli":
        arms = bernoulli_looks(101, 2000, LOOKS, m, p_a=0.1, p_b=0.1)
    else:
        arms = normal_looks(102, 2000, LOOKS, m, mu=5.0, sigma=3.0, effect=0.0)
    sequential, naive = _peeking(arms, n_star=tuning_from_plan(LOOKS * m))
    assert sequential.mean() <= 0.05
    assert naive.mean() > 0.1


def test_sequential_intervals_cover_a_known_effect_at_every_look() -> None:
    effect, m = 0.3, 300
    arms = normal_looks(103, 2000, LOOKS, m, mu=5.0, sigma=3.0, effect=effect)
    lift = lift_arrays(
        arms.mean_a, arms.var_a / arms.n, arms.n, arms.mean_b, arms.var_b / arms.n, arms.n
    )
    half = halfwidth_arrays(lift.se_absolute, 2 * arms.n, n_star=LOOKS * m * 2, alpha=0.05)
    covered = np.abs(lift.absolute - effect) <= half
    assert covered.all(axis=1).mean() >= 0.95
    assert covered[:, -1].mean() >= 0.93
    # Relative lift, 0.3 / 5.0: Fieller's interval with the sequence's multiplier.
    q = halfwidth_arrays(1.0, 2 * arms.n, n_star=LOOKS * m * 2, alpha=0.05)
    low, high = relative_interval_arrays(lift, q)
    assert ((low <= effect / 5.0) & (high >= effect / 5.0)).all(axis=1).mean() >= 0.95


def test_bad_tuning_is_refused() -> None:
    with pytest.raises(StatsInputError, match="n_star"):
        rho(0, 0.05)
    with pytest.raises(StatsInputError, match="at least one unit"):
        halfwidth_arrays(1.0, 0, n_star=100, alpha=0.05)
    with pytest.raises(StatsInputError, match="planned sample size"):
        tuning_from_plan(0)
    assert tuning_from_plan(14751) == 29502
