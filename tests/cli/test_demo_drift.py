"""``sameday demo --drift``: the option's rules, and the table it prints."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from sameday.cli import main


def test_days_go_with_drift(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["demo", "--days", "3", "--dir", str(tmp_path / "p")])
    assert result.exit_code == 2 and "--days goes with --drift" in result.stderr
    assert not (tmp_path / "p").exists()


def test_drift_prints_each_day_against_the_truth(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "p"
    args = ["demo", "--drift", "--days", "3", "--users", "400", "--dir", str(folder)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "Click-through rate each day" in result.output
    assert "Trained once:" in result.output and "Retrained daily behind the gate:" in result.output
    assert re.search(r"\b[1-4] versions registered, [1-4] snapshots published", result.output)
    assert [
        line.split("│")[1].strip() for line in result.output.splitlines() if line.startswith("│")
    ] == ["1", "2", "3"]
    assert (folder / "sameday.yaml").is_file()
