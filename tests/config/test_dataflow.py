"""Which files each job receives and from which job; what validate reports about them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from sameday.cli.project import validate
from sameday.config.dataflow import Artifact, Dataflow, mentioned_paths, strict_findings
from sameday.config.pipeline import Pipeline
from sameday.demo import example_folder


def _flow(jobs: list[dict[str, Any]], files: list[str] | None = None) -> Dataflow:
    pipeline = Pipeline.model_validate({"name": "p", "jobs": jobs})
    return Dataflow(pipeline, (lambda: files) if files is not None else None)


def _job(name: str, after: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    return {"name": name, "command": "true", "depends_on": after or [], **fields}


def test_an_input_is_fetched_from_the_upstream_job_that_stores_it() -> None:
    flow = _flow(
        [
            _job("gen", outputs=[{"path": "data"}]),
            _job("train", ["gen"], inputs=["data/interactions.npz"], outputs=[{"path": "out/"}]),
            _job("eval", ["train"], inputs=["data", "out/*.npy"]),
        ]
    )
    assert flow.findings == []
    # a file inside a stored folder is fetched alone; ancestors count transitively
    assert flow.artifacts["train"] == [Artifact("gen", "data/interactions.npz")]
    assert flow.artifacts["eval"] == [Artifact("gen", "data"), Artifact("train", "out")]
    assert flow.ancestors["eval"] == {"gen", "train"}


def test_a_folder_input_gathers_every_output_stored_in_it_and_globs_match_outputs() -> None:
    flow = _flow(
        [
            _job("a", outputs=[{"path": "out/a.csv"}, {"path": "out/a.npy"}]),
            _job("b", outputs=[{"path": "out/lists/*.parquet"}]),
            _job("c", ["a", "b"], inputs=["out", "out/*.npy"]),
            _job("d", ["a", "b"], inputs=["out/lists/x.parquet", "out/*.csv"]),
        ]
    )
    assert flow.outputs["b"] == ["out/lists/*.parquet"]
    assert flow.artifact_path("out/lists/*.parquet") == "out/lists"
    assert flow.artifacts["c"] == [
        Artifact("a", "out/a.csv"),
        Artifact("a", "out/a.npy"),
        Artifact("b", "out/lists"),
    ]
    assert flow.artifacts["d"] == [Artifact("b", "out/lists/x.parquet"), Artifact("a", "out/a.csv")]


def test_an_input_served_by_the_project_needs_no_upstream_job() -> None:
    flow = _flow([_job("a", inputs=["jobs/*.py", "config"])], files=["jobs/a.py", "config/x.yaml"])
    assert flow.findings == []
    assert flow.from_project["a"] == ["jobs/*.py", "config"]
    assert flow.artifacts["a"] == []


def test_an_input_a_job_outside_the_upstream_writes_would_race() -> None:
    flow = _flow(
        [
            _job("a", outputs=[{"path": "out/a.csv"}]),
            _job("b", inputs=["out/a.csv"]),
        ],
        files=[],
    )
    [finding] = flow.findings
    assert finding.kind == "not_upstream"
    assert finding.where == ("jobs", 1, "inputs", 0)
    assert "job 'b' reads 'out/a.csv', which job 'a' writes" in finding.message
    assert "add 'a' to depends_on" in finding.message


def test_an_input_nobody_provides_is_reported() -> None:
    flow = _flow([_job("a", inputs=["data/raw.csv"])], files=["jobs/a.py"])
    [finding] = flow.findings
    assert (finding.kind, finding.where) == ("nowhere", ("jobs", 0, "inputs", 0))
    assert "'data/raw.csv', which no upstream job declares in its outputs" in finding.message


def test_paths_outside_the_project_and_leading_wildcards_are_invalid() -> None:
    flow = _flow([_job("a", inputs=["../x"], outputs=[{"path": "/tmp/o"}, {"path": "*.csv"}])])
    assert [(f.kind, f.where) for f in flow.findings] == [
        ("invalid", ("jobs", 0, "outputs", 0, "path")),
        ("invalid", ("jobs", 0, "outputs", 1, "path")),
        ("invalid", ("jobs", 0, "inputs", 0)),
    ]
    assert "put the files in a folder" in flow.findings[1].message


def test_mentioned_paths_are_the_words_that_look_like_project_paths() -> None:
    command = 'python jobs/e.py --data=data --out out -k 10 "$DS" /abs {{params.x}} # c.csv'
    assert mentioned_paths(command) == ["python", "jobs/e.py", "data", "out", "10"]


def test_strict_reports_a_path_a_command_names_that_another_job_writes() -> None:
    flow = _flow(
        [
            _job("gen", outputs=[{"path": "data/x.npz"}]),
            {**_job("ok", ["gen"], inputs=["data/x.npz"]), "command": "python a.py data/x.npz"},
            {**_job("folder", ["gen"], inputs=["data/x.npz"]), "command": "python a.py data"},
            {**_job("bad", ["gen"]), "command": "python a.py --in=data/x.npz"},
        ],
        files=[],
    )
    [finding] = strict_findings(flow)
    assert (finding.kind, finding.where) == ("undeclared", ("jobs", 3, "command"))
    assert "names 'data/x.npz' in its command, which job 'gen' writes" in finding.message


def test_strict_reports_a_catalogue_publishing_cannot_see() -> None:
    flow = _flow(
        [
            _job("gen", outputs=[{"path": "data"}]),
            _job(
                "a",
                ["gen"],
                inputs=["data/items.csv"],
                outputs=[{"path": "o.csv", "publish": "x"}],
            ),
            _job("b", ["gen"], outputs=[{"path": "p.csv", "publish": "y"}]),
        ],
        files=[],
    )
    catalogues = {"x": "data/items.csv", "y": "data/items.csv"}
    [finding] = strict_findings(flow, catalogues=catalogues)
    assert (finding.kind, finding.where) == ("catalogue", ("jobs", 2, "outputs", 0, "publish"))
    assert "add 'data/items.csv' to the job's inputs" in finding.message


def _project(root: Path, jobs: list[dict[str, Any]]) -> Path:
    (root / "pipelines").mkdir(parents=True)
    (root / "sameday.yaml").write_text("name: t\n")
    (root / ".gitignore").write_text("data/\n")
    (root / "pipelines" / "p.yaml").write_text(yaml.safe_dump({"name": "p", "jobs": jobs}))
    return root


def test_validate_reports_an_input_no_upstream_job_writes_at_its_line(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "raw.csv").write_text("x\n")  # here, but not in the image
    root = _project(
        tmp_path,
        [
            {"name": "a", "command": "true", "outputs": [{"path": "out/a.csv"}]},
            {"name": "b", "command": "true", "inputs": ["data/raw.csv", "out/a.csv"]},
        ],
    )
    result = runner.invoke(validate, ["--project", str(root), "--json"])
    assert result.exit_code == 1, result.output
    problems = json.loads(result.output)["problems"]
    assert [(p["line"], p["column"], p["field"]) for p in problems] == [
        (8, 5, "jobs[1].inputs[0]"),
        (9, 5, "jobs[1].inputs[1]"),
    ]
    assert "no upstream job declares in its outputs" in problems[0]["message"]
    assert "which job 'a' writes, but is not upstream of 'b'" in problems[1]["message"]


def test_validate_strict_adds_what_the_commands_tell(runner: CliRunner, tmp_path: Path) -> None:
    jobs = [
        {"name": "a", "command": "true", "outputs": [{"path": "out/a.csv"}]},
        {"name": "b", "command": "cat out/a.csv", "depends_on": ["a"]},
    ]
    root = _project(tmp_path, jobs)
    assert runner.invoke(validate, ["--project", str(root)]).exit_code == 0
    result = runner.invoke(validate, ["--project", str(root), "--strict"])
    assert result.exit_code == 1
    assert (
        "pipelines/p.yaml:6:12: jobs[1].command: job 'b' names 'out/a.csv' in its command"
        in result.output
    )


@pytest.mark.parametrize("strict", [False, True])
def test_the_quickstart_is_valid_even_strictly(
    runner: CliRunner, tmp_path: Path, strict: bool
) -> None:
    project = tmp_path / "qs"
    shutil.copytree(example_folder(), project)
    args = ["--project", str(project)] + (["--strict"] if strict else [])
    result = runner.invoke(validate, args)
    assert result.exit_code == 0, result.output
