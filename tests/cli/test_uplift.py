"""``sameday uplift``: its three formats, the proposed follow-up test, and what it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner
from tests.analysis.uplift._log import logged_project

from sameday.cli import main


def test_uplift_proposes_a_test_that_validates_and_plans(runner: CliRunner, tmp_path: Path) -> None:
    root, _ = logged_project(tmp_path, units=10_000, seed=3)
    base = ["uplift", "test", "--project", str(root)]
    result = runner.invoke(main, [*base, "--format", "json", "--propose", "--bootstrap", "50"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [r["name"] for r in data["learners"]] == ["T-learner", "X-learner", "DR-learner"]
    assert data["units"] == 10_000 and data["features"] == ["platform", "is_new", "visits"]
    policy = data["policy"]
    # the log's truth: treat the units that are not new and visit more than 10 times (the cut
    # is estimated: a visit or two either side)
    assert policy["condition"] == {
        "visits": {"$gt": policy["condition"]["visits"]["$gt"]},
        "is_new": {"$in": [False]},
    }
    assert 9 <= policy["condition"]["visits"]["$gt"] <= 12
    assert policy["gain_vs_all"]["low"] > 0
    proposed = root / "experiments" / "test-targeted.yaml"
    assert data["proposed"]["path"] == str(proposed)
    spec = yaml.safe_load(proposed.read_text())
    assert spec["targeting"] == policy["condition"] and spec["phase"] == "draft"
    assert [a["name"] for a in spec["arms"]] == ["control", "new"]
    assert spec["dimensions"] == ["platform", "is_new", "visits"]
    validate = runner.invoke(main, ["validate", "--project", str(root)])
    assert validate.exit_code == 0, validate.output
    plan = runner.invoke(main, ["plan", "--project", str(root)])
    assert plan.exit_code == 0, plan.output
    assert "test-targeted" in plan.output
    again = runner.invoke(main, [*base, "--propose", "--bootstrap", "20"])
    assert again.exit_code != 0 and "exists already: give another name with --name" in (
        again.output
    )


def test_table_and_html(runner: CliRunner, tmp_path: Path) -> None:
    root, _ = logged_project(tmp_path, units=3000, seed=4)
    table = runner.invoke(main, ["uplift", "test", "--project", str(root), "--bootstrap", "30"])
    assert table.exit_code == 0, table.output
    for part in ("Average effect (doubly robust)", "Rankings", "calibration by decile"):
        assert part in table.output
    assert "Targeting rule: treat" in table.output and "treat everyone" in table.output
    target = tmp_path / "u.html"
    html = runner.invoke(
        main,
        ["uplift", "test", "--project", str(root), "--format", "html", "-o", str(target)],
    )
    assert html.exit_code == 0, html.output
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "Qini" in page
    assert "http://" not in page and "https://" not in page
    written = tmp_path / "u.json"
    as_file = runner.invoke(
        main,
        ["uplift", "test", "--project", str(root), "--format", "json", "-o", str(written)],
    )
    assert as_file.exit_code == 0, as_file.output
    assert json.loads(written.read_text())["ate"]["point"] is not None


def test_what_uplift_refuses(runner: CliRunner, tmp_path: Path) -> None:
    root, _ = logged_project(tmp_path, units=500)
    base = ["uplift", "test", "--project", str(root)]
    name_only = runner.invoke(main, [*base, "--name", "x"])
    assert name_only.exit_code == 2 and "give it with --propose" in name_only.output
    ratio = runner.invoke(main, [*base, "--metric", "clicks-per-list"])
    assert ratio.exit_code == 1 and "ratio of sums" in ratio.output
    unknown = runner.invoke(main, [*base, "--arm", "control"])
    assert unknown.exit_code == 1 and "not a treatment arm" in unknown.output
    file = root / "experiments" / "test.yaml"
    file.write_text(
        file.read_text().replace("surface: home\n", "surface: home\ndesign: interleave\n")
    )
    interleaved = runner.invoke(main, base)
    assert interleaved.exit_code == 1
    assert "interleaving test: every unit sees both arms" in interleaved.output
