"""``sameday demo`` (``sameday/cli/demo.py``): options, errors, progress rows and the summary.

The demo itself runs in ``tests/demo``; nothing here runs it.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console
from rich.progress import Progress

from sameday.cli import main
from sameday.cli.demo import RichObserver, _status, _summary
from sameday.demo import DemoResult, DemoSettings
from sameday.sim import quickstart
from sameday.sim.grading import Grade


def test_options_are_checked_before_anything_runs(runner: CliRunner, tmp_path: Path) -> None:
    cases = {
        ("--users", "199"): "199 is not in the range x>=200",
        ("--click-model", "dbn"): "'dbn' is not one of 'pbm', 'cascade'",
        ("--seed", "x"): "'x' is not a valid integer",
    }
    for args, message in cases.items():
        result = runner.invoke(main, ["demo", *args, "--dir", str(tmp_path / "qs")])
        assert result.exit_code == 2 and message in result.stderr, result.stderr
    file = tmp_path / "notes.txt"
    file.write_text("x")
    result = runner.invoke(main, ["demo", "--dir", str(file)])
    assert result.exit_code == 2 and "is a file" in result.stderr
    assert not (tmp_path / "qs").exists()


def test_a_folder_in_use_is_refused_and_left_alone(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    result = runner.invoke(main, ["demo", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert f"error: {tmp_path} is not empty: give a new or empty folder with --dir" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


def test_each_stage_is_a_row_finished_when_the_next_starts() -> None:
    progress = Progress(console=Console(file=io.StringIO()))
    observer = RichObserver(progress)
    observer.advance(3)  # before any stage: ignored
    assert progress.tasks == []
    observer.stage("pipeline", total=5)
    observer.advance(2, detail="train")
    first = progress.tasks[0]
    assert (first.completed, first.total, first.description) == (2, 5, "pipeline [dim]train[/]")
    observer.stage("apply")  # no total: a spinner row
    assert (first.completed, first.finished) == (5, True)
    second = progress.tasks[1]
    assert second.total is None and second.description == "apply"
    observer.advance()
    observer.close()
    assert (second.completed, second.total, second.finished) == (1, 1, True)


def result_with(tmp_path: Path, *, low: float, grade: Grade) -> DemoResult:
    tests = (
        quickstart.TestResult(
            "home-als",
            "ab",
            "ctr lift",
            True,
            4000,
            0.12,
            low,
            0.2,
            0.1,
            "ship",
            "als wins — ship",
            grade,
        ),
        quickstart.TestResult(
            "home-il",
            "interleave",
            "preference",
            False,
            2500,
            math.nan,
            math.nan,
            math.nan,
            0.55,
            "none",
            "no preference — wait",
            "inconclusive",
        ),
    )
    power = quickstart.PowerComparison(
        "als vs popular", 12000.4, 2000.0, "from the measured effects"
    )
    return DemoResult(
        folder=tmp_path,
        settings=DemoSettings(),
        k=10,
        offline={
            "als": dict.fromkeys(
                ("ndcg", "precision", "recall", "map", "mrr", "hit_rate", "coverage"), 0.25
            )
        },
        tests=tests,
        power=power,
        reports=(tmp_path / "reports" / "home-als.html",),
        requests=8000,
        clicks=640,
        timings={"pipeline": 1.25, "serve": 2.5},
    )


def test_the_summary_grades_each_test_and_never_prints_nan(tmp_path: Path) -> None:
    out = io.StringIO()
    _summary(Console(file=out, width=200), result_with(tmp_path, low=0.04, grade="right"), 9.87)
    text = out.getvalue()
    assert "Offline metrics at k=10" in text and "0.2500" in text
    assert "+12.0% [+4.0%, +20.0%]" in text and "+10.0%" in text  # A/B: relative lift
    assert "- [-, -]" in text and "55.0%" in text  # interleaving: a share; NaN shows as -
    assert "nan" not in text.lower()
    assert "right" in text and "inconclusive" in text
    assert "A/B needs 12,001 users, interleaving 2,000 — 6x fewer." in text
    assert f"Report: {tmp_path / 'reports' / 'home-als.html'}" in text
    assert "8,000 requests, 640 clicks; pipeline 1.2s, serve 2.5s; total 9.9s." in text
    wrong = io.StringIO()
    _summary(Console(file=wrong, width=200), result_with(tmp_path, low=math.nan, grade="wrong"), 1)
    assert "wrong" in wrong.getvalue() and "+12.0% [-, +20.0%]" in wrong.getvalue()
    assert "nan" not in wrong.getvalue().lower()


def test_the_demo_ends_with_the_status_board(project_dir: Path) -> None:
    out = io.StringIO()
    _status(Console(file=out, width=120), project_dir)
    text = out.getvalue()
    assert f"$ sameday status --project {project_dir}" in text
    assert "Pipelines" in text and "Result sets" in text and "No open alerts." in text
