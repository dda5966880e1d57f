"""``sameday report`` in its three formats, through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from sameday.cli.report import COMMANDS, report
from tests.analysis._logs import EXPERIMENT, make_project, write_ab_log


def _project(tmp_path: Path) -> Path:
    project = make_project(tmp_path, EXPERIMENT)
    write_ab_log(
        project / ".sameday" / "events.db",
        units=2000,
        rate={"control": 0.8, "personal": 1.2},
        seed=11,
    )
    return project


def test_table_json_and_html(runner: CliRunner, tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert [report] == COMMANDS
    table = runner.invoke(report, ["test", "--project", str(project)])
    assert table.exit_code == 0, table.output
    assert table.output.splitlines()[1].startswith("ship personal — ctr")
    assert "Sample ratio: ok" in table.output and "errors" in table.output

    as_json = runner.invoke(report, ["test", "--project", str(project), "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["verdict"] == "ship" and data["srm"]["mismatch"] is False
    assert [m["name"] for m in data["metrics"]] == ["ctr", "clicks", "clicks-per-list", "errors"]
    assert data["progress"]["planned_per_arm"] > 0

    target = tmp_path / "out" / "r.html"
    target.parent.mkdir()
    html = runner.invoke(
        report, ["test", "--project", str(project), "--format", "html", "-o", str(target)]
    )
    assert html.exit_code == 0, html.output
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "data-tip=" in page
    assert "ship personal" in page and "Sample ratio" in page and "planned power" in page
    # Offline: nothing is loaded from anywhere.
    assert "http://" not in page and "https://" not in page and "src=" not in page


def test_output_file_and_errors(runner: CliRunner, tmp_path: Path) -> None:
    project = _project(tmp_path)
    out = tmp_path / "report.txt"
    result = runner.invoke(report, ["test", "--project", str(project), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "ship personal" in out.read_text()
    missing = runner.invoke(report, ["nope", "--project", str(project)])
    assert missing.exit_code != 0
    assert "no experiment named 'nope'" in str(missing.exception)
