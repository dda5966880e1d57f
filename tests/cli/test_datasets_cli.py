"""``sameday datasets`` and ``sameday lineage`` (``sameday/cli/datasets.py``) on a real project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sameday.cli import main

DAILY = """name: daily
params:
  ds: {}
datasets:
  interactions:
    path: data/interactions.csv
    checks: {max_row_change: 0.5, min_history: 1}
  catalogue: {path: data/items.csv}
jobs:
  - name: extract
    command: python3 jobs/extract.py --ds "$DS" --out data/interactions.csv
    writes: [interactions]
  - name: popular
    depends_on: [extract]
    command: python3 jobs/popular.py data/interactions.csv out/popular.csv
    reads: [interactions]
    outputs: [{path: out/popular.csv, publish: popular}]
"""


def sameday(runner: CliRunner, root: Path, *args: str) -> Result:
    return runner.invoke(main, [*args, "--project", str(root)])


@pytest.fixture
def project(project_dir: Path) -> Path:
    (project_dir / "pipelines" / "daily.yaml").write_text(DAILY)
    with (project_dir / "sameday.yaml").open("a") as file:
        file.write("lineage: {enabled: false}\n")
    return project_dir


def test_datasets_before_and_after_a_run(runner: CliRunner, project: Path) -> None:
    empty = sameday(runner, project, "datasets", "--json")
    assert empty.exit_code == 0, empty.output
    assert [(d["name"], d["status"], d["latest"]) for d in json.loads(empty.output)] == [
        ("catalogue", "learning", None),
        ("interactions", "learning", None),
    ]
    ran = sameday(runner, project, "run", "daily", "-p", "ds=2026-12-01", "--no-progress")
    assert ran.exit_code == 0, ran.output
    listed = json.loads(sameday(runner, project, "datasets", "--json").output)
    interactions = listed[1]
    assert interactions["pipeline"] == "daily"
    assert interactions["location"] == "data/interactions.csv"
    assert interactions["kind"] == "csv"
    latest = interactions["latest"]
    assert (latest["job"], latest["role"]) == ("extract", "write")
    assert latest["columns"] == [["user", "VARCHAR"], ["item", "VARCHAR"]]
    assert latest["rows"] > 1000
    assert interactions["schema_revisions"] == 1
    assert interactions["last_schema_change"] is None
    text = sameday(runner, project, "datasets")
    assert text.exit_code == 0
    assert "interactions" in text.output and "rev 1" in text.output


def test_datasets_observe_and_a_schema_change_shows(runner: CliRunner, project: Path) -> None:
    (project / "data").mkdir()
    (project / "data" / "items.csv").write_text("item_id\ni1\ni2\n")
    first = sameday(runner, project, "datasets", "--observe", "--json")
    assert first.exit_code == 0, first.output
    catalogue = json.loads(first.output)[0]
    assert (catalogue["latest"]["role"], catalogue["latest"]["rows"]) == ("observe", 2)
    (project / "data" / "items.csv").write_text("item_id,price\ni1,3\n")
    second = sameday(runner, project, "datasets", "--observe")
    assert second.exit_code == 0, second.output
    assert "rev 2: added price (BIGINT)" in second.output
    assert "warn dataset.schema: dataset catalogue: schema changed" in second.output
    assert "fail dataset.read: dataset interactions could not be read" in second.output
    listed = json.loads(sameday(runner, project, "datasets", "--json").output)
    assert listed[0]["last_schema_change"]["added"] == [["price", "BIGINT"]]
    assert listed[0]["status"] == "warn"
    assert listed[1]["status"] == "fail"


def test_lineage_as_text_and_json(runner: CliRunner, project: Path) -> None:
    down = sameday(runner, project, "lineage", "interactions", "--downstream", "--depth", "2")
    assert down.exit_code == 0, down.output
    assert down.output == (
        "downstream of dataset:interactions:\n"
        "dataset interactions\n"
        "└── job daily.popular\n"
        "    └── result set popular\n"
    )
    both = sameday(runner, project, "lineage", "surface:home")
    assert both.output.startswith("upstream of surface:home:\nsurface home\n")
    assert "\ndownstream of surface:home:\nsurface home\n└── experiment home-personal\n" in (
        both.output
    )
    data = json.loads(sameday(runner, project, "lineage", "popular", "--json").output)
    assert data["root"] == "result_set:popular"
    assert {"from": "job:daily.popular", "to": "result_set:popular"} in data["edges"]
    assert {"from": "result_set:popular", "to": "surface:home"} in data["edges"]
    assert {"id": "dataset:interactions", "kind": "dataset", "name": "interactions"} in (
        data["nodes"]
    )
    assert data["upstream"]["children"][0]["node"] == "job:daily.popular"


def test_lineage_of_an_unknown_name_says_what_exists(runner: CliRunner, project: Path) -> None:
    result = sameday(runner, project, "lineage", "interaction")
    assert result.exit_code != 0
    assert "nothing named 'interaction' in the lineage graph; did you mean interactions" in (
        result.output
    )
