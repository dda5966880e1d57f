"""The incidents timeline: each kind of incident is caught by the series that should see it."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from sameday.errors import SimulationError
from sameday.sim.incidents import Alert, Incident, default_incidents, grade
from sameday.sim.timeline import TimelineSettings, run_timeline

SHORT = (
    Incident("decay", 12, 2, 0.35),
    Incident("sample_ratio", 15, 2, 0.9),
    Incident("stale_pipeline", 18, 2, 1.0),
    Incident("traffic_drop", 21, 1, 0.5),
    Incident("tracking_outage", 23, 1, 0.6),
    Incident("broken_model", 26, 1, 1.0),
)
"""Spaced so that no series is asked to open an alert it may still hold open from the incident
before (the 60-day default schedule leaves four days and more between incidents), and growing
on the series they share: an incident smaller than one the detector saw on the same series is
not a record (the click-through rate falls by about 60% in the outage, 85% with random lists)."""


def test_every_kind_of_incident_is_detected_within_one_check(tmp_path: Path) -> None:
    from sameday.demo import prepare_folder

    folder = prepare_folder(tmp_path / "qs")
    settings = TimelineSettings(
        days=28, users=1800, items=150, visits=800, seed=3, incidents=SHORT, min_history=6
    )
    result = run_timeline(settings, folder)
    assert len(result.days) == 28
    for found in result.detections:
        assert found.late is not None and found.late <= 1, (
            found.incident,
            [(a.day, a.check) for a in _alerts(result)],
        )
    assert {d.incident.kind for d in result.detections} == {i.kind for i in SHORT}
    assert len(result.false_alarms) <= 2, result.false_alarms
    broken = result.days[26]
    assert broken.broken == ("broken_model",)
    assert broken.clicks < 0.5 * result.days[25].clicks  # random lists: few clicks
    assert result.days[15].exposures < result.days[15].visits  # an arm loses exposures


def test_grading_attributes_alerts_to_incidents_and_counts_false_alarms() -> None:
    incidents = [Incident("traffic_drop", 30, 1, 0.3), Incident("stale_pipeline", 40, 3, 1.0)]
    alerts = [
        Alert(12, "series.users", "home", "x"),  # nothing runs: a false alarm
        Alert(31, "series.users", "home", "x"),  # the day after: late by one check
        Alert(31, "series.ctr", "home", "x"),  # touched day, other series: not false
        Alert(43, "series.ctr", "home", "x"),  # the day after the stale days: not false
    ]
    (drop, stale), false = grade(incidents, alerts)
    assert drop.late == 1 and drop.alert is not None and drop.alert.check == "series.users"
    assert stale.alert is None and stale.late is None
    assert [a.day for a in false] == [12]


def test_default_incidents_fit_the_timeline() -> None:
    assert default_incidents(39) == ()
    sixty = default_incidents(60)
    assert [i.kind for i in sixty] == [
        "decay",
        "traffic_drop",
        "tracking_outage",
        "stale_pipeline",
        "broken_model",
        "sample_ratio",
    ]
    assert sixty[0].start >= 28 and sixty[-1].end < 60
    for a, b in itertools.pairwise(sixty):
        assert a.end + 1 < b.start  # a day of calm between two incidents


def test_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(SimulationError, match="half the users"):
        run_timeline(TimelineSettings(users=100, visits=80), tmp_path)


def _alerts(result: Any) -> list[Alert]:
    return [alert for day in result.days for alert in day.opened]
