"""The sequential sample-ratio test: its Bayes factor, its validity under repeated looks
(simulated), and its power on a split bug."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sameday.errors import StatsInputError
from sameday.monitor.srm import log_bayes_factor, sequential_srm


def test_bayes_factor_is_the_dirichlet_multinomial_over_the_multinomial() -> None:
    counts, theta, k = [37, 55, 8], np.array([0.3, 0.6, 0.1]), 100.0
    # The marginal likelihood of the ordered sequence under Dir(k·θ) over its likelihood under θ;
    # scipy's pmfs both carry the multinomial coefficient, which cancels.
    mixture = stats.dirichlet_multinomial.logpmf(counts, k * theta, sum(counts))
    null = stats.multinomial.logpmf(counts, sum(counts), theta)
    assert float(log_bayes_factor(counts, theta)) == pytest.approx(mixture - null, abs=1e-9)


def test_no_units_no_evidence_and_weights_are_normalised() -> None:
    empty = sequential_srm([0, 0], [1, 1])
    assert empty.p_value == 1.0 and not empty.mismatch
    assert math.isnan(empty.observed_shares[0])
    assert sequential_srm([500, 520], [2, 2]).p_value == sequential_srm([500, 520]).p_value


def test_a_clear_mismatch_is_flagged_and_a_fair_split_is_not() -> None:
    broken = sequential_srm([50_000, 48_000], [0.5, 0.5])
    assert broken.mismatch and broken.p_value < 1e-6
    fair = sequential_srm([50_000, 50_100], [0.5, 0.5])
    assert not fair.mismatch and fair.p_value == 1.0


def test_arms_of_weight_zero_are_left_out_but_may_not_get_units() -> None:
    assert sequential_srm([500, 0, 510], [0.5, 0.0, 0.5]).p_value == 1.0
    with pytest.raises(StatsInputError, match="weight 0"):
        sequential_srm([500, 3, 510], [0.5, 0.0, 0.5])
    with pytest.raises(StatsInputError, match="counts for 2 arms and 3"):
        sequential_srm([1, 2], [0.2, 0.3, 0.5])
    with pytest.raises(StatsInputError, match="alpha"):
        sequential_srm([1, 2], alpha=1.0)


def _looks(rng: np.random.Generator, shares: list[float], runs: int, looks: int, batch: int):
    """Cumulative units per arm after each batch, for ``runs`` independent experiments."""
    return np.cumsum(rng.multinomial(batch, shares, size=(runs, looks)), axis=1)


@pytest.mark.parametrize("weights", [[0.5, 0.5], [0.2, 0.3, 0.5]])
def test_checking_after_every_batch_keeps_false_alarms_within_alpha(weights: list[float]) -> None:
    # 2,000 experiments with a correct split, checked after each of 500 batches of 200 units
    # (100,000 units): the share that ever alarms stays within alpha, where the chi-square test
    # at the same level, read at the same looks, alarms far more often.
    rng = np.random.default_rng(17)
    alpha, runs = 0.05, 2_000
    counts = _looks(rng, weights, runs, looks=500, batch=200)
    ever = (log_bayes_factor(counts, weights) >= math.log(1 / alpha)).any(axis=1)
    rate = float(ever.mean())
    # the binomial standard error of the rate is 0.005: alpha itself is within 2 of them
    assert rate <= alpha
    expected = counts.sum(axis=-1, keepdims=True) * np.asarray(weights)
    chi2 = ((counts - expected) ** 2 / expected).sum(axis=-1)
    naive = float((stats.chi2.sf(chi2, len(weights) - 1) < alpha).any(axis=1).mean())
    assert naive > 4 * alpha


def test_a_split_bug_is_caught_at_the_default_level() -> None:
    # The second arm loses 5% of its units (a redirect that drops some): its share falls from
    # 0.5 to 0.4872. Checked every 1,000 units, the test flags it in every run within 100,000
    # units, half of them by 35,000.
    rng = np.random.default_rng(3)
    share = 0.5 * 0.95 / (0.5 + 0.5 * 0.95)
    counts = _looks(rng, [1 - share, share], runs=200, looks=100, batch=1_000)
    crossed = log_bayes_factor(counts, [0.5, 0.5]) >= math.log(1 / 0.001)
    assert crossed.any(axis=1).all()
    first = (crossed.argmax(axis=1) + 1) * 1_000
    assert float(np.median(first)) <= 35_000
