"""Plan and apply: readable diffs, atomic apply, refusals that change nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.models._toy import LinearScorer

from sameday.cli import main
from sameday.config import load_project
from sameday.config.experiment import Layer
from sameday.deploy.apply import apply_project, plan_project
from sameday.deploy.plan import render_plan
from sameday.errors import ApplyRefused
from sameday.metadata import MetadataStore
from sameday.models import open_registry
from sameday.results import publish


def experiment_file(project_dir: Path) -> Path:
    return project_dir / "experiments" / "home-personal.yaml"


def set_phase(project_dir: Path, phase: str) -> None:
    file = experiment_file(project_dir)
    text = file.read_text()
    for old in ("draft", "running", "stopped", "concluded"):
        text = text.replace(f"phase: {old}", f"phase: {phase}")
    file.write_text(text)


def publish_all(project_dir: Path) -> None:
    (project_dir / "out").mkdir(exist_ok=True)
    lines = ["key,item,score"] + [f"*,item-{i},{100 - i}" for i in range(20)]
    (project_dir / "out" / "popular.csv").write_text("\n".join(lines) + "\n")
    users = ["user,item,score"] + [f"user-{u},item-{i},{i}" for u in range(20) for i in range(10)]
    (project_dir / "out" / "personal.csv").write_text("\n".join(users) + "\n")
    project = load_project(project_dir, environ={})
    for name in ("popular", "personal"):
        publish(project, name)


def metadata_for(project_dir: Path) -> MetadataStore:
    project = load_project(project_dir, environ={})
    return MetadataStore.open(project.url(project.settings.storage.metadata))


def test_first_plan_adds_everything_then_nothing(project_dir: Path) -> None:
    project = load_project(project_dir, environ={})
    with metadata_for(project_dir) as metadata:
        plan = plan_project(project, metadata)
        text = render_plan(plan)
        assert "+ result set popular" in text and "+ experiment home-personal (phase draft)" in text
        assert "Plan: 7 to add, 0 to change, 0 to remove." in text
        assert apply_project(project, metadata).applied
        assert plan_project(project, metadata).empty
        assert len(metadata.applied()) == 7


def test_changes_are_listed_field_by_field(project_dir: Path) -> None:
    with metadata_for(project_dir) as metadata:
        apply_project(load_project(project_dir, environ={}), metadata)
        surface = project_dir / "surfaces" / "home.yaml"
        surface.write_text(surface.read_text().replace("n: 10", "n: 12"))
        (project_dir / "metrics" / "clicks-per-user.yaml").unlink()
        file = experiment_file(project_dir)
        file.write_text(file.read_text().replace("  guardrails: [clicks-per-user]\n", ""))
        text = render_plan(plan_project(load_project(project_dir, environ={}), metadata))
    assert "~ surface home\n    n: 10 → 12" in text
    assert "- metric clicks-per-user" in text
    assert "metrics.guardrails: ['clicks-per-user'] → []" in text


def test_running_experiment_needs_live_snapshots(project_dir: Path) -> None:
    set_phase(project_dir, "running")
    with metadata_for(project_dir) as metadata:
        with pytest.raises(ApplyRefused, match="has no live snapshot: publish it first"):
            apply_project(load_project(project_dir, environ={}), metadata)
        assert metadata.applied() == []  # nothing half-applied
    publish_all(project_dir)
    with metadata_for(project_dir) as metadata:
        assert apply_project(load_project(project_dir, environ={}), metadata).applied


def test_a_model_a_running_arm_scores_with_must_be_registered(project_dir: Path) -> None:
    file = experiment_file(project_dir)
    text = file.read_text()
    arm = "  - name: personal\n    result_set: personal\n"
    file.write_text(text.replace(arm, arm + "    model: ranker@champion\n"))
    set_phase(project_dir, "running")
    publish_all(project_dir)
    project = load_project(project_dir, environ={})
    with metadata_for(project_dir) as metadata:
        (reason,) = plan_project(project, metadata).refusals
        assert reason.startswith(
            "experiment 'home-personal', arm 'personal', scores with ranker@champion, which the "
            "registry cannot resolve (no model named 'ranker'"
        )
        with open_registry(project) as registry:
            registry.register("ranker", model=LinearScorer({"x": 1.0}))
        (reason,) = plan_project(project, metadata).refusals
        assert "model 'ranker' has no alias 'champion'" in reason
        with open_registry(project) as registry:
            registry.set_alias("ranker/1", "champion")
        assert apply_project(project, metadata).applied


def test_running_experiment_cannot_be_silently_rebucketed(project_dir: Path) -> None:
    publish_all(project_dir)
    set_phase(project_dir, "running")
    file = experiment_file(project_dir)
    with metadata_for(project_dir) as metadata:
        apply_project(load_project(project_dir, environ={}), metadata)
        weighted = (
            file.read_text()
            .replace("    result_set: popular\n", "    result_set: popular\n    weight: 0.6\n")
            .replace("    result_set: personal\n", "    result_set: personal\n    weight: 0.4\n")
        )
        file.write_text(weighted)
        with pytest.raises(ApplyRefused, match="silently move units between arms"):
            apply_project(load_project(project_dir, environ={}), metadata)
        file.write_text(weighted + "hashing: {bucket_version: 1}\n")
        assert apply_project(load_project(project_dir, environ={}), metadata).applied
        # Growing coverage never moves units, so it needs no bump.
        file.write_text(file.read_text().replace("coverage: 1.0", "coverage: 0.5"))
        with pytest.raises(ApplyRefused, match="coverage shrank"):
            apply_project(load_project(project_dir, environ={}), metadata)


def test_phases_only_move_forward(project_dir: Path) -> None:
    publish_all(project_dir)
    set_phase(project_dir, "running")
    with metadata_for(project_dir) as metadata:
        apply_project(load_project(project_dir, environ={}), metadata)
        set_phase(project_dir, "draft")
        with pytest.raises(ApplyRefused, match="cannot go from running back to draft"):
            apply_project(load_project(project_dir, environ={}), metadata)
        set_phase(project_dir, "stopped")
        apply_project(load_project(project_dir, environ={}), metadata)
        set_phase(project_dir, "running")
        apply_project(load_project(project_dir, environ={}), metadata)  # a stopped test may resume


def test_cli_plan_apply_experiments(runner: CliRunner, project_dir: Path) -> None:
    args = ["--project", str(project_dir)]
    result = runner.invoke(main, ["plan", *args])
    assert result.exit_code == 0 and "7 to add" in result.output
    result = runner.invoke(main, ["apply", *args])
    assert result.exit_code == 0 and "Applied." in result.output
    result = runner.invoke(main, ["experiments", "--json", *args])
    assert result.exit_code == 0
    assert '"phase": "draft"' in result.output
    set_phase(project_dir, "running")
    result = runner.invoke(main, ["plan", "--json", *args])
    assert result.exit_code == 1 and "no live snapshot" in result.output
    result = runner.invoke(main, ["apply", *args])
    assert result.exit_code == 1 and "apply refused, nothing was changed" in result.output


def second_experiment(project_dir: Path, phase: str) -> None:
    text = experiment_file(project_dir).read_text().replace("name: home-personal", "name: second")
    text = re.sub(r"phase: \w+", f"phase: {phase}", text)
    (project_dir / "experiments" / "second.yaml").write_text(text)


def test_apply_refuses_experiments_that_would_starve(project_dir: Path) -> None:
    publish_all(project_dir)
    set_phase(project_dir, "running")
    second_experiment(project_dir, "draft")
    project = load_project(project_dir, environ={})
    # A project assembled in code skips validate: apply checks again.
    project.experiments["second"] = project.experiments["second"].model_copy(
        update={"phase": "running"}
    )
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as metadata:
        with pytest.raises(ApplyRefused, match="'second' gets no traffic at all"):
            apply_project(project, metadata)
        for name, start, end in (("home-personal", 0.0, 0.6), ("second", 0.5, 1.0)):
            project.experiments[name] = project.experiments[name].model_copy(
                update={"layer": Layer(name="home", range=(start, end))}
            )
        with pytest.raises(ApplyRefused, match="overlap in layer 'home'"):
            apply_project(project, metadata)
        assert metadata.applied() == []


def test_cli_apply_refuses_starving_experiments_and_experiments_shows_shares(
    runner: CliRunner, project_dir: Path
) -> None:
    publish_all(project_dir)
    set_phase(project_dir, "running")
    second_experiment(project_dir, "running")
    args = ["--project", str(project_dir)]
    for command in ("validate", "plan", "apply"):
        result = runner.invoke(main, [command, *args])
        assert result.exit_code == 1, command
        assert "Put both in one layer with disjoint slices" in result.output, command
    file = experiment_file(project_dir)
    file.write_text(file.read_text() + "layer: {name: home, range: [0, 0.25]}\n")
    second = project_dir / "experiments" / "second.yaml"
    second.write_text(second.read_text() + "layer: {name: home, range: [0.25, 1]}\n")
    result = runner.invoke(main, ["apply", *args])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["experiments", "--json", *args])
    shares = {row["name"]: row["share"] for row in json.loads(result.output)}
    assert shares == {"home-personal": 0.25, "second": 0.75}
    result = runner.invoke(main, ["experiments", *args])
    assert "25.0%" in result.output and "75.0%" in result.output
