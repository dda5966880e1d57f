"""The morning page: what is broken, late or stale, what runs, what changed since yesterday.

It reads the status board's own judgements (:mod:`sameday.monitor.status`: a pipeline's
lateness and unusual duration, a running test's traffic and sample ratio) but reads the result
sets in bulk (one query for every live snapshot, one for their profiles' findings) rather than
four queries each, so the page costs the same with three result sets or three hundred. Running
tests' counts come from the background (:attr:`~sameday.ui.state.Dashboard.traffic`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sameday.config.drift import Freshness
from sameday.config.results import ResultSet
from sameday.metadata import (
    AppliedObject,
    Incident,
    LiveChange,
    Mute,
    SnapshotRecord,
)
from sameday.monitor.status import HISTORY, ExperimentStatus, PipelineStatus, pipeline_status
from sameday.ui.state import Built, Dashboard

SINCE = timedelta(days=1)
"""How far back "since yesterday" looks."""
CHANGES = 50
"""Changes of what is live read for "since yesterday" (the page lists 15; beyond 50 it says
"50 or more", as it does for applied objects)."""


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
    experiments: list[tuple[str, Built[ExperimentStatus] | None]]
    runs: dict[str, int]
    changes: list[LiveChange]
    applied: list[AppliedObject]
    incidents: list[Incident]
    opened: int
    resolved: int
    mutes: list[Mute]

    @property
    def run_total(self) -> int:
        """Runs since yesterday."""
        return sum(self.runs.values())


def freshest(declared: ResultSet, live: SnapshotRecord | None,
             findings: list[dict[str, Any]] | None, now: datetime) -> Freshest:  # fmt: skip
    """A result set's live snapshot, its age against its ``max_age``, and the warnings of its
    profile's drift ``findings``."""
    if live is None:
        return Freshest(declared.name, None, None, None, declared.max_age, True, None, None, ())
    published = live.published_at or live.created_at
    age = (now - published).total_seconds()
    drift = tuple(str(f["summary"]) for f in findings or [] if f.get("status") in ("warn", "fail"))
    stale = declared.max_age is not None and age > declared.max_age
    return Freshest(
        declared.name, live.version, published, age, declared.max_age, stale, live.rows,
        live.keys, drift,
    )  # fmt: skip


def freshness(dash: Dashboard, now: datetime) -> list[Freshest]:
    """Every declared result set's live snapshot and age, from two queries (the live snapshots,
    and their profiles' findings alone)."""
    project = dash.project()
    live = {s.result_set: s for s in dash.meta.live_snapshots()}
    findings = dash.meta.profile_findings([s.version for s in live.values()])
    return [
        freshest(declared, live.get(name), findings.get(live[name].version) if name in live
                 else None, now)
        for name, declared in sorted(project.result_sets.items())
    ]  # fmt: skip


def pipeline_states(dash: Dashboard, now: datetime) -> list[PipelineStatus]:
    """Every declared pipeline's last run, usual duration, next run and lateness, reading the
    runs of all of them in one query."""
    pipelines = dash.project().pipelines
    names = sorted(pipelines)
    runs = dash.meta.latest_runs(names, per=HISTORY + 1)
    defaults = Freshness()
    return [pipeline_status(pipelines[n], dash.meta, now, defaults, runs[n]) for n in names]


def running_tests(dash: Dashboard) -> list[tuple[str, Built[ExperimentStatus] | None]]:
    """The running experiments and their traffic, as last counted in the background."""
    project = dash.project()
    names = sorted(e.name for e in project.experiments.values() if e.phase == "running")
    return [(name, dash.traffic.get(name)) for name in names]


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
    meta = dash.meta
    pipelines = pipeline_states(dash, now)
    result_sets = freshness(dash, now)
    experiments = running_tests(dash)
    counted = [b.value for _, b in experiments if b is not None and b.value is not None]
    since = now - SINCE
    open_incidents = meta.incidents(include_resolved=False, limit=None)
    opened, resolved = meta.incident_counts_since(since)
    return Morning(
        now=now,
        problems=problems_of(pipelines, result_sets, counted, open_incidents),
        pipelines=pipelines,
        result_sets=result_sets,
        experiments=experiments,
        runs=meta.run_counts_since(since),
        changes=meta.live_changes_since(since, CHANGES),
        applied=meta.applied_since(since),
        incidents=open_incidents,
        opened=opened,
        resolved=resolved,
        mutes=meta.mutes(now=now),
    )
