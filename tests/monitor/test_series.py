"""Metric series: built-in and SQL series over the event log (SQLite and PostgreSQL), over
PostgreSQL, DuckDB and Parquet sources, their buckets, and the findings and incidents they give."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from sameday.config import Project, load_project
from sameday.errors import ConfigError
from sameday.events.records import Exposure, Outcome
from sameday.monitor.buckets import layout
from sameday.monitor.check import Context, Finding
from sameday.monitor.series import SeriesCheck, buckets_of, read_series

START = datetime(2026, 9, 7, tzinfo=UTC)  # a Monday
DAYS = 42


def make_project(
    project_dir: Path, events: str, series: list[dict[str, Any]], metadata: str | None = None
) -> Project:
    """The scaffolded project, its A/B test running on half the home traffic, logging to
    ``events``, with a ``metrics`` monitor watching ``series``."""
    settings = yaml.safe_load((project_dir / "sameday.yaml").read_text())
    settings.setdefault("storage", {})["events"] = events
    if metadata is not None:
        settings["storage"]["metadata"] = metadata
    (project_dir / "sameday.yaml").write_text(yaml.safe_dump(settings))
    path = project_dir / "experiments" / "home-personal.yaml"
    spec = yaml.safe_load(path.read_text()) | {"phase": "running", "coverage": 0.5}
    path.write_text(yaml.safe_dump(spec))
    monitor = {"name": "metrics", "notify": [], "checks": ["series"], "series": series}
    (project_dir / "monitors" / "metrics.yaml").write_text(yaml.safe_dump(monitor))
    return load_project(project_dir)


def log_days(project: Project, days: int = DAYS, last: float = 1.0, seed: int = 1) -> None:
    """``days`` days of home traffic (300 visits a weekday, 200 at weekends, a third click);
    the last day has ``last`` times the usual visits. A tenth of the lists come from the
    fallback result set; the lists of day ``d`` are snapshot ``v{d}``."""
    rng = random.Random(seed)
    exposures, outcomes = [], []
    for day in range(days):
        visits = 300 if (START + timedelta(days=day)).weekday() < 5 else 200
        visits = round(visits * (last if day == days - 1 else 1.0) * rng.uniform(0.97, 1.03))
        for i in range(visits):
            at = START.timestamp() + day * 86400 + rng.random() * 86400
            unit = f"user-{day}-{i}"
            arm = rng.choice(["control", "personal"]) if rng.random() < 0.5 else None
            versions = {"personal": f"v{day}"}
            if rng.random() < 0.1:
                versions["trending"] = "t1"
            request = f"r{day}-{i}"
            exposures.append(
                Exposure(
                    request_id=request,
                    time=at,
                    unit=unit,
                    surface="home",
                    items=("item-1", "item-2"),
                    experiment=None if arm is None else "home-personal",
                    arm=arm,
                    snapshot_versions=versions,
                )
            )
            if rng.random() < 1 / 3:
                outcomes.append(
                    Outcome(
                        event_id=request, unit=unit, name="click", time=at + 5, request_id=request
                    )
                )
    with project.open_event_sink() as sink:
        sink.write_exposures(exposures)
        sink.write_outcomes(outcomes)


def check(project: Project, now: datetime | None = None) -> dict[tuple[str, str], Finding]:
    """The series findings at ``now`` (default: an hour after the last logged day), by check
    and subject."""
    when = now or START + timedelta(days=DAYS, hours=1)
    found = SeriesCheck(project.monitors["metrics"].series).evaluate(
        Context(project=project, metadata=None, now=when)  # type: ignore[arg-type]
    )
    return {(f.monitor, f.subject): f for f in found}


BUILTINS = [
    {"name": "users", "builtin": "units"},
    {"name": "active", "builtin": "active_units"},
    {"name": "ctr", "builtin": "ctr"},
    {"name": "arms", "builtin": "arm_exposures"},
    {"name": "fallbacks", "builtin": "fallback_share"},
    {"name": "degraded", "builtin": "degraded_share"},
    {"name": "age", "builtin": "snapshot_age", "result_sets": ["personal"]},
    {"name": "requests", "builtin": "requests", "surfaces": ["home"]},
]


@pytest.fixture(params=["sqlite", "postgres"])
def events_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The event log: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'events.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_builtin_series_explain_a_drop_of_traffic(project_dir: Path, events_url: str) -> None:
    project = make_project(project_dir, events_url, BUILTINS)
    log_days(project, last=0.5)
    found = check(project)
    users = found[("series.users", "home")]
    assert users.status == "warn" and users.severity == "warning"
    evidence = users.evidence
    assert evidence["bucket"] == "2026-10-18T00:00:00"
    assert evidence["direction"] == "drop"
    assert 90 <= evidence["observed"] <= 110  # half of a Sunday's 200
    assert 180 <= evidence["expected"] <= 220  # the weekly profile: a Sunday, not a weekday
    assert evidence["low"] < evidence["expected"] and evidence["high"] is None
    assert evidence["score"] > 0.5 and evidence["alarm"] is True
    assert "users home for 2026-10-18: alarm" in users.summary
    for arm in ("control", "personal"):  # ~50 a Sunday each: too few for a sure alarm
        arm_evidence = found[("series.arms", f"home-personal/{arm}")].evidence
        assert arm_evidence["observed"] < 0.75 * arm_evidence["expected"]
    assert found[("series.requests", "home")].status == "warn"
    active = found[("series.active", "all")].evidence  # a third of the units click
    assert active["observed"] < 0.75 * active["expected"]
    # rates and shares do not move when traffic halves
    for key in (("series.ctr", "home"), ("series.fallbacks", "home"), ("series.age", "personal")):
        assert found[key].status == "ok", found[key].summary
    assert found[("series.degraded", "home")].evidence["observed"] == 0.0
    assert 0.25 < found[("series.ctr", "home")].evidence["observed"] < 0.42
    assert 0.05 < found[("series.fallbacks", "home")].evidence["observed"] < 0.15
    assert 10 < found[("series.age", "personal")].evidence["observed"] < 14  # hours


def test_an_ordinary_day_is_ok(project_dir: Path, tmp_path: Path) -> None:
    project = make_project(project_dir, f"sqlite:///{tmp_path / 'e.db'}", BUILTINS)
    log_days(project)
    found = check(project)
    assert all(f.status == "ok" for f in found.values()), [
        f.summary for f in found.values() if f.status != "ok"
    ]


def test_a_short_history_is_learning(project_dir: Path, tmp_path: Path) -> None:
    project = make_project(project_dir, f"sqlite:///{tmp_path / 'e.db'}", BUILTINS[:1])
    log_days(project, days=10, last=0.2)
    finding = check(project, START + timedelta(days=10, hours=1))[("series.users", "home")]
    assert finding.status == "learning"
    assert "learning: 9 points of history so far" in finding.summary


def test_sql_over_the_event_log_matches_the_builtin(project_dir: Path, tmp_path: Path) -> None:
    sql = "SELECT bucket, count(DISTINCT unit) AS value FROM exposures GROUP BY bucket"
    declared = [BUILTINS[0], {"name": "by-sql", "sql": sql}]
    project = make_project(project_dir, f"sqlite:///{tmp_path / 'e.db'}", declared)
    log_days(project, last=0.5)
    now = START + timedelta(days=DAYS, hours=1)
    builtin, written = project.monitors["metrics"].series
    buckets = buckets_of(builtin, now)
    import duckdb

    from sameday.monitor.event_views import load_views

    with duckdb.connect() as con, project.open_event_sink() as sink:
        load_views(con, project, sink, buckets)
        (ours,) = read_series(project, builtin, buckets, con)
        (theirs,) = read_series(project, written, buckets, con)
    assert ours.values.tolist() == theirs.values.tolist()
    assert len(ours.values) == DAYS
    assert check(project)[("series.by-sql", "by-sql")].status == "warn"


def test_sql_over_postgres(project_dir: Path, tmp_path: Path, postgres_url: str) -> None:
    import psycopg

    url = postgres_url.replace("+psycopg", "")
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("CREATE TABLE signups (day date, n integer, country text)")
        with db.cursor() as cur:
            for d in range(DAYS):
                day = (START + timedelta(days=d)).date()
                n = 1000 if day.weekday() < 5 else 600
                cur.execute(
                    "INSERT INTO signups VALUES (%s, %s, 'JP'), (%s, %s, 'US')",
                    (day, n // 2 + d % 3, day, n // 2 if d < DAYS - 1 else n // 10),
                )
    series = {
        "name": "signups",
        "sql": "SELECT day, sum(n) AS n FROM signups GROUP BY day",
        "source": postgres_url,
        "time_column": "day",
        "value_column": "n",
        "timezone": "Asia/Tokyo",
        "direction": "drop",
    }
    project = make_project(project_dir, f"sqlite:///{tmp_path / 'e.db'}", [series])
    now = datetime.combine(date(2026, 10, 19), datetime.min.time(), UTC)  # 09:00 in Tokyo
    finding = check(project, now)[("series.signups", "signups")]
    assert finding.status == "warn"
    assert finding.evidence["bucket"] == "2026-10-18T00:00:00"
    assert finding.evidence["observed"] == 300 + (DAYS - 1) % 3 + 60
    assert finding.evidence["expected"] == pytest.approx(600, abs=5)


def test_sql_over_duckdb_and_parquet_hourly(project_dir: Path, tmp_path: Path) -> None:
    import duckdb

    hours = 24 * 21
    with duckdb.connect(str(tmp_path / "m.duckdb")) as con:
        con.execute(
            "CREATE TABLE load AS SELECT TIMESTAMPTZ '2026-09-07 00:00:00+00' + i * INTERVAL 1 "
            "HOUR AS hour_start, 100 + 50 * sin(2 * pi() * (i % 24) / 24) + (i % 7) AS v "
            f"FROM range({hours}) t(i)"
        )
        con.execute(
            "UPDATE load SET v = v * 3 WHERE hour_start = (SELECT max(hour_start) FROM load)"
        )
        con.execute(f"COPY load TO '{tmp_path / 'load.parquet'}' (FORMAT parquet)")
    common = {"grain": "hour", "time_column": "hour_start", "value_column": "v"}
    declared = [
        {"name": "duck", "sql": "SELECT hour_start, v FROM load", "source": "duckdb:///m.duckdb"},
        {
            "name": "lake",
            "sql": "SELECT hour_start, v FROM data",
            "source": f"parquet:///{tmp_path}",
        },
    ]
    project = make_project(
        project_dir, f"sqlite:///{tmp_path / 'e.db'}", [s | common for s in declared]
    )
    (project_dir / "m.duckdb").symlink_to(tmp_path / "m.duckdb")
    now = datetime(2026, 9, 28, 0, 30, tzinfo=UTC)
    found = check(project, now)
    for name in ("duck", "lake"):
        finding = found[(f"series.{name}", name)]
        assert finding.status == "warn", finding.summary
        assert finding.evidence["bucket"] == "2026-09-27T23:00:00"
        assert finding.evidence["model"] != "level"  # judged against its daily cycle


def test_a_series_that_cannot_be_read_is_an_error_of_its_own(
    project_dir: Path, tmp_path: Path
) -> None:
    declared = [{"name": "broken", "sql": "SELECT bucket, 1 AS other FROM exposures"}, BUILTINS[0]]
    project = make_project(project_dir, f"sqlite:///{tmp_path / 'e.db'}", declared)
    log_days(project)
    found = check(project)
    error = found[("series.broken", "(series)")]
    assert error.status == "error"
    assert "no column 'value'" in error.summary and "other" in error.summary
    assert found[("series.users", "home")].status == "ok"


def test_day_buckets_follow_the_calendar_of_their_timezone() -> None:
    buckets = layout(datetime(2026, 3, 30, 12, tzinfo=UTC), "day", "Europe/Paris", 3)
    lengths = [b - a for a, b in zip(buckets.starts[:-1], buckets.starts[1:], strict=True)]
    assert [label.date().isoformat() for label in buckets.labels] == [
        "2026-03-27",
        "2026-03-28",
        "2026-03-29",
    ]
    assert lengths == [86400, 86400, 82800]  # the spring change: a day of 23 hours
    assert buckets.place(datetime(2026, 3, 29, 23, 30)) == 2  # naive: Paris time
    assert buckets.place(datetime(2026, 3, 29, 22, 30, tzinfo=UTC)) == -1  # Monday in Paris


def test_the_monitor_file_is_checked(project_dir: Path, tmp_path: Path) -> None:
    both = {"name": "x", "builtin": "units", "sql": "SELECT 1"}
    with pytest.raises(ConfigError, match="exactly one of 'builtin'"):
        make_project(project_dir, f"sqlite:///{tmp_path / 'e.db'}", [both])
    bad = [{"name": "x", "builtin": "unit"}]
    with pytest.raises(ConfigError, match="builtin"):
        make_project(project_dir, f"sqlite:///{tmp_path / 'e.db'}", bad)
    monitor = {"name": "m", "checks": ["runs"], "series": [{"name": "x", "builtin": "units"}]}
    (project_dir / "monitors" / "metrics.yaml").write_text(yaml.safe_dump(monitor))
    with pytest.raises(ConfigError, match="leave 'series' out"):
        load_project(project_dir)


def test_schema_describes_series() -> None:
    from sameday.config.schema import schemas

    monitor = schemas()["monitor"]
    assert "series" in monitor["properties"]
    series = monitor["$defs"]["Series"]["properties"]
    assert set(series["builtin"]["anyOf"][0]["enum"]) >= {"units", "ctr", "arm_exposures"}
    assert series["grain"]["enum"] == ["hour", "day"]


def test_monitor_runs_open_and_resolve_incidents(
    project_dir: Path, tmp_path: Path, sqlite_url: str
) -> None:
    from sameday.metadata import MetadataStore
    from sameday.monitor.run import run_monitors

    project = make_project(project_dir, f"sqlite:///{tmp_path / 'e.db'}", BUILTINS[:1], sqlite_url)
    log_days(project, days=DAYS + 1)
    with project.open_event_sink() as sink:  # day DAYS - 1 loses all of its visits
        drop = START.timestamp() + (DAYS - 1) * 86400
        kept = [e for e in sink.read_exposures() if not (drop <= e.time < drop + 86400)]
    (tmp_path / "e.db").unlink()
    with project.open_event_sink() as sink:
        sink.write_exposures(kept)
    with MetadataStore.open(sqlite_url) as metadata:
        day = START + timedelta(days=DAYS, hours=1)
        opened = run_monitors(project, metadata, only=("metrics",), now=day)
        assert len(opened.monitors[0].outcome.opened) == 1
        (incident,) = metadata.incidents()
        assert (incident.check, incident.subject) == ("series.users", "home")
        assert incident.opened_at == day
        later = run_monitors(project, metadata, only=("metrics",), now=day + timedelta(days=1))
        assert len(later.monitors[0].outcome.resolved) == 1
        assert metadata.incidents() == []
