"""The additive fields of issue 16 (B): pipeline deadlines, result sets' max_age and drift."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sameday.config import load_project
from sameday.errors import ConfigError


def test_a_deadline_written_unquoted_stays_a_time_of_day(project_dir: Path) -> None:
    pipeline = project_dir / "pipelines" / "daily.yaml"
    pipeline.write_text(pipeline.read_text() + "deadline: 23:30\n")
    results = project_dir / "results" / "popular.yaml"
    results.write_text(results.read_text() + "max_age: 26h\ndrift:\n  actions: {keys: block}\n")
    project = load_project(project_dir)
    assert project.pipelines["daily"].deadline == "23:30"
    assert project.result_sets["popular"].max_age == 26 * 3600
    assert project.result_sets["popular"].drift.action_of("keys") == "block"
    assert project.result_sets["popular"].drift.action_of("rows") == "warn"


@pytest.mark.parametrize("value", ["25:00", "7am", "6:00"])
def test_a_deadline_must_be_hh_mm(project_dir: Path, value: str) -> None:
    pipeline = project_dir / "pipelines" / "daily.yaml"
    pipeline.write_text(pipeline.read_text() + yaml.safe_dump({"deadline": value}))
    with pytest.raises(ConfigError, match="deadline"):
        load_project(project_dir)


def test_a_misspelt_drift_check_is_refused(project_dir: Path) -> None:
    results = project_dir / "results" / "popular.yaml"
    results.write_text(results.read_text() + "drift:\n  actions: {kyes: block}\n")
    with pytest.raises(ConfigError, match="kyes"):
        load_project(project_dir)
