"""``sameday report EXPERIMENT --by DIMENSION``: segment effects in every format."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from sameday.cli.report import report
from tests.analysis._logs import make_project
from tests.analysis.test_segments import serve_and_log

EXPERIMENT = """surface: home
arms:
  - {name: control, result_set: popular}
  - {name: new, result_set: personal}
dimensions: [platform]
metrics:
  primary: [ctr]
"""


def _project(tmp_path: Path) -> Path:
    project = make_project(tmp_path, EXPERIMENT)
    serve_and_log(project / ".sameday" / "events.db")
    return project


def test_by_a_dimension_in_every_format(runner: CliRunner, tmp_path: Path) -> None:
    project = _project(tmp_path)
    base = ["test", "--project", str(project), "--by", "platform"]
    table = runner.invoke(report, base)
    assert table.exit_code == 0, table.output
    assert "Who benefits: ctr by platform" in table.output
    assert "ctr by platform: ios (new: better" in table.output
    assert "too small" in table.output and "Interaction test (new)" in table.output

    data = json.loads(runner.invoke(report, [*base, "--format", "json"]).output)
    (block,) = data["segments"]
    assert block["dimension"] == "platform" and block["metric"] == "ctr"
    outcomes = {e["value"]: e["outcome"] for e in block["effects"]}
    assert outcomes == {"android": "flat", "ios": "better", "tv": "too small", "web": "flat"}
    tv = next(e for e in block["effects"] if e["value"] == "tv")
    assert tv["lift"] is None and tv["p_adjusted"] is None  # never a number to misread

    target = tmp_path / "r.html"
    html = runner.invoke(report, [*base, "--format", "html", "-o", str(target)])
    assert html.exit_code == 0, html.output
    page = target.read_text()
    assert "<h2>Who benefits</h2>" in page and "ctr lift by platform" in page
    assert "too small: too few units to say" in page


def test_surface_needs_no_declaration_and_other_names_do(runner: CliRunner, tmp_path: Path) -> None:
    project = _project(tmp_path)
    surface = runner.invoke(report, ["test", "--project", str(project), "--by", "surface"])
    assert surface.exit_code == 0, surface.output
    assert "Who benefits: ctr by surface" in surface.output
    missing = runner.invoke(report, ["test", "--project", str(project), "--by", "country"])
    assert missing.exit_code != 0
    assert "records no dimension country (it records: surface, platform)" in str(missing.exception)


def test_segments_of_an_interleaving_test_are_refused(runner: CliRunner, tmp_path: Path) -> None:
    project = make_project(
        tmp_path, EXPERIMENT.replace("surface: home\n", "surface: home\ndesign: interleave\n")
    )
    result = runner.invoke(report, ["test", "--project", str(project), "--by", "platform"])
    assert result.exit_code != 0
    assert str(result.exception) == (
        "segment effects (--by) need an A/B test, and 'test' is an interleaving test: every unit "
        "sees both arms merged in one list, so no group of units saw one arm alone. "
        "To learn who benefits, run the arms as an A/B test with dimensions"
    )
