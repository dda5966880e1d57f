"""``sameday demo --incidents``: its options (the timeline itself is tested in tests/sim)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from sameday.cli import main


def test_days_go_with_drift_or_incidents_and_the_two_demos_are_apart(
    runner: CliRunner, tmp_path: Path
) -> None:
    target = tmp_path / "qs"
    result = runner.invoke(main, ["demo", "--days", "10", "--dir", str(target)])
    assert result.exit_code == 2 and "--days goes with --drift or --incidents" in result.stderr
    result = runner.invoke(main, ["demo", "--drift", "--incidents", "--dir", str(target)])
    assert result.exit_code == 2 and "two different demos" in result.stderr
    assert not target.exists()
