"""The lift over time: cumulative relative lift per day with its fixed and always-valid intervals.

Point ``d`` uses every unit first exposed on or before day ``d`` (the cumulative sum of the daily
partials). The always-valid band is the one that may be read every day; the fixed band is shown
for comparison and is only valid at the planned end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sameday.analysis.comparisons import bounded_below, lift_inputs
from sameday.analysis.metric_sql import DAY, columns
from sameday.analysis.stats.frequentist import LiftInputs
from sameday.analysis.stats.lifts import relative_lifts
from sameday.analysis.summaries import Summaries
from sameday.config.metric import Metric
from sameday.errors import StatsInputError


@dataclass(frozen=True)
class SeriesPoint:
    """One day of a lift series (relative lift; interval ends in the same units)."""

    date: str
    units: int
    lift: float
    fixed_low: float
    fixed_high: float
    sequential_low: float
    sequential_high: float
    p_value: float


@dataclass(frozen=True)
class LiftSeries:
    """A metric's cumulative lift of one treatment arm over the control, day by day."""

    metric: str
    arm: str
    points: tuple[SeriesPoint, ...]


def date_of(day: int) -> str:
    """The ISO date of a UTC epoch day."""
    return dt.datetime.fromtimestamp(day * DAY, tz=dt.UTC).date().isoformat()


def lift_series(
    summaries: Summaries,
    metrics: Sequence[Metric],
    *,
    control: str,
    treatments: Sequence[str],
    alpha: float,
    sequential: bool,
    n_star: float,
) -> list[LiftSeries]:
    """One series per metric and treatment arm; days too early for a comparison are skipped.

    Each point is what ``compare`` and ``sequential_comparison`` give that day's cumulative
    summaries, computed for all the days of a series at once
    (:func:`~sameday.analysis.stats.lifts.relative_lifts`).
    """
    out: list[LiftSeries] = []
    for col in columns(metrics):
        name = col.metric.name
        base = summaries.cumulative(name, control)
        nonnegative = bounded_below(col.kind, nonnegative=col.metric.nonnegative)
        for arm in treatments:
            days: list[int] = []
            inputs: list[LiftInputs] = []
            for day, a, b in zip(
                summaries.days, base, summaries.cumulative(name, arm), strict=True
            ):
                try:
                    inputs.append(lift_inputs(col.kind, a, b))
                except StatsInputError:
                    continue
                days.append(day)
            points = _points(days, inputs, alpha, sequential, n_star, nonnegative=nonnegative)
            out.append(LiftSeries(metric=name, arm=arm, points=points))
    return out


def _points(
    days: list[int],
    inputs: list[LiftInputs],
    alpha: float,
    sequential: bool,
    n_star: float,
    *,
    nonnegative: bool,
) -> tuple[SeriesPoint, ...]:
    """The points of the days that could be compared; none when ``alpha`` or ``n_star`` is
    invalid (every day's comparison would raise)."""
    try:
        lifts = relative_lifts(inputs, alpha=alpha, nonnegative=nonnegative, n_star=n_star)
    except StatsInputError:
        return ()
    decision = lifts.sequential_p if sequential else lifts.fixed_p
    return tuple(
        SeriesPoint(
            date=date_of(day),
            units=i.n_a + i.n_b,
            lift=lift,
            fixed_low=fixed_low,
            fixed_high=fixed_high,
            sequential_low=sequential_low,
            sequential_high=sequential_high,
            p_value=p_value,
        )
        for day, i, lift, fixed_low, fixed_high, sequential_low, sequential_high, p_value in zip(
            days,
            inputs,
            lifts.point.tolist(),
            lifts.fixed_low.tolist(),
            lifts.fixed_high.tolist(),
            lifts.sequential_low.tolist(),
            lifts.sequential_high.tolist(),
            decision.tolist(),
            strict=True,
        )
    )
