"""Freshness checks fire and stay quiet, on SQLite and PostgreSQL metadata."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sameday.config.drift import Freshness
from sameday.metadata import MetadataStore
from sameday.monitor.check import Context
from sameday.monitor.freshness import (
    Deadlines,
    MaxAge,
    RunDurations,
    builtin_checks,
    deadlines,
    duration_outlier,
    schedule_times,
)
from tests.monitor.conftest import Edit, live_snapshot, run

PARIS = ZoneInfo("Europe/Paris")
DEADLINE = {"deadline": "06:00", "schedule": {"cron": "0 3 * * *", "timezone": "Europe/Paris"}}


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=PARIS)


def test_deadlines_keep_the_wall_clock_time_across_a_dst_change() -> None:
    previous, last = deadlines("06:00", "Europe/Paris", paris(29, 7).astimezone(UTC))
    assert last == paris(29, 6) and last.astimezone(UTC).hour == 4  # summer time
    assert previous == paris(28, 6) and previous.astimezone(UTC).hour == 5
    before, _ = deadlines("06:00", "Europe/Paris", paris(29, 5, 59))
    assert before == paris(27, 6)


@pytest.mark.parametrize(
    ("end", "now", "status", "late"),
    [
        (paris(9, 5), paris(10, 7), "fail", None),  # answered yesterday's deadline, not today's
        (paris(10, 5, 30), paris(10, 7), "ok", False),
        (paris(10, 6, 30), paris(10, 7), "ok", True),  # late, but done: the incident resolves
        (paris(9, 5, 50), paris(10, 5), "ok", False),  # today's deadline has not come yet
    ],
)
def test_a_deadline_fires_until_a_run_succeeds_in_its_window(
    project: Edit,
    meta: MetadataStore,
    metadata_url: str,
    end: datetime,
    now: datetime,
    status: str,
    late: bool | None,
) -> None:
    proj = project(pipeline=DEADLINE)
    run(meta, metadata_url, end - timedelta(minutes=20), end)
    run(meta, metadata_url, now - timedelta(hours=1), now - timedelta(minutes=50), "failed")
    (finding,) = Deadlines().evaluate(Context(proj, meta, now.astimezone(UTC)))
    assert (finding.monitor, finding.subject, finding.status) == (
        "freshness.deadline",
        "daily",
        status,
    )
    assert finding.evidence.get("late") == late
    if status == "fail":
        assert "missed its deadline 06:00 Europe/Paris" in finding.summary
        assert "sameday run daily" in finding.summary


def test_a_pipeline_without_a_deadline_is_not_judged(project: Edit, meta: MetadataStore) -> None:
    assert Deadlines().evaluate(Context(project(), meta, datetime.now(UTC))) == []


def test_max_age_fires_on_an_old_or_missing_snapshot(
    project: Edit, meta: MetadataStore, metadata_url: str
) -> None:
    proj = project(popular={"max_age": "2h"})
    published = datetime(2026, 3, 10, 4, tzinfo=UTC)
    check = MaxAge()
    (missing,) = check.evaluate(Context(proj, meta, published))
    assert missing.status == "fail" and "no live snapshot" in missing.summary
    live_snapshot(meta, metadata_url, "popular", "popular-1", published)
    (fresh,) = check.evaluate(Context(proj, meta, published + timedelta(minutes=119)))
    assert fresh.status == "ok" and fresh.evidence["version"] == "popular-1"
    (stale,) = check.evaluate(Context(proj, meta, published + timedelta(hours=3)))
    assert stale.status == "fail" and "3.0h old, more than the 2.0h allowed" in stale.summary


DURATIONS = [100, 96, 104, 99, 101, 103, 97]


@pytest.mark.parametrize(
    ("last", "running", "status"),
    [
        (102, False, "ok"),
        (400, False, "warn"),
        (20, False, "warn"),  # far too quick: a job that did nothing?
        (50, True, "ok"),  # still running, not yet too long
        (1000, True, "warn"),
    ],
)
def test_run_durations_far_from_their_history_warn(
    project: Edit,
    meta: MetadataStore,
    metadata_url: str,
    last: float,
    running: bool,
    status: str,
) -> None:
    proj = project()
    start = datetime(2026, 3, 1, 3, tzinfo=UTC)
    for day, seconds in enumerate(DURATIONS):
        begin = start + timedelta(days=day)
        run(meta, metadata_url, begin, begin + timedelta(seconds=seconds))
    begin = start + timedelta(days=len(DURATIONS))
    run(meta, metadata_url, begin, None if running else begin + timedelta(seconds=last))
    now = begin + timedelta(seconds=last if running else last + 60)
    (finding,) = RunDurations().evaluate(Context(proj, meta, now))
    assert finding.status == status, finding.summary
    assert finding.evidence["median"] == 100 and finding.evidence["history"] == 7


def test_run_durations_are_learning_without_enough_history(
    project: Edit, meta: MetadataStore, metadata_url: str
) -> None:
    start = datetime(2026, 3, 1, 3, tzinfo=UTC)
    for day in range(3):
        begin = start + timedelta(days=day)
        run(meta, metadata_url, begin, begin + timedelta(seconds=100 if day < 2 else 900))
    check = RunDurations(Freshness(duration_min_history=3))
    (finding,) = check.evaluate(Context(project(), meta, start + timedelta(days=5)))
    assert finding.status == "learning"


def test_the_robust_scale_ignores_one_odd_run() -> None:
    found = duration_outlier(130, [100, 101, 99, 100, 102, 98, 3600])
    assert found.median == 100 and found.scale == pytest.approx(10.0)  # the 10% floor
    assert found.z == pytest.approx(3.0)


def test_schedule_times_are_read_in_the_pipeline_timezone(project: Edit) -> None:
    daily = project(pipeline=DEADLINE).pipelines["daily"]
    before, after = schedule_times(daily, paris(10, 7).astimezone(UTC)) or (None, None)
    assert before == paris(10, 3) and after == paris(11, 3)


def test_the_registry_gets_every_freshness_check(project: Edit) -> None:
    class Monitor:  # what a monitor file's model holds
        freshness = Freshness(duration_limit=3.0)

    checks = builtin_checks(project(), Monitor())
    assert [c.name for c in checks] == [
        "freshness.deadline", "freshness.max_age", "freshness.duration",
    ]  # fmt: skip
    assert checks[2].settings.duration_limit == 3.0  # type: ignore[attr-defined]
