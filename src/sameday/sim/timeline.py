"""Days of the quickstart with incidents whose truth is known, watched by the metric monitors.

``sameday demo --days 60 --incidents`` runs this in a copy of ``examples/quickstart``, changed
so that a model is what a surface serves by default: ``home`` serves ``als`` (popularity fills
short lists), the A/B test of popularity against ALS keeps the first half of the home layer, and
the interleaving test is left out (its lists mix two rankers). Then, each simulated day:

1. the nightly job publishes the model's lists as a new snapshot of ``als``, through the real
   ``publish`` (unless the pipeline is stale; random lists while the model is broken). The model
   is a truncated SVD of the logged interactions (:class:`sameday.sim.drift.Factors`), fitted
   on the first day and again when a decay ends (the fix: a retrain on fresh logs);
2. the day's visitors (a weekly pattern, Poisson counts, fewer during a traffic drop) are
   served by the real engine (``sameday.Client`` in process: assignment, arms, fallbacks), and
   click following the position-based click model on their true tastes
   (:mod:`sameday.sim.world`), which drift while a decay runs (:func:`sameday.sim.drift.drift`);
3. the served lists and the clicks go to the event log stamped with the simulated time, except
   what the incidents lose (outcomes during a tracking outage, one arm's exposures during a
   sample-ratio bug);
4. the ``metrics`` monitor runs at the end of the day (one hour after midnight, for late
   events) through ``run_monitors``, judging the day just ended: incidents are opened and
   resolved in the metadata database as in production.

Only the ``metrics`` monitor runs: the quickstart's ``health`` monitor judges run and snapshot
times, which are real (the snapshots are published now), not simulated. The grading is in
:mod:`sameday.sim.incidents`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from sameday.errors import SimulationError
from sameday.sim.clicks import PositionBased
from sameday.sim.data import generate, item_id, user_id
from sameday.sim.drift import Factors, drift
from sameday.sim.incidents import (
    Alert,
    Detection,
    Incident,
    Schedule,
    default_incidents,
    grade,
)
from sameday.sim.world import IntArray, World

if TYPE_CHECKING:
    from sameday.config.loader import Project
    from sameday.events.records import Exposure, Outcome
    from sameday.serve.client import Client

MONITOR = "metrics"
SURFACE = "home"
MODEL_SET = "als"
ARM_TEST = "home-als"
DROPPED_TEST = "home-als-vs-knn"
LIST_LENGTH = 12
"""Items published per user (the surface shows 10)."""
BATCH = 500
"""Visitors served per ``recommend_batch`` call."""

MONITOR_FILE: dict[str, Any] = {
    "name": MONITOR,
    "description": "The home feed's business metrics, judged daily by the anomaly detector.",
    "notify": [],
    "checks": ["series"],
    "series": [
        {"name": "users", "builtin": "units"},
        {"name": "active-users", "builtin": "active_units"},
        {"name": "requests", "builtin": "requests"},
        {"name": "fallbacks", "builtin": "fallback_share"},
        {"name": "degraded", "builtin": "degraded_share"},
        {"name": "ctr", "builtin": "ctr"},
        {"name": "arms", "builtin": "arm_exposures"},
        {"name": "lists-age", "builtin": "snapshot_age", "result_sets": [MODEL_SET]},
    ],
}
"""The metric monitor the timeline adds to the quickstart (``monitors/metrics.yaml``)."""

HOURS = np.array(
    [2, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 6, 7, 6, 6, 6, 6, 7, 8, 9, 9, 8, 6, 4], dtype=np.float64
)
"""Relative visits per hour of the day (evening peak)."""


@dataclass(frozen=True)
class TimelineSettings:
    """The simulated quickstart and its days.

    ``visits`` is the mean number of visits on a weekday (weekends see ``weekend`` times as
    many); ``start`` is the first simulated day (a Monday).
    """

    days: int = 60
    users: int = 3000
    items: int = 400
    visits: int = 1500
    weekend: float = 0.75
    seed: int = 7
    start: date = date(2026, 1, 5)
    incidents: tuple[Incident, ...] | None = None
    """``None``: one of each kind (:func:`sameday.sim.incidents.default_incidents`)."""
    min_history: int | None = None
    """Days the detector learns before judging (``None``: its default, 20); a shorter
    timeline (the tests') judges sooner."""

    def schedule(self) -> Schedule:
        """The incidents of this timeline."""
        chosen = default_incidents(self.days) if self.incidents is None else self.incidents
        return Schedule(tuple(chosen))


@dataclass(frozen=True)
class DayRecord:
    """One simulated day: traffic, clicks, what was broken and what the monitors opened."""

    day: int
    date: date
    visits: int
    exposures: int
    clicks: int
    broken: tuple[str, ...]
    opened: tuple[Alert, ...]


@dataclass(frozen=True)
class TimelineResult:
    """Every day, every incident's detection, and the false alarms."""

    folder: Path
    days: tuple[DayRecord, ...]
    detections: tuple[Detection, ...]
    false_alarms: tuple[Alert, ...]
    checks: tuple[str, ...]
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


Progress = Callable[[DayRecord], None]
_MIDNIGHT = clock()


def prepare(folder: Path, min_history: int | None = None) -> None:
    """Turn the quickstart copy in ``folder`` into the timeline's project (module docstring)."""
    surface = folder / "surfaces" / f"{SURFACE}.yaml"
    spec = yaml.safe_load(surface.read_text(encoding="utf-8"))
    spec.update(result_set=MODEL_SET, fallbacks=["popular"])
    surface.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    (folder / "experiments" / f"{DROPPED_TEST}.yaml").unlink(missing_ok=True)
    monitor = MONITOR_FILE
    if min_history is not None:
        series = [s | {"min_history": min_history} for s in MONITOR_FILE["series"]]
        monitor = MONITOR_FILE | {"series": series}
    (folder / "monitors" / f"{MONITOR}.yaml").write_text(
        yaml.safe_dump(monitor, sort_keys=False), encoding="utf-8"
    )


def run_timeline(
    settings: TimelineSettings, folder: Path, progress: Progress | None = None
) -> TimelineResult:
    """Simulate ``settings.days`` days in the quickstart copy at ``folder`` (see the module
    docstring) and grade the monitors on its incidents.

    Raises:
        SimulationError: impossible settings.
    """
    if settings.days < 1 or settings.visits < 10 or settings.visits * 2 > settings.users:
        raise SimulationError(
            "a timeline needs at least one day, and at least 10 visits a day but no more than "
            f"half the users; got days={settings.days}, visits={settings.visits}, "
            f"users={settings.users}"
        )
    from sameday.config import load_project
    from sameday.deploy.apply import apply_project
    from sameday.monitor.run import run_monitors

    started = time.perf_counter()
    timings = dict.fromkeys(("publish", "serve", "log", "monitor"), 0.0)
    prepare(folder, settings.min_history)
    world, data = generate(
        folder / "data", users=settings.users, items=settings.items, seed=settings.seed
    )
    project = load_project(folder)
    rng = np.random.default_rng([settings.seed, 17])
    schedule = settings.schedule()
    model = Factors.fit(data.train, settings.users, settings.items, 12)
    counts = np.bincount(data.train.items, minlength=settings.items)
    _publish(project, "popular", _popular(folder, counts), "day 0")
    _publish(project, MODEL_SET, _lists(folder, model.top(LIST_LENGTH)), "day 0")
    apply_project(project)
    clicks = PositionBased.power(project.surfaces[SURFACE].n)
    records: list[DayRecord] = []
    alerts: list[Alert] = []
    unhealthy: set[tuple[str, str]] = set()
    with project.open_metadata() as metadata, _client(project) as client:
        sink = project.open_event_sink()
        try:
            for day in range(settings.days):
                midnight = datetime.combine(settings.start + timedelta(days=day), _MIDNIGHT, UTC)
                mark = time.perf_counter()
                decaying = schedule.size("decay", day)
                if decaying:
                    world = drift(world, 1.0 - decaying, rng)
                elif day and schedule.size("decay", day - 1):  # the fix: retrained on fresh logs
                    from sameday.sim.interactions import log_interactions

                    fresh = log_interactions(world, mean=30.0, seed=settings.seed + day)
                    model = Factors.fit(fresh, settings.users, settings.items, 12)
                if day and not schedule.size("stale_pipeline", day):
                    lists = model.top(LIST_LENGTH)
                    if schedule.size("broken_model", day):
                        lists = _random_lists(rng, settings.users, settings.items)
                    _publish(project, MODEL_SET, _lists(folder, lists), f"day {day}")
                    client.refresh()
                timings["publish"] += time.perf_counter() - mark
                record, exposures, outcomes = _day(
                    settings, schedule, day, midnight, world, client, clicks, rng, timings
                )
                mark = time.perf_counter()
                sink.write_exposures(exposures)
                sink.write_outcomes(outcomes)
                timings["log"] += time.perf_counter() - mark
                mark = time.perf_counter()
                report = run_monitors(
                    project, metadata, only=(MONITOR,), now=midnight + timedelta(days=1, hours=1)
                )
                timings["monitor"] += time.perf_counter() - mark
                opened = []
                now_unhealthy = set()
                for finding in report.findings:
                    if finding.healthy:
                        continue
                    key = (finding.monitor, finding.subject)
                    now_unhealthy.add(key)
                    if key not in unhealthy:
                        opened.append(Alert(day, finding.monitor, finding.subject, finding.summary))
                unhealthy = now_unhealthy
                alerts.extend(opened)
                record = replace(record, opened=tuple(opened))
                records.append(record)
                if progress is not None:
                    progress(record)
        finally:
            sink.close()
    detections, false = grade(schedule.incidents, alerts)
    checks = tuple(f"series.{s['name']}" for s in MONITOR_FILE["series"])
    return TimelineResult(
        folder,
        tuple(records),
        tuple(detections),
        tuple(false),
        checks,
        time.perf_counter() - started,
        timings,
    )


@contextmanager
def _client(project: Project) -> Iterator[Client]:
    """The real serving engine in process, logging nothing itself (the timeline logs what it
    served with the simulated time), refreshed by hand after each publish."""
    from sameday.serve.client import AppliedSource, Client

    client = Client(
        project.open_serving_store(),
        specs=AppliedSource(project.open_metadata()),
        refresh_interval=0,
    )
    try:
        yield client
    finally:
        client.close()


def _publish(project: Project, name: str, source: Path, reason: str) -> None:
    from sameday.results.publish import publish

    publish(project, name, source=source, reason=reason)


def _popular(folder: Path, counts: IntArray) -> Path:
    """The popularity list under the key ``*`` (as the quickstart's job writes it)."""
    order = np.argsort(-counts, kind="stable")[:50]
    path = folder / "out" / "popular.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"*,{item_id(int(i))},{float(counts[i]):.1f}" for i in order]
    path.write_text("key,item,score\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _lists(folder: Path, lists: IntArray) -> Path:
    """Every user's list as the ``als`` result set's CSV (score: the rank's reciprocal),
    where the quickstart's pipeline writes it."""
    path = folder / "out" / "als.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    width = lists.shape[1]
    scores = [f"{1.0 / (k + 1):.4f}" for k in range(width)]
    with path.open("w", encoding="utf-8") as out:
        out.write("key,item,score\n")
        for user, row in enumerate(lists):
            unit = user_id(user)
            out.writelines(
                f"{unit},{item_id(int(item))},{scores[k]}\n" for k, item in enumerate(row)
            )
    return path


def _random_lists(rng: np.random.Generator, users: int, items: int) -> IntArray:
    """What a broken model publishes: a random list per user."""
    keys = rng.random((users, items))
    return np.asarray(np.argpartition(keys, LIST_LENGTH, axis=1)[:, :LIST_LENGTH], dtype=np.int64)


def _visits(
    settings: TimelineSettings, schedule: Schedule, day: int, rng: np.random.Generator
) -> int:
    weekday = (settings.start + timedelta(days=day)).weekday()
    mean = settings.visits * (settings.weekend if weekday >= 5 else 1.0)
    mean *= 1.0 - schedule.size("traffic_drop", day)
    return int(min(rng.poisson(mean), settings.users))


def _day(
    settings: TimelineSettings,
    schedule: Schedule,
    day: int,
    midnight: datetime,
    world: World,
    client: Client,
    clicks: PositionBased,
    rng: np.random.Generator,
    timings: dict[str, float],
) -> tuple[DayRecord, list[Exposure], list[Outcome]]:
    """Serve one day's visitors; what reaches the event log, after the incidents' losses."""
    from sameday.events.records import Exposure, Outcome

    mark = time.perf_counter()
    n = _visits(settings, schedule, day, rng)
    users = rng.choice(settings.users, size=n, replace=False)
    hours = rng.choice(24, size=n, p=HOURS / HOURS.sum())
    times = np.sort(midnight.timestamp() + hours * 3600.0 + rng.random(n) * 3600.0)
    lost_arm = schedule.size("sample_ratio", day)
    lost_outcomes = schedule.size("tracking_outage", day)
    exposures: list[Exposure] = []
    outcomes: list[Outcome] = []
    clicked_total = 0
    units = [user_id(user) for user in users.tolist()]
    answers = [
        served
        for first in range(0, n, BATCH)
        for served in client.recommend_batch(
            SURFACE, [(u, None) for u in units[first : first + BATCH]]
        )
    ]
    for user, unit, at, served in zip(users.tolist(), units, times.tolist(), answers, strict=True):
        shown = [int(entry.item.removeprefix("item-")) for entry in served.entries]
        if not (lost_arm and served.arm == MODEL_SET and rng.random() < lost_arm):
            exposures.append(
                Exposure(
                    request_id=served.request_id,
                    time=at,
                    unit=unit,
                    surface=SURFACE,
                    items=tuple(entry.item for entry in served.entries),
                    experiment=served.experiment,
                    arm=served.arm,
                    snapshot_versions=dict(served.snapshot_versions),
                    degraded=served.degraded,
                )
            )
        if not shown:
            continue
        hit = clicks.sample(world.attraction(user, shown)[None, :], rng)[0]
        for position in np.flatnonzero(hit).tolist():
            clicked_total += 1
            if lost_outcomes and rng.random() < lost_outcomes:
                continue
            outcomes.append(
                Outcome(
                    event_id=f"{served.request_id}-{position}",
                    unit=unit,
                    name="click",
                    time=at + 5.0 + position,
                    request_id=served.request_id,
                    item=item_id(shown[position]),
                )
            )
    timings["serve"] += time.perf_counter() - mark
    broken = tuple(i.kind for i in schedule.incidents if i.active(day))
    record = DayRecord(day, midnight.date(), n, len(exposures), clicked_total, broken, opened=())
    return record, exposures, outcomes
