"""Freshness: runs that succeed by their deadline, snapshots no older than allowed, and run
durations that look like their history.

Three checks (:class:`Deadlines`, :class:`MaxAge`, :class:`RunDurations`), each a finding per
pipeline or result set that declares what it checks, healthy ones included (so an incident
resolves when a late run finally succeeds). The functions under them (:func:`deadlines`,
:func:`duration_outlier`, :func:`schedule_times`) also feed the status board.

A deadline is a time of day in the pipeline's timezone. The run that answers deadline *D* is
one that succeeded after the deadline before it, *D - 1 day*: a nightly job due at 06:00 must
have succeeded between yesterday 06:00 and today 06:00. Once *D* has passed without one, the
check fails until a run succeeds (late, which it records) or the next deadline brings a new
window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from sameday.config.drift import Freshness
from sameday.config.loader import Project
from sameday.config.pipeline import Pipeline
from sameday.metadata.records import RunRecord
from sameday.monitor.check import Check, Context, Finding

MAD_TO_SD = 1.4826
"""Scales a median absolute deviation to a normal distribution's standard deviation."""


def deadlines(deadline: str, timezone: str, now: datetime) -> tuple[datetime, datetime]:
    """``(previous, last)``: the last deadline at or before ``now``, and the one before it
    (a day earlier in the timezone's calendar, so a DST change keeps the wall-clock time)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    hour, minute = (int(part) for part in deadline.split(":"))
    at = time(hour, minute)
    last = datetime.combine(local.date(), at, zone)
    if last > local:
        last = datetime.combine(local.date() - timedelta(days=1), at, zone)
    previous = datetime.combine(last.date() - timedelta(days=1), at, zone)
    return previous, last


def schedule_times(pipeline: Pipeline, now: datetime) -> tuple[datetime, datetime] | None:
    """``(previous, next)`` scheduled times around ``now`` (UTC), or ``None`` unscheduled."""
    if pipeline.schedule is None:
        return None
    from croniter import croniter

    local = now.astimezone(ZoneInfo(pipeline.timezone))
    cron = croniter(pipeline.schedule.cron, local)
    before: datetime = cron.get_prev(datetime)
    cron = croniter(pipeline.schedule.cron, local)
    after: datetime = cron.get_next(datetime)
    return before.astimezone(now.tzinfo), after.astimezone(now.tzinfo)


@dataclass(frozen=True)
class Outlier:
    """A duration against its history: the median, the robust scale and the z-score."""

    duration: float
    median: float
    scale: float
    z: float
    history: int


def duration_outlier(duration: float, history: Sequence[float]) -> Outlier:
    """How far ``duration`` is from ``history``: ``(d - median) / scale``, where the scale is
    ``1.4826 x MAD`` (the standard deviation, were durations normal), but at least a tenth of
    the median and one second, so a pipeline whose runs all take the same time does not
    alert on a run two seconds slower."""
    values = np.asarray(history, dtype=float)
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    scale = max(MAD_TO_SD * mad, 0.1 * median, 1.0)
    return Outlier(duration, median, scale, (duration - median) / scale, len(values))


def _when(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return "never"
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


@dataclass
class Deadlines:
    """Each pipeline with a ``deadline`` had a run succeed by it."""

    name: str = "freshness.deadline"
    runs: int = 50

    def evaluate(self, context: Context) -> list[Finding]:
        """A finding per pipeline that declares a deadline."""
        findings = []
        for pipeline in context.project.pipelines.values():
            if pipeline.deadline is None:
                continue
            runs = context.metadata.list_runs(pipeline.name, limit=self.runs)
            findings.append(self.judge(pipeline, runs, context.now))
        return findings

    def judge(self, pipeline: Pipeline, runs: Sequence[RunRecord], now: datetime) -> Finding:
        """The finding of one pipeline given its latest ``runs`` (newest first)."""
        assert pipeline.deadline is not None
        tz = pipeline.timezone
        previous, last = deadlines(pipeline.deadline, tz, now)
        succeeded = [r for r in runs if r.status == "succeeded" and r.ended_at is not None]
        latest = max((r.ended_at for r in succeeded if r.ended_at), default=None)
        answering = [r for r in succeeded if r.ended_at and r.ended_at > previous]
        evidence = {
            "deadline": pipeline.deadline,
            "timezone": tz,
            "window": [previous.isoformat(), last.isoformat()],
            "last_success": latest.isoformat() if latest else None,
        }
        subject = pipeline.name
        if answering:
            run = min(answering, key=lambda r: r.ended_at or now)
            late = run.ended_at is not None and run.ended_at > last
            summary = f"pipeline {subject}: run {run.id} succeeded at {_when(run.ended_at, tz)}"
            if late:
                summary += f", after its deadline {_when(last, tz)}"
            return Finding(
                self.name,
                subject,
                "ok",
                summary,
                "info",
                {**evidence, "run": run.id, "late": late},
            )
        return Finding(
            self.name,
            subject,
            "fail",
            f"pipeline {subject} missed its deadline {pipeline.deadline} {tz}: no run "
            f"succeeded between {_when(previous, tz)} and {_when(last, tz)} (last success: "
            f"{_when(latest, tz)}). Look at 'sameday runs {subject}', then rerun it with "
            f"'sameday run {subject}'",
            "critical",
            evidence,
        )


@dataclass
class MaxAge:
    """Each result set with a ``max_age`` has a live snapshot at most that old."""

    name: str = "freshness.max_age"

    def evaluate(self, context: Context) -> list[Finding]:
        """A finding per result set that declares a maximum age."""
        findings = []
        for declared in context.project.result_sets.values():
            if declared.max_age is None:
                continue
            name, limit = declared.name, declared.max_age
            live = context.metadata.live_snapshot(name)
            published = live.published_at if live else None
            if live is None or published is None:
                findings.append(
                    Finding(
                        self.name,
                        name,
                        "fail",
                        f"result set {name} has no live snapshot: publish it with "
                        f"'sameday publish {name}'",
                        "critical",
                        {"max_age": limit},
                    )
                )
                continue
            age = (context.now - published).total_seconds()
            evidence = {"version": live.version, "age": round(age, 1), "max_age": limit}
            stale = age > limit
            findings.append(
                Finding(
                    self.name,
                    name,
                    "fail" if stale else "ok",
                    f"result set {name}: live snapshot {live.version} is {age_text(age)} old"
                    + (
                        f", more than the {age_text(limit)} allowed: run the pipeline that "
                        "publishes it"
                        if stale
                        else f" (at most {age_text(limit)})"
                    ),
                    "critical" if stale else "info",
                    evidence,
                )
            )
        return findings


@dataclass
class RunDurations:
    """The last run of each pipeline took about as long as its runs usually do."""

    settings: Freshness = field(default_factory=Freshness)
    name: str = "freshness.duration"

    def evaluate(self, context: Context) -> list[Finding]:
        """A finding per pipeline that has run."""
        findings = []
        for pipeline in context.project.pipelines.values():
            runs = context.metadata.list_runs(
                pipeline.name, limit=self.settings.duration_history + 1
            )
            if runs:
                findings.append(self.judge(pipeline.name, runs, context.now))
        return findings

    def judge(self, pipeline: str, runs: Sequence[RunRecord], now: datetime) -> Finding:
        """The finding of one pipeline given its latest ``runs`` (newest first).

        A finished last run is compared with the succeeded runs before it; a running one only
        once it has run longer than the history allows (it may still finish in time).
        """
        last, earlier = runs[0], runs[1:]
        history = [r.duration for r in earlier if r.status == "succeeded" and r.duration]
        history = [d for d in history if d is not None][: self.settings.duration_history]
        running = last.ended_at is None
        duration = (now - last.started_at).total_seconds() if running else last.duration or 0.0
        if len(history) < self.settings.duration_min_history:
            return Finding(
                self.name,
                pipeline,
                "learning",
                f"pipeline {pipeline}: {len(history)} finished run(s) to compare with, "
                f"{self.settings.duration_min_history} needed",
                "info",
                {"run": last.id, "history": len(history)},
            )
        found = duration_outlier(duration, history)
        limit = self.settings.duration_limit
        outside = found.z > limit if running else abs(found.z) > limit
        evidence = {
            "run": last.id,
            "running": running,
            "duration": round(duration, 3),
            "median": round(found.median, 3),
            "scale": round(found.scale, 3),
            "z": round(found.z, 2) if math.isfinite(found.z) else None,
            "limit": limit,
            "history": found.history,
        }
        verb = "has been running for" if running else "took"
        summary = (
            f"pipeline {pipeline}: run {last.id} {verb} {age_text(duration)}, against a median of "
            f"{age_text(found.median)} over {found.history} runs (z {found.z:+.1f}"
        )
        summary += f", beyond ±{limit:g})" if outside else ")"
        return Finding(
            self.name,
            pipeline,
            "warn" if outside else "ok",
            summary,
            "warning" if outside else "info",
            evidence,
        )


def age_text(seconds: float) -> str:
    """``seconds`` as a short text: 45s, 12m, 3.5h, 2.0d."""
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def builtin_checks(project: Project, monitor: object = None) -> list[Check]:
    """The freshness checks of a project, for the monitor registry (``freshness``).

    ``monitor`` is the monitor file's model; its ``freshness`` section, when it has one, holds
    the :class:`~sameday.config.drift.Freshness` settings (the defaults otherwise).
    """
    settings = getattr(monitor, "freshness", None)
    return [
        Deadlines(),
        MaxAge(),
        RunDurations(settings if isinstance(settings, Freshness) else Freshness()),
    ]
