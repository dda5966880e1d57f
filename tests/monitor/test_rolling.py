"""The causal windows (``sameday/monitor/_rolling.py``) against plain loops over the same points."""

from __future__ import annotations

import numpy as np

from sameday.monitor._rolling import (
    before,
    ending_at,
    lookback_count,
    lookback_max,
    lookback_mean,
    lookback_median,
    shift,
)

RNG = np.random.default_rng(12)
X = RNG.normal(0, 1, 400)
X_GAPS = X.copy()
X_GAPS[[3, 150, 151, 390]] = np.nan


def test_windows_before_and_ending_at_a_point() -> None:
    for t in range(400):
        b, e = before(X, 5)[t], ending_at(X, 12, "mean")[t]
        assert np.isnan(b) if t < 5 else b == np.median(X[t - 5 : t])
        assert np.isnan(e) if t < 11 else np.isclose(e, X[t - 11 : t + 1].mean())
        mad = ending_at(X, 12, "mad")[t]
        if t >= 11:
            window = X[t - 11 : t + 1]
            assert np.isclose(mad, np.median(np.abs(window - np.median(window))))
    assert np.array_equal(shift(X, 3)[3:], X[:-3]) and np.isnan(shift(X, 3)[:3]).all()


def test_lookback_statistics_match_a_loop() -> None:
    width, gap = 50, 7
    magnitudes = np.abs(X_GAPS)
    maxima = lookback_max(magnitudes, width, gap)
    medians = lookback_median(magnitudes, width, gap, every=1)
    means = lookback_mean(X_GAPS, width)
    counts = lookback_count(~np.isnan(X_GAPS), width)
    for t in range(400):
        window = magnitudes[max(0, t - width) : max(0, t - gap + 1)]
        kept = window[~np.isnan(window)]
        assert maxima[t] == (kept.max() if len(kept) else 0.0)
        assert np.isnan(medians[t]) if not len(kept) else medians[t] == np.median(kept)
        recent = X_GAPS[max(0, t - width) : t]
        recent = recent[~np.isnan(recent)]
        assert counts[t] == len(recent)
        assert np.isnan(means[t]) if not len(recent) else np.isclose(means[t], recent.mean())


def test_a_median_held_between_checkpoints_reads_only_earlier_points() -> None:
    held = lookback_median(np.abs(X), 60, 1, every=10)
    exact = lookback_median(np.abs(X), 60, 1, every=1)
    checkpoints = np.arange(10, 400, 10)
    np.testing.assert_array_equal(held[checkpoints], exact[checkpoints])
    np.testing.assert_array_equal(held[checkpoints + 9], exact[checkpoints])
    # a young series is not left with the scale of its first points
    early = [t for t in range(1, 10) if held[t] == exact[t]]
    assert len(early) >= 5 and all(held[t] in exact[1 : t + 1] for t in range(1, 10))
