"""``sameday monitor run`` and ``sameday alerts`` (``sameday/cli/monitor.py``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from sameday.cli import main
from sameday.config import load_project
from sameday.metadata import MetadataStore


def invoke(runner: CliRunner, project_dir: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(main, [*args, "--project", str(project_dir)])
    return result.exit_code, result.stdout, result.stderr


def finish(project_dir: Path, status: str) -> None:
    project = load_project(project_dir, environ={})
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as store:
        run = store.create_run("daily", {})
        store.finish_run(run.id, status, f"pipeline 'daily' {status}")


def test_monitor_run_exit_codes_and_json(runner: CliRunner, project_dir: Path) -> None:
    code, out, _ = invoke(runner, project_dir, "monitor", "run")
    assert code == 0 and "health: 1 learning" in out
    finish(project_dir, "failed")
    code, out, _ = invoke(runner, project_dir, "monitor", "run")
    assert code == 1
    assert "FAIL  runs         daily" in out and "incidents: 1 opened, 0 resolved" in out
    finish(project_dir, "cancelled")  # a warning: alerted, but not a failing pass
    code, out, _ = invoke(runner, project_dir, "monitor", "run", "--json")
    assert code == 0
    report = json.loads(out)
    (monitor,) = report["monitors"]
    assert monitor["monitor"] == "health" and report["healthy"] is True
    assert [f["status"] for f in monitor["findings"]] == ["warn"]
    code, _, err = invoke(runner, project_dir, "monitor", "run", "--monitor", "nightly")
    assert code == 1 and "no monitor named 'nightly' (declared: health)" in err


def test_alerts_list_mute_and_unmute(runner: CliRunner, project_dir: Path) -> None:
    code, out, _ = invoke(runner, project_dir, "alerts")
    assert code == 0 and out == "no open incidents\n"
    finish(project_dir, "failed")
    invoke(runner, project_dir, "monitor", "run")
    code, out, _ = invoke(runner, project_dir, "alerts")
    assert code == 0 and "OPEN" in out and "health/runs daily" in out

    code, out, _ = invoke(
        runner,
        project_dir,
        "alerts",
        "mute",
        "runs",
        "--subject",
        "daily",
        "--until",
        "4h",
        "--reason",
        "backfill",
    )
    assert code == 0 and out.startswith("muted runs on daily until ")
    code, out, _ = invoke(runner, project_dir, "alerts", "--json")
    listing = json.loads(out)
    assert [i["subject"] for i in listing["incidents"]] == ["daily"]
    assert [(m["monitor"], m["subject"], m["reason"]) for m in listing["mutes"]] == [
        ("runs", "daily", "backfill")
    ]
    assert listing["undelivered"] == []  # no notifier declared: nothing to send

    code, out, _ = invoke(runner, project_dir, "alerts", "unmute", "runs", "--subject", "daily")
    assert code == 0 and out == "unmuted runs on daily\n"
    code, _, err = invoke(runner, project_dir, "alerts", "unmute", "runs")
    assert code == 1 and "no active mute of 'runs' (active: none)" in err

    finish(project_dir, "succeeded")
    invoke(runner, project_dir, "monitor", "run")
    code, out, _ = invoke(runner, project_dir, "alerts")
    assert out == "no open incidents\n"
    code, out, _ = invoke(runner, project_dir, "alerts", "--all", "--json")
    (incident,) = json.loads(out)["incidents"]
    assert incident["status"] == "resolved" and incident["notifications"] == []


def test_alerts_json_holds_the_history_of_each_incident(
    runner: CliRunner, project_dir: Path
) -> None:
    (project_dir / "notifiers").mkdir()
    (project_dir / "notifiers" / "hook.yaml").write_text(
        "webhook: {url: 'http://127.0.0.1:17499/hook', secret: 0123456789abcdef}\n"
    )
    finish(project_dir, "failed")
    invoke(runner, project_dir, "monitor", "run")  # nobody listens on 17499: not delivered
    code, out, _ = invoke(runner, project_dir, "alerts", "--json")
    listing = json.loads(out)
    (incident,) = listing["incidents"]
    (message,) = incident["notifications"]
    assert (message["kind"], message["notifier"], message["status"]) == (
        "opened",
        "hook",
        "pending",
    )
    (waiting,) = listing["undelivered"]
    assert waiting["attempts"] == 1 and "could not be reached" in waiting["last_error"]
    code, out, _ = invoke(runner, project_dir, "alerts")
    assert code == 0 and "1 alert(s) not delivered yet" in out


def test_mute_until_takes_a_time_or_a_duration(runner: CliRunner, project_dir: Path) -> None:
    code, out, _ = invoke(
        runner, project_dir, "alerts", "mute", "health", "--until", "2999-01-01T09:00", "--json"
    )
    assert code == 0 and json.loads(out)["until"] == "2999-01-01T09:00:00+00:00"
    code, _, err = invoke(runner, project_dir, "alerts", "mute", "health", "--until", "soon")
    assert code == 2 and "neither a duration (4h, 2d) nor a time" in err
    code, _, err = invoke(
        runner, project_dir, "alerts", "mute", "health", "--until", "2000-01-01T00:00"
    )
    assert code == 2 and "the mute would already be over" in err


def test_every_runs_until_ctrl_c_and_stops_cleanly(project_dir: Path) -> None:
    finish(project_dir, "failed")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "sameday", "monitor", "run", "--every", "0.2s", "--json"],
        cwd=project_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    assert process.stdout is not None
    passes = [json.loads(process.stdout.readline()) for _ in range(2)]
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    _, err = process.communicate(timeout=10)
    assert time.monotonic() - started < 5
    assert process.returncode == 0, err
    assert [p["healthy"] for p in passes] == [False, False]
    assert passes[0]["monitors"][0]["opened"] and not passes[1]["monitors"][0]["opened"]
    assert err.strip().endswith("stopped") and "Traceback" not in err


def test_every_needs_a_duration(runner: CliRunner, project_dir: Path) -> None:
    code, _, err = invoke(runner, project_dir, "monitor", "run", "--every", "often")
    assert code == 2 and "'often' is not a duration" in err
