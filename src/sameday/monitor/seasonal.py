"""What a point is expected to be, from earlier points only: seasons and causal forecasts.

A metric's season follows from its step: a daily series repeats weekly; an hourly (or finer) one
repeats daily and weekly. :func:`seasons` turns the median step between timestamps into those
periods, counted in points.

:func:`forecasts` builds one causal forecast per candidate model, each robust to earlier
outliers because it is made of medians:

- ``level``: the median of the last ``k`` points — follows level shifts within ``k/2`` points;
- two per season ``P``: the median of the values one, two, ... ``depth`` periods ago at the
  same phase (the seasonal profile), moved to the current level by the median of the last
  ``k`` points' departures from their profile (additive) or of their ratios to it
  (multiplicative): a weekly pattern that moved up by 10% since Tuesday is expected 10%
  higher today, weekend dip included.

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


STEP_SAMPLE = 256
"""Gaps the step is inferred from: the first ones, so that appending points to a series never
changes its step (and so its seasons) once it has this many."""


def infer_step(seconds: FloatArray) -> float:
    """The series' step in seconds: the median positive gap among its first timestamps.

    Duplicated or out-of-order timestamps (some exports have them) are ignored; 0 when no two
    timestamps differ.
    """
    gaps = np.diff(seconds[: STEP_SAMPLE + 1])
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if len(gaps) else 0.0


def seasons(step: float) -> dict[str, int]:
    """Seasonal periods, in points, for a series sampled every ``step`` seconds, by name.

    Sub-daily steps get a ``daily`` and a ``weekly`` period, a daily step the ``weekly`` one,
    coarser steps none. A period is the nearest whole number of points (steps that do not
    divide a day exactly, such as 7 minutes, get a close period).
    """
    if step <= 0:
        return {}
    if step < DAY * 0.9:
        return {"daily": round(DAY / step), "weekly": round(WEEK / step)}
    if step < DAY * 1.5:
        return {"weekly": 7}
    return {}


@dataclass(frozen=True)
class Candidate:
    """One model's causal forecast of every point, and its name (``level``, ``weekly ratio``)."""

    name: str
    expected: FloatArray

    def errors(self, values: FloatArray) -> FloatArray:
        """Observed minus expected (``NaN`` where the model cannot forecast yet)."""
        return values - self.expected


def forecasts(values: FloatArray, periods: dict[str, int], k: int, depth: int) -> list[Candidate]:
    """The ``level`` forecast and two seasonal forecasts per period, each from earlier points.

    For each season the profile is moved to the current level either by the median departure
    of the last ``k`` points from it (``weekly``: a weekend 100 below weekdays stays 100 below)
    or by their median ratio to it (``weekly ratio``: a weekend at 40% of weekdays stays at 40%
    when traffic grows; where the profile or a recent point's is not positive, the additive
    forecast stands in).

    Args:
        values: the series.
        periods: seasonal periods in points by name (from :func:`seasons`).
        k: points in the local level (a median, so a single outlier never moves it).
        depth: seasons of history in the profile (the median of the same phase over up to
            ``depth`` earlier periods; one is enough to start).
    """
    out = [Candidate("level", before(values, k))]
    for name, period in periods.items():
        if len(values) <= period + k:
            continue
        profile = _profile(values, period, depth)
        # NaN until k departures are known: nothing is guessed
        additive = profile + before(values - profile, k)
        out.append(Candidate(name, additive))
        positive = np.where(profile > 0, profile, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = positive * before(values / positive, k)
        # a ratio to a profile of zero means nothing: there the additive forecast stands in,
        # so both candidates forecast the same points and their errors compare fairly
        out.append(Candidate(f"{name} ratio", np.where(np.isnan(ratio), additive, ratio)))
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
