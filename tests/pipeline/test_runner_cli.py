"""The run, runs, logs and backfill commands, and Ctrl-C on a real `sameday run` process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from sameday.cli.pipelines import backfill, logs, run, runs
from sameday.errors import NotFound, PipelineFailed
from sameday.metadata import MetadataStore

GROUP = """
import sys
from sameday.cli import SamedayGroup
from sameday.cli.pipelines import COMMANDS
group = SamedayGroup()
for command in COMMANDS:
    group.add_command(command)
group(sys.argv[1:], prog_name="sameday")
"""


def write_project(root: Path, pipeline: dict[str, Any]) -> Path:
    (root / "pipelines").mkdir(parents=True, exist_ok=True)
    settings = {"name": "t", "storage": {"metadata": "sqlite:///meta.db"}}
    (root / "sameday.yaml").write_text(yaml.safe_dump(settings))
    (root / "pipelines" / f"{pipeline['name']}.yaml").write_text(yaml.safe_dump(pipeline))
    return root


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_run_streams_prefixed_output_and_fails_with_exit_1(
    tmp_path: Path, runner: CliRunner
) -> None:
    root = write_project(
        tmp_path,
        {
            "name": "p",
            "params": {"who": {"default": "you"}},
            "jobs": [
                {"name": "hello", "command": "echo hi {{params.who}}"},
                {"name": "boom", "command": "echo bad >&2; exit 2", "depends_on": ["hello"]},
            ],
        },
    )
    result = runner.invoke(run, ["p", "-p", "who=me", "--no-progress", "--project", str(root)])
    assert result.exit_code == 1
    assert isinstance(result.exception, PipelineFailed)
    assert "[hello] hi me" in result.output
    assert "[boom] bad" in result.output
    assert "boom failed" in str(result.exception)


def test_dry_run_prints_the_plan_without_running(tmp_path: Path, runner: CliRunner) -> None:
    root = write_project(
        tmp_path,
        {
            "name": "p",
            "params": {"ds": {}},
            "jobs": [
                {"name": "a", "command": "touch ran-{{params.ds}}", "retries": 2, "timeout": "1m"},
                {"name": "b", "command": "true", "depends_on": ["a"]},
            ],
        },
    )
    args = ["p", "--dry-run", "-p", "ds=2024-01-01", "--from", "a", "--project", str(root)]
    result = runner.invoke(run, args)
    assert result.exit_code == 0, result.output
    assert "1. a [retries 2, timeout 60s]" in result.output
    assert "$ touch ran-2024-01-01" in result.output
    assert "2. b (after a)" in result.output
    assert not list(tmp_path.glob("ran-*"))


def test_runs_json_and_logs(tmp_path: Path, runner: CliRunner) -> None:
    root = write_project(
        tmp_path,
        {
            "name": "p",
            "jobs": [{"name": "a", "command": "echo out-$SAMEDAY_ATTEMPT; echo err >&2"}],
        },
    )
    assert runner.invoke(run, ["p", "--no-progress", "--project", str(root)]).exit_code == 0
    listed = runner.invoke(runs, ["--json", "--project", str(root)])
    assert listed.exit_code == 0, listed.output
    (record,) = json.loads(listed.output)
    assert (record["pipeline"], record["status"], record["trigger"]) == ("p", "succeeded", "manual")
    assert record["duration"] >= 0
    table = runner.invoke(runs, ["p", "--project", str(root)])
    assert record["id"] in table.output and "succeeded" in table.output

    shown = runner.invoke(logs, [record["id"][:-1], "a", "--project", str(root)])
    assert shown.exit_code == 0, shown.output
    assert "==> a attempt 1 (succeeded)" in shown.output
    assert "out-1\nerr\n" in shown.output
    missing = runner.invoke(logs, [record["id"], "zz", "--project", str(root)])
    assert isinstance(missing.exception, NotFound)
    assert "no job 'zz' (jobs: a)" in str(missing.exception)


def test_backfill_command_runs_each_date(tmp_path: Path, runner: CliRunner) -> None:
    root = write_project(
        tmp_path,
        {
            "name": "p",
            "params": {"ds": {}},
            "jobs": [{"name": "a", "command": "echo $DS >> dates"}],
        },
    )
    args = [
        "p",
        "--start",
        "2024-01-30",
        "--end",
        "2024-02-01",
        "--no-progress",
        "--project",
        str(root),
    ]
    result = runner.invoke(backfill, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dates").read_text().split() == ["2024-01-30", "2024-01-31", "2024-02-01"]
    assert result.output.count("succeeded") >= 3


def test_ctrl_c_kills_jobs_and_marks_the_run_cancelled(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "name": "p",
            "jobs": [
                {"name": "a", "command": "sleep 30 & echo $! > pid; touch started; wait"},
                {"name": "b", "command": "true", "depends_on": ["a"]},
            ],
        },
    )
    process = subprocess.Popen(
        [sys.executable, "-c", GROUP, "run", "p", "--no-progress", "--project", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 20
    while not (tmp_path / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (tmp_path / "started").exists()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 130, (out, err)
    assert "cancelled" in err
    with MetadataStore.open(f"sqlite:///{tmp_path / 'meta.db'}") as store:
        (record,) = store.list_runs("p")
        assert record.status == "cancelled"
        assert store.job_statuses(record.id) == {"a": "cancelled", "b": "skipped"}
    pid = int((tmp_path / "pid").read_text())
    deadline = time.monotonic() + 3
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(pid)
