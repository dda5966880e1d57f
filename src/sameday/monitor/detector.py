"""The anomaly detector for metric series: causal, seasonal, robust, and able to explain itself.

How a point is judged, from earlier points only (every step reads nothing after it):

1. **Expected value.** Candidate forecasts (:mod:`sameday.monitor.seasonal`): the local level,
   and a seasonal profile per season the step implies (weekly for a daily series, daily and
   weekly for hourly ones). All are medians, so an earlier outlier never moves them; at each
   point the candidate whose errors were smallest over the lookback is used.
2. **Tests** on the errors of that model, each asking "is this the largest deviation of its
   kind in the lookback?" — a *record*:

   - ``spike``: this point's deviation from the expected value;
   and at each of the ``windows`` (12 and 24 points: two scales an octave apart, so that no
   single window length decides what counts as sustained):

   - ``shift``: the mean deviation of the last ``w`` points, each clipped to the spike bar
     (a run of deviations none of which is a spike on its own);
   - ``level``: the median of the last ``w`` points against the median of the ``4 * w``
     before them (a step change, whatever the model);
   - ``volatility``: the spread (median absolute deviation) of the last ``w`` deviations
     (only with ``direction="both"``: a burst of noise has no direction).

   The *bar* of a test is the largest magnitude it reached in the lookback (leaving out the
   points that share its window), and never less than ``z_floor`` robust standard deviations of
   that test (its lookback median magnitude / 0.6745), so a short history cannot make a small
   wobble a record. A test scores ``1 - bar / magnitude`` when it beats the bar, else 0: the
   share of the deviation beyond anything seen. The point's score is its best test's.
3. **Floors.** A deviation smaller than ``abs_floor``, or than ``rel_floor`` times the expected
   value, scores 0, so tiny changes of a flat metric never alert.
4. **Learning.** Until the model has ``min_history`` errors to compare with, a point is
   ``learning``: nothing is guessed. A test over ``w`` points, whose values overlap, waits
   for ``4 * (w - 1)`` more.
5. **Alarms.** A point whose score reaches ``threshold`` is an ``anomaly``; it raises an alarm
   unless an alarm was raised in the ``cooldown`` points before it (one alert per incident;
   the cooldown never outlasts the shortest season).

Why records rather than a fitted distribution: a metric's deviations are rarely Gaussian
(counts are bursty, CPU series are spiky), and "the largest drop in 4,000 points, by 40%" holds
whatever the shape, reads well in an alert, and gives, on a series without anomalies, about
``log(n2 / n1)`` records between points ``n1`` and ``n2`` — few, and fewer as history grows.
A new level is learned because the bar is raised by what happened: after a step change the
tests calm down within ``5 * w`` points instead of alarming for ever.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from sameday.errors import StatsInputError
from sameday.monitor._rolling import (
    FloatArray,
    before,
    ending_at,
    lookback_count,
    lookback_max,
    lookback_mean,
    lookback_median,
    shift,
)
from sameday.monitor.presets import PRESETS, DetectorSettings, Direction, beats_by, preset
from sameday.monitor.seasonal import Candidate, forecasts, infer_step, seasons

__all__ = [
    "PRESETS",
    "SIGNALS",
    "Detection",
    "DetectorSettings",
    "Direction",
    "Judgement",
    "beats_by",
    "detect",
    "preset",
]

Status = Literal["learning", "ok", "anomaly"]
SIGNALS: tuple[str, ...] = ("spike", "shift", "level", "volatility")
"""The kinds of test; a window test is named with its window, ``shift/12``."""
_GAUSS_MAD = 0.6745  # median |N(0, 1)|: turns a median magnitude into a standard deviation


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the detector says about one point, with the numbers an alert shows."""

    index: int
    value: float
    status: Status
    expected: float | None
    low: float | None
    high: float | None
    score: float
    alarm: bool
    signal: str | None
    window: int | None
    model: str | None
    bar: float | None
    magnitude: float | None
    history: int

    def summary(self) -> str:
        """One line a person reads in an alert."""
        if self.status == "learning":
            points = "point" if self.history == 1 else "points"
            return f"learning: {self.history} {points} of history so far, not judged yet"
        if self.high is None:
            band = f"band from {_fmt(self.low)}"
        elif self.low is None:
            band = f"band up to {_fmt(self.high)}"
        else:
            band = f"band {_fmt(self.low)} to {_fmt(self.high)}"
        seen = f"{_fmt(self.value)} against {_fmt(self.expected)} expected ({band})"
        if self.status == "ok":
            return f"ok: {seen}"
        assert self.signal is not None and self.bar is not None and self.magnitude is not None
        times = "never seen before" if self.bar == 0 else f"{self.magnitude / self.bar:.2f}x"
        last = f"the last {self.window} points"
        what = {
            "spike": "deviation",
            "shift": f"mean deviation of {last}",
            "level": f"move of the median of {last}",
            "volatility": f"spread of the deviations of {last}",
        }[self.signal]
        word = "alarm" if self.alarm else "anomaly"
        return (
            f"{word} ({self.signal}): {seen}; the {what} is {times} the largest in the last"
            f" {self.history} points (score {self.score:.2f})"
        )

    def evidence(self) -> dict[str, Any]:
        """JSON-able numbers for a finding (infinite band edges become ``None``)."""
        return {
            "status": self.status,
            "observed": self.value,
            "expected": self.expected,
            "low": self.low,
            "high": self.high,
            "score": self.score,
            "alarm": self.alarm,
            "signal": self.signal,
            "window": self.window,
            "model": self.model,
            "bar": self.bar,
            "magnitude": self.magnitude,
            "history": self.history,
        }


@dataclass(frozen=True, eq=False)
class Detection:
    """The detector's verdict on every point of a series, as arrays (see :meth:`judgement`).

    ``score`` is how far each point beats the bar (0 when it does not, or while an earlier
    alarm's cooldown runs); ``anomalous`` marks scores at the threshold before the cooldown is
    applied, so an ongoing incident stays visible; ``alarm`` marks the points that raise one.
    """

    values: FloatArray
    expected: FloatArray
    low: FloatArray
    high: FloatArray
    score: FloatArray
    anomalous: npt.NDArray[np.bool_]
    alarm: npt.NDArray[np.bool_]
    learning: npt.NDArray[np.bool_]
    signal: npt.NDArray[np.int64]
    model: npt.NDArray[np.int64]
    bar: FloatArray
    magnitude: FloatArray
    models: tuple[str, ...]
    tests: tuple[tuple[str, int], ...]
    """What ``signal`` indexes: each test's kind and window (1 for the spike test)."""
    settings: DetectorSettings = field(repr=False)

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return (
            f"Detection(points={len(self)}, learning={int(self.learning.sum())},"
            f" anomalous={int(self.anomalous.sum())}, alarms={int(self.alarm.sum())})"
        )

    def judgement(self, index: int) -> Judgement:
        """The verdict on one point (negative indices count from the end)."""
        i = range(len(self))[index]
        learning = bool(self.learning[i])
        status: Status = "learning" if learning else "anomaly" if self.anomalous[i] else "ok"
        signal = int(self.signal[i])
        kind, window = self.tests[signal] if signal >= 0 and not learning else (None, None)
        return Judgement(
            index=i,
            value=float(self.values[i]),
            status=status,
            expected=None if learning else _finite(self.expected[i]),
            low=None if learning else _finite(self.low[i]),
            high=None if learning else _finite(self.high[i]),
            score=float(self.score[i]),
            alarm=bool(self.alarm[i]),
            signal=kind,
            window=window if kind != "spike" else None,
            model=None if learning else self.models[int(self.model[i])],
            bar=None if learning or signal < 0 else _finite(self.bar[i]),
            magnitude=None if learning or signal < 0 else _finite(self.magnitude[i]),
            history=min(i, self.settings.lookback),
        )

    def latest(self) -> Judgement:
        """The verdict on the newest point: what a monitor run reports."""
        return self.judgement(-1)


def detect(
    timestamps: Sequence[datetime] | FloatArray,
    values: Sequence[float] | FloatArray,
    settings: DetectorSettings | None = None,
) -> Detection:
    """Judge every point of a series from the points before it.

    Args:
        timestamps: one per value (datetimes, or POSIX seconds); they set the seasons. Order
            and spacing may be irregular: the median step is what counts.
        values: the metric, finite numbers.
        settings: a preset's settings (default: ``PRESETS["default"]``).

    Raises:
        StatsInputError: lengths differ, or a value is not a finite number (the message names
            it); a ``ValueError``.
    """
    settings = settings or PRESETS["default"]
    x = np.asarray(values, dtype=np.float64)
    seconds = _seconds(timestamps)
    if len(seconds) != len(x):
        raise StatsInputError(
            f"{len(seconds)} timestamps for {len(x)} values: give one timestamp per value"
        )
    bad = np.flatnonzero(~np.isfinite(x))
    if len(bad):
        raise StatsInputError(
            f"value {bad[0]} ({x[bad[0]]}) is not a finite number: drop or fill missing points"
            " before scoring"
        )
    periods = seasons(infer_step(seconds))
    candidates = forecasts(x, periods, settings.local, settings.depth)
    chosen = _choose([c.errors(x) for c in candidates], settings)
    # only the candidates chosen somewhere are tested: each one's tests read its own errors
    # alone, so leaving the others out changes nothing but the time taken
    used = np.unique(np.concatenate([chosen, [0]]))
    levels = {w: _level_test(x, w, settings) for w in settings.windows}
    tests = [_Tests.of(candidates[int(i)], x, levels, settings) for i in used]
    which = np.searchsorted(used, chosen)
    rows = np.arange(len(x))
    scores = np.stack([t.scores for t in tests])[which, :, rows]  # (n, signals)
    signal = np.argmax(scores, axis=1)
    score = scores[rows, signal]
    signal = np.where(score > 0, signal, -1)
    expected = np.stack([t.candidate.expected for t in tests])[which, rows]
    spike_bar = np.stack([t.bars[0] for t in tests])[which, rows]
    bars = np.stack([t.bars for t in tests])[which, :, rows]
    magnitudes = np.stack([t.magnitudes for t in tests])[which, :, rows]
    learning = ~np.stack([t.ready for t in tests])[which, rows]
    score[learning] = 0.0
    signal[learning] = -1
    anomalous = score >= settings.threshold
    # an incident is not followed for longer than a season: a daily series alarms again after
    # a week at most, an hourly one after a day
    cooldown = min([settings.cooldown, *periods.values()])
    alarm, score = _cool_down(score, anomalous, cooldown)
    floor = np.maximum(settings.abs_floor, settings.rel_floor * np.abs(expected))
    half = np.maximum(spike_bar / (1.0 - settings.threshold), floor)
    low = expected - half if settings.direction != "rise" else np.full(len(x), -np.inf)
    high = expected + half if settings.direction != "drop" else np.full(len(x), np.inf)
    picked = np.maximum(signal, 0)
    return Detection(
        values=x,
        expected=expected,
        low=low,
        high=high,
        score=score,
        anomalous=anomalous,
        alarm=alarm,
        learning=learning,
        signal=signal,
        model=chosen,
        bar=bars[rows, picked],
        magnitude=magnitudes[rows, picked],
        models=tuple(c.name for c in candidates),
        tests=_test_names(settings),
        settings=settings,
    )


def _test_names(settings: DetectorSettings) -> tuple[tuple[str, int], ...]:
    windowed = [(kind, w) for w in settings.windows for kind in SIGNALS[1:]]
    return (("spike", 1), *windowed)


@dataclass(frozen=True)
class _Tests:
    """One candidate model's tests over the whole series, in :func:`_test_names` order."""

    candidate: Candidate
    ready: npt.NDArray[np.bool_]
    scores: FloatArray  # (tests, n)
    bars: FloatArray
    magnitudes: FloatArray

    @classmethod
    def of(
        cls,
        candidate: Candidate,
        x: FloatArray,
        levels: dict[int, _Test],
        settings: DetectorSettings,
    ) -> _Tests:
        errors = candidate.errors(x)
        floor = np.maximum(settings.abs_floor, settings.rel_floor * np.abs(candidate.expected))
        spike = _record(errors, 1, True, floor, settings)
        # the shift test looks for a run of deviations none of which is a spike on its own:
        # each enters its mean clipped to the spike bar, so one outlier cannot carry the mean
        # (and keep a one-point incident open for a whole window)
        clipped = np.clip(errors, -spike[1], spike[1])
        n = len(x)
        nothing = (np.zeros(n), np.full(n, np.nan), np.full(n, np.nan))
        tests = [spike]
        for w in settings.windows:
            tests.append(_record(ending_at(clipped, w, "mean"), w, True, floor, settings))
            tests.append(levels[w])
            if settings.direction == "both":  # a burst of noise has no direction
                tests.append(_record(ending_at(errors, w, "mad"), w, False, floor, settings))
            else:
                tests.append(nothing)
        scores = np.stack([t[0] for t in tests])
        bars = np.stack([t[1] for t in tests])
        magnitudes = np.stack([t[2] for t in tests])
        ready = lookback_count(~np.isnan(errors), settings.lookback) >= settings.min_history
        ready &= ~np.isnan(errors)
        return cls(candidate, ready, scores, bars, magnitudes)


_Test = tuple[FloatArray, FloatArray, FloatArray]  # score, bar, magnitude at every point


def _level_test(x: FloatArray, h: int, settings: DetectorSettings) -> _Test:
    """The median of the last ``h`` points against the median of the ``4 * h`` before them:
    a step change, whatever the model (so computed once)."""
    centre = ending_at(x, h, "median")
    base = shift(before(x, 4 * h, "median"), h)
    floor = np.maximum(settings.abs_floor, settings.rel_floor * np.abs(base))
    return _record(centre - base, h, True, floor, settings)


def _record(
    stat: FloatArray,
    gap: int,
    signed: bool,
    floor: FloatArray,
    settings: DetectorSettings,
) -> _Test:
    """Score, bar and magnitude of one test at every point (score 0 where it is no record)."""
    size = np.abs(stat)
    if signed and settings.direction == "drop":
        magnitude = np.maximum(-stat, 0.0)
    elif signed and settings.direction == "rise":
        magnitude = np.maximum(stat, 0.0)
    else:
        magnitude = size
    record = lookback_max(magnitude, settings.lookback, gap)
    spread = lookback_median(size, settings.lookback, gap, every=max(1, settings.lookback // 20))
    bar = np.maximum(record, settings.z_floor * np.nan_to_num(spread) / _GAUSS_MAD)
    valid = ~np.isnan(stat)
    # values of a window test overlap, so it waits for more of them before its bar means much
    enough = lookback_count(valid, settings.lookback) >= settings.min_history + 4 * (gap - 1)
    beats = valid & enough & (magnitude > bar) & (magnitude > floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(beats, 1.0 - bar / np.where(beats, magnitude, 1.0), 0.0)
    return score, bar, magnitude


def _choose(errors: list[FloatArray], settings: DetectorSettings) -> npt.NDArray[np.int64]:
    """Index of the candidate with the smallest mean absolute error over the lookback, per point.

    A candidate competes once it has ``min_history`` errors; the level model (first) wins ties
    and whenever nothing else can compete.
    """
    maes = []
    for error in errors:
        mae = lookback_mean(np.abs(error), settings.lookback)
        known = lookback_count(~np.isnan(error), settings.lookback)
        maes.append(np.where((known >= settings.min_history) & ~np.isnan(mae), mae, np.inf))
    table = np.stack(maes)
    chosen: npt.NDArray[np.int64] = np.argmin(table, axis=0)
    return chosen


def _cool_down(
    score: FloatArray, anomalous: npt.NDArray[np.bool_], cooldown: int
) -> tuple[npt.NDArray[np.bool_], FloatArray]:
    """Alarms (anomalies with no alarm in the ``cooldown`` points before), and the scores with
    the points inside a cooldown set to 0: an open incident is not news.

    Only the alarm and the score are quieted: the points stay ``anomalous``, so a monitor still
    sees an incident that goes on, or a second one that starts during the cooldown.
    """
    alarm = np.zeros(len(score), dtype=bool)
    opened = -cooldown - 1
    for i in np.flatnonzero(anomalous):
        if i - opened > cooldown:
            alarm[i] = True
            opened = int(i)
    cooling = np.zeros(len(score), dtype=bool)
    for i in np.flatnonzero(alarm):
        cooling[i + 1 : i + 1 + cooldown] = True
    return alarm, np.where(cooling, 0.0, score)


def _seconds(timestamps: Sequence[datetime] | FloatArray) -> FloatArray:
    if isinstance(timestamps, np.ndarray):
        return timestamps.astype(np.float64)
    return np.array([t.timestamp() for t in timestamps], dtype=np.float64)


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.4g}"
