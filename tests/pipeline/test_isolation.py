"""``sameday run --isolated``: each job in a fresh folder, the project's files and its inputs."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from sameday.cli.pipelines import run as run_cmd
from sameday.config import Pipeline, Project, load_project
from sameday.config.pipeline import Output
from sameday.demo import example_folder
from sameday.errors import PipelineFailed
from sameday.metadata import MetadataStore
from sameday.pipeline.runner import Runner, RunResult, plan_run


def write_project(root: Path, jobs: list[dict[str, Any]]) -> Project:
    """A project with one pipeline ``p``; ``data/`` and ``out/`` are ignored, as scaffolded."""
    (root / "pipelines").mkdir(parents=True, exist_ok=True)
    (root / "jobs").mkdir(exist_ok=True)
    (root / "jobs" / "scale.txt").write_text("3\n")
    settings = {"name": "t", "storage": {"metadata": "sqlite:///meta.db"}}
    (root / "sameday.yaml").write_text(yaml.safe_dump(settings))
    (root / ".gitignore").write_text("data/\nout/\n")
    (root / "pipelines" / "p.yaml").write_text(yaml.safe_dump({"name": "p", "jobs": jobs}))
    return load_project(root)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataStore]:
    with MetadataStore.open(f"sqlite:///{tmp_path / 'meta.db'}") as opened:
        yield opened


def isolated(project: Project, store: MetadataStore, **options: Any) -> RunResult:
    plan, resumed_from = plan_run(project, "p", store, **options)
    runner = Runner(project, store, isolated=True, grace=0.3)
    return runner.run(plan, resumed_from=resumed_from)


GENERATE = {
    "name": "generate",
    "command": "mkdir -p data && seq 1 4 > data/numbers.txt && echo extra > data/extra.txt",
    "outputs": [{"path": "data"}],
}
SCALE = {
    "name": "scale",
    "depends_on": ["generate"],
    "inputs": ["data/numbers.txt"],
    "command": "mkdir -p out && awk -v k=$(cat jobs/scale.txt) '{print $1 * k}' "
    "data/numbers.txt > out/scaled.txt && test ! -e data/extra.txt",
    "outputs": [{"path": "out/scaled.txt"}],
}


def test_each_job_sees_the_project_files_and_its_declared_inputs_only(
    tmp_path: Path, store: MetadataStore
) -> None:
    total = {
        "name": "total",
        "depends_on": ["scale"],
        "inputs": ["out/scaled.txt"],
        "command": "awk '{s += $1} END {print s}' out/scaled.txt > out/total.txt "
        "&& test ! -e data",  # generate's folder is not upstream of what total declares
        "outputs": [{"path": "out/total.txt"}],
    }
    project = write_project(tmp_path, [GENERATE, SCALE, total])
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "numbers.txt").write_text("100\n")  # stale, ignored: never seen
    result = isolated(project, store)
    artifacts = tmp_path / ".sameday" / "runs" / result.run_id / "artifacts"
    assert (artifacts / "scale" / "out" / "scaled.txt").read_text() == "3\n6\n9\n12\n"
    assert (artifacts / "total" / "out" / "total.txt").read_text() == "30\n"
    assert (artifacts / "generate" / "data" / "extra.txt").is_file()
    assert not (tmp_path / "out").exists()  # nothing is written into the project itself
    assert not (artifacts.parent / "work").exists()  # the folders of succeeded attempts go
    assert (tmp_path / "data" / "numbers.txt").read_text() == "100\n"


def test_an_undeclared_input_fails_naming_the_job_the_path_and_its_writer(
    tmp_path: Path, store: MetadataStore
) -> None:
    undeclared = {
        **SCALE,
        "inputs": [],
        "command": "mkdir -p out && sort -n data/numbers.txt > out/scaled.txt",
    }
    project = write_project(tmp_path, [GENERATE, undeclared])
    plan, _ = plan_run(project, "p", store)
    Runner(project, store).run(plan)  # in the project folder the file is simply there
    with pytest.raises(PipelineFailed) as info:
        isolated(project, store)
    message = str(info.value)
    assert (
        "job 'scale' read 'data/numbers.txt', which job 'generate' writes, but does not declare "
        "it: add 'data/numbers.txt' to the inputs of 'scale'"
    ) in message
    [attempt] = store.attempts(info.value.run_id, "scale")
    assert attempt.status == "failed"
    assert attempt.reason is not None and "read 'data/numbers.txt'" in attempt.reason


def test_a_file_only_in_the_local_folder_fails_as_it_would_in_the_image(
    tmp_path: Path, store: MetadataStore
) -> None:
    job = {"name": "read", "command": "cat data/raw.csv"}
    project = write_project(tmp_path, [job])
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "raw.csv").write_text("x\n")
    with pytest.raises(PipelineFailed) as info:
        isolated(project, store)
    assert (
        "job 'read' read 'data/raw.csv', which is in your project folder but not in its image"
        in str(info.value)
    )


def test_a_failure_without_a_missing_path_lists_the_declared_inputs(
    tmp_path: Path, store: MetadataStore
) -> None:
    failing = {**SCALE, "command": "exit 3"}
    project = write_project(tmp_path, [GENERATE, failing])
    with pytest.raises(PipelineFailed) as info:
        isolated(project, store)
    assert (
        "exit code 3: job 'scale' failed in a folder holding only the project's files and its "
        "declared inputs ('data/numbers.txt')"
    ) in str(info.value)
    kept = tmp_path / ".sameday" / "runs" / info.value.run_id / "work" / "scale.1"
    assert f"(its folder is kept: {kept})" in str(info.value)
    assert (kept / "data" / "numbers.txt").is_file() and not (kept / "data" / "extra.txt").exists()


def test_a_declared_output_the_job_did_not_write_fails_it(
    tmp_path: Path, store: MetadataStore
) -> None:
    job = {"name": "make", "command": "true", "outputs": [{"path": "out/lists/*.csv"}]}
    project = write_project(tmp_path, [job])
    with pytest.raises(PipelineFailed) as info:
        isolated(project, store)
    [attempt] = store.attempts(info.value.run_id, "make")
    assert attempt.reason == (
        "IsolationError: job 'make' declares the output 'out/lists/*.csv' but did not write it: "
        "fix the command, or the path in outputs"
    )


def test_resume_fetches_inputs_from_the_run_it_resumes(
    tmp_path: Path, store: MetadataStore
) -> None:
    flaky = {**SCALE, "command": "test -e jobs/go && " + SCALE["command"]}
    project = write_project(tmp_path, [GENERATE, flaky])
    with pytest.raises(PipelineFailed) as info:
        isolated(project, store)
    (tmp_path / "jobs" / "go").write_text("")
    result = isolated(project, store, resume=info.value.run_id)
    assert result.jobs == {"generate": "skipped", "scale": "succeeded"}
    scaled = tmp_path / ".sameday" / "runs" / result.run_id / "artifacts" / "scale" / "out"
    assert (scaled / "scaled.txt").read_text() == "3\n6\n9\n12\n"


def test_publishing_sees_the_job_folder_and_the_projects_storage(
    tmp_path: Path, store: MetadataStore
) -> None:
    job = {
        "name": "make",
        "command": "mkdir -p out && echo k > out/x.csv",
        "outputs": [{"path": "out/x.csv", "publish": "x"}],
    }
    project = write_project(tmp_path, [{**job, "outputs": [{"path": "out/x.csv"}]}])
    # Declaring the result set would need a results/ file; the runner only needs the name.
    project.pipelines["p"] = Pipeline.model_validate({"name": "p", "jobs": [job]})
    seen: list[tuple[str, Path, bool, str]] = []

    def publisher(output: Output, source: Path, run_id: str, folder: Path | None = None) -> None:
        from sameday.results.job_output import publishing_project

        result_set = str(output.publish)
        assert folder is not None
        view = publishing_project(project, folder)
        metadata = view.url(view.settings.storage.metadata)
        seen.append((result_set, source, source.is_file(), metadata))
        assert view.root == folder and (folder / ".sameday").resolve() == tmp_path / ".sameday"

    plan, _ = plan_run(project, "p", store)
    Runner(project, store, isolated=True, publisher=publisher).run(plan)
    [(name, source, existed, metadata)] = seen
    assert (name, source.name, existed) == ("x", "x.csv", True)
    assert metadata == f"sqlite:///{tmp_path / 'meta.db'}"  # not the folder's own meta.db


@pytest.fixture
def jobs_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """This interpreter first on PATH, so the jobs' ``python`` is the one with sameday (as in an
    activated environment, or the demo)."""
    here = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", os.pathsep.join([here, os.environ["PATH"]]))


@pytest.mark.usefixtures("jobs_python")
def test_the_quickstart_runs_isolated_and_publishes(runner: CliRunner, tmp_path: Path) -> None:
    project = tmp_path / "qs"
    shutil.copytree(example_folder(), project)
    args = ["quickstart", "--isolated", "-p", "users=300", "-p", "items=120", "--no-progress"]
    result = runner.invoke(run_cmd, [*args, "--project", str(project)])
    assert result.exit_code == 0, result.output
    assert "pipeline 'quickstart' succeeded (5 jobs run)" in result.output
    loaded = load_project(project)
    with MetadataStore.open(loaded.url(loaded.settings.storage.metadata)) as meta:
        live = {name: meta.live_snapshot(name) for name in ("popular", "als", "itemknn")}
    assert all(record is not None and record.keys > 0 for record in live.values()), live
    assert not (project / "data").exists() and not (project / "out").exists()


@pytest.mark.usefixtures("jobs_python")
def test_the_quickstart_without_a_declared_input_fails_isolated(
    runner: CliRunner, tmp_path: Path
) -> None:
    project = tmp_path / "qs"
    shutil.copytree(example_folder(), project)
    pipeline = project / "pipelines" / "quickstart.yaml"
    text = pipeline.read_text().replace("retries: 1", "retries: 0")
    pipeline.write_text(text.replace(", out/als.npy, out/itemknn.npy]", ", out/itemknn.npy]"))
    args = ["quickstart", "--isolated", "-p", "users=300", "-p", "items=120", "--no-progress"]
    result = runner.invoke(run_cmd, [*args, "--project", str(project)])
    assert isinstance(result.exception, PipelineFailed)
    assert (
        "job 'evaluate' read 'out/als.npy', which job 'als' writes, but does not declare it"
        in str(result.exception)
    )
