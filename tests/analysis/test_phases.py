"""Phases: a report analyses one phase (or time range) of a log that spans several."""

from __future__ import annotations

from pathlib import Path

import pytest

from sameday.analysis.bandit_report import BanditReport
from sameday.analysis.phases import Selection, parse_time, phase_number
from sameday.analysis.report import ABReport, build_report
from sameday.analysis.summaries import summarise
from sameday.config import load_project
from sameday.config.experiment import Experiment
from sameday.config.metric import Metric
from sameday.errors import NotFound
from sameday.events import EventSink, Exposure, Outcome, PostgresSink, SQLiteSink
from sameday.reports.text import to_text
from tests.analysis._logs import DAY, EXPERIMENT, START, make_project, write_ab_log

CLICKS = [Metric(name="clicks", type="count", event="click")]
EXP = Experiment.model_validate(
    {
        "name": "exp",
        "surface": "home",
        "arms": [{"name": "control", "result_set": "a"}, {"name": "personal", "result_set": "b"}],
        "hashing": {"bucket_version": 1},
    }
)


def _hand_log(path: Path) -> str:
    _write(SQLiteSink(path))
    return f"sqlite:///{path}"


def _write(sink: EventSink) -> None:
    """Phase 0 (seed ``exp``) until t=3000, then phase 1 (``exp:v1``)."""
    exposures = [
        ("u1", "control", 1000.0, "exp"),
        ("u1", "personal", 3000.0, "exp:v1"),  # re-bucketed: another arm, not a crossing
        ("u2", "control", 3500.0, "exp:v1"),
        ("u3", "control", 3700.0, "exp:v1"),
        ("u3", "personal", 3800.0, "exp:v1"),  # two arms within phase 1: left out
        ("u4", "control", 3900.0, None),  # no seed: phase unknown
    ]
    clicks = [
        ("u1", 1500.0),  # phase 0
        ("u1", 5000.0),  # after phase 1 started: credited to phase 1 only
        ("u3", 3900.0),
    ]
    try:
        sink.write_exposures(
            [
                Exposure(
                    request_id=f"r{i}",
                    time=t,
                    unit=u,
                    surface="home",
                    items=("a",),
                    experiment="exp",
                    arm=arm,
                    seed=seed,
                )
                for i, (u, arm, t, seed) in enumerate(exposures)
            ]
        )
        sink.write_outcomes(
            [
                Outcome(event_id=f"e{i}", unit=u, name="click", time=t)
                for i, (u, t) in enumerate(clicks)
            ]
        )
    finally:
        sink.close()


def test_current_phase_by_default(tmp_path: Path) -> None:
    url = _hand_log(tmp_path / "events.db")
    s = summarise(url, "exp", CLICKS, arms=["control", "personal"], phase=(EXP, Selection()))
    assert s.scope is not None and s.scope.phase == 1 and s.scope.current == 1
    assert s.unit_counts() == [1, 1]  # u2 control, u1 personal; u3 crossed, u4 unseeded
    assert s.crossed == 1
    assert s.total("clicks", "personal").sum == 1.0  # u1's click at 5000, not the one at 1500
    assert s.total("clicks", "control").sum == 0.0
    assert s.scope.unseeded == 1
    phases = [(p.number, p.seed, p.units) for p in s.scope.phases]
    assert phases == [(0, "exp", 1), (1, "exp:v1", 3)]
    assert s.scope.phases[0].end == 3000.0 and s.scope.phases[1].end is None
    assert "phase 1 (hashing.bucket_version 1, current)" in s.scope.line
    notes = " ".join(s.scope.notes)
    assert "phase 0 (1 units)" in notes and "--phase" in notes and "1 exposures" in notes


def test_phases_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    _write(PostgresSink(postgres_url))
    sqlite_url = _hand_log(tmp_path / "events.db")
    for selection in (Selection(), Selection(0), Selection(until=3600.0)):
        ours = summarise(postgres_url, "exp", CLICKS, phase=(EXP, selection))
        theirs = summarise(sqlite_url, "exp", CLICKS, phase=(EXP, selection))
        assert (ours.cells, ours.crossed) == (theirs.cells, theirs.crossed)
        assert ours.scope == theirs.scope


def test_earlier_phase_ends_where_the_next_starts(tmp_path: Path) -> None:
    url = _hand_log(tmp_path / "events.db")
    s = summarise(url, "exp", CLICKS, arms=["control", "personal"], phase=(EXP, Selection(0)))
    assert s.scope is not None and s.scope.phase == 0 and s.scope.until == 3000.0
    assert s.unit_counts() == [1, 0] and s.crossed == 0
    # The click at 5000 came after u1 was re-bucketed into personal: not credited to control.
    assert s.total("clicks", "control").sum == 1.0
    assert "current is 1" in s.scope.line


def test_time_range_within_a_phase(tmp_path: Path) -> None:
    url = _hand_log(tmp_path / "events.db")
    s = summarise(
        url, "exp", CLICKS, arms=["control", "personal"], phase=(EXP, Selection(since=3200.0))
    )
    assert s.unit_counts() == [1, 0] and s.crossed == 1  # u1 (t=3000) is before the range
    s = summarise(
        url, "exp", CLICKS, arms=["control", "personal"], phase=(EXP, Selection(until=3600.0))
    )
    assert s.unit_counts() == [1, 1] and s.crossed == 0  # u3 came later
    assert s.total("clicks", "personal").sum == 0.0  # u1's click at 5000 is after the range


def test_new_phase_without_traffic_yet(tmp_path: Path) -> None:
    url = _hand_log(tmp_path / "events.db")
    hashing = EXP.hashing.model_copy(update={"bucket_version": 2})
    bumped = EXP.model_copy(update={"hashing": hashing})
    s = summarise(url, "exp", CLICKS, arms=["control", "personal"], phase=(bumped, Selection()))
    assert s.scope is not None and s.scope.phase == 2 and s.unit_counts() == [0, 0]
    assert "phase 0 (1 units), phase 1 (3 units)" in " ".join(s.scope.notes)


def test_unknown_phase_says_which_exist(tmp_path: Path) -> None:
    url = _hand_log(tmp_path / "events.db")
    with pytest.raises(NotFound, match=r"no exposures in phase 7 \(seed 'exp:v7'\).*phase 0"):
        summarise(url, "exp", CLICKS, phase=(EXP, Selection(7)))


def test_log_without_seeds_is_analysed_whole(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    write_ab_log(path, units=50, rate={"control": 1.0, "personal": 1.0}, experiment="exp")
    s = summarise(f"sqlite:///{path}", "exp", CLICKS, phase=(EXP, Selection()))
    assert s.scope is not None and s.scope.phase is None and sum(s.unit_counts()) == 50
    assert "no hash seeds" in s.scope.line


def test_phase_numbers_follow_bucket_version() -> None:
    assert phase_number(EXP, "exp") == 0
    assert phase_number(EXP, "exp:v12") == 12
    assert phase_number(EXP, "exp:v0") is None and phase_number(EXP, "other") is None
    assert parse_time("2023-12-09") == START
    assert parse_time("2023-12-09T01:00+01:00") == START
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_time("yesterday")


def test_report_after_a_bucket_version_bump(tmp_path: Path) -> None:
    """Phase 0: personal clearly better on 1,500 units; phase 1 (1,000 of the same units,
    re-bucketed): no difference. The default report is phase 1's alone."""
    project = make_project(tmp_path, EXPERIMENT + "hashing: {bucket_version: 1}\n")
    log = project / ".sameday" / "events.db"
    write_ab_log(
        log, units=1500, rate={"control": 0.6, "personal": 1.4}, days=3, seed=5, hash_seed="test"
    )
    write_ab_log(
        log,
        units=1000,
        rate={"control": 1.0, "personal": 1.0},
        days=3,
        seed=6,
        start=START + 4 * DAY,
        hash_seed="test:v1",
        tag="p1-",
    )
    current = build_report(load_project(project), "test")
    assert isinstance(current, ABReport) and current.scope is not None
    assert current.scope.phase == 1
    assert current.srm is not None and sum(current.srm.observed) == 1000
    assert not any("more than one arm" in w for w in current.warnings)
    assert current.decision.verdict != "ship"
    assert any("phase 0 (1,500 units)" in w for w in current.warnings)

    first = build_report(load_project(project), "test", selection=Selection(phase=0))
    assert isinstance(first, ABReport)
    assert first.srm is not None and sum(first.srm.observed) == 1500
    assert first.decision.verdict == "ship" and first.decision.arm == "personal"


def test_units_served_two_arms_are_left_out_and_explained(tmp_path: Path) -> None:
    project = make_project(tmp_path, EXPERIMENT)
    log = project / ".sameday" / "events.db"
    write_ab_log(log, units=200, rate={"control": 1.0, "personal": 1.0}, seed=3, hash_seed="test")
    sink = SQLiteSink(log)
    try:
        sink.write_exposures(
            [
                Exposure(
                    request_id=f"x{u}-{arm}",
                    time=START + 8 * DAY,
                    unit=f"u{u:06d}",
                    surface="home",
                    items=("a",),
                    experiment="test",
                    arm=arm,
                    seed="test",
                )
                for u in range(10)
                for arm in ("control", "personal")
            ]
        )
    finally:
        sink.close()
    report = build_report(load_project(project), "test")
    assert isinstance(report, ABReport) and report.srm is not None
    assert sum(report.srm.observed) == 190
    assert any(
        w.startswith("10 of 200 units (5.0%) were served more than one arm and are left out")
        for w in report.warnings
    )


def test_bandit_report_reads_the_current_phase(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        "surface: home\ndesign: bandit\narms:\n  - {name: control, result_set: popular}\n"
        "  - {name: personal, result_set: personal}\nhashing: {bucket_version: 2}\n",
    )
    sink = SQLiteSink(project / ".sameday" / "events.db")
    try:
        sink.write_exposures(
            [
                Exposure(
                    request_id=f"r{i}",
                    time=START + i,
                    unit=f"u{i}",
                    surface="home",
                    items=("a",),
                    experiment="test",
                    arm="control" if i < 50 else "personal",
                    design="bandit",
                    seed="test" if i < 50 else "test:v2",
                )
                for i in range(80)
            ]
        )
    finally:
        sink.close()
    report = build_report(load_project(project), "test")
    assert isinstance(report, BanditReport) and report.scope is not None
    assert [a.trials for a in report.summary.arms] == [0, 30]
    assert report.scope.phase == 2
    assert "phase 0 (50 units)" in to_text(report)
