"""The Gaussian Bayesian view: chance to win, expected loss, credible interval."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sameday.analysis.stats.bayesian import (
    bayesian_view,
    chance_to_win_arrays,
    expected_loss_arrays,
    posterior,
)
from sameday.analysis.stats.frequentist import Estimate, compare_proportions, lift_arrays
from sameday.analysis.stats.summary import ArmSummary
from sameday.errors import StatsInputError
from tests.analysis.stats._simulate import bernoulli_looks


def _estimate(point: float, se: float) -> Estimate:
    return Estimate(point, se, math.nan, math.nan, math.nan, math.inf, 0.05)


def test_closed_forms() -> None:
    post = posterior(_estimate(0.3, 0.2))
    assert post.chance_to_win == pytest.approx(stats.norm.cdf(1.5))
    assert post.ci_low == pytest.approx(0.3 - stats.norm.ppf(0.975) * 0.2)
    assert post.ci_high == pytest.approx(0.3 + stats.norm.ppf(0.975) * 0.2)
    draws = np.random.default_rng(1).normal(0.3, 0.2, 2_000_000)
    assert post.expected_loss == pytest.approx(np.maximum(-draws, 0).mean(), abs=2e-4)
    assert post.expected_loss_control == pytest.approx(np.maximum(draws, 0).mean(), abs=2e-4)


def test_lower_is_better_flips_the_direction() -> None:
    up = posterior(_estimate(0.3, 0.2))
    down = posterior(_estimate(0.3, 0.2), higher_is_better=False)
    assert down.chance_to_win == pytest.approx(1 - up.chance_to_win)
    assert down.expected_loss == pytest.approx(up.expected_loss_control)


def test_chance_to_win_agrees_with_beta_posteriors() -> None:
    """For conversions, the normal approximation matches exact Beta posteriors sampled."""
    control, treatment = (
        ArmSummary.from_proportion(480, 5000),
        ArmSummary.from_proportion(530, 5000),
    )
    view = bayesian_view(compare_proportions(control, treatment))
    rng = np.random.default_rng(2)
    a = rng.beta(1 + 480, 1 + 4520, 1_000_000)
    b = rng.beta(1 + 530, 1 + 4470, 1_000_000)
    assert view.absolute.chance_to_win == pytest.approx(np.mean(b > a), abs=0.01)
    assert view.relative.chance_to_win == pytest.approx(np.mean(b > a), abs=0.01)
    assert view.absolute.expected_loss == pytest.approx(np.maximum(a - b, 0).mean(), rel=0.05)


def test_chance_to_win_is_uniform_around_one_half_in_aa_tests() -> None:
    arms = bernoulli_looks(3, 4000, 1, 5000, p_a=0.1, p_b=0.1)
    lift = lift_arrays(
        arms.mean_a, arms.var_a / arms.n, arms.n, arms.mean_b, arms.var_b / arms.n, arms.n
    )
    chance = chance_to_win_arrays(lift.relative, lift.se_relative)
    assert chance.mean() == pytest.approx(0.5, abs=0.02)
    assert np.mean(chance > 0.95) == pytest.approx(0.05, abs=0.015)
    ship, keep = expected_loss_arrays(lift.absolute, lift.se_absolute)
    assert ship.mean() == pytest.approx(keep.mean(), rel=0.1)


def test_a_prior_shrinks_toward_zero() -> None:
    flat = posterior(_estimate(0.5, 0.5))
    shrunk = posterior(_estimate(0.5, 0.5), prior_sd=0.3)
    assert 0 < shrunk.mean < flat.mean
    assert shrunk.sd < flat.sd
    precision = 1 / 0.25 + 1 / 0.09
    assert shrunk.mean == pytest.approx((0.5 / 0.25) / precision)
    with pytest.raises(StatsInputError, match="prior_sd"):
        posterior(_estimate(0.5, 0.5), prior_sd=0)


def test_bayesian_view_scales_the_relative_prior_for_the_absolute_lift() -> None:
    result = compare_proportions(
        ArmSummary.from_proportion(100, 1000), ArmSummary.from_proportion(120, 1000)
    )
    view = bayesian_view(result, prior_sd_relative=0.3)
    flat = bayesian_view(result)
    assert view.relative.mean < flat.relative.mean
    assert view.absolute.mean / view.relative.mean == pytest.approx(0.1, rel=0.05)


def test_degenerate_posteriors() -> None:
    certain = posterior(_estimate(0.2, 0.0))
    assert certain.chance_to_win == 1.0
    assert certain.expected_loss == 0.0
    assert certain.expected_loss_control == pytest.approx(0.2)
    assert math.isnan(posterior(_estimate(math.nan, math.nan)).chance_to_win)
