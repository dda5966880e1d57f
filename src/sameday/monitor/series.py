"""The ``series`` check: metric series judged by the anomaly detector, one finding per subject.

A monitor's ``series:`` (:class:`sameday.config.series.Series`) each give, at the check's time,
the values of the last complete buckets (built in, or from SQL); the detector
(:func:`sameday.monitor.detector.detect`) judges the newest bucket from the ones before it, and
the finding carries its explanation: expected value, band, observed value, how unusual. An
unusual bucket is ``warn`` (``fail`` for a series of severity ``critical``), so an incident opens
on the first unusual bucket, stays open while the buckets stay unusual, and resolves with the
first ordinary one, through the usual alerting (:mod:`sameday.monitor.alerts`).

The event log is read once per pass and bucket layout, for every series of the monitor that
reads it; other sources are queried per series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sameday.config.series import Series
from sameday.errors import SamedayError
from sameday.monitor.buckets import Buckets, layout
from sameday.monitor.check import Check, Context, Finding, Status
from sameday.monitor.presets import DetectorSettings, preset

if TYPE_CHECKING:
    import duckdb

    from sameday.config.loader import Project
    from sameday.config.monitor import Monitor
    from sameday.monitor.detector import Judgement

HISTORY = {"day": 120, "hour": 28 * 24}
"""Buckets read before the judged one when a series does not say: four months of days, four
weeks of hours (enough for the weekly profile and the detector's longer tests)."""


@dataclass(frozen=True)
class Values:
    """One subject's series: bucket starts (epoch seconds), labels and values, oldest first."""

    subject: str
    starts: Any
    labels: tuple[datetime, ...]
    values: Any


def settings_of(series: Series) -> DetectorSettings:
    """The detector settings of a series: its preset, with its direction and floors (or the
    built-in series' own defaults)."""
    from sameday.monitor.builtin_series import BUILTINS

    spec = BUILTINS.get(series.builtin or "")
    direction = series.direction or (spec.direction if spec else "both")
    rel = series.rel_floor if series.rel_floor is not None else spec.rel_floor if spec else 0.01
    absolute = series.abs_floor if series.abs_floor is not None else spec.abs_floor if spec else 0
    settings = preset(series.preset, direction=direction, rel_floor=rel, abs_floor=float(absolute))
    if series.min_history is not None:
        settings = replace(settings, min_history=series.min_history)
    return settings


def buckets_of(series: Series, now: datetime) -> Buckets:
    """The buckets a check at ``now`` reads: the history and the newest complete one."""
    count = (series.history or HISTORY[series.grain]) + 1
    return layout(now, series.grain, series.timezone, count, series.lag)


def read_series(
    project: Project,
    series: Series,
    buckets: Buckets,
    log: duckdb.DuckDBPyConnection | None,
) -> list[Values]:
    """Every subject's values over ``buckets`` (``log``: the event log's views, when the
    series reads the event log).

    Raises:
        SeriesError: the SQL failed or gave rows that are not times and numbers.
        StoreUnavailable: a source cannot be reached.
    """
    import numpy as np

    from sameday.monitor import builtin_series
    from sameday.monitor.series_sql import run_sql, totals

    n = len(buckets)
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, np.ndarray] = {}
    if series.builtin is not None:
        assert log is not None
        for subject in builtin_series.subjects(series, project):
            sums[subject], counts[subject] = np.zeros(n), np.zeros(n, dtype=np.int64)
        for subject, label, value in builtin_series.read(series, project, log):
            at = buckets.place(label)
            if at < 0 or value is None:
                continue
            if subject not in sums:
                sums[subject], counts[subject] = np.zeros(n), np.zeros(n, dtype=np.int64)
            sums[subject][at] += float(value)
            counts[subject][at] += 1
        missing = series.missing or builtin_series.BUILTINS[series.builtin].missing
    else:
        rows = run_sql(series, log, project.root)
        sums[series.name], counts[series.name] = totals(series, rows, buckets)
        missing = series.missing or "zero"
    out = []
    starts = buckets.starts[:-1]
    for subject in sorted(sums):
        seen = counts[subject] > 0
        if missing == "zero":  # from the first bucket with rows: before it, nothing existed
            first = int(np.argmax(seen)) if seen.any() else n - 1
            keep = np.arange(n) >= first
        else:
            keep = seen
        labels = tuple(label for label, k in zip(buckets.labels, keep, strict=True) if k)
        out.append(Values(subject, starts[keep], labels, sums[subject][keep]))
    return out


def judge(series: Series, values: Values, newest: datetime) -> Finding:
    """The finding on one subject: the detector's verdict on the ``newest`` bucket."""
    from sameday.monitor.detector import detect

    check = f"series.{series.name}"
    when = _label(newest, series.grain)
    if not values.labels or values.labels[-1] != newest:
        return Finding(
            check,
            values.subject,
            "learning",
            f"{series.name} {values.subject}: no value for {when} (no rows): not judged",
            "info",
            {"series": series.name, "bucket": newest.isoformat(), "status": "no data"},
        )
    verdict = detect(values.starts, values.values, settings_of(series)).latest()
    status, severity = _status(verdict, series)
    evidence = {
        "series": series.name,
        "bucket": newest.isoformat(),
        "grain": series.grain,
        "timezone": series.timezone,
        "direction": settings_of(series).direction,
        **verdict.evidence(),
    }
    summary = f"{series.name} {values.subject} for {when}: {verdict.summary()}"
    return Finding(check, values.subject, status, summary, severity, evidence)


def _status(verdict: Judgement, series: Series) -> tuple[Status, Any]:
    if verdict.status == "learning":
        return "learning", "info"
    if verdict.status == "ok":
        return "ok", "info"
    return ("fail" if series.severity == "critical" else "warn"), series.severity


def _label(moment: datetime, grain: str) -> str:
    return moment.strftime("%Y-%m-%d" if grain == "day" else "%Y-%m-%d %H:00")


@dataclass
class SeriesCheck:
    """Every series of one monitor (see the module docstring)."""

    series: Sequence[Series]
    name: str = "series"

    def evaluate(self, context: Context) -> list[Finding]:
        """A finding per series and subject; a series that cannot be read is one ``error``
        finding of its own, and the others still run."""

        findings: list[Finding] = []
        sink = None
        connections: dict[tuple[str, str, int, float], duckdb.DuckDBPyConnection] = {}
        try:
            for series in self.series:
                buckets = buckets_of(series, context.now)
                try:
                    log = None
                    if series.source is None:
                        key = (series.grain, series.timezone, len(buckets), series.lag)
                        if key not in connections:
                            if sink is None:
                                sink = context.project.open_event_sink()
                            connections[key] = _open_views(context.project, sink, buckets)
                        log = connections[key]
                    subjects = read_series(context.project, series, buckets, log)
                    newest = buckets.labels[-1]
                    findings.extend(judge(series, values, newest) for values in subjects)
                except SamedayError as exc:
                    findings.append(
                        Finding(
                            f"series.{series.name}",
                            "(series)",
                            "error",
                            f"series {series.name} could not be read: {exc}",
                            "warning",
                        )
                    )
        finally:
            for con in connections.values():
                con.close()
            if sink is not None:
                sink.close()
        return findings


def _open_views(project: Project, sink: Any, buckets: Buckets) -> duckdb.DuckDBPyConnection:
    import duckdb

    from sameday.monitor.event_views import load_views

    con = duckdb.connect()
    load_views(con, project, sink, buckets)
    return con


def builtin_checks(project: Project, monitor: Monitor) -> list[Check]:
    """The ``series`` check of a monitor, for the monitor registry. A monitor without series
    gets one that finds nothing: it still resolves the incidents of series since removed."""
    return [SeriesCheck(list(getattr(monitor, "series", None) or []))]


__all__ = ["HISTORY", "SeriesCheck", "Values", "buckets_of", "judge", "read_series", "settings_of"]
