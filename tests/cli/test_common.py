"""``sameday/cli/_common.py``: the options and the JSON output every command shares."""

from __future__ import annotations

import datetime as dt
import gc
import json
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sameday.cli._common import collection_paused, echo_json, json_option, project_option


@click.command()
@project_option
@json_option
def show(project_dir: Path | None, as_json: bool) -> None:
    """Print what the shared options parsed to."""
    click.echo(f"{project_dir!r} {as_json!r}")


def test_project_and_json_options(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(show, []).output == "None False\n"
    result = runner.invoke(show, ["--project", str(tmp_path), "--json"])
    assert result.output == f"{Path(tmp_path)!r} True\n"
    missing = tmp_path / "not-yet"  # a folder that does not exist reaches the loader
    assert runner.invoke(show, ["--project", str(missing)]).exit_code == 0


def test_project_refuses_a_file(runner: CliRunner, tmp_path: Path) -> None:
    file = tmp_path / "sameday.yaml"
    file.write_text("name: x\n")
    result = runner.invoke(show, ["--project", str(file)])
    assert result.exit_code == 2 and "is a file" in result.output


def test_the_options_are_documented(runner: CliRunner) -> None:
    text = runner.invoke(show, ["--help"]).output
    assert "--project DIRECTORY" in text and "nearest parent with a sameday.yaml" in text
    assert "--json" in text and "Print JSON instead of text." in text


@dataclass
class Row:
    name: str
    at: dt.datetime
    where: Path


def test_echo_json_writes_indented_json_of_what_commands_hold(
    capsys: pytest.CaptureFixture[str],
) -> None:
    moment = dt.datetime(2026, 5, 1, 12, 30, tzinfo=dt.UTC)
    echo_json({"rows": [Row("a", moment, Path("/x/y"))], 3: "int key", "n": None})
    out = capsys.readouterr().out
    assert out.endswith("}\n")
    assert out.splitlines()[1].startswith('  "rows"')  # two-space indent
    assert json.loads(out) == {
        "rows": [{"name": "a", "at": "2026-05-01T12:30:00+00:00", "where": "/x/y"}],
        "3": "int key",
        "n": None,
    }


def test_collection_is_paused_in_the_block_and_resumes_after_it() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collection_paused():
        assert not gc.isenabled()
        raise RuntimeError("a failed command")
    assert gc.isenabled()
    gc.disable()  # paused by someone else: left as it was
    try:
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
