"""What a point is expected to be, from earlier points only: seasons and causal forecasts.

A metric's season follows from its step: a daily series repeats weekly; an hourly (or finer) one
repeats daily and weekly. :func:`seasons` turns the median step between timestamps into those
periods, counted in points.

:func:`forecasts` builds one causal forecast per candidate model, each robust to earlier
outliers because it is made of medians:

- ``level``: the median of the last ``k`` points — follows level shifts within ``k/2`` points;
- one per season ``P``: the median of the values one, two, ... ``seasons`` periods ago at the
  same phase (the seasonal profile), plus the median of the last ``k`` points' departures from
  their own profile (the current level): a weekly pattern that moved up by 10% last Tuesday
  is expected 10% higher today.

The detector keeps, point by point, the candidate whose errors were smallest over the lookback,
so a series without a season is judged against its level and one with a season against its
profile, and a season that stops holding loses to the level model on its own.

Why not a decomposition library (statsmodels' robust STL): STL is a two-sided smoother, so a
causal use refits it at every point (quadratic in the history), and its estimate at the newest
point, the only one a causal detector reads, is its least reliable. The medians here are the
same robust idea applied causally, in milliseconds, with numpy alone.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from sameday.monitor._rolling import FloatArray, before

DAY = 86_400.0
WEEK = 7 * DAY


def infer_step(seconds: FloatArray) -> float:
    """The series' step in seconds: the median of the positive gaps between timestamps.

    Duplicated or out-of-order timestamps (some exports have them) are ignored; 0 when no two
    timestamps differ.
    """
    gaps = np.diff(seconds)
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if len(gaps) else 0.0


def seasons(step: float) -> tuple[int, ...]:
    """Seasonal periods, in points, for a series sampled every ``step`` seconds.

    Sub-daily steps get a daily and a weekly period, a daily step gets the weekly one, coarser
    steps none. A period is the nearest whole number of points (steps that do not divide a day
    exactly, such as 7 minutes, get a close period).
    """
    if step <= 0:
        return ()
    if step < DAY * 0.9:
        return (round(DAY / step), round(WEEK / step))
    if step < DAY * 1.5:
        return (7,)
    return ()


@dataclass(frozen=True)
class Candidate:
    """One model's causal forecast of every point, and its name (``level``, ``season:288``)."""

    name: str
    expected: FloatArray

    def errors(self, values: FloatArray) -> FloatArray:
        """Observed minus expected (``NaN`` where the model cannot forecast yet)."""
        return values - self.expected


def forecasts(values: FloatArray, periods: tuple[int, ...], k: int, depth: int) -> list[Candidate]:
    """The ``level`` forecast and one seasonal forecast per period, each from earlier points.

    Args:
        values: the series.
        periods: seasonal periods in points (from :func:`seasons`).
        k: points in the local level (a median, so a single outlier never moves it).
        depth: seasons of history in the profile (the median of the same phase over up to
            ``depth`` earlier periods; one is enough to start).
    """
    out = [Candidate("level", before(values, k))]
    for period in periods:
        if len(values) <= period + k:
            continue
        profile = _profile(values, period, depth)
        departure = values - profile
        level = before(departure, k)  # NaN until k departures are known: nothing guessed
        out.append(Candidate(f"season:{period}", profile + level))
    return out


def _profile(values: FloatArray, period: int, depth: int) -> FloatArray:
    n = len(values)
    lags = np.full((depth, n), np.nan)
    for j in range(1, depth + 1):
        if n > j * period:
            lags[j - 1, j * period :] = values[: n - j * period]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: no season seen yet
        profile: FloatArray = np.nanmedian(lags, axis=0)
    return profile
