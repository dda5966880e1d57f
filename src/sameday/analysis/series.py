"""The lift over time: cumulative relative lift per day with its fixed and always-valid intervals.

Point ``d`` uses every unit first exposed on or before day ``d`` (the cumulative sum of the daily
partials). The always-valid band is the one that may be read every day; the fixed band is shown
for comparison and is only valid at the planned end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sameday.analysis.comparisons import compare
from sameday.analysis.metric_sql import DAY, columns
from sameday.analysis.stats.sequential import sequential_comparison
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
    """One series per metric and treatment arm; days too early for a comparison are skipped."""
    out: list[LiftSeries] = []
    for col in columns(metrics):
        name = col.metric.name
        base = summaries.cumulative(name, control)
        for arm in treatments:
            points: list[SeriesPoint] = []
            for day, a, b in zip(
                summaries.days, base, summaries.cumulative(name, arm), strict=True
            ):
                try:
                    fixed = compare(col.kind, a, b, alpha, nonnegative=col.metric.nonnegative)
                    always = sequential_comparison(fixed, n_star=n_star)
                except StatsInputError:
                    continue
                decision = always if sequential else fixed
                points.append(
                    SeriesPoint(
                        date=date_of(day),
                        units=a.n + b.n,
                        lift=fixed.relative.point,
                        fixed_low=fixed.relative.ci_low,
                        fixed_high=fixed.relative.ci_high,
                        sequential_low=always.relative.ci_low,
                        sequential_high=always.relative.ci_high,
                        p_value=decision.relative.p_value,
                    )
                )
            out.append(LiftSeries(metric=name, arm=arm, points=tuple(points)))
    return out
