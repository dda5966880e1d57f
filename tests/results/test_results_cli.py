"""``sameday publish``, ``snapshots`` and ``rollback`` as a user runs them."""

from __future__ import annotations

import json

from click.testing import CliRunner

from sameday.cli.results import publish, rollback, snapshots
from tests.results.conftest import MakeProject, rows


def test_publish_list_and_roll_back(runner: CliRunner, make_project: MakeProject) -> None:
    project = make_project()
    where = ["--project", str(project.root)]
    result = runner.invoke(publish, ["recs", "--dry-run", *where])
    assert result.exit_code == 0, result.output
    assert "Dry run: recs passes its checks (100 rows, 20 keys)" in result.output
    first = json.loads(runner.invoke(publish, ["recs", "--json", "--run-id", "r1", *where]).output)
    assert first["version"].startswith("recs-") and first["rows"] == 100
    result = runner.invoke(publish, ["recs", *where])
    assert result.exit_code == 0 and "Published recs" in result.output
    assert f"Previous snapshot {first['version']} retired" in result.output
    listed = json.loads(runner.invoke(snapshots, ["recs", "--json", *where]).output)
    assert [s["status"] for s in listed] == ["live", "retired"]
    assert listed[1]["run_id"] == "r1"
    table = runner.invoke(snapshots, ["recs", *where]).output
    assert "live" in table and "retired" in table
    result = runner.invoke(rollback, ["recs", *where])
    assert result.exit_code == 0 and f"now serves {first['version']}" in result.output
    back = json.loads(
        runner.invoke(rollback, ["recs", "--to", listed[0]["version"], "--json", *where]).output
    )
    assert back["version"] == listed[0]["version"]


def test_failed_checks_exit_non_zero_with_examples(
    runner: CliRunner, make_project: MakeProject
) -> None:
    project = make_project(checks={"min_keys": 100})
    result = runner.invoke(publish, ["recs", "--project", str(project.root)])
    assert result.exit_code != 0
    assert "min_keys: 20 keys, at least 100 required" in str(result.exception)
    forced = runner.invoke(publish, ["recs", "--force", "--project", str(project.root)])
    assert forced.exit_code == 0 and "Forced past failed checks: min_keys" in forced.output


def test_source_override_and_empty_listing(runner: CliRunner, make_project: MakeProject) -> None:
    project = make_project()
    where = ["--project", str(project.root)]
    assert "no snapshots yet" in runner.invoke(snapshots, ["recs", *where]).output
    source = str(project.root / "out" / "recs.parquet")
    result = runner.invoke(publish, ["recs", "--source", source, "--json", *where])
    assert json.loads(result.output)["source"] == source


def test_snapshots_shows_what_was_live_and_never_cuts_a_version(
    runner: CliRunner, make_project: MakeProject
) -> None:
    project = make_project()
    where = ["--project", str(project.root)]
    versions = []
    for reason in ("first", "second"):
        result = runner.invoke(publish, ["recs", "--reason", reason, "--json", *where])
        assert result.exit_code == 0, result.output
        versions.append(json.loads(result.output)["version"])
    result = runner.invoke(rollback, ["recs", "--reason", "bad clicks", *where])
    assert result.exit_code == 0, result.output
    narrow = {"COLUMNS": "70"}
    table = runner.invoke(snapshots, ["recs", *where], env=narrow)
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    for version in versions:  # whole, on one line, however narrow the terminal
        assert any(version in line for line in lines), table.output
    wide = runner.invoke(snapshots, ["recs", *where], env={"COLUMNS": "150"}).output
    assert "bad clicks" in wide and "rollback" in wide and "What was live" in wide
    changes = json.loads(runner.invoke(snapshots, ["recs", "--history", "--json", *where]).output)
    assert [(c["action"], c["version"], c["previous"], c["reason"]) for c in changes] == [
        ("rollback", versions[0], versions[1], "bad clicks"),
        ("publish", versions[1], versions[0], "second"),
        ("publish", versions[0], None, "first"),
    ]
    assert all(c["actor"] and c["at"] for c in changes)
    only = runner.invoke(snapshots, ["recs", "--history", *where], env=narrow).output
    assert "hash" not in only and sum(versions[0] in line for line in only.splitlines()) == 2


def test_rollback_to_a_unique_prefix(runner: CliRunner, make_project: MakeProject) -> None:
    project = make_project()
    where = ["--project", str(project.root)]
    versions = [
        json.loads(runner.invoke(publish, ["recs", "--json", *where]).output)["version"]
        for _ in range(3)
    ]
    shared = versions[0][: len("recs-")]  # every version starts with it
    result = runner.invoke(rollback, ["recs", "--to", shared, *where])
    assert result.exit_code != 0
    assert "matches several snapshots" in str(result.exception)
    assert all(v in str(result.exception) for v in versions)
    # a version less its last character; another without its result set's name either
    for prefix, version in [
        (versions[0][:-1], versions[0]),
        (versions[1].removeprefix("recs-")[:-1], versions[1]),
    ]:
        result = runner.invoke(rollback, ["recs", "--to", prefix, "--json", *where])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["version"] == version


def test_publish_prints_drift_warnings_and_blocks(
    runner: CliRunner, make_project: MakeProject
) -> None:
    drift = {"history": 2, "min_history": 1, "changes": {"rows": None, "items": None}}
    project = make_project(drift=drift, checks={"max_key_coverage_drop": None})
    where = ["--project", str(project.root)]
    assert runner.invoke(publish, ["recs", *where]).exit_code == 0
    make_project(drift=drift, records=rows(keys=5), checks={"max_key_coverage_drop": None})
    warned = runner.invoke(publish, ["recs", *where])
    assert warned.exit_code == 0, warned.output
    assert "Drift warning: recs keys: 5 against a median of 20" in warned.output
    make_project(drift=drift | {"actions": {"keys": "block"}}, records=rows(keys=20))
    # 20 keys against the median of 20 and 5 (12.5): +60%, past the ±50% allowed
    blocked = runner.invoke(publish, ["recs", *where])
    assert blocked.exit_code != 0
    message = str(blocked.exception)
    assert "drift:keys" in message and "+60.0%" in message and "--force" in message
