"""``sameday init``, ``validate``, ``schema``, ``--version`` and ``--help``, through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sameday import __version__
from sameday.cli import main


def test_init_then_validate(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "my-project"
    result = runner.invoke(main, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert (target / "sameday.yaml").is_file()
    result = runner.invoke(main, ["validate", "--project", str(target)])
    assert result.exit_code == 0, result.output
    assert "Project 'my-project' is valid" in result.output


def test_init_refuses_to_overwrite(runner: CliRunner, project_dir: Path) -> None:
    result = runner.invoke(main, ["init", str(project_dir)])
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_validate_reports_every_problem_and_exits_1(runner: CliRunner, project_dir: Path) -> None:
    metric = project_dir / "metrics" / "ctr.yaml"
    metric.write_text(metric.read_text().replace("type: proportion", "type: share"))
    surface = project_dir / "surfaces" / "home.yaml"
    surface.write_text(surface.read_text() + "colour: blue\n")
    result = runner.invoke(main, ["validate", "--project", str(project_dir)])
    assert result.exit_code == 1
    assert "ctr.yaml:" in result.output and "home.yaml:" in result.output
    assert "2 problems found." in result.output


def test_validate_json(runner: CliRunner, project_dir: Path) -> None:
    result = runner.invoke(main, ["validate", "--json", "--project", str(project_dir)])
    assert result.exit_code == 0
    assert json.loads(result.output)["valid"] is True
    surface = project_dir / "surfaces" / "home.yaml"
    surface.write_text(surface.read_text() + "colour: blue\n")
    result = runner.invoke(main, ["validate", "--json", "--project", str(project_dir)])
    assert result.exit_code == 1
    (problem,) = json.loads(result.output)["problems"]
    assert problem["field"] == "colour" and problem["line"] == 8 and problem["column"] == 1


def test_schema_writes_files(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["schema", "-o", str(tmp_path)])
    assert result.exit_code == 0
    assert (tmp_path / "experiment.schema.json").is_file()
    result = runner.invoke(main, ["schema"])
    assert set(json.loads(result.output)) >= {"project", "pipeline", "experiment"}


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.output.strip() == f"sameday, version {__version__}"


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += all_commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", all_commands(main), ids=lambda p: " ".join(p) or "sameday")
def test_every_command_has_readable_help(runner: CliRunner, path: tuple[str, ...]) -> None:
    result = runner.invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
    body = result.output.split("\n\n", 2)
    assert len(body) >= 2 and body[1].strip(), f"{' '.join(path)} has no description"


def test_console_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sameday", "--version"], capture_output=True, text=True, check=True
    )
    assert __version__ in result.stdout
