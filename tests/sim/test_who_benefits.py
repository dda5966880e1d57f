"""The "who benefits" demo, graded against the exact truth of its world (seeded)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from sameday.cli import main
from sameday.sim.who_benefits import run_who_benefits


def test_the_demo_finds_who_benefits(tmp_path: Path, runner: CliRunner) -> None:
    result = run_who_benefits(tmp_path / "demo", users=30_000, seed=7)
    # segment effects: every called segment has the truth's sign, and most intervals hold it
    called = [s for s in result.segments if s.outcome in ("better", "worse")]
    assert len(result.segments) == 8 and len(called) >= 6
    assert all(s.grade == "right" for s in called)
    assert sum(s.covered for s in result.segments) >= 6
    new = next(s for s in result.segments if s.value == "new")
    assert new.outcome == "worse"  # new users are hurt, though the average effect is a win
    assert result.report.metrics[0].results[0].decision.point > 0
    # the recommended segment is the one the truth says benefits
    assert result.truth == {("existing", "medium"), ("existing", "heavy")}
    assert result.recommended == result.truth and result.rule_right
    # the model's Qini is within its interval of the true uplift's Qini
    assert result.qini.low <= result.true_qini <= result.qini.high and result.qini_within
    # the proposal validates and plans
    assert not result.plan.refusals
    assert any(c.name == result.proposal.stem for c in result.plan.changes)
    for command in ("validate", "plan"):
        run = runner.invoke(main, [command, "--project", str(result.folder)])
        assert run.exit_code == 0, run.output
