"""``sameday plan`` and ``apply`` (``sameday/cli/deploy.py``): text, ``--json`` and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from sameday.cli import main
from sameday.config import load_project
from sameday.metadata import MetadataStore


def applied(project_dir: Path) -> dict[tuple[str, str], dict[str, object]]:
    project = load_project(project_dir, environ={})
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as metadata:
        return {(o.kind, o.name): o.spec for o in metadata.applied()}


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new))


def test_plan_changes_nothing_and_apply_applies_once(runner: CliRunner, project_dir: Path) -> None:
    args = ["--project", str(project_dir)]
    for _ in range(2):
        planned = runner.invoke(main, ["plan", *args])
        assert planned.exit_code == 0, planned.output
        assert "+ experiment home-personal (phase draft)" in planned.output
        assert "Plan: 7 to add, 0 to change, 0 to remove." in planned.output
    assert applied(project_dir) == {}
    first = runner.invoke(main, ["apply", *args])
    assert first.exit_code == 0 and first.output.endswith("Applied.\n")
    assert len(applied(project_dir)) == 7
    again = runner.invoke(main, ["apply", *args])
    assert again.exit_code == 0
    assert again.output == (
        "No changes: the applied state matches the project files.\nNothing to apply.\n"
    )


def test_plan_json_lists_each_change_field_by_field(runner: CliRunner, project_dir: Path) -> None:
    args = ["--project", str(project_dir)]
    fresh = json.loads(runner.invoke(main, ["plan", "--json", *args]).output)
    assert fresh["refusals"] == []
    assert {(c["action"], c["kind"], c["name"]) for c in fresh["changes"]} >= {
        ("add", "surface", "home"),
        ("add", "experiment", "home-personal"),
        ("add", "pipeline", "daily"),
    }
    assert all(c["fields"] == [] for c in fresh["changes"])
    runner.invoke(main, ["apply", *args])
    edit(project_dir / "surfaces" / "home.yaml", "n: 10", "n: 12")
    (project_dir / "metrics" / "clicks-per-user.yaml").unlink()
    edit(
        project_dir / "experiments" / "home-personal.yaml",
        "  guardrails: [clicks-per-user]\n",
        "",
    )
    result = runner.invoke(main, ["plan", "--json", *args])
    assert result.exit_code == 0, result.output
    changes = {(c["action"], c["kind"], c["name"]): c for c in json.loads(result.output)["changes"]}
    assert changes[("change", "surface", "home")]["fields"] == [
        {"field": "n", "before": 10, "after": 12}
    ]
    assert changes[("change", "experiment", "home-personal")]["fields"] == [
        {"field": "metrics.guardrails", "before": ["clicks-per-user"], "after": []}
    ]
    assert changes[("remove", "metric", "clicks-per-user")]["fields"] == []
    text = runner.invoke(main, ["plan", *args]).output
    assert "~ surface home\n    n: 10 → 12" in text
    assert "- metric clicks-per-user" in text
    assert "Plan: 0 to add, 2 to change, 1 to remove." in text


def test_a_refused_plan_exits_1_and_apply_changes_nothing(
    runner: CliRunner, project_dir: Path
) -> None:
    args = ["--project", str(project_dir)]
    runner.invoke(main, ["apply", *args])
    before = applied(project_dir)
    experiment = project_dir / "experiments" / "home-personal.yaml"
    edit(experiment, "phase: draft", "phase: running")
    result = runner.invoke(main, ["plan", *args])
    assert result.exit_code == 1
    assert "~ experiment home-personal (phase running)" in result.output
    assert "    phase: 'draft' → 'running'" in result.output
    refusals = [line for line in result.output.splitlines() if line.startswith("refused: ")]
    assert refusals and all("no live snapshot" in line for line in refusals)
    refused = runner.invoke(main, ["apply", *args])
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: ")
    assert applied(project_dir) == before


def test_an_invalid_project_is_not_planned(runner: CliRunner, project_dir: Path) -> None:
    edit(project_dir / "surfaces" / "home.yaml", "n: 10", "n: ten")
    for command in ("plan", "apply"):
        result = runner.invoke(main, [command, "--project", str(project_dir)])
        assert result.exit_code == 1
        assert "home.yaml:7:4: n: " in result.stderr
    assert not (project_dir / ".sameday" / "metadata.db").exists()  # not even opened
