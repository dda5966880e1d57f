"""The status board: the loop's health at a glance, for ``sameday status`` (and ``--json``).

:func:`status` reads, once each: the metadata database (runs, snapshots, profiles, alerts), and
the event log's per-arm counts of the running experiments (three ``GROUP BY`` queries over the
experiment-and-time index each, never a scan of the log). It writes nothing: a project whose
event log does not exist yet shows no exposures rather than getting an empty log.

- **Pipelines**: the last run's state, start and duration against the median of the runs
  before it; the next scheduled time; and whether the pipeline is late (its deadline passed
  without a successful run, or its last scheduled time passed ``late_after`` ago and no run
  started since).
- **Result sets**: the live snapshot's age (stale past ``max_age``), rows and keys and their
  change from the snapshot live before it, and the drift checks that warned when it was
  published.
- **Experiments** (phase ``running``): exposures in the last hour and day, units per arm, and
  whether a health check stopped it (:mod:`sameday.analysis.health`), and
  the sample-ratio state of A/B tests (a chi-square test of the units per arm against the
  weights, scipy; interleaving shows every unit both arms and bandits move their shares, so
  neither has a ratio to check).
- **Alerts**: the open incidents.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sameday import design_registry
from sameday.config.drift import Freshness
from sameday.config.experiment import Experiment
from sameday.config.loader import Project
from sameday.config.pipeline import Pipeline
from sameday.config.results import ResultSet
from sameday.events import EventSink, open_sink
from sameday.metadata import MetadataStore, RunRecord
from sameday.monitor.freshness import Deadlines, duration_outlier, schedule_times
from sameday.monitor.srm import SEQUENTIAL_SRM_ALPHA, sequential_srm

HISTORY = 20
"""Runs of a pipeline read for its median duration."""


@dataclass(frozen=True)
class PipelineStatus:
    """A pipeline's last run and schedule; durations in seconds."""

    name: str
    last_run: str | None
    state: str | None
    started_at: datetime | None
    duration: float | None
    median_duration: float | None
    unusual_duration: bool
    next_run: datetime | None
    deadline: str | None
    late: bool
    why: str | None


@dataclass(frozen=True)
class ResultSetStatus:
    """A result set's live snapshot; changes are relative to the snapshot live before it."""

    name: str
    version: str | None
    published_at: datetime | None
    age: float | None
    max_age: float | None
    stale: bool
    rows: int | None
    keys: int | None
    previous: str | None
    rows_change: float | None
    keys_change: float | None
    drift: list[str]


@dataclass(frozen=True)
class ArmStatus:
    """One arm: its configured weight, and the units and exposures logged for it."""

    name: str
    weight: float
    units: int
    exposures: int


@dataclass(frozen=True)
class ExperimentStatus:
    """A running experiment's traffic and sample-ratio state (``ok``, ``mismatch``,
    ``no units`` or ``n/a``). ``units`` counts every unit exposed; the arms' counts are
    those of A/B tests (an interleaved list belongs to no one arm: they stay 0)."""

    name: str
    design: str
    surface: str
    exposures_hour: int
    exposures_day: int
    units: int
    arms: list[ArmStatus]
    srm: str
    srm_p: float | None
    stopped_by: str | None = None
    """Why its health check stopped it, while nobody has acknowledged that (its file still
    says running; servers serve its surface's default)."""

    @property
    def fixed_split(self) -> bool:
        """Whether its design splits units by fixed weights (the arms' table means something)."""
        return design_registry.design(self.design).fixed_split


@dataclass(frozen=True)
class Status:
    """Everything the board shows, as of ``now``."""

    project: str
    now: datetime
    pipelines: list[PipelineStatus]
    result_sets: list[ResultSetStatus]
    experiments: list[ExperimentStatus]
    alerts: list[dict[str, Any]]


def status(project: Project, now: datetime, *, freshness: Freshness | None = None) -> Status:
    """The board of ``project`` as of ``now`` (timezone-aware).

    Raises:
        StoreUnavailable: the metadata database or the event log cannot be reached.
    """
    freshness = freshness or Freshness()
    url = project.url(project.settings.storage.metadata)
    with MetadataStore.open(url, migrate=True) as meta:
        pipelines = [
            pipeline_status(p, meta, now, freshness)
            for p in sorted(project.pipelines.values(), key=lambda p: p.name)
        ]
        results = [
            result_set_status(r, meta, now)
            for r in sorted(project.result_sets.values(), key=lambda r: r.name)
        ]
        alerts = open_alerts(meta)
        stops: dict[str, str] = {}
        for stop in meta.experiment_stops(open_only=True):  # newest first
            stops.setdefault(stop.experiment, f"{stop.cause}: {stop.summary}")
    running = sorted(
        (e for e in project.experiments.values() if e.phase == "running"), key=lambda e: e.name
    )
    experiments: list[ExperimentStatus] = []
    if running:
        sink = _existing_sink(project)
        try:
            experiments = [
                dataclasses.replace(experiment_status(e, sink, now), stopped_by=stops.get(e.name))
                for e in running
            ]
        finally:
            if sink is not None:
                sink.close()
    return Status(project.name, now, pipelines, results, experiments, alerts)


def pipeline_status(
    pipeline: Pipeline,
    meta: MetadataStore,
    now: datetime,
    freshness: Freshness,
    runs: list[RunRecord] | None = None,
) -> PipelineStatus:
    """The last run of ``pipeline``, its usual duration, next run and lateness.

    ``runs``: its newest ``HISTORY + 1`` runs, newest first, when the caller read them already
    (the dashboard reads every pipeline's in one query); read from ``meta`` otherwise.
    """
    if runs is None:
        runs = meta.list_runs(pipeline.name, limit=HISTORY + 1)
    last = runs[0] if runs else None
    durations = [r.duration for r in runs[1:] if r.status == "succeeded" and r.duration]
    history = [d for d in durations if d is not None]
    duration: float | None = None
    if last is not None:
        duration = (
            (now - last.started_at).total_seconds() if last.ended_at is None else last.duration
        )
    median: float | None = None
    unusual = False
    if history and duration is not None:
        found = duration_outlier(duration, history)
        median = found.median
        unusual = (
            len(history) >= freshness.duration_min_history
            and abs(found.z) > freshness.duration_limit
            and (last is None or last.ended_at is not None or found.z > 0)
        )
    times = schedule_times(pipeline, now)
    why: str | None = None
    if pipeline.deadline is not None:
        finding = Deadlines().judge(pipeline, runs, now)
        if finding.status == "fail":
            why = f"missed its {pipeline.deadline} deadline"
    if why is None and times is not None:
        scheduled = times[0]
        started = last.started_at if last is not None else None
        overdue = (now - scheduled).total_seconds() > freshness.late_after
        if overdue and (started is None or started < scheduled):
            why = f"no run since {scheduled:%Y-%m-%d %H:%M %Z}"
    return PipelineStatus(
        pipeline.name,
        last.id if last else None,
        last.status if last else None,
        last.started_at if last else None,
        duration,
        median,
        unusual,
        times[1] if times else None,
        pipeline.deadline,
        why is not None,
        why,
    )


def _change(value: int, before: int | None) -> float | None:
    if before is None or before == 0:
        return None
    return (value - before) / before


def result_set_status(declared: ResultSet, meta: MetadataStore, now: datetime) -> ResultSetStatus:
    """The live snapshot of ``declared``, its age and its change from the one before."""
    name = declared.name
    live = meta.live_snapshot(name)
    if live is None:
        return ResultSetStatus(
            name, None, None, None, declared.max_age, declared.max_age is not None,
            None, None, None, None, None, [],
        )  # fmt: skip
    changes = meta.history(name, limit=1)
    previous_version = (
        changes[0].previous if changes and changes[0].version == live.version else None
    )
    before = meta.get_snapshot(previous_version) if previous_version else None
    published = live.published_at or live.created_at
    age = (now - published).total_seconds()
    profile = meta.profile(live.version)
    drift = [
        str(f["summary"])
        for f in (profile.findings if profile else [])
        if f.get("status") in ("warn", "fail")
    ]
    return ResultSetStatus(
        name,
        live.version,
        published,
        age,
        declared.max_age,
        declared.max_age is not None and age > declared.max_age,
        live.rows,
        live.keys,
        previous_version,
        _change(live.rows, before.rows if before else None),
        _change(live.keys, before.keys if before else None),
        drift,
    )


def experiment_status(
    experiment: Experiment, sink: EventSink | None, now: datetime
) -> ExperimentStatus:
    """Traffic of a running experiment in the event log, and its sample-ratio state."""
    moment = now.timestamp()
    if sink is None:
        every, hour, day = {}, {}, {}
    else:
        every = sink.count_exposures(experiment.name)
        hour = sink.count_exposures(experiment.name, since=moment - 3600)
        day = sink.count_exposures(experiment.name, since=moment - 86400)
    weights = experiment.weights
    arms = [
        ArmStatus(
            arm.name,
            weight,
            every[arm.name].units if arm.name in every else 0,
            every[arm.name].exposures if arm.name in every else 0,
        )
        for arm, weight in zip(experiment.arms, weights, strict=True)
    ]
    srm, p = sample_ratio(
        [a.units for a in arms], weights, experiment.design, alpha=experiment.health.srm_alpha
    )
    return ExperimentStatus(
        experiment.name,
        experiment.design,
        experiment.surface,
        sum(c.exposures for c in hour.values()),
        sum(c.exposures for c in day.values()),
        sum(c.units for c in every.values()),
        arms,
        srm,
        p,
    )


def sample_ratio(
    units: list[int], weights: list[float], design: str, *, alpha: float = SEQUENTIAL_SRM_ALPHA
) -> tuple[str, float | None]:
    """``(state, p_value)`` of the units per arm against the weights.

    The board is read every morning and the dashboard refreshes itself, so this is the
    sequential test (:mod:`sameday.monitor.srm`), valid however often it is read, at the
    experiment's ``health.srm_alpha``: the board says ``mismatch`` exactly when the health check
    would. (A chi-square at ``p < 0.001`` read daily for a month alarms on a correct split
    several times as often as it claims.)
    """
    if not design_registry.design(design).fixed_split:
        return "n/a", None
    if sum(units) == 0:
        return "no units", None
    test = sequential_srm(units, weights, alpha=alpha)
    return ("mismatch" if test.mismatch else "ok"), test.p_value


def open_alerts(meta: MetadataStore) -> list[dict[str, Any]]:
    """The open incidents (the newest 100), newest first, as JSON-able dictionaries."""
    return [dataclasses.asdict(incident) for incident in meta.incidents()]


def _existing_sink(project: Project) -> EventSink | None:
    """The event log, or ``None`` if it is a SQLite file that does not exist yet."""
    url = project.url(project.settings.storage.events)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    return open_sink(url)
