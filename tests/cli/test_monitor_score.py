"""``sameday monitor score`` (``sameday/cli/_monitor_score.py``): the benchmark interface."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import SHARED

from sameday.cli import main
from sameday.monitor.detector import PRESETS

NAB = SHARED / "vendor" / "nab"
JUMPS_UP = NAB / "data" / "artificialWithAnomaly" / "art_daily_jumpsup.csv"


def read(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_it_scores_a_nab_file_and_alarms_inside_the_labelled_window(
    runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "scored.csv"
    result = runner.invoke(main, ["monitor", "score", str(JUMPS_UP), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "4032 points" in result.stdout and "alarms" in result.stdout
    source = read(JUMPS_UP.read_text())
    text = out.read_text()
    assert text.splitlines()[0] == "timestamp,value,anomaly_score,alarm"
    scored = read(text)
    assert [(r["timestamp"], r["value"]) for r in scored] == [
        (r["timestamp"], r["value"]) for r in source
    ]
    threshold = PRESETS["default"].threshold
    for row in scored:
        score = float(row["anomaly_score"])
        assert 0.0 <= score <= 1.0
        assert row["alarm"] == ("1" if score >= threshold else "0")
    ((start, end),) = json.loads((NAB / "windows.json").read_text())[
        "artificialWithAnomaly/art_daily_jumpsup.csv"
    ]
    inside = [
        r
        for r in scored
        if datetime.fromisoformat(start)
        <= datetime.fromisoformat(r["timestamp"])
        <= datetime.fromisoformat(end)
    ]
    assert any(r["alarm"] == "1" for r in inside)


def test_without_output_the_csv_goes_to_standard_output(runner: CliRunner) -> None:
    result = runner.invoke(main, ["monitor", "score", str(JUMPS_UP), "--preset", "quiet"])
    assert result.exit_code == 0, result.output
    rows = read(result.stdout)
    assert len(rows) == 4032 and set(rows[0]) == {"timestamp", "value", "anomaly_score", "alarm"}


def test_every_vendored_nab_file_scores(runner: CliRunner, tmp_path: Path) -> None:
    files = sorted((NAB / "data").glob("*/*.csv"))
    assert len(files) == 41
    for path in files:
        out = tmp_path / path.name
        result = runner.invoke(main, ["monitor", "score", str(path), "-o", str(out)])
        assert result.exit_code == 0, f"{path.name}: {result.output}"
        assert len(out.read_text().splitlines()) == len(path.read_text().splitlines())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("time,value\n2024-01-01,1\n", "needs a header with timestamp and value"),
        ("timestamp,value\n2024-01-01 00:00:00,1\nyesterday,2\n", "series.csv:3: cannot read"),
        ("timestamp,value\n2024-01-01 00:00:00,nan\n", "series.csv:2: value 'nan' is not a finite"),
        ("timestamp,value\n", "has no rows to score"),
    ],
)
def test_unreadable_files_are_named_with_the_line(
    runner: CliRunner, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "series.csv"
    path.write_text(content)
    result = runner.invoke(main, ["monitor", "score", str(path)])
    assert result.exit_code == 2
    assert message in result.output


def test_the_command_line_loads_numpy_only_when_a_series_is_scored() -> None:
    code = "import sys, sameday.cli\nprint('numpy' in sys.modules)\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
