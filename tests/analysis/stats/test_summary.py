"""ArmSummary: validation, moments and additivity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sameday.analysis.stats.summary import ArmSummary
from sameday.errors import StatsInputError


def test_moments_match_numpy() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(2, 1, 500)
    y = 0.5 * x + rng.normal(0, 1, 500)
    s = ArmSummary.from_values(y, x)
    assert s.n == 500
    assert s.mean == pytest.approx(y.mean())
    assert s.mean_x == pytest.approx(x.mean())
    assert s.variance() == pytest.approx(y.var(ddof=1))
    assert s.variance(ddof=0) == pytest.approx(y.var())
    assert s.variance_x() == pytest.approx(x.var(ddof=1))
    assert s.covariance() == pytest.approx(np.cov(x, y)[0, 1])


def test_summaries_add_up_across_days() -> None:
    rng = np.random.default_rng(2)
    y, x = rng.normal(size=300), rng.normal(size=300)
    whole = ArmSummary.from_values(y, x)
    parts = ArmSummary.from_values(y[:100], x[:100]) + ArmSummary.from_values(y[100:], x[100:])
    assert parts.n == whole.n
    for field in ("sum", "sum_sq", "sum_x", "sum_x_sq", "sum_xy"):
        assert getattr(parts, field) == pytest.approx(getattr(whole, field))
    assert (ArmSummary(2, 1.0, 1.0) + ArmSummary(3, 2.0, 2.0)) == ArmSummary(5, 3.0, 3.0)


def test_proportion_variance_is_p_times_one_minus_p() -> None:
    s = ArmSummary.from_proportion(14, 28)
    assert s.sum_sq == s.sum == 14
    assert s.variance(ddof=0) == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": -1, "sum": 0.0, "sum_sq": 0.0}, "n must be"),
        ({"n": 10, "sum": 10.0, "sum_sq": 5.0}, "swapped"),
        ({"n": 10, "sum": 1.0, "sum_sq": -1.0}, ">= 0"),
        ({"n": 0, "sum": 1.0, "sum_sq": 1.0}, "n=0"),
        ({"n": 10, "sum": 1.0, "sum_sq": 1.0, "sum_x": 1.0}, "together"),
        ({"n": 10, "sum": 1.0, "sum_sq": 1.0, "sum_x": 5.0, "sum_x_sq": 1.0, "sum_xy": 0.0}, "x"),
    ],
)
def test_impossible_summaries_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(StatsInputError, match=message):
        ArmSummary(**kwargs)  # type: ignore[arg-type]


def test_errors_are_value_errors_and_name_the_fix() -> None:
    with pytest.raises(ValueError, match="within"):
        ArmSummary.from_proportion(5, 3)
    with pytest.raises(StatsInputError, match="needs x sums"):
        _ = ArmSummary(3, 1.0, 1.0).mean_x
    with pytest.raises(StatsInputError, match="wait for more traffic"):
        ArmSummary(1, 1.0, 1.0).require(2, "treatment")
    with pytest.raises(StatsInputError, match="without them"):
        _ = ArmSummary(3, 1.0, 1.0) + ArmSummary.from_values([1.0, 2.0], [1.0, 1.0])
    with pytest.raises(StatsInputError, match="shape"):
        ArmSummary.from_values([1.0, 2.0], [1.0])


def test_empty_and_single_unit_arms_have_undefined_moments() -> None:
    assert math.isnan(ArmSummary(0, 0.0, 0.0).mean)
    assert math.isnan(ArmSummary(1, 2.0, 4.0).variance())
    # Rounding can push a zero variance slightly negative; it is clipped.
    assert ArmSummary(3, 0.3, 0.03).variance() >= 0
