"""Per-arm, per-day and per-dimension summary statistics of an experiment's metrics.

Everything a report computes comes from these sums (``n``, ``Σy``, ``Σy²``, ``Σx``, ``Σx²``, ``Σxy``
per metric, and the count of units whose ``y`` is not zero), computed by DuckDB in one aggregation
over ``unit_values`` (see :mod:`sameday.analysis.metric_sql`). Days are cohorts of first exposure,
so the per-day partials are disjoint sets of units and **add up**: the cumulative summary up to day
``d`` is the sum of the partials up to ``d`` (the time series of the report), and the total is the
sum of all of them. A day's partial stops changing once its units' attribution windows have closed,
which is what lets a caller keep old partials and recompute only the open days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import duckdb

from sameday.analysis.metric_sql import MetricColumns, columns, statements
from sameday.analysis.phases import Scope, Selection, restrict
from sameday.analysis.preload import preload
from sameday.analysis.source import open_events_unchecked
from sameday.analysis.stats.summary import ArmSummary
from sameday.config.experiment import Experiment
from sameday.config.metric import Metric
from sameday.errors import StoreUnavailable
from sameday.events.source import EventQuery, EventSource

Cell = tuple[str, str, int]
"""(metric, arm, day) of a daily partial."""


@dataclass(frozen=True)
class Summaries:
    """Sufficient statistics of each metric, per arm and day of first exposure.

    Attributes:
        arms: the arms seen (the experiment's arms in order, then any unknown ones).
        days: UTC epoch days (``floor(t0 / 86400)``) with at least one new unit, ascending.
        metrics: metric names, in the order they were asked for.
        units: new units per ``(arm, day)``.
        cells: ``ArmSummary`` per ``(metric, arm, day)``; absent cells are empty.
        by_dimension: dimension name → ``(metric, arm, value)`` → summary over all days.
        crossed: units exposed to more than one arm, left out of every other count.
        scope: the phase and time range summarised (``None``: the whole log).
    """

    arms: tuple[str, ...]
    days: tuple[int, ...]
    metrics: tuple[str, ...]
    units: dict[tuple[str, int], int]
    cells: dict[Cell, ArmSummary]
    by_dimension: dict[str, dict[tuple[str, str, str], ArmSummary]] = field(default_factory=dict)
    crossed: int = 0
    with_x: frozenset[str] = frozenset()
    scope: Scope | None = None

    def empty(self, metric: str) -> ArmSummary:
        """The summary of no units for ``metric`` (with x sums when the metric has them)."""
        if metric in self.with_x:
            return ArmSummary(0, 0.0, 0.0, 0.0, 0.0, 0.0, n_nonzero=0)
        return ArmSummary(0, 0.0, 0.0, n_nonzero=0)

    def unit_counts(self) -> list[int]:
        """Units per arm, over all days, in :attr:`arms` order."""
        return [sum(self.units.get((arm, day), 0) for day in self.days) for arm in self.arms]

    def total(self, metric: str, arm: str) -> ArmSummary:
        """``metric``'s summary for ``arm`` over every day (the sum of the daily partials)."""
        result = self.empty(metric)
        for day in self.days:
            result = result + self.cells.get((metric, arm, day), self.empty(metric))
        return result

    def cumulative(self, metric: str, arm: str) -> list[ArmSummary]:
        """``metric``'s summary for ``arm`` up to and including each of :attr:`days`."""
        running = self.empty(metric)
        out = []
        for day in self.days:
            running = running + self.cells.get((metric, arm, day), self.empty(metric))
            out.append(running)
        return out


def summarise(
    source: EventSource | str,
    experiment: str,
    metrics: Sequence[Metric],
    *,
    arms: Sequence[str] = (),
    dimensions: Sequence[str] = (),
    phase: tuple[Experiment, Selection] | None = None,
    importing: tuple[str, ...] = (),
) -> Summaries:
    """Read the event log ``source`` and summarise ``experiment``'s ``metrics``.

    Args:
        source: the event source, or its URL (see :func:`sameday.analysis.source.open_events`).
        experiment: the experiment's name, as exposures record it.
        metrics: the metric definitions to compute.
        arms: the configured arms, to order the result (arms without units appear with n 0).
        dimensions: keys of the exposures' ``extra`` to break results down by, besides
            ``surface``.
        phase: the experiment's definition and the phase or time range to summarise (see
            :mod:`sameday.analysis.phases`); ``None`` summarises the whole log.
        importing: modules the caller needs once the summaries are read, imported on a thread
            meanwhile, after the log's own check (see :func:`sameday.analysis.preload.preload`).

    Raises:
        StoreUnavailable: the log cannot be read, or lacks a column the summaries need.
        NotFound: the selected phase has no exposures in the log.
    """
    events = sorted({name for m in metrics for name in m.events})
    query = EventQuery(experiment=experiment, events=tuple(events), dimensions=tuple(dimensions))
    con, check = open_events_unchecked(source, query)

    def read() -> Summaries:
        scope = None if phase is None else restrict(con, *phase)
        summaries = summarise_connection(con, metrics, arms=arms, dimensions=dimensions)
        return replace(summaries, scope=scope)

    try:
        preload(importing, after=check.wait)
        summaries = read()
        # The log was read while its source still checked it (a Parquet log, for repeated
        # ids, on the second core): if the check changed the views, what was read is stale.
        if check.settle():
            summaries = read()
        return summaries
    except duckdb.Error as exc:
        raise StoreUnavailable(
            f"cannot summarise experiment {experiment!r} from the event log: {exc}; check that "
            "its tables have the event log's columns"
        ) from exc
    finally:
        check.wait()
        con.close()


def summarise_connection(
    con: duckdb.DuckDBPyConnection,
    metrics: Sequence[Metric],
    *,
    arms: Sequence[str] = (),
    dimensions: Sequence[str] = (),
) -> Summaries:
    """:func:`summarise` on a connection that already has ``exposures`` and ``outcomes``."""
    pairs = con.execute("SELECT DISTINCT arm, surface FROM exposures").fetchall()
    seen = {str(a) for a, _ in pairs}
    arm_names = [*arms, *sorted(seen - set(arms))]
    surfaces = sorted({str(s) for _, s in pairs if s is not None})
    for sql in statements(metrics, dimensions, arms=arm_names, surfaces=surfaces):
        con.execute(sql)
    cols = columns(metrics)
    sums = _sum_list(cols)
    daily = con.execute(
        f"SELECT arm, day, count(*) AS n{sums} FROM unit_values GROUP BY arm, day"
    ).fetchall()
    crossed_row = con.execute("SELECT count(*) FROM units WHERE crossed").fetchone()
    by_dimension: dict[str, dict[tuple[str, str, str], ArmSummary]] = {}
    for dim in ("surface", *dimensions):
        rows = con.execute(
            f"SELECT arm, {dim} AS value, count(*) AS n{sums} FROM unit_values GROUP BY ALL"
        ).fetchall()
        by_dimension[dim] = {
            (col.metric.name, arm_names[arm], _value(dim, value, surfaces)): summary
            for arm, value, n, *stats in rows
            for col, summary in zip(cols, _unpack(cols, int(n), stats), strict=True)
        }
    units: dict[tuple[str, int], int] = {}
    cells: dict[Cell, ArmSummary] = {}
    for arm, day, n, *stats in daily:
        units[(arm_names[arm], int(day))] = int(n)
        for col, summary in zip(cols, _unpack(cols, int(n), stats), strict=True):
            cells[(col.metric.name, arm_names[arm], int(day))] = summary
    return Summaries(
        arms=tuple(arm_names),
        days=tuple(sorted({int(row[1]) for row in daily})),
        metrics=tuple(m.name for m in metrics),
        units=units,
        cells=cells,
        by_dimension=by_dimension,
        crossed=int(crossed_row[0]) if crossed_row else 0,
        with_x=frozenset(col.metric.name for col in cols if col.x is not None),
    )


def _value(dimension: str, value: object, surfaces: Sequence[str]) -> str:
    """A dimension's value as text (surfaces come back as their index)."""
    if value is None:
        return "(none)"
    if dimension == "surface" and isinstance(value, int):
        return surfaces[value]
    return str(value)


def _sum_list(cols: Sequence[MetricColumns]) -> str:
    parts: list[str] = []
    for col in cols:
        y, x = col.y, col.x
        parts += [f"count_if({y} <> 0)", f"sum({y})", f"sum({y} * {y})"]
        if x is not None:
            parts += [f"sum({x})", f"sum({x} * {x})", f"sum({x} * {y})"]
    return "".join(f", {p}" for p in parts)


def _unpack(cols: Sequence[MetricColumns], n: int, stats: Sequence[float]) -> list[ArmSummary]:
    out: list[ArmSummary] = []
    i = 0
    for col in cols:
        nonzero = int(stats[i])
        if col.x is None:
            out.append(ArmSummary(n, float(stats[i + 1]), float(stats[i + 2]), n_nonzero=nonzero))
            i += 3
        else:
            s_y, s_yy, s_x, s_xx, s_xy = (float(v) for v in stats[i + 1 : i + 6])
            out.append(ArmSummary(n, s_y, s_yy, s_x, s_xx, s_xy, n_nonzero=nonzero))
            i += 6
    return out
