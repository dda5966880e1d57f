"""The status board on SQLite and PostgreSQL metadata, with a real event log; and the command."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from scipy.stats import chisquare

from sameday.cli import main
from sameday.config import Project
from sameday.events import Exposure, open_sink
from sameday.metadata import MetadataStore
from sameday.monitor.srm import sequential_srm
from sameday.monitor.status import sample_ratio, status
from tests.monitor.conftest import Edit, live_snapshot, run

NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)


def exposures(project: Project, arms: dict[str, int], start: float, tag: str = "") -> None:
    """``arms[name]`` exposures of one unit each for ``home-personal``, one a second from
    ``start``."""
    records = [
        Exposure(
            request_id=f"{tag}{arm}-{n}",
            time=start + n,
            unit=f"{tag}{arm}-u{n}",
            surface="home",
            items=("i",),
            experiment="home-personal",
            arm=arm,
        )
        for arm, count in arms.items()
        for n in range(count)
    ]
    with open_sink(project.url(project.settings.storage.events)) as sink:
        sink.write_exposures(records)


def test_the_board_shows_runs_snapshots_and_traffic(
    project: Edit, meta: MetadataStore, metadata_url: str
) -> None:
    proj = project(
        pipeline={"deadline": "08:00"},
        popular={"max_age": "1h"},
        experiment={"phase": "running"},
    )
    for day, seconds in enumerate([100, 110, 90, 100, 105, 95]):
        begin = NOW - timedelta(days=6 - day, hours=6)
        run(meta, metadata_url, begin, begin + timedelta(seconds=seconds))
    last = run(
        meta,
        metadata_url,
        NOW - timedelta(hours=6),
        NOW - timedelta(hours=6) + timedelta(seconds=500),
    )
    live_snapshot(
        meta, metadata_url, "popular", "popular-1", NOW - timedelta(days=1), rows=100, keys=10
    )
    live_snapshot(
        meta, metadata_url, "popular", "popular-2", NOW - timedelta(hours=2), rows=150, keys=8
    )
    exposures(proj, {"control": 30, "personal": 30}, NOW.timestamp() - 7200)
    exposures(proj, {"control": 5}, NOW.timestamp() - 60, tag="new-")

    board = status(proj, NOW)
    (daily,) = board.pipelines
    assert (daily.last_run, daily.state, daily.duration) == (last.id, "succeeded", 500)
    assert daily.median_duration == 100 and daily.unusual_duration
    assert daily.next_run == datetime(2026, 3, 11, 3, tzinfo=UTC) and not daily.late
    popular = {r.name: r for r in board.result_sets}["popular"]
    assert (popular.version, popular.previous, popular.rows, popular.keys) == (
        "popular-2",
        "popular-1",
        150,
        8,
    )
    assert popular.rows_change == pytest.approx(0.5) and popular.keys_change == pytest.approx(-0.2)
    assert popular.stale and popular.age == 7200
    (experiment,) = board.experiments
    assert (experiment.exposures_hour, experiment.exposures_day) == (5, 65)
    assert [(a.name, a.units) for a in experiment.arms] == [("control", 35), ("personal", 30)]
    assert experiment.units == 65
    expected = sequential_srm([35, 30], [0.5, 0.5]).p_value  # 65 units: no evidence either way
    assert experiment.srm == "ok" and experiment.srm_p == pytest.approx(expected)
    assert expected == 1.0


def test_the_board_says_late_and_never(
    project: Edit, meta: MetadataStore, metadata_url: str
) -> None:
    proj = project(pipeline={"deadline": "08:00"})
    run(meta, metadata_url, NOW - timedelta(days=2), NOW - timedelta(days=2) + timedelta(minutes=5))
    board = status(proj, NOW)
    (daily,) = board.pipelines
    assert daily.late and daily.why == "missed its 08:00 deadline"
    assert {r.name: r.version for r in board.result_sets} == {"personal": None, "popular": None}
    assert board.experiments == []  # home-personal is a draft
    assert not (proj.root / ".sameday" / "events.db").exists()


def test_an_overdue_scheduled_run_is_late_without_a_deadline(
    project: Edit, meta: MetadataStore, metadata_url: str
) -> None:
    proj = project()  # daily at 03:00 UTC
    run(meta, metadata_url, NOW - timedelta(days=1), NOW - timedelta(days=1) + timedelta(minutes=5))
    (daily,) = status(proj, NOW).pipelines
    assert daily.late and daily.why == "no run since 2026-03-10 03:00 UTC"
    run(
        meta,
        metadata_url,
        NOW - timedelta(hours=5),
        NOW - timedelta(hours=5) + timedelta(minutes=5),
    )
    assert not status(proj, NOW).pipelines[0].late


def test_the_boards_sample_ratio_is_the_health_checks_sequential_test() -> None:
    # 5,000 against 5,400: chi-square p = 8.2e-5, a mismatch once; the sequential test's
    # always-valid p (0.005) asks for more evidence, as it must if read every day.
    assert chisquare([5000, 5400]).pvalue < 0.001
    state, p = sample_ratio([5000, 5400], [0.5, 0.5], "ab")
    assert state == "ok" and p == pytest.approx(sequential_srm([5000, 5400]).p_value)
    assert sample_ratio([5000, 5400], [0.5, 0.5], "ab", alpha=0.05)[0] == "mismatch"
    assert sample_ratio([5000, 6000], [0.5, 0.5], "ab")[0] == "mismatch"
    assert sample_ratio([2500, 7500], [0.25, 0.75], "ab")[0] == "ok"
    assert sample_ratio([0, 0], [0.5, 0.5], "ab") == ("no units", None)
    assert sample_ratio([500, 10], [0.5, 0.5], "interleave") == ("n/a", None)


def test_the_command_prints_the_board_and_json(project: Edit, runner: CliRunner) -> None:
    proj = project()
    text = runner.invoke(main, ["status", "--project", str(proj.root)])
    assert text.exit_code == 0, text.output
    assert "daily is late" in text.output and "never published" in text.output
    assert "\x1b[" not in text.output  # plain when not on a terminal
    as_json = runner.invoke(main, ["status", "--project", str(proj.root), "--json"])
    found = json.loads(as_json.output)
    assert set(found) == {"project", "now", "pipelines", "result_sets", "experiments", "alerts"}
    assert found["pipelines"][0]["name"] == "daily" and found["pipelines"][0]["late"] is True
    assert Path(proj.root / "sameday.yaml").exists()
