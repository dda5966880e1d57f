"""Backfill: one sequential run per date with ds set, stopping (or not) at a failure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from sameday.config import Project, load_project
from sameday.errors import PipelineError, PipelineFailed
from sameday.metadata import MetadataStore
from sameday.pipeline.backfill import backfill, dates_between
from sameday.pipeline.runner import Runner


def write_project(root: Path, pipeline: dict[str, Any]) -> Project:
    (root / "pipelines").mkdir(parents=True, exist_ok=True)
    settings = {"name": "t", "storage": {"metadata": "sqlite:///meta.db"}}
    (root / "sameday.yaml").write_text(yaml.safe_dump(settings))
    (root / "pipelines" / f"{pipeline['name']}.yaml").write_text(yaml.safe_dump(pipeline))
    return load_project(root)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataStore]:
    with MetadataStore.open(f"sqlite:///{tmp_path / 'meta.db'}") as opened:
        yield opened


def test_dates_between_includes_both_ends() -> None:
    assert dates_between("2024-02-28", "2024-03-01") == [
        date(2024, 2, 28),
        date(2024, 2, 29),
        date(2024, 3, 1),
    ]
    with pytest.raises(PipelineError, match="before --start"):
        dates_between("2024-03-02", "2024-03-01")
    with pytest.raises(PipelineError, match="--start must be a date"):
        dates_between("yesterday", "2024-03-01")
    with pytest.raises(PipelineError, match="split the backfill"):
        dates_between("1990-01-01", "2024-01-01")


def test_one_run_per_date_in_order(tmp_path: Path, store: MetadataStore) -> None:
    project = write_project(
        tmp_path,
        {
            "name": "p",
            "params": {"ds": {}, "tag": {}},
            "jobs": [{"name": "a", "command": "echo $DS {{params.tag}} >> dates"}],
        },
    )
    runner = Runner(project, store)
    report = backfill(runner, "p", dates_between("2024-01-01", "2024-01-03"), params={"tag": "x"})
    assert [(r.ds, r.status) for r in report.runs] == [
        ("2024-01-01", "succeeded"),
        ("2024-01-02", "succeeded"),
        ("2024-01-03", "succeeded"),
    ]
    assert (tmp_path / "dates").read_text().splitlines() == [
        "2024-01-01 x",
        "2024-01-02 x",
        "2024-01-03 x",
    ]
    runs = store.list_runs("p")
    assert {r.trigger for r in runs} == {"backfill"}
    assert sorted(r.params["ds"] for r in runs) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    report.raise_for_failures()


def test_a_failed_date_stops_the_backfill_unless_told_to_go_on(
    tmp_path: Path, store: MetadataStore
) -> None:
    project = write_project(
        tmp_path,
        {
            "name": "p",
            "params": {"ds": {}},
            "jobs": [{"name": "a", "command": "echo $DS >> dates; test $DS != 2024-01-02"}],
        },
    )
    runner = Runner(project, store)
    dates = dates_between("2024-01-01", "2024-01-03")
    stopped = backfill(runner, "p", dates)
    assert [r.status for r in stopped.runs] == ["succeeded", "failed", "not run"]
    with pytest.raises(PipelineFailed, match="runs for 2024-01-02 failed; 1 later date"):
        stopped.raise_for_failures()
    went_on = backfill(runner, "p", dates, continue_on_failure=True)
    assert [r.status for r in went_on.runs] == ["succeeded", "failed", "succeeded"]
    assert len(went_on.failed) == 1


def test_backfill_needs_a_ds_parameter(tmp_path: Path, store: MetadataStore) -> None:
    project = write_project(
        tmp_path, {"name": "p", "params": {"ds": {}}, "jobs": [{"name": "a", "command": "true"}]}
    )
    runner = Runner(project, store)
    with pytest.raises(PipelineError, match="do not pass -p ds"):
        backfill(runner, "p", [date(2024, 1, 1)], params={"ds": "2024-01-01"})
    project.pipelines["q"] = project.pipelines["p"].model_copy(update={"name": "q", "params": {}})
    with pytest.raises(PipelineError, match="has no 'ds' parameter"):
        backfill(runner, "q", [date(2024, 1, 1)])
