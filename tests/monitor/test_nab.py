"""NAB's scoring rules (``sameday/monitor/nab.py``) on hand-made series with known scores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sameday.monitor.nab import (
    LOW_FN,
    LOW_FP,
    STANDARD,
    LabelledSeries,
    best_threshold,
    corpus_score,
    scaled_sigmoid,
)

# 200 points: the probationary period is the first 30; one window of 20 points, 60..79
SERIES = LabelledSeries("one", 200, ((60, 79),))


def alarms_at(series: LabelledSeries, *indices: int) -> np.ndarray:
    fired = np.zeros(series.length, dtype=bool)
    fired[list(indices)] = True
    return fired


def sigma(y: float) -> float:
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def test_scaled_sigmoid_is_nabs_published_curve() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert scaled_sigmoid(3.0) == -1.0


def test_probation_is_15_percent_capped_at_750_points() -> None:
    assert SERIES.probation == 30
    assert LabelledSeries("long", 10_000, ()).probation == 750


def test_an_alarm_on_the_first_point_of_every_window_is_perfect() -> None:
    score = corpus_score([(SERIES, alarms_at(SERIES, 60))], STANDARD)
    assert (score.raw, score.null, score.perfect) == (1.0, -1.0, 1.0)
    assert score.normalized == 100.0


def test_no_alarm_is_the_null_score() -> None:
    score = corpus_score([(SERIES, alarms_at(SERIES))], STANDARD)
    assert score.raw == -1.0
    assert score.normalized == 0.0
    assert (score.detected, score.missed, score.false_alarms) == (0, 1, 0)


def test_a_late_alarm_earns_little_and_only_the_first_alarm_counts() -> None:
    last = corpus_score([(SERIES, alarms_at(SERIES, 79))], STANDARD)
    # position -(79 - 79 + 1) / 20 = -0.05, relative to the earliest possible detection
    assert last.raw == pytest.approx(sigma(-0.05) / sigma(-1.0))
    both = corpus_score([(SERIES, alarms_at(SERIES, 70, 79))], STANDARD)
    assert both.raw == pytest.approx(sigma(-10 / 20) / sigma(-1.0))
    assert both.false_alarms == 0


def test_false_alarms_cost_less_right_after_a_window() -> None:
    before_any_window = corpus_score([(SERIES, alarms_at(SERIES, 40))], STANDARD)
    assert before_any_window.raw == pytest.approx(-1.0 - 0.11)
    just_after = corpus_score([(SERIES, alarms_at(SERIES, 80))], STANDARD)
    assert just_after.raw == pytest.approx(-1.0 + 0.11 * sigma(1 / 19))
    far_after = corpus_score([(SERIES, alarms_at(SERIES, 79 + 3 * 19))], STANDARD)
    assert far_after.raw == pytest.approx(-1.0 - 0.11)
    assert corpus_score([(SERIES, alarms_at(SERIES, 40))], LOW_FP).raw == pytest.approx(-1.22)


def test_alarms_and_windows_inside_the_probationary_period_do_not_count() -> None:
    series = LabelledSeries("early", 200, ((5, 20), (100, 119)))
    score = corpus_score([(series, alarms_at(series, 10, 25, 100))], STANDARD)
    assert score.raw == 1.0  # the first window is not scored, alarms at 10 and 25 are ignored
    assert score.perfect == 1.0


def test_profiles_weigh_misses_and_false_alarms() -> None:
    missed = corpus_score([(SERIES, alarms_at(SERIES, 40))], LOW_FN)
    assert missed.raw == pytest.approx(-2.0 - 0.11)
    assert missed.null == -2.0


def test_the_corpus_normalisation_adds_raw_scores_before_normalising() -> None:
    other = LabelledSeries("two", 100, ((50, 59), (80, 89)))
    corpus = [(SERIES, alarms_at(SERIES, 60)), (other, alarms_at(other))]
    score = corpus_score(corpus, STANDARD)
    assert (score.raw, score.null, score.perfect) == (1.0 - 2.0, -3.0, 3.0)
    assert score.normalized == pytest.approx(100 * 2 / 6)


def test_the_threshold_sweep_finds_the_best_threshold_a_brute_force_finds() -> None:
    rng = np.random.default_rng(7)
    corpus = [
        LabelledSeries("a", 300, ((100, 129), (200, 229))),
        LabelledSeries("b", 250, ((150, 179),)),
        LabelledSeries("c", 200, ()),
    ]
    scores = [np.round(rng.random(s.length), 2) for s in corpus]
    for s, sc in zip(corpus, scores, strict=True):
        for first, _ in s.windows:
            sc[first + 3] = 0.995  # a good detector, with noise elsewhere
    for profile in (STANDARD, LOW_FP, LOW_FN):
        best = best_threshold(list(zip(corpus, scores, strict=True)), profile)
        brute = max(
            corpus_score([(s, sc >= t) for s, sc in zip(corpus, scores, strict=True)], profile).raw
            for t in [math.inf, *np.unique(np.concatenate(scores))]
        )
        assert best.raw == pytest.approx(brute)
        assert best.threshold is not None
        at = [(s, sc >= best.threshold) for s, sc in zip(corpus, scores, strict=True)]
        assert corpus_score(at, profile).raw == pytest.approx(best.raw)


def test_windows_must_be_ordered_and_inside_the_series() -> None:
    with pytest.raises(ValueError, match="window"):
        LabelledSeries("bad", 100, ((50, 60), (55, 70)))
    with pytest.raises(ValueError, match="inside"):
        LabelledSeries("bad", 100, ((90, 100),))
