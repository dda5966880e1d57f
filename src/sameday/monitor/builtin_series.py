"""The built-in series: what every recommendation loop is worth watching, with no SQL to write.

Each is one query over the event log's views (:mod:`sameday.monitor.event_views`) giving
``(subject, bucket, value)`` rows, plus the defaults that suit it: counts alert on drops and
have no value in an empty bucket other than 0; shares and rates alert on the side that hurts and
skip an empty bucket (a rate of nothing is not 0). Subjects are surfaces, ``experiment/arm``,
result sets, or ``all`` (outcomes belong to no surface).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import duckdb

    from sameday.config.loader import Project
    from sameday.config.series import Series


@dataclass(frozen=True)
class Builtin:
    """A built-in series' query (``{where}`` and ``?`` filled per series) and its defaults."""

    sql: str
    direction: Literal["drop", "rise", "both"]
    missing: Literal["zero", "skip"]
    rel_floor: float
    abs_floor: float = 0.0
    unit: str = ""


_PER_SURFACE = "SELECT surface, bucket, {what} FROM exposures WHERE bucket IS NOT NULL{where} "
_PER_SURFACE += "GROUP BY ALL"

BUILTINS: dict[str, Builtin] = {
    "units": Builtin(
        _PER_SURFACE.replace("{what}", "count(DISTINCT unit)"), "drop", "zero", 0.05, unit="units"
    ),
    "requests": Builtin(
        _PER_SURFACE.replace("{what}", "count(*)"), "drop", "zero", 0.05, unit="lists"
    ),
    "fallback_share": Builtin(
        _PER_SURFACE.replace("{what}", "avg(fallback::DOUBLE)"), "rise", "skip", 0.0, 0.01
    ),
    "degraded_share": Builtin(
        _PER_SURFACE.replace("{what}", "avg(degraded::DOUBLE)"), "rise", "skip", 0.0, 0.01
    ),
    "active_units": Builtin(
        "SELECT 'all', bucket, count(DISTINCT unit) FROM outcomes "
        "WHERE bucket IS NOT NULL AND name = ? GROUP BY ALL",
        "drop",
        "zero",
        0.05,
        unit="units",
    ),
    "ctr": Builtin(
        "SELECT e.surface, e.bucket, avg((c.request_id IS NOT NULL)::DOUBLE) FROM exposures e "
        "LEFT JOIN (SELECT DISTINCT request_id FROM outcomes WHERE name = ?) c "
        "ON c.request_id = e.request_id "
        "WHERE e.bucket IS NOT NULL AND e.default_list{where} GROUP BY ALL",
        "drop",
        "skip",
        0.05,
    ),
    "arm_exposures": Builtin(
        "SELECT experiment || '/' || arm, bucket, count(*) FROM exposures "
        "WHERE bucket IS NOT NULL AND arm IS NOT NULL{where} GROUP BY ALL",
        "drop",
        "zero",
        0.05,
        unit="exposures",
    ),
    "snapshot_age": Builtin(
        "WITH first AS (SELECT result_set, version, min(time) AS since FROM served GROUP BY ALL) "
        "SELECT s.result_set, s.bucket, avg(s.time - f.since) / 3600.0 FROM served s "
        "JOIN first f ON f.result_set = s.result_set AND f.version = s.version "
        "WHERE s.bucket IS NOT NULL{where} GROUP BY ALL",
        "rise",
        "skip",
        0.25,
        6.0,
        unit="hours",
    ),
}
"""Every built-in series by name (the names of ``sameday.config.series.BUILTIN_SERIES``)."""


def subjects(series: Series, project: Project) -> list[str]:
    """The subjects a built-in series reports on even when they had no rows at all (so a
    surface or an arm whose traffic stopped entirely is still judged, at 0)."""
    name = series.builtin
    if name in ("units", "requests"):
        return sorted(series.surfaces or project.surfaces)
    if name == "arm_exposures":
        return sorted(
            f"{e.name}/{a.name}"
            for e in project.experiments.values()
            if e.phase == "running" and e.design != "interleave"
            for a in e.arms
        )
    return []


def query(series: Series, project: Project) -> tuple[str, list[Any]]:
    """The SQL of a built-in series and its parameters, filtered to its surfaces, running
    experiments or result sets."""
    assert series.builtin is not None
    spec = BUILTINS[series.builtin]
    params: list[Any] = []
    if series.builtin in ("active_units", "ctr"):
        params.append(series.event)
    where = ""
    if series.builtin == "arm_exposures":
        running = sorted(e.name for e in project.experiments.values() if e.phase == "running")
        where, extra = _within("experiment", running)
        params += extra
    elif series.builtin == "snapshot_age" and series.result_sets:
        where, extra = _within("s.result_set", series.result_sets)
        params += extra
    elif series.surfaces and series.builtin != "active_units":
        column = "e.surface" if series.builtin == "ctr" else "surface"
        where, extra = _within(column, series.surfaces)
        params += extra
    return spec.sql.replace("{where}", where), params


def _within(column: str, names: list[str]) -> tuple[str, list[Any]]:
    if not names:
        return " AND FALSE", []
    return f" AND {column} IN ({', '.join('?' * len(names))})", list(names)


def read(
    series: Series, project: Project, con: duckdb.DuckDBPyConnection
) -> list[tuple[str, Any, float]]:
    """``(subject, bucket label, value)`` rows of a built-in series over the views in ``con``."""
    sql, params = query(series, project)
    rows: list[tuple[str, Any, float]] = con.execute(sql, params).fetchall()
    return rows


__all__ = ["BUILTINS", "Builtin", "query", "read", "subjects"]
