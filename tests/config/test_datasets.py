"""Datasets in pipeline files, jobs' reads/writes, and the lineage settings of sameday.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sameday.config import load_project
from sameday.config.datasets import Lineage, declared
from sameday.errors import ConfigError

PIPELINE = """name: daily
datasets:
  interactions: {path: data/interactions.csv, time_column: ts, checks: {max_age: 1d}}
  events: {table: public.events, url: "postgresql://etl:${PGPASSWORD}@db/warehouse"}
jobs:
  - {name: extract, command: "true", reads: [events], writes: [interactions]}
  - {name: train, command: "true", depends_on: [extract], reads: [interactions]}
"""


def problems(project_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_project(project_dir, environ={"PGPASSWORD": "x"})
    return [str(p) for p in info.value.problems]


def test_datasets_and_jobs_reads_and_writes_load(project_dir: Path) -> None:
    (project_dir / "pipelines" / "daily.yaml").write_text(PIPELINE)
    project = load_project(project_dir, environ={"PGPASSWORD": "s3cret"})
    pipeline = project.pipelines["daily"]
    assert pipeline.job("extract").writes == ["interactions"]
    assert pipeline.job("train").reads == ["interactions"]
    found = declared(project)
    assert sorted(found) == ["events", "interactions"]
    assert found["interactions"][0] == "daily"
    assert found["interactions"][1].checks.max_age == 86400.0
    assert "s3cret" not in repr(found["events"][1])


def test_a_job_naming_an_undeclared_dataset_is_located(project_dir: Path) -> None:
    (project_dir / "pipelines" / "daily.yaml").write_text(
        PIPELINE.replace("reads: [interactions]", "reads: [interaction]")
    )
    (message,) = problems(project_dir)
    assert "pipelines/daily.yaml:7:" in message
    assert "jobs[1].reads[0]" in message
    assert "no dataset named 'interaction'; did you mean 'interactions'?" in message


def test_datasets_of_another_pipeline_can_be_read(project_dir: Path) -> None:
    (project_dir / "pipelines" / "daily.yaml").write_text(PIPELINE)
    (project_dir / "pipelines" / "weekly.yaml").write_text(
        "name: weekly\njobs:\n  - {name: report, command: 'true', reads: [interactions]}\n"
    )
    project = load_project(project_dir, environ={"PGPASSWORD": "x"})
    assert project.pipelines["weekly"].job("report").reads == ["interactions"]


def test_a_dataset_declared_twice_is_refused(project_dir: Path) -> None:
    (project_dir / "pipelines" / "daily.yaml").write_text(PIPELINE)
    (project_dir / "pipelines" / "weekly.yaml").write_text(
        "name: weekly\ndatasets:\n  interactions: {path: other.csv}\n"
        "jobs:\n  - {name: report, command: 'true'}\n"
    )
    (message,) = problems(project_dir)
    assert "pipelines/weekly.yaml:3:" in message
    assert "dataset 'interactions' is already declared in pipeline 'daily'" in message


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"path": "a.csv", "table": "t", "url": "duckdb:///w.duckdb"}, "exactly one of 'path'"),
        ({}, "exactly one of 'path'"),
        ({"table": "t"}, "a table needs 'url'"),
        ({"path": "a.csv", "url": "duckdb:///w.duckdb"}, "'url' goes with 'table'"),
        ({"table": "t", "url": "postgress://h/db"}, "did you mean postgres://?"),
        ({"path": "a.csv", "checks": {"max_age": "1d"}}, "max_age needs time_column"),
        ({"path": "a.csv", "checks": {"max_row_change": -1}}, "greater than or equal to 0"),
    ],
)
def test_bad_dataset_declarations_say_what_to_write(
    project_dir: Path, fields: dict[str, object], expected: str
) -> None:
    document = {
        "name": "daily",
        "datasets": {"d": fields},
        "jobs": [{"name": "a", "command": "true"}],
    }
    (project_dir / "pipelines" / "daily.yaml").write_text(yaml.safe_dump(document))
    (message,) = problems(project_dir)
    assert "pipelines/daily.yaml:" in message
    assert expected in message


def test_a_password_in_a_bad_table_url_is_never_shown(project_dir: Path) -> None:
    document = {
        "name": "daily",
        "datasets": {"d": {"table": "t", "url": "mysql://u:hunter2@h/db"}},
        "jobs": [{"name": "a", "command": "true"}],
    }
    (project_dir / "pipelines" / "daily.yaml").write_text(yaml.safe_dump(document))
    (message,) = problems(project_dir)
    assert "mysql://u:***@h/db" in message
    assert "hunter2" not in message


def test_lineage_settings_default_and_hide_the_key(project_dir: Path) -> None:
    assert load_project(project_dir).settings.lineage == Lineage()
    with (project_dir / "sameday.yaml").open("a") as file:
        file.write("lineage:\n  url: http://127.0.0.1:5000\n  api_key: ${LINEAGE_KEY}\n")
    settings = load_project(project_dir, environ={"LINEAGE_KEY": "k-123"}).settings.lineage
    assert settings.api_key == "k-123"
    assert settings.url == "http://127.0.0.1:5000"
    assert "k-123" not in repr(settings)
