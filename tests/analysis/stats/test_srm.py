"""The sample-ratio check: golden vectors, scipy, and the alarm."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sameday.analysis.stats.srm import SRM_THRESHOLD, sample_ratio_check
from sameday.errors import StatsInputError


def test_golden_vectors() -> None:
    big = sample_ratio_check([821_588, 815_482], [0.5, 0.5])
    assert big.chi2 == pytest.approx(22.774, abs=1e-3)
    assert big.p_value == pytest.approx(1.822e-6, rel=1e-3)
    assert big.mismatch
    small = sample_ratio_check([5_000, 5_200])
    assert small.p_value == pytest.approx(0.04767, abs=1e-4)
    assert not small.mismatch
    thirds = sample_ratio_check([1_000, 1_100, 900], [1 / 3, 1 / 3, 1 / 3])
    assert thirds.p_value == pytest.approx(4.54e-5, rel=1e-3)
    assert thirds.df == 2
    assert thirds.mismatch


def test_equals_scipy_chisquare_on_random_inputs() -> None:
    rng = np.random.default_rng(1)
    for _ in range(100):
        arms = int(rng.integers(2, 6))
        weights = rng.dirichlet(np.ones(arms))
        counts = rng.multinomial(int(rng.integers(100, 100_000)), weights)
        result = sample_ratio_check(counts.tolist(), weights.tolist())
        expected = stats.chisquare(counts, weights * counts.sum())
        assert result.chi2 == pytest.approx(expected.statistic, rel=1e-9)
        assert result.p_value == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)


def test_a_half_point_imbalance_over_a_million_units_raises_the_alarm() -> None:
    result = sample_ratio_check([505_000, 495_000], [0.5, 0.5])
    assert result.mismatch
    assert result.p_value < 1e-20
    assert result.observed_shares == pytest.approx((0.505, 0.495))


def test_fair_splits_rarely_raise_the_alarm() -> None:
    rng = np.random.default_rng(2)
    treated = rng.binomial(1_000_000, 0.5, 2000)
    alarms = [sample_ratio_check([int(t), 1_000_000 - int(t)]).mismatch for t in treated]
    assert np.mean(alarms) <= 0.005
    assert SRM_THRESHOLD == 0.001


def test_unequal_weights_and_zero_weight_arms() -> None:
    assert not sample_ratio_check([9_000, 1_000], [90, 10]).mismatch
    assert sample_ratio_check([5_000, 5_000], [0.9, 0.1]).mismatch
    assert sample_ratio_check([0, 500, 500], [0, 1, 1]).df == 1
    with pytest.raises(StatsInputError, match="weight 0"):
        sample_ratio_check([3, 500, 500], [0, 1, 1])


def test_no_units_yet_is_not_an_alarm() -> None:
    result = sample_ratio_check([0, 0])
    assert result.p_value == 1.0 and not result.mismatch


@pytest.mark.parametrize(
    ("counts", "weights", "message"),
    [
        ([10], None, "two arms"),
        ([10, -1], None, ">= 0"),
        ([10, 10], [1.0], "one weight per arm"),
        ([10, 10], [0.0, 0.0], "not all zero"),
    ],
)
def test_bad_inputs(counts: list[int], weights: list[float] | None, message: str) -> None:
    with pytest.raises(StatsInputError, match=message):
        sample_ratio_check(counts, weights)
