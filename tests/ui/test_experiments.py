"""Stopping and concluding edit one line of the experiment's file, and nothing else."""

from __future__ import annotations

from sameday.ui.experiments import with_phase

FILE = """# An A/B test.
name: home
phase: running   # moved by the dashboard
arms:
  - {name: control, result_set: popular}
"""


def test_the_phase_changes_and_the_comments_stay() -> None:
    stopped = with_phase(FILE, "stopped", None)
    assert stopped == FILE.replace("phase: running", "phase: stopped")


def test_concluding_adds_the_winner_once() -> None:
    concluded = with_phase(FILE, "concluded", "control")
    assert "phase: concluded\nwinner: control   # moved by the dashboard\n" in concluded
    again = with_phase(concluded, "concluded", "treatment")
    assert again.count("winner:") == 1 and "winner: treatment" in again


def test_a_file_without_a_phase_gets_one() -> None:
    assert with_phase("name: home\n", "stopped", None) == "name: home\nphase: stopped\n"
