"""The lineage graph of the project files: nodes, edges, walks and how it prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from sameday.config import load_project
from sameday.errors import NotFound
from sameday.monitor.lineage import build_graph

DAILY = """name: daily
datasets:
  events: {table: events, url: "duckdb:///warehouse.duckdb"}
  interactions: {path: data/interactions.csv}
jobs:
  - {name: extract, command: "true", reads: [events], writes: [interactions]}
  - name: popular
    depends_on: [extract]
    command: "true"
    reads: [interactions]
    outputs: [{path: out/popular.csv, publish: popular}]
  - name: personal
    depends_on: [extract]
    command: "true"
    reads: [interactions]
    outputs: [{path: out/personal.csv, publish: personal}]
"""


@pytest.fixture
def project_with_datasets(project_dir: Path) -> Path:
    (project_dir / "pipelines" / "daily.yaml").write_text(DAILY)
    return project_dir


def test_downstream_of_a_table_reaches_surfaces_and_experiments(
    project_with_datasets: Path,
) -> None:
    graph = build_graph(load_project(project_with_datasets))
    tree = graph.walk(graph.find("events"), "downstream", None)
    assert tree.lines() == [
        "dataset events",
        "└── job daily.extract",
        "    ├── dataset interactions",
        "    │   ├── job daily.personal",
        "    │   │   └── result set personal",
        "    │   │       ├── experiment home-personal",
        "    │   │       └── surface home",
        "    │   │           └── experiment home-personal (see above)",
        "    │   └── job daily.popular",
        "    │       └── result set popular",
        "    │           ├── experiment home-personal (see above)",
        "    │           └── surface home (see above)",
        "    ├── job daily.personal (see above)",
        "    └── job daily.popular (see above)",
    ]


def test_upstream_of_an_experiment_with_a_depth(project_with_datasets: Path) -> None:
    graph = build_graph(load_project(project_with_datasets))
    tree = graph.walk(graph.find("home-personal"), "upstream", 2)
    assert tree.lines() == [
        "experiment home-personal",
        "├── result set personal",
        "│   └── job daily.personal",
        "├── result set popular",
        "│   └── job daily.popular",
        "└── surface home",
        "    ├── result set personal (see above)",
        "    └── result set popular (see above)",
    ]
    assert set(tree.edges("upstream")) == {
        ("result_set:personal", "experiment:home-personal"),
        ("job:daily.personal", "result_set:personal"),
        ("result_set:popular", "experiment:home-personal"),
        ("job:daily.popular", "result_set:popular"),
        ("surface:home", "experiment:home-personal"),
        ("result_set:personal", "surface:home"),
        ("result_set:popular", "surface:home"),
    }


def test_names_are_found_by_kind_bare_or_job_short_name(project_with_datasets: Path) -> None:
    (project_with_datasets / "pipelines" / "daily.yaml").write_text(
        DAILY.replace("interactions", "popular")
    )
    graph = build_graph(load_project(project_with_datasets))
    assert graph.find("result_set:popular") == "result_set:popular"
    assert graph.find("extract") == "job:daily.extract"
    assert graph.find("daily.extract") == "job:daily.extract"
    with pytest.raises(NotFound, match="'popular' is ambiguous: dataset:popular, result_set:"):
        graph.find("popular")
    with pytest.raises(NotFound, match=r"nothing named 'evnts'.*did you mean events"):
        graph.find("evnts")


def test_a_project_without_datasets_still_has_its_serving_lineage(project_dir: Path) -> None:
    graph = build_graph(load_project(project_dir))
    assert graph.neighbours("result_set:popular", "downstream") == [
        "experiment:home-personal",
        "surface:home",
    ]
    assert graph.neighbours("job:daily.popular", "upstream") == ["job:daily.extract"]
