"""``sameday run``, ``runs``, ``logs`` and ``backfill`` (``sameday/cli/pipelines.py``).

``tests/pipeline/test_runner_cli.py`` runs each command once and Ctrl-C on a real process; this
module holds the rest of what the commands promise: parameters refused before anything runs,
dry runs that touch no database, publishing after a job, resume, attempts, backfill failures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

from sameday.cli import main
from sameday.config import load_project
from sameday.metadata import MetadataStore


def write_project(root: Path, pipeline: dict[str, Any]) -> Path:
    (root / "pipelines").mkdir(parents=True, exist_ok=True)
    settings = {"name": "t", "storage": {"metadata": "sqlite:///meta.db"}}
    (root / "sameday.yaml").write_text(yaml.safe_dump(settings))
    (root / "pipelines" / f"{pipeline['name']}.yaml").write_text(yaml.safe_dump(pipeline))
    return root


def sameday(runner: CliRunner, root: Path, *args: str) -> Result:
    return runner.invoke(main, [*args, "--project", str(root)])


def run_ids(runner: CliRunner, root: Path) -> list[str]:
    listed = sameday(runner, root, "runs", "--json")
    assert listed.exit_code == 0, listed.output
    return [r["id"] for r in json.loads(listed.output)]


def test_no_runs_yet(runner: CliRunner, tmp_path: Path) -> None:
    root = write_project(tmp_path, {"name": "p", "jobs": [{"name": "a", "command": "true"}]})
    assert sameday(runner, root, "runs").output == "no runs yet\n"
    assert run_ids(runner, root) == []
    assert sameday(runner, root, "runs", "--limit", "0").exit_code == 2


def test_bad_parameters_are_refused_before_anything_runs(runner: CliRunner, tmp_path: Path) -> None:
    pipeline = {
        "name": "p",
        "params": {"ds": {}, "k": {"default": "1"}},
        "jobs": [{"name": "a", "command": "touch ran"}],
    }
    root = write_project(tmp_path, pipeline)
    cases = {
        "oops": "error: parameter 'oops' is not key=value: write e.g. -p ds=2024-05-01",
        "model=x": "error: pipeline 'p' has no parameter 'model' (declared: ds, k)",
        "ds=yesterday": "error: ds must be a date written YYYY-MM-DD, got 'yesterday'",
    }
    for given, message in cases.items():
        result = sameday(runner, root, "run", "p", "-p", given, "--no-progress")
        assert result.exit_code == 1
        assert result.stderr.startswith(message), result.stderr
    assert not (root / "ran").exists()
    assert run_ids(runner, root) == []


def test_a_dry_run_opens_no_database_and_shows_publishing_and_on_failure(
    runner: CliRunner, tmp_path: Path
) -> None:
    pipeline = {
        "name": "p",
        "on_failure": "echo failed >> alerts",
        "jobs": [
            {
                "name": "make",
                "command": "true",
                "outputs": [{"path": "out/x.csv", "publish": "x"}, {"path": "out/log.txt"}],
            }
        ],
    }
    root = write_project(tmp_path, pipeline)
    (root / "results").mkdir()
    result_set = {"name": "x", "source": {"path": "out/x.csv"}}
    (root / "results" / "x.yaml").write_text(yaml.safe_dump(result_set))
    result = sameday(runner, root, "run", "p", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "pipeline p: 1 jobs, params: none",
        "  1. make",
        "     $ true",
        "     publishes out/x.csv as x",
        "on failure: $ echo failed >> alerts",
    ]
    assert not (root / "meta.db").exists()


def test_only_runs_the_named_jobs(runner: CliRunner, tmp_path: Path) -> None:
    jobs = [
        {"name": "a", "command": "touch a"},
        {"name": "b", "command": "touch b", "depends_on": ["a"]},
        {"name": "c", "command": "touch c", "depends_on": ["b"]},
    ]
    root = write_project(tmp_path, {"name": "p", "jobs": jobs})
    result = sameday(runner, root, "run", "p", "--only", "b", "--no-progress")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in root.iterdir() if len(p.name) == 1) == ["b"]


def test_resume_reruns_only_what_did_not_succeed(runner: CliRunner, tmp_path: Path) -> None:
    jobs = [
        {"name": "a", "command": "echo a >> trail"},
        {"name": "b", "command": "test -f fixed && echo b >> trail", "depends_on": ["a"]},
    ]
    root = write_project(tmp_path, {"name": "p", "jobs": jobs})
    failed = sameday(runner, root, "run", "p", "--no-progress")
    assert failed.exit_code == 1
    (run_id,) = run_ids(runner, root)
    planned = sameday(runner, root, "run", "p", "--resume", run_id, "--dry-run")
    assert planned.exit_code == 0, planned.output
    assert "already succeeded (skipped): a" in planned.output
    assert "  1. b" in planned.output and ". a" not in planned.output
    (root / "fixed").touch()
    resumed = sameday(runner, root, "run", "p", "--resume", run_id, "--no-progress")
    assert resumed.exit_code == 0, resumed.output
    assert (root / "trail").read_text() == "a\nb\n"
    listed = json.loads(sameday(runner, root, "runs", "--json").output)
    assert [(r["trigger"], r["resumed_from"]) for r in listed] == [
        ("resume", run_id),
        ("manual", None),
    ]


def test_logs_by_attempt_and_errors(runner: CliRunner, tmp_path: Path) -> None:
    flaky = "echo try-$SAMEDAY_ATTEMPT; test -f once || { touch once; exit 3; }"
    job = {"name": "a", "command": flaky, "retries": {"limit": 1, "backoff": {"delay": 0}}}
    root = write_project(tmp_path, {"name": "p", "jobs": [job]})
    assert sameday(runner, root, "run", "p", "--no-progress").exit_code == 0
    (run_id,) = run_ids(runner, root)
    both = sameday(runner, root, "logs", run_id).output
    assert "==> a attempt 1 (failed)" in both and "==> a attempt 2 (succeeded)" in both
    second = sameday(runner, root, "logs", run_id, "a", "--attempt", "2")
    assert second.exit_code == 0
    assert "attempt 1" not in second.output and "try-2\n" in second.output
    none = sameday(runner, root, "logs", run_id, "a", "--attempt", "3")
    assert none.exit_code == 1
    assert none.stderr == f"error: no log of run {run_id} job a attempt 3\n"
    unknown = sameday(runner, root, "logs", "no-such-run")
    assert unknown.exit_code == 1 and unknown.stderr.startswith("error: ")
    for log in (root / ".sameday" / "runs").rglob("a.1.log"):
        log.unlink()
    gone = sameday(runner, root, "logs", run_id, "a", "--attempt", "1")
    assert gone.exit_code == 0 and "(log file is gone)" in gone.output


def test_a_job_output_is_published_with_its_run(runner: CliRunner, project_dir: Path) -> None:
    rows = "key,item,score\\n" + "".join(f"*,i{k},{20 - k}\\n" for k in range(12))
    pipeline = {
        "name": "pub",
        "jobs": [
            {
                "name": "make",
                "command": f"mkdir -p out && printf '{rows}' > out/popular.csv",
                "outputs": [{"path": "out/popular.csv", "publish": "popular"}],
            }
        ],
    }
    (project_dir / "pipelines" / "pub.yaml").write_text(yaml.safe_dump(pipeline))
    result = sameday(runner, project_dir, "run", "pub", "--no-progress")
    assert result.exit_code == 0, result.output
    (run_id,) = run_ids(runner, project_dir)
    project = load_project(project_dir, environ={})
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as metadata:
        live = metadata.live_snapshot("popular")
    assert live is not None and live.run_id == run_id and live.rows == 12


def test_backfill_stops_at_the_first_failure_unless_told_to_go_on(
    runner: CliRunner, tmp_path: Path
) -> None:
    job = {"name": "a", "command": 'test "$DS" != 2024-01-02 && echo $DS >> dates'}
    root = write_project(tmp_path, {"name": "p", "params": {"ds": {}}, "jobs": [job]})
    dates = ["--start", "2024-01-01", "--end", "2024-01-03", "--no-progress"]
    stopped = sameday(runner, root, "backfill", "p", *dates)
    assert stopped.exit_code == 1
    assert (root / "dates").read_text() == "2024-01-01\n"
    assert "2024-01-03" in stopped.output and "not run" in stopped.output
    (root / "dates").unlink()
    went_on = sameday(runner, root, "backfill", "p", *dates, "--continue-on-failure")
    assert went_on.exit_code == 1  # a date failed: still an error
    assert (root / "dates").read_text() == "2024-01-01\n2024-01-03\n"


def test_backfill_checks_its_dates(runner: CliRunner, tmp_path: Path) -> None:
    root = write_project(tmp_path, {"name": "p", "jobs": [{"name": "a", "command": "true"}]})
    swapped = sameday(runner, root, "backfill", "p", "--start", "2024-02-01", "--end", "2024-01-01")
    assert swapped.exit_code == 1
    assert swapped.stderr == "error: --end 2024-01-01 is before --start 2024-02-01: swap them\n"
    bad = sameday(runner, root, "backfill", "p", "--start", "1/2/2024", "--end", "2024-01-01")
    assert bad.exit_code == 1
    assert "--start must be a date written YYYY-MM-DD, got '1/2/2024'" in bad.stderr
    missing = sameday(runner, root, "backfill", "p", "--start", "2024-01-01")
    assert missing.exit_code == 2 and "Missing option '--end'" in missing.stderr
    assert run_ids(runner, root) == []
