"""``sameday`` itself (``sameday/cli/__init__.py``): commands, error rendering, exit codes."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import sameday.cli
from sameday import __version__
from sameday.cli import COMMAND_MODULES, SamedayGroup, main
from sameday.errors import NotFound


def command_modules() -> list[str]:
    return [
        name
        for _, name, _ in pkgutil.iter_modules(sameday.cli.__path__)
        if not name.startswith("_")
    ]


@pytest.mark.parametrize("module", command_modules())
def test_every_command_module_is_registered(module: str) -> None:
    commands = importlib.import_module(f"sameday.cli.{module}").COMMANDS
    assert commands, f"sameday.cli.{module} defines no COMMANDS"
    for command in commands:
        assert COMMAND_MODULES.get(command.name or "") == module
        assert main.get_command(click.Context(main), command.name or "") is command


def test_the_table_of_commands_names_only_commands_that_exist() -> None:
    for name, module in COMMAND_MODULES.items():
        names = [c.name for c in importlib.import_module(f"sameday.cli.{module}").COMMANDS]
        assert name in names, f"sameday.cli.{module} defines no command {name!r}"


def test_starting_the_cli_imports_no_command_module() -> None:
    """`sameday report` imports one command module, not thirty (start-up time counts)."""
    code = (
        "import sys\n"
        "from sameday.cli import main\n"
        "main(['report', '--help'], standalone_mode=False)\n"
        "loaded = [m for m in sys.modules if m.startswith(('sameday.cli.', 'sameday.config'))]\n"
        "heavy = [m for m in ('rich', 'pydantic', 'numpy', 'scipy', 'duckdb')\n"
        "         if m in sys.modules]\n"
        "print(','.join(sorted(loaded + heavy)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "sameday.cli._common,sameday.cli.report"


def test_a_sameday_error_is_one_line_on_stderr_and_exit_1(
    runner: CliRunner, project_dir: Path
) -> None:
    result = runner.invoke(main, ["compile", "nightly", "--project", str(project_dir)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: no pipeline 'nightly' in ")
    assert "(available: daily)" in result.stderr
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # rendered, not raised


def test_an_error_class_sets_the_exit_code(runner: CliRunner) -> None:
    result = runner.invoke(main, ["ope", "--format", "obd"])
    assert result.exit_code == 2  # OPEUsageError.exit_code
    assert result.stderr == "error: --format obd needs --logs PATH to an OBD all.csv file\n"


def test_the_group_renders_any_sameday_error_with_its_exit_code(runner: CliRunner) -> None:
    class Teapot(NotFound):
        exit_code = 42

    @click.group(cls=SamedayGroup)
    def cli() -> None:
        """A group."""

    @cli.command()
    def brew() -> None:
        """A command."""
        raise Teapot("no tea here: put the kettle on")

    @cli.command()
    def crash() -> None:
        """A command with a bug."""
        raise KeyError("bug")

    result = runner.invoke(cli, ["brew"])
    assert (result.exit_code, result.stderr) == (42, "error: no tea here: put the kettle on\n")
    crashed = runner.invoke(cli, ["crash"])
    assert crashed.exit_code == 1  # a bug keeps its traceback and is called one
    assert "Traceback" in crashed.stderr and "KeyError: 'bug'" in crashed.stderr
    assert "this is a bug in sameday" in crashed.stderr


def test_the_project_is_found_from_the_current_folder_or_a_parent(
    runner: CliRunner, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project_dir / "surfaces")
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert "Project 'proj' is valid" in result.output


def test_no_project_says_how_to_make_one(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    for args in (["validate"], ["runs", "--project", str(tmp_path / "missing")]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1
        assert result.stderr.startswith("error: no sameday.yaml in ")
        assert "run 'sameday init'" in result.stderr and "--project DIR" in result.stderr


def test_project_must_be_a_folder(runner: CliRunner, project_dir: Path) -> None:
    result = runner.invoke(main, ["validate", "--project", str(project_dir / "sameday.yaml")])
    assert result.exit_code == 2
    assert "is a file" in result.stderr


def test_version_help_and_usage_errors(runner: CliRunner) -> None:
    for flag in ("--version", "-V"):
        assert runner.invoke(main, [flag]).output == f"sameday, version {__version__}\n"
    helped = runner.invoke(main, ["-h"])
    assert helped.exit_code == 0 and "sameday init my-project" in helped.output
    unknown = runner.invoke(main, ["deploy"])
    assert unknown.exit_code == 2 and "No such command 'deploy'" in unknown.stderr


def test_the_executable_freezes_the_heap_once_its_command_is_done(tmp_path: Path) -> None:
    """``sameday`` (and ``python -m sameday``) run :func:`sameday.cli.run`, which leaves the
    interpreter's last garbage collection nothing to walk; the exit code and output are
    ``main``'s."""
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen' if gc.get_freeze_count() else 'not frozen'))\n"
        "sys.argv = ['sameday', '--version']\n"
        "from sameday.cli import run\n"
        "run()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"sameday, version {__version__}", "frozen"]
    failed = subprocess.run(
        [sys.executable, "-m", "sameday", "no-such-command"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert failed.returncode == 2
    assert "No such command 'no-such-command'" in failed.stderr
