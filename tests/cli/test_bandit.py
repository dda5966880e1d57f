"""``sameday bandit update`` and ``history`` (``sameday/cli/bandit.py``): text output and errors.

``test_bandit_commands.py`` follows rewards through ``--json`` on a real event log.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from click.testing import CliRunner, Result

from sameday.cli import main

EXPERIMENT = "home-personal"


def make_bandit(project_dir: Path) -> None:
    file = project_dir / "experiments" / f"{EXPERIMENT}.yaml"
    text = file.read_text().replace("design: ab", "design: bandit")
    # epsilon-greedy: an exact 50/50 split before any reward (Thompson estimates it by sampling)
    file.write_text(text + "bandit: {algorithm: epsilon_greedy, reward: {window: 60}}\n")


def sameday(runner: CliRunner, project_dir: Path, *args: str) -> Result:
    return runner.invoke(main, [*args, "--project", str(project_dir)])


def test_update_and_history_in_text(runner: CliRunner, project_dir: Path) -> None:
    make_bandit(project_dir)
    assert sameday(runner, project_dir, "apply").exit_code == 0
    empty = sameday(runner, project_dir, "bandit", "history", EXPERIMENT)
    assert empty.output == f"{EXPERIMENT}: no parameter snapshot yet (run sameday bandit update)\n"
    first = sameday(runner, project_dir, "bandit", "update", EXPERIMENT)
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        f"{EXPERIMENT}: version 1, counted 0 exposure(s), 0 rewarded",
        "  control: 0/0 rewarded, serving 50.0%",
        "  personal: 0/0 rewarded, serving 50.0%",
    ]
    again = sameday(runner, project_dir, "bandit", "update", EXPERIMENT)
    assert again.output == (
        f"{EXPERIMENT}: no exposure's reward window closed since version 1; nothing to update\n"
    )
    history = sameday(runner, project_dir, "bandit", "history", EXPERIMENT)
    (line,) = history.output.splitlines()
    found = re.fullmatch(r"v1  (\S+ \S+)  control 50\.0%, personal 50\.0%", line)
    assert found is not None, line
    when = dt.datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    assert abs((dt.datetime.now(dt.UTC) - when).total_seconds()) < 120  # shown in UTC


def test_history_limit(runner: CliRunner, project_dir: Path) -> None:
    make_bandit(project_dir)
    sameday(runner, project_dir, "apply")
    sameday(runner, project_dir, "bandit", "update", EXPERIMENT)
    for bad in ("0", "-1"):  # -1 listed everything on SQLite and failed on PostgreSQL
        refused = sameday(runner, project_dir, "bandit", "history", EXPERIMENT, "--limit", bad)
        assert refused.exit_code == 2 and "1<=x<=10000" in refused.stderr
    one = sameday(runner, project_dir, "bandit", "history", EXPERIMENT, "--limit", "1")
    assert one.exit_code == 0 and one.output.startswith("v1 ")


def test_only_applied_bandits_can_be_updated(runner: CliRunner, project_dir: Path) -> None:
    unapplied = sameday(runner, project_dir, "bandit", "update", EXPERIMENT)
    assert unapplied.exit_code == 1
    assert unapplied.stderr == (
        f"error: no applied experiment '{EXPERIMENT}': add it to experiments/ and run "
        "sameday apply first\n"
    )
    sameday(runner, project_dir, "apply")
    not_a_bandit = sameday(runner, project_dir, "bandit", "update", EXPERIMENT)
    assert not_a_bandit.exit_code == 1
    assert not_a_bandit.stderr == (
        f"error: experiment '{EXPERIMENT}' has design 'ab': only design: bandit experiments "
        "have posteriors to update\n"
    )
    assert sameday(runner, project_dir, "bandit", "frobnicate").exit_code == 2
