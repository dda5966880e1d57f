"""``sameday ope`` (``sameday/cli/ope.py``) on the project's own event log.

The estimators and the Open Bandit Dataset are tested in ``tests/ope``; this module holds what the
command adds: reading the project's log, its options reaching the estimators, output and errors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from sameday.cli import main
from sameday.config import load_project
from sameday.events.records import Exposure, Outcome
from sameday.events.sink import open_sink

ROUNDS = 40


def clicked(i: int, arm: str) -> bool:
    """Control is clicked one time in four, personal three times in four."""
    return (i % 8 == 0 or i % 8 == 4) if arm == "control" else (i % 8 != 7)


def log_ab(project_dir: Path, *, propensity: float | None = 0.5) -> dict[str, float]:
    """An A/B log of ``ROUNDS`` exposures; returns each arm's true click rate in it."""
    exposures, outcomes = [], []
    for i in range(ROUNDS):
        arm = "control" if i % 2 == 0 else "personal"
        exposures.append(
            Exposure(
                request_id=f"r{i}",
                time=1000.0 + i,
                unit=f"u{i}",
                surface="home",
                items=(f"item-{i % 3}",),
                experiment="home-personal",
                arm=arm,
                design="ab",
                propensity=propensity,
            )
        )
        if clicked(i, arm):
            outcomes.append(
                Outcome(
                    event_id=f"e{i}",
                    unit=f"u{i}",
                    name="click",
                    time=1005.0 + i,
                    request_id=f"r{i}",
                )
            )
    project = load_project(project_dir, environ={})
    with open_sink(project.url(project.settings.storage.events)) as sink:
        sink.write_exposures(exposures)
        sink.write_outcomes(outcomes)
    rates = {}
    for arm in ("control", "personal"):
        shown = [e for e in exposures if e.arm == arm]
        rates[arm] = sum(clicked(int(e.request_id[1:]), arm) for e in shown) / len(shown)
    return rates


def ope(runner: CliRunner, project_dir: Path, *args: str) -> Result:
    return runner.invoke(main, ["ope", "--project", str(project_dir), "--n-boot", "50", *args])


def estimates(result: Result) -> dict[tuple[str, str], dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return {(e["policy"], e["estimator"]): e for e in json.loads(result.stdout)}


def test_a_fixed_arm_is_worth_its_logged_click_rate(runner: CliRunner, project_dir: Path) -> None:
    rates = log_ab(project_dir)
    args = ("--level", "arm", "--policy", "fixed:personal", "--policy", "fixed:control", "--json")
    found = estimates(ope(runner, project_dir, *args))
    assert list(found) == [
        (policy, estimator)
        for policy in ("fixed:personal", "fixed:control")
        for estimator in ("ips", "snips", "dm", "dr")  # all four when none is named
    ]
    for (policy, _), value in found.items():
        assert value["rounds"] == ROUNDS and value["n_boot"] == 50
        assert value["value"] == pytest.approx(rates[policy.removeprefix("fixed:")])
        assert value["ci_low"] <= value["value"] <= value["ci_high"]


def test_options_reach_the_estimators(runner: CliRunner, project_dir: Path) -> None:
    rates = log_ab(project_dir)
    base = ("--level", "arm", "--policy", "fixed:personal", "--estimator", "ips", "--json")
    clipped = estimates(ope(runner, project_dir, *base, "--clip", "1.5"))
    # Each logged weight is 1 / 0.5 = 2; capped at 1.5 the estimate shrinks by 1.5 / 2.
    assert clipped[("fixed:personal", "ips")]["value"] == pytest.approx(rates["personal"] * 0.75)
    first = estimates(ope(runner, project_dir, *base, "--seed", "3"))
    again = estimates(ope(runner, project_dir, *base, "--seed", "3"))
    other = estimates(ope(runner, project_dir, *base, "--seed", "4"))
    key = ("fixed:personal", "ips")
    assert first[key] == again[key] and first[key]["seed"] == 3
    assert (other[key]["ci_low"], other[key]["ci_high"]) != (
        first[key]["ci_low"],
        first[key]["ci_high"],
    )


def test_item_level_rounds_and_the_text_table(runner: CliRunner, project_dir: Path) -> None:
    log_ab(project_dir)
    result = ope(runner, project_dir, "--policy", "uniform", "--estimator", "snips")
    assert result.exit_code == 0, result.output
    assert f"off-policy estimates ({ROUNDS} rounds)" in result.stdout
    assert "uniform" in result.stdout and "snips" in result.stdout
    items = estimates(ope(runner, project_dir, "--policy", "fixed:item-1", "--json"))
    assert {e["rounds"] for e in items.values()} == {ROUNDS}  # one item shown per exposure
    shown = [i for i in range(ROUNDS) if i % 3 == 1]  # item-1's exposures
    rate = sum(clicked(i, "control" if i % 2 == 0 else "personal") for i in shown) / len(shown)
    assert items[("fixed:item-1", "snips")]["value"] == pytest.approx(rate)


def test_the_experiment_filter_and_empty_logs(runner: CliRunner, project_dir: Path) -> None:
    log_ab(project_dir)
    result = ope(runner, project_dir, "--experiment", "other", "--level", "arm")
    assert result.exit_code == 1
    assert result.stderr == "error: the event log of other has no logged rounds to evaluate\n"


def test_logs_without_propensities_cannot_be_evaluated(
    runner: CliRunner, project_dir: Path
) -> None:
    log_ab(project_dir, propensity=None)
    result = ope(runner, project_dir, "--level", "arm")
    assert result.exit_code == 1
    assert f"{ROUNDS} round(s) lack a propensity in (0, 1]" in result.stderr
    assert "needs logs that record propensities" in result.stderr


def test_usage_errors(runner: CliRunner, project_dir: Path, tmp_path: Path) -> None:
    log_ab(project_dir)
    unknown = ope(runner, project_dir, "--policy", "greedy")
    assert unknown.exit_code == 1
    assert "unknown candidate policy 'greedy': use uniform, fixed:ACTION" in unknown.stderr
    assert ope(runner, project_dir, "--estimator", "magic").exit_code == 2
    missing = ope(runner, project_dir, "--format", "obd", "--logs", str(tmp_path / "all.csv"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
