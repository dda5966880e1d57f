"""``sameday power`` through click's test runner (the command object, not the main group)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from click.testing import CliRunner

from sameday.analysis.stats.power import sample_size_proportions
from sameday.cli.power import COMMANDS, power
from sameday.errors import NotFound, StatsInputError


def test_text_output_gives_per_arm_total_and_duration(runner: CliRunner) -> None:
    result = runner.invoke(power, ["--baseline", "0.1", "--mde", "0.1", "--daily-units", "5000"])
    assert result.exit_code == 0, result.output
    assert "10.00% → 11.00%" in result.output
    assert "Per arm: 14,751 units" in result.output
    assert "Total:   29,502 units" in result.output
    assert "Duration: 6 days at 5,000 units a day" in result.output


def test_json_output(runner: CliRunner) -> None:
    result = runner.invoke(
        power,
        [
            "--baseline",
            "0.1",
            "--mde",
            "0.01",
            "--absolute",
            "--arms",
            "3",
            "--cupedrho",
            "0.5",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expected = sample_size_proportions(0.1, 0.11, alpha=0.025) * 0.75
    assert data["per_arm"] == math.ceil(expected)
    assert data["total"] == 3 * data["per_arm"]
    assert data["comparison_alpha"] == 0.025
    assert data["days"] is None
    assert data["relative"] is False


def test_mean_metric_with_sd(runner: CliRunner) -> None:
    result = runner.invoke(power, ["--baseline", "5", "--mde", "0.5", "--absolute", "--sd", "5"])
    assert result.exit_code == 0, result.output
    assert "Cohen's d 0.1" in result.output
    assert "Per arm: 1,571 units" in result.output


def test_plan_comes_from_the_experiment(runner: CliRunner, project_dir: Path) -> None:
    args = ["--experiment", "home-personal", "--project", str(project_dir), "--json"]
    result = runner.invoke(power, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["per_arm"] == math.ceil(sample_size_proportions(0.05, 0.0525))
    assert data["daily_units"] == 20000
    overridden = json.loads(runner.invoke(power, [*args, "--mde", "0.1"]).output)
    assert overridden["per_arm"] < data["per_arm"]


def test_errors(runner: CliRunner, project_dir: Path) -> None:
    missing = runner.invoke(power, ["--baseline", "0.1"])
    assert missing.exit_code == 2
    assert "give --baseline and --mde" in missing.output
    unknown = runner.invoke(power, ["--experiment", "nope", "--project", str(project_dir)])
    assert isinstance(unknown.exception, NotFound)
    assert "home-personal" in str(unknown.exception)
    impossible = runner.invoke(power, ["--baseline", "0.95", "--mde", "0.1"])
    assert isinstance(impossible.exception, StatsInputError)
    assert "target rate" in str(impossible.exception)


def test_commands_list() -> None:
    assert [power] == COMMANDS
