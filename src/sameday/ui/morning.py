"""The morning page: what is broken, late or stale, what runs, what changed since yesterday.

It reads the status board's own judgements (:mod:`sameday.monitor.status`: a pipeline's
lateness and unusual duration, a running test's traffic and sample ratio) but reads the result
sets in bulk (one query for every live snapshot, one for their profiles) rather than four
queries each, so the page costs the same with three result sets or three hundred.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sameday.config.drift import Freshness
from sameday.metadata import AppliedObject, Incident, LiveChange, Mute, RunRecord
from sameday.monitor.status import ExperimentStatus, PipelineStatus, experiment_status
from sameday.monitor.status import pipeline_status as board_pipeline
from sameday.ui.state import Dashboard

SINCE = timedelta(days=1)
"""How far back "since yesterday" looks."""


@dataclass(frozen=True)
class Freshest:
    """A result set's live snapshot and whether it is stale (``version`` None: never live)."""

    name: str
    version: str | None
    published_at: datetime | None
    age: float | None
    max_age: float | None
    stale: bool
    rows: int | None
    keys: int | None
    drift: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    """One thing to look at first: what, where (a page of the dashboard), and how bad."""

    severity: str  # "critical" | "warning"
    subject: str
    what: str
    link: str


@dataclass(frozen=True)
class Morning:
    """Everything the morning page shows, as of ``now``."""

    now: datetime
    problems: list[Problem]
    pipelines: list[PipelineStatus]
    result_sets: list[Freshest]
    experiments: list[ExperimentStatus]
    runs: list[RunRecord]
    changes: list[LiveChange]
    applied: list[AppliedObject]
    incidents: list[Incident]
    opened: int
    resolved: int
    mutes: list[Mute]

    @property
    def run_counts(self) -> dict[str, int]:
        """Runs since yesterday by status."""
        counts: dict[str, int] = {}
        for run in self.runs:
            counts[run.status] = counts.get(run.status, 0) + 1
        return counts


def freshness(dash: Dashboard, now: datetime) -> list[Freshest]:
    """Every declared result set's live snapshot and age, from two queries."""
    project = dash.project()
    live = {s.result_set: s for s in dash.meta.live_snapshots()}
    profiles = dash.meta.profiles_of([s.version for s in live.values()])
    rows: list[Freshest] = []
    for name, declared in sorted(project.result_sets.items()):
        snapshot = live.get(name)
        if snapshot is None:
            rows.append(Freshest(name, None, None, None, declared.max_age, True, None, None, ()))
            continue
        published = snapshot.published_at or snapshot.created_at
        age = (now - published).total_seconds()
        profile = profiles.get(snapshot.version)
        drift = tuple(
            str(f["summary"])
            for f in (profile.findings if profile else [])
            if f.get("status") in ("warn", "fail")
        )
        stale = declared.max_age is not None and age > declared.max_age
        rows.append(
            Freshest(
                name, snapshot.version, published, age, declared.max_age, stale,
                snapshot.rows, snapshot.keys, drift,
            )
        )  # fmt: skip
    return rows


def running_tests(dash: Dashboard, now: datetime) -> list[ExperimentStatus]:
    """The running experiments' traffic and sample ratio, from the event log's counts."""
    project = dash.project()
    running = sorted(
        (e for e in project.experiments.values() if e.phase == "running"), key=lambda e: e.name
    )
    if not running:
        return []
    sink = dash.event_sink()
    try:
        return [experiment_status(e, sink, now) for e in running]
    finally:
        if sink is not None:
            sink.close()


def problems_of(
    pipelines: list[PipelineStatus],
    result_sets: list[Freshest],
    experiments: list[ExperimentStatus],
    incidents: list[Incident],
) -> list[Problem]:
    """What is broken, late or stale, worst first."""
    found: list[Problem] = []
    for p in pipelines:
        if p.state == "failed":
            found.append(Problem("critical", p.name, "last run failed", f"runs/{p.last_run}"))
        if p.late:
            found.append(Problem("critical", p.name, f"late: {p.why}", f"runs?pipeline={p.name}"))
        elif p.unusual_duration:
            found.append(
                Problem("warning", p.name, "last run took unusually long", f"runs/{p.last_run}")
            )
    for r in result_sets:
        if r.version is None:
            found.append(Problem("warning", r.name, "never published", f"results/{r.name}"))
        elif r.stale:
            found.append(Problem("critical", r.name, "stale", f"results/{r.name}"))
        for warning in r.drift:
            found.append(Problem("warning", r.name, f"drift: {warning}", f"results/{r.name}"))
    for e in experiments:
        if e.srm == "mismatch":
            found.append(
                Problem("critical", e.name, "sample ratio mismatch", f"experiments/{e.name}")
            )
    for incident in incidents:
        found.append(
            Problem(
                "critical" if incident.severity == "critical" else "warning",
                incident.subject,
                f"{incident.monitor}/{incident.check}: {incident.summary}",
                f"alerts#incident-{incident.id}",
            )
        )
    return sorted(found, key=lambda p: p.severity != "critical")


def morning(dash: Dashboard) -> Morning:
    """The morning page's facts, as of the dashboard's ``now``."""
    now = dash.now()
    project = dash.project()
    meta = dash.meta
    defaults = Freshness()
    pipelines = [
        board_pipeline(p, meta, now, defaults)
        for p in sorted(project.pipelines.values(), key=lambda p: p.name)
    ]
    result_sets = freshness(dash, now)
    experiments = running_tests(dash, now)
    since = now - SINCE
    incidents = meta.incidents(include_resolved=True, limit=200)
    open_incidents = [i for i in incidents if i.status == "open"]
    return Morning(
        now=now,
        problems=problems_of(pipelines, result_sets, experiments, open_incidents),
        pipelines=pipelines,
        result_sets=result_sets,
        experiments=experiments,
        runs=meta.runs_since(since),
        changes=meta.live_changes_since(since),
        applied=[a for a in meta.applied() if a.applied_at >= since],
        incidents=open_incidents,
        opened=sum(1 for i in incidents if i.opened_at >= since),
        resolved=sum(1 for i in incidents if i.resolved_at is not None and i.resolved_at >= since),
        mutes=meta.mutes(now=now),
    )
