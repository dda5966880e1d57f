"""Scoring detections the way the Numenta Anomaly Benchmark (NAB) does.

NAB judges a causal detector on labelled series, by rules chosen for people who get paged: an
anomaly is a *window* around a labelled moment, and what counts is the first alarm inside it —
the earlier, the better — while every alarm outside the windows costs something. Its published
rules, as this module implements them:

- The first 15% of a series (at most 750 points) is a probationary period: nothing there counts,
  neither an alarm nor a window that lies wholly inside it.
- In a window of ``w`` points that ends at index ``e``, an alarm at index ``i`` sits at position
  ``y = -(e - i + 1) / w`` (-1 on the first point, just above 0 on the last), and the window's
  first alarm earns ``tp * sigma(y) / sigma(-1)``, where ``sigma(y) = 2 / (1 + exp(5 y)) - 1``:
  exactly ``tp`` at the window's start, almost nothing at its end. Later alarms in the same
  window neither earn nor cost.
- An alarm outside every window at index ``i`` costs ``fp * sigma(y)`` with
  ``y = (i - e) / (w - 1)`` measured from the end ``e`` of the preceding window of width ``w``
  (cheap right after a window), and the full ``-fp`` when no window precedes it or ``y >= 3``.
- A window with no alarm costs ``-fn``.
- Over a corpus the raw scores add up, and the result is normalised as
  ``100 * (raw - null) / (perfect - null)``: ``null`` never alarms (every window missed),
  ``perfect`` alarms on the first scored point of every window and nowhere else.

NAB picks, per cost profile, the one threshold over the whole corpus that scores best
(:func:`best_threshold`); a product runs at its own fixed threshold (:func:`corpus_score` of the
alarms it raised). The arithmetic is written here from those rules, not taken from NAB's code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

PROBATION_SHARE = 0.15
PROBATION_CAP = 750
"""NAB's probationary period: 15% of a series, never more than 15% of 5,000 points."""

_OUTSIDE = -1
_PROBATION = -2


@dataclass(frozen=True, slots=True)
class CostProfile:
    """What a true positive earns and a false positive or a missed window costs."""

    name: str
    tp: float
    fp: float
    fn: float


STANDARD = CostProfile("standard", tp=1.0, fp=0.11, fn=1.0)
LOW_FP = CostProfile("reward_low_FP_rate", tp=1.0, fp=0.22, fn=1.0)
LOW_FN = CostProfile("reward_low_FN_rate", tp=1.0, fp=0.11, fn=2.0)
PROFILES: tuple[CostProfile, ...] = (STANDARD, LOW_FP, LOW_FN)
"""NAB's three published profiles (its ``config/profiles.json``)."""


def scaled_sigmoid(y: float) -> float:
    """NAB's weight of a detection at relative position ``y``: +0.987 at -1, 0 at 0, -1 from 3."""
    if y >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


_MAX_TP = scaled_sigmoid(-1.0)


@dataclass(frozen=True, slots=True)
class LabelledSeries:
    """A series' length and its anomaly windows as inclusive ``(first, last)`` point indices."""

    name: str
    length: int
    windows: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        previous_end = -1
        for first, last in self.windows:
            if not previous_end < first <= last < self.length:
                raise ValueError(
                    f"{self.name}: window ({first}, {last}) must lie inside 0..{self.length - 1},"
                    " after the previous window, with first <= last"
                )
            previous_end = last

    @property
    def probation(self) -> int:
        """Points at the start that are not scored."""
        return int(min(math.floor(PROBATION_SHARE * self.length), PROBATION_SHARE * 5000))

    @property
    def scored_windows(self) -> int:
        """Windows with at least one point after the probationary period."""
        return sum(1 for _, last in self.windows if last >= self.probation)


@dataclass(frozen=True, slots=True)
class Credits:
    """Per point: the window it belongs to (-1 outside, -2 probation) and what an alarm is worth.

    Inside a window the value is what the window earns if this is its first alarm; outside, the
    (negative) cost of an alarm there.
    """

    window: npt.NDArray[np.int64]
    value: FloatArray


def credits(series: LabelledSeries, profile: CostProfile) -> Credits:
    """What an alarm on each point of ``series`` would earn or cost under ``profile``."""
    window = np.full(series.length, _OUTSIDE, dtype=np.int64)
    value = np.full(series.length, -profile.fp, dtype=np.float64)
    previous: tuple[int, int] | None = None
    cursor = 0
    for k, (first, last) in enumerate(series.windows):
        _fill_false_positives(value, cursor, first, previous, profile)
        width = last - first + 1
        for i in range(first, last + 1):
            window[i] = k
            value[i] = profile.tp * scaled_sigmoid(-(last - i + 1) / width) / _MAX_TP
        previous = (last, width)
        cursor = last + 1
    _fill_false_positives(value, cursor, series.length, previous, profile)
    window[: series.probation] = _PROBATION
    value[: series.probation] = 0.0
    return Credits(window=window, value=value)


def _fill_false_positives(
    value: FloatArray,
    start: int,
    stop: int,
    previous: tuple[int, int] | None,
    profile: CostProfile,
) -> None:
    if previous is None:
        return  # already -fp: no window precedes these points
    end, width = previous
    for i in range(start, stop):
        y = (i - end) / (width - 1) if width > 1 else 3.0
        value[i] = profile.fp * scaled_sigmoid(y)


@dataclass(frozen=True, slots=True)
class Score:
    """A corpus' NAB score at one threshold, with the counts behind it."""

    profile: str
    threshold: float | None
    raw: float
    null: float
    perfect: float
    detected: int
    missed: int
    false_alarms: int

    @property
    def normalized(self) -> float:
        """``100 * (raw - null) / (perfect - null)``: 0 never alarms, 100 is perfect."""
        if self.perfect == self.null:
            return 0.0
        return 100.0 * (self.raw - self.null) / (self.perfect - self.null)


def corpus_score(alarms: Sequence[tuple[LabelledSeries, BoolArray]], profile: CostProfile) -> Score:
    """Score fixed alarms (one boolean per point, per series) under ``profile``."""
    raw = 0.0
    windows = detected = false_alarms = 0
    for series, fired in alarms:
        if len(fired) != series.length:
            raise ValueError(f"{series.name}: {len(fired)} alarms for {series.length} points")
        credit = credits(series, profile)
        fired = np.asarray(fired, dtype=bool)
        outside = fired & (credit.window == _OUTSIDE)
        raw += float(credit.value[outside].sum())
        false_alarms += int(outside.sum())
        for k in range(len(series.windows)):
            members = credit.window == k
            if not members.any():
                continue  # wholly inside the probationary period
            windows += 1
            hits = members & fired
            if hits.any():
                raw += float(credit.value[hits].max())
                detected += 1
            else:
                raw -= profile.fn
    return Score(
        profile=profile.name,
        threshold=None,
        raw=raw,
        null=-profile.fn * windows,
        perfect=profile.tp * windows,
        detected=detected,
        missed=windows - detected,
        false_alarms=false_alarms,
    )


def best_threshold(
    scores: Sequence[tuple[LabelledSeries, FloatArray]], profile: CostProfile
) -> Score:
    """The threshold over the whole corpus that scores best, as NAB's optimiser picks it.

    An alarm is a score ``>= threshold``. Every distinct score is a candidate: the sweep lowers
    the threshold one distinct value at a time, adding those points' alarms, so it is exact.
    """
    values: list[FloatArray] = []
    window_ids: list[npt.NDArray[np.int64]] = []
    worth: list[FloatArray] = []
    offset = windows = 0
    for series, score in scores:
        if len(score) != series.length:
            raise ValueError(f"{series.name}: {len(score)} scores for {series.length} points")
        credit = credits(series, profile)
        keep = credit.window != _PROBATION
        ids = credit.window[keep].copy()
        inside = ids >= 0
        ids[inside] += offset
        windows += len(np.unique(ids[inside]))
        offset += len(series.windows)
        values.append(np.asarray(score, dtype=np.float64)[keep])
        window_ids.append(ids)
        worth.append(credit.value[keep])
    value = np.concatenate(values)
    ids = np.concatenate(window_ids)
    gain = np.concatenate(worth)
    order = np.argsort(-value, kind="stable")
    best_credit: dict[int, float] = {}
    raw = -profile.fn * windows
    false_alarms = 0
    best = Score(profile.name, math.inf, raw, raw, profile.tp * windows, 0, windows, 0)
    i = 0
    while i < len(order):
        threshold = float(value[order[i]])
        while i < len(order) and value[order[i]] == threshold:
            j = int(order[i])
            k = int(ids[j])
            if k == _OUTSIDE:
                raw += float(gain[j])
                false_alarms += 1
            else:
                before = best_credit.get(k, -profile.fn)
                if gain[j] > before:
                    raw += float(gain[j]) - before
                    best_credit[k] = float(gain[j])
            i += 1
        if raw > best.raw:
            best = Score(
                profile=profile.name,
                threshold=threshold,
                raw=raw,
                null=-profile.fn * windows,
                perfect=profile.tp * windows,
                detected=len(best_credit),
                missed=windows - len(best_credit),
                false_alarms=false_alarms,
            )
    return best
