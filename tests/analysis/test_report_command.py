"""``sameday report`` in its three formats, through click's runner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from sameday.cli.report import COMMANDS, report
from tests.analysis._logs import DAY, EXPERIMENT, START, make_project, write_ab_log


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


def test_phase_options_in_every_format(runner: CliRunner, tmp_path: Path) -> None:
    project = make_project(tmp_path, EXPERIMENT + "hashing: {bucket_version: 1}\n")
    log = project / ".sameday" / "events.db"
    rate = {"control": 1.0, "personal": 1.0}
    write_ab_log(log, units=300, rate=rate, days=2, seed=1, hash_seed="test")
    later = START + 3 * DAY
    write_ab_log(
        log, units=200, rate=rate, days=2, seed=2, start=later, hash_seed="test:v1", tag="b"
    )
    base = ["test", "--project", str(project)]
    text = runner.invoke(report, base)
    assert text.exit_code == 0, text.output
    assert "Analysed: phase 1 (hashing.bucket_version 1, current)" in text.output
    assert "phase 0 (300 units)" in text.output

    as_json = json.loads(runner.invoke(report, [*base, "--format", "json", "--phase", "0"]).output)
    assert as_json["scope"]["phase"] == 0 and sum(as_json["srm"]["observed"]) == 300
    assert as_json["scope"]["until"] == as_json["scope"]["phases"][1]["start"]
    assert as_json["scope"]["line"].startswith("phase 0 (hashing.bucket_version 0, current is 1)")

    page = tmp_path / "r.html"
    since = ["--since", "2023-12-13"]
    html = runner.invoke(report, [*base, "--format", "html", "-o", str(page), *since])
    assert html.exit_code == 0, html.output
    assert "Analysed: phase 1 (hashing.bucket_version 1, current), exposures from 2023-12-13" in (
        page.read_text()
    )

    bad = runner.invoke(report, [*base, "--until", "soon"])
    assert bad.exit_code == 2 and "--until" in bad.output and "ISO 8601" in bad.output
    missing = runner.invoke(report, [*base, "--phase", "4"])
    assert missing.exit_code != 0 and "no exposures in phase 4" in str(missing.exception)


def _imported_by_report(tmp_path: Path, project: Path, *options: str) -> str:
    """The heavy libraries a whole ``sameday report --format json`` process imported."""
    argv = ["report", "test", "--project", str(project), *options]
    argv += ["--format", "json", "-o", str(tmp_path / "r.json")]
    code = (
        "import sys\n"
        "from sameday.cli import main\n"
        f"main({argv!r}, standalone_mode=False)\n"
        "print(','.join(m for m in ('scipy', 'pandas', 'statsmodels') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "r.json").read_text())["verdict"] == "ship"
    return done.stdout.strip()


def test_a_report_imports_no_scipy_and_from_parquet_no_pandas(tmp_path: Path) -> None:
    """Import cost counts: ``sameday report`` is timed as a whole process against a pandas
    script (issue 15), and ``scipy.special`` was a quarter of its CPU: the distribution
    functions are :mod:`sameday.analysis.stats.distributions`, and nothing on the path imports
    scipy. Over a Parquet log (the benchmark's) nothing imports pandas either; the SQLite
    source's rows go to DuckDB through ``pa.array`` on Python sequences, which imports pandas
    (``events._arrow``)."""
    from sameday.config import load_project
    from sameday.events.export import export_events

    project = _project(tmp_path)
    assert "scipy" not in _imported_by_report(tmp_path, project).split(",")
    with load_project(project).open_event_sink() as sink:
        export_events(sink, f"parquet:///{tmp_path / 'log'}")
    events = f"parquet:///{tmp_path / 'log'}"
    assert _imported_by_report(tmp_path, project, "--events", events) == ""
