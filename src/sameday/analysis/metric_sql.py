"""Metric definitions turned into SQL: one value (and a second one, ``x``) per exposed unit.

The rules, the same for every metric (see ``docs/analysis.md``):

- a unit enters the analysis at its **first exposure** in the experiment, ``t0``, in the arm it
  was served; a unit served more than one arm is left out (``units.crossed``), as GrowthBook
  does: its outcomes belong to no single arm, and counting it in one biases both;
- an outcome counts when ``t0 <= time < t0 + window`` (no window: any time after ``t0``); events
  before ``t0`` never count, except as the CUPED covariate;
- per unit: ``proportion`` is 1 when the event happened at least once, else 0; ``mean`` is the sum
  of the events' values; ``count`` the number of events; ``ratio`` keeps the numerator's sum as
  ``y`` and the denominator's sum as ``x`` (``exposure`` as denominator counts the unit's served
  lists in the window); units without events count as 0, so every exposed unit is in the mean;
- ``cap`` caps the per-unit value (``y``) after summing, which bounds the influence of one
  heavy user on a mean; the covariate is capped the same way;
- the **covariate** (CUPED) is the covariate event aggregated like the metric over the same span
  *before* ``t0`` (``t0 - window <= time < t0``; without a window, all history before ``t0``).
  It is measured before the unit saw any arm, so adjusting by it cannot bias the lift.

The statements build two temporary DuckDB tables from ``exposures`` and ``outcomes``: ``units``
(one row per unit: arm, ``t0``, and surface and dimensions at ``t0``, NULL for a dimension that
exposure did not record; a unit served more than one arm is ``crossed``, with any of them as its
arm) and ``unit_values`` (the unit's day of first exposure and
``m{i}_y``/``m{i}_x`` for metric ``i``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sameday.config.metric import Metric

DAY = 86_400.0
"""Seconds in a day; days are UTC calendar days of the first exposure (``floor(t0 / DAY)``)."""


@dataclass(frozen=True)
class MetricColumns:
    """Where one metric's per-unit values live in ``unit_values``."""

    metric: Metric
    y: str
    x: str | None

    @property
    def kind(self) -> str:
        """How the comparison is made: ``ratio``, ``cuped``, ``proportion`` or ``mean``."""
        if self.metric.type == "ratio":
            return "ratio"
        if self.metric.covariate is not None:
            return "cuped"
        return "proportion" if self.metric.type == "proportion" else "mean"


def columns(metrics: Sequence[Metric]) -> list[MetricColumns]:
    """The ``unit_values`` columns of each metric, in order."""
    return [
        MetricColumns(
            metric=m,
            y=f"m{i}_y",
            x=f"m{i}_x" if m.type == "ratio" or m.covariate is not None else None,
        )
        for i, m in enumerate(metrics)
    ]


def statements(
    metrics: Sequence[Metric],
    dimensions: Sequence[str] = (),
    *,
    arms: Sequence[str],
    surfaces: Sequence[str],
) -> list[str]:
    """The SQL that builds ``units`` and ``unit_values`` (run in order on one connection).

    ``arms`` and ``surfaces`` are every value those columns take; the tables hold their index
    (a small integer) instead of the text, which halves the memory of the per-unit aggregation.
    """
    cols = columns(metrics)
    arm, surface = coded("arm", arms), coded("surface", surfaces)
    # arg_min_null: a unit's value at its first exposure even when that exposure lacks it
    # (arg_min skips NULLs: it would take a later value, which the arm served may have moved)
    dims = "".join(f", arg_min_null({d}, time) AS {d}" for d in dimensions)
    first_surface = _first(surface, constant=len(surfaces) == 1)
    units = (
        f"CREATE OR REPLACE TEMP TABLE units AS SELECT unit, {_first(arm, constant=True)} AS arm, "
        f"min(time) AS t0, coalesce(min({arm}) <> max({arm}), FALSE) AS crossed, "
        f"{first_surface} AS surface{dims} FROM exposures GROUP BY unit"
    )
    aggregates: list[str] = []
    finals: list[str] = []
    exposure_counts: list[str] = []
    for col in cols:
        m = col.metric
        if m.type == "ratio":
            aggregates.append(f"{_sum(_after(_req(m.numerator), m.window))} AS {col.y}")
            if m.denominator == "exposure":
                cond = _window_condition("e.time - u.t0", m.window)
                exposure_counts.append(f"count(*) FILTER (WHERE {cond}) AS {col.x}")
            else:
                aggregates.append(f"{_sum(_after(_req(m.denominator), m.window))} AS {col.x}")
        else:
            aggregates.append(f"{_aggregate(m, _after(_req(m.event), m.window))} AS {col.y}")
            if m.covariate is not None:
                aggregates.append(f"{_aggregate(m, _before(m.covariate, m.window))} AS {col.x}")
        finals.append(f"{_capped(f'v.{col.y}', m.cap)} AS {col.y}")
        if col.x is not None:
            cap = m.cap if m.covariate is not None else None
            source = "x" if m.denominator == "exposure" else "v"
            finals.append(f"{_capped(f'{source}.{col.x}', cap)} AS {col.x}")
    ctes = ["none AS (SELECT 1)"]
    joins = ""
    if aggregates:
        ctes = [
            "ev AS (SELECT o.unit, o.name, o.value, o.time - u.t0 AS dt "
            "FROM outcomes o JOIN units u USING (unit))",
            f"v AS (SELECT unit, {', '.join(aggregates)} FROM ev GROUP BY unit)",
        ]
        joins = " LEFT JOIN v USING (unit)"
    if exposure_counts:
        ctes.append(
            f"x AS (SELECT e.unit, {', '.join(exposure_counts)} FROM exposures e "
            "JOIN units u USING (unit) GROUP BY e.unit)"
        )
        joins += " LEFT JOIN x USING (unit)"
    select_dims = "".join(f", u.{d}" for d in dimensions)
    values = (
        f"CREATE OR REPLACE TEMP TABLE unit_values AS WITH {', '.join(ctes)} "
        f"SELECT u.unit, u.arm, CAST(floor(u.t0 / {DAY}) AS BIGINT) AS day, u.surface"
        f"{select_dims}{''.join(', ' + f for f in finals)} FROM units u{joins} "
        "WHERE NOT u.crossed"
    )
    return [units, values]


def _first(code: str, *, constant: bool) -> str:
    """A unit's ``code`` at its first exposure: ``arg_min(code, time)``, which skips exposures
    without a code or a time.

    When ``constant`` (the code is the same on every exposure of the unit that has one) any
    exposure's code is the first one's, and ``max`` finds it without comparing times: over a
    million exposures the ``units`` table then takes about a quarter less CPU
    (``benchmarks/report_bench.py``). That holds for the arm of every unit left in
    ``unit_values`` (a unit served two arms is ``crossed`` and left out, so its ``arm`` is only
    one of them) and for the surface of an experiment on one surface.
    """
    if constant:
        return f"max({code}) FILTER (WHERE time IS NOT NULL)"
    return f"arg_min({code}, time)"


def coded(column: str, values: Sequence[str]) -> str:
    """``column`` as the index of its value in ``values`` (a SMALLINT; NULL when not listed)."""
    if not values:
        return "CAST(NULL AS SMALLINT)"
    cases = " ".join(f"WHEN {_literal(v)} THEN {i}" for i, v in enumerate(values))
    return f"CAST(CASE {column} {cases} END AS SMALLINT)"


def _req(name: str | None) -> str:
    """An event name the metric model guarantees is set for this metric type."""
    if name is None:
        raise ValueError("metric is missing an event name its type requires")
    return name


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _window_condition(offset: str, window: float | None) -> str:
    return f"{offset} >= 0" + ("" if window is None else f" AND {offset} < {float(window)!r}")


def _after(event: str, window: float | None) -> str:
    """Events of this name in the attribution window after first exposure."""
    return f"name = {_literal(event)} AND {_window_condition('dt', window)}"


def _before(event: str, window: float | None) -> str:
    """Events of this name in the pre-exposure span (the CUPED covariate)."""
    span = "" if window is None else f" AND dt >= {-float(window)!r}"
    return f"name = {_literal(event)} AND dt < 0{span}"


def _sum(condition: str) -> str:
    return f"sum(value) FILTER (WHERE {condition})"


def _aggregate(metric: Metric, condition: str) -> str:
    if metric.type == "proportion":
        return f"CAST(count(*) FILTER (WHERE {condition}) > 0 AS DOUBLE)"
    if metric.type == "count":
        return f"CAST(count(*) FILTER (WHERE {condition}) AS DOUBLE)"
    return _sum(condition)


def _capped(column: str, cap: float | None) -> str:
    value = f"CAST(coalesce({column}, 0) AS DOUBLE)"
    return value if cap is None else f"least({value}, {float(cap)!r})"
