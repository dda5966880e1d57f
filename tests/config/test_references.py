"""Checks that span files or need the whole graph."""

from __future__ import annotations

from pathlib import Path

import pytest

from sameday.config import load_project
from sameday.errors import ConfigError


def messages(project_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_project(project_dir, environ={})
    return [str(p) for p in info.value.problems]


def write_pipeline(project_dir: Path, body: str) -> None:
    (project_dir / "pipelines" / "daily.yaml").write_text(body)


def test_dependency_cycle_is_printed(project_dir: Path) -> None:
    write_pipeline(
        project_dir,
        """name: daily
jobs:
  - {name: a, command: "true", depends_on: [c]}
  - {name: b, command: "true", depends_on: [a]}
  - {name: c, command: "true", depends_on: [b]}
""",
    )
    (message,) = messages(project_dir)
    assert "dependency cycle: a -> c -> b -> a" in message


def test_missing_dependency_and_duplicate_job(project_dir: Path) -> None:
    write_pipeline(
        project_dir,
        """name: daily
jobs:
  - {name: a, command: "true"}
  - {name: a, command: "true", depends_on: [extrct]}
""",
    )
    found = messages(project_dir)
    assert any("daily.yaml:4:12: jobs[1].name: job name 'a' is used twice" in m for m in found)
    assert any("no job named 'extrct'" in m for m in found)


def test_cron_and_timezone_are_checked(project_dir: Path) -> None:
    write_pipeline(
        project_dir,
        """name: daily
schedule: {cron: "0 25 * * *", timezone: Mars/Olympus}
jobs:
  - {name: a, command: "true"}
""",
    )
    found = messages(project_dir)
    assert any("schedule.cron: hour 25 is out of range 0-23" in m for m in found)
    assert any("unknown timezone 'Mars/Olympus'" in m for m in found)


def test_job_names_must_be_valid_for_argo(project_dir: Path) -> None:
    write_pipeline(project_dir, "name: daily\njobs:\n  - {name: Train_Model, command: 'true'}\n")
    (message,) = messages(project_dir)
    assert "jobs[0].name" in message and "pattern" in message


def test_published_output_must_name_a_result_set(project_dir: Path) -> None:
    write_pipeline(
        project_dir,
        """name: daily
jobs:
  - name: a
    command: "true"
    outputs: [{path: out.csv, publish: populr}]
""",
    )
    (message,) = messages(project_dir)
    assert "jobs[0].outputs[0].publish: no result set named 'populr'" in message


def test_running_experiments_may_not_overlap_in_a_layer(project_dir: Path) -> None:
    base = (project_dir / "experiments" / "home-personal.yaml").read_text()
    running = base.replace("phase: draft", "phase: running")
    (project_dir / "experiments" / "home-personal.yaml").write_text(
        running + "layer: {name: home, range: [0, 0.6]}\n"
    )
    (project_dir / "experiments" / "second.yaml").write_text(
        running.replace("name: home-personal", "name: second")
        + "layer: {name: home, range: [0.5, 1]}\n"
    )
    (message,) = messages(project_dir)
    assert "overlap in layer 'home'" in message
    (project_dir / "experiments" / "second.yaml").write_text(
        running.replace("name: home-personal", "name: second")
        + "layer: {name: home, range: [0.6, 1]}\n"
    )
    assert len(load_project(project_dir, environ={}).experiments) == 2


def test_experiment_rules(project_dir: Path) -> None:
    file = project_dir / "experiments" / "home-personal.yaml"
    text = file.read_text()
    file.write_text(text.replace("coverage: 1.0", "coverage: 1.0\nwinner: nobody"))
    (message,) = messages(project_dir)
    assert "winner 'nobody' is not an arm" in message
    file.write_text(
        text.replace("    result_set: popular", "    result_set: popular\n    weight: 0.7").replace(
            "    result_set: personal", "    result_set: personal\n    weight: 0.2"
        )
    )
    (message,) = messages(project_dir)
    assert "arm weights must sum to 1, they sum to 0.9" in message


def test_metric_type_needs_its_fields(project_dir: Path) -> None:
    (project_dir / "metrics" / "rpc.yaml").write_text("type: ratio\nnumerator: revenue\n")
    (message,) = messages(project_dir)
    assert "rpc.yaml:1:1" in message and "needs 'numerator' and 'denominator'" in message


def test_bandit_min_share_must_fit(project_dir: Path) -> None:
    file = project_dir / "experiments" / "home-personal.yaml"
    text = file.read_text().replace("design: ab", "design: bandit")
    file.write_text(text + "bandit: {min_share: 0.6}\n")
    (message,) = messages(project_dir)
    assert "bandit.min_share 0.6 x 2 arms exceeds the whole traffic: use at most 0.5" in message
