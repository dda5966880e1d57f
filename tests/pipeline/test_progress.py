"""``sameday/pipeline/progress.py``: run events as lines off a terminal, as a live table on one."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from sameday.pipeline.progress import ProgressView
from sameday.pipeline.run_events import JobChanged, JobOutput, RunFinished, RunStarted

LOGS = Path("/runs/r1")


def console(*, terminal: bool, height: int = 40) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return (
        Console(file=out, force_terminal=terminal, color_system=None, width=100, height=height),
        out,
    )


def last_frame(text: str) -> str:
    """The table a live view left on screen (its last redraw), without cursor codes."""
    return re.sub(r"\x1b\[\??[0-9;]*[A-Za-z]", "", text.rsplit("\x1b[2K", 1)[-1]).strip("\n")


def test_off_a_terminal_every_change_is_one_line() -> None:
    screen, out = console(terminal=False)
    with ProgressView(screen) as view:  # live is chosen by the console: not a terminal
        view(RunStarted("r1", "daily", ("a", "b"), ("z",), LOGS))
        view(JobChanged("z", "skipped", 0, "succeeded in run r0"))
        view(JobChanged("a", "running", 1))
        view(JobOutput("a", 1, "hello"))
        view(JobChanged("a", "retrying", 1, "exit 1; retry in 0s"))
        view(JobChanged("a", "succeeded", 2))
        view(JobChanged("b", "failed", 1, "exit 3"))
        view(RunFinished("r1", "failed", ("b",), "run r1 failed: b"))
    assert out.getvalue().splitlines() == [
        "run r1 of daily: 2 jobs, logs in /runs/r1",
        "- z skipped: succeeded in run r0",
        "▶ a running",
        "[a] hello",
        "↻ a retrying (attempt 1): exit 1; retry in 0s",
        "✓ a succeeded (attempt 2)",
        "✗ b failed: exit 3",
    ]  # a failed run's message is the caller's error, not printed twice


def test_a_success_is_announced_and_output_can_be_hidden() -> None:
    screen, out = console(terminal=False)
    with ProgressView(screen, show_output=False) as view:
        view(RunStarted("r1", "daily", ("a",), (), LOGS))
        view(JobOutput("a", 1, "noise"))
        view(RunFinished("r1", "succeeded", (), "run r1 succeeded in 1.0s"))
    assert "noise" not in out.getvalue()
    assert out.getvalue().endswith("run r1 succeeded in 1.0s\n")


def test_on_a_terminal_a_table_is_redrawn_in_place() -> None:
    screen, out = console(terminal=True)
    with ProgressView(screen) as view:
        view(RunStarted("r1", "daily", ("a", "b"), ("z",), LOGS))
        view(JobChanged("z", "skipped", 0, "done before"))
        view(JobChanged("a", "running", 1))
        view(JobOutput("a", 1, "hello"))
        view(JobChanged("a", "succeeded", 1))
        view(JobChanged("b", "failed", 2, "exit 3"))
        view(RunFinished("r1", "failed", ("b",), "failed"))
    text = out.getvalue()
    assert "[a] hello\n" in text  # output scrolls above the table
    assert "run r1 of daily" not in text  # the table's footer says it instead
    rows = [line.split() for line in last_frame(text).splitlines()]
    assert rows[0] == ["job", "state", "attempt", "time"]
    assert rows[1] == ["-", "z", "skipped", "done", "before"]
    assert rows[2][:4] == ["✓", "a", "succeeded", "1"] and rows[2][4].endswith("s")
    assert rows[3] == ["✗", "b", "failed", "2", "exit", "3"]
    assert " ".join(rows[4]) == "daily · run r1 1 succeeded 1 failed 1 skipped"


def test_a_long_run_shows_the_jobs_worth_watching_and_counts_the_rest() -> None:
    screen, out = console(terminal=True, height=12)
    jobs = tuple(f"job{i:02d}" for i in range(20))
    with ProgressView(screen) as view:
        view(RunStarted("r1", "big", jobs, (), LOGS))
        for job in jobs[:17]:
            view(JobChanged(job, "succeeded", 1))
        view(JobChanged("job17", "running", 1))
        view(JobChanged("job18", "failed", 1, "exit 1"))
        view(RunFinished("r1", "failed", ("job18",), "failed"))
    frame = last_frame(out.getvalue())
    shown = [line.split()[1] for line in frame.splitlines()[1:-1]]
    assert shown == ["job17", "job18"]
    assert frame.splitlines()[-1].split() == [
        "big", "·", "run", "r1", "1", "pending", "1", "running", "17", "succeeded", "1", "failed"
    ]  # fmt: skip


def test_a_new_run_starts_a_new_table() -> None:
    screen, out = console(terminal=True)
    with ProgressView(screen) as view:  # backfill: one view, one run per date
        view(RunStarted("r1", "daily", ("old",), (), LOGS))
        view(JobChanged("old", "succeeded", 1))
        view(RunStarted("r2", "daily", ("new",), (), LOGS))
        view(JobChanged("new", "running", 1))
    frame = last_frame(out.getvalue())
    assert "old" not in frame and "new" in frame and "daily · run r2" in frame
