"""Seasons from the step, and the causal forecasts (``sameday/monitor/seasonal.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from sameday.monitor.seasonal import DAY, forecasts, infer_step, seasons


def test_the_step_is_the_median_gap_ignoring_duplicates_and_disorder() -> None:
    seconds = np.array([0, 300, 600, 600, 900, 1500, 1200, 1800], dtype=float)
    assert infer_step(seconds) == 300.0
    assert infer_step(np.array([5.0, 5.0])) == 0.0


def test_the_step_comes_from_the_first_points_so_appending_never_changes_it() -> None:
    regular = np.arange(300, dtype=float) * 3600
    irregular_tail = np.concatenate([regular, regular[-1] + np.arange(1, 1000) * 60.0])
    assert infer_step(irregular_tail) == infer_step(regular) == 3600.0


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (300.0, {"daily": 288, "weekly": 2016}),
        (1800.0, {"daily": 48, "weekly": 336}),
        (3600.0, {"daily": 24, "weekly": 168}),
        (DAY, {"weekly": 7}),
        (7 * DAY, {}),
        (0.0, {}),
    ],
)
def test_seasons_follow_the_step(step: float, expected: dict[str, int]) -> None:
    assert seasons(step) == expected


def test_the_seasonal_forecasts_learn_a_weekly_pattern_and_a_new_level() -> None:
    week = np.array([100, 100, 100, 100, 100, 40, 40], dtype=float)
    values = np.tile(week, 6)
    values[28:] += 30  # the whole pattern moves up by 30 from day 28
    level, additive, ratio = forecasts(values, {"weekly": 7}, k=5, depth=3)
    assert (level.name, additive.name, ratio.name) == ("level", "weekly", "weekly ratio")
    # before the move the profile is exact; five days after it the level has caught up
    assert np.allclose(additive.expected[12:28], values[12:28])
    assert np.allclose(additive.expected[33:], values[33:])
    # the level model cannot know that Saturday dips
    assert level.expected[33] == 130.0 and values[33] == 70.0  # day 33 is a Saturday


def test_the_ratio_forecast_keeps_the_weekend_share_when_traffic_grows() -> None:
    values = np.tile(np.array([100, 100, 100, 100, 100, 40, 40], dtype=float), 6)
    values[28:] *= 1.5
    _, additive, ratio = forecasts(values, {"weekly": 7}, k=5, depth=3)
    assert np.allclose(ratio.expected[33:], values[33:])
    assert additive.expected[33] == 90.0 and values[33] == 60.0


def test_forecasts_read_only_earlier_points() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(100, 10, 500)
    full = forecasts(values, {"daily": 24, "weekly": 168}, k=5, depth=3)
    part = forecasts(values[:300], {"daily": 24, "weekly": 168}, k=5, depth=3)
    for a, b in zip(full, part, strict=True):
        np.testing.assert_array_equal(a.expected[:300], b.expected)


def test_an_outlier_in_the_profile_barely_moves_the_expected_value() -> None:
    rng = np.random.default_rng(5)
    values = np.tile([100.0, 100, 100, 100, 100, 40, 40], 8) + rng.normal(0, 1, 56)
    spoiled = values.copy()
    spoiled[35] *= 10  # a wild Monday
    clean = forecasts(values, {"weekly": 7}, k=5, depth=3)[1].expected
    moved = forecasts(spoiled, {"weekly": 7}, k=5, depth=3)[1].expected
    # next Monday's expectation moves by less than 2% of the outlier's deviation
    assert abs(moved[42] - clean[42]) < 0.02 * (spoiled[35] - values[35])
