"""The report's SQL credit against the Python credit of ``sameday.policies.credit`` (the oracle).

Both read the same log, served exactly as the engine serves it (``interleave_lists`` with the
experiment's plan) and clicked by a seeded position-biased click model; every method and credit
rule the config accepts must give the same wins, losses and ties per pair of arms, and the same
per-user credit, whichever implementation counts them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sameday.analysis.interleaving_report import InterleavingReport
from sameday.analysis.report import build_report
from sameday.config import load_project
from sameday.events import Exposure, Outcome, SQLiteSink
from sameday.policies.credit import (
    ImpressionCredit,
    credit_impressions,
    impression_outcomes,
)
from sameday.serve.interleaved import InterleavePlan, interleave_lists
from tests.analysis._logs import START, make_project

CASES = {
    "team_draft": ("team_draft", False, 2),
    "competitive_pairs": ("team_draft", True, 2),
    "balanced": ("balanced", False, 2),
    "multileave": ("team_draft", False, 3),  # team-draft with three arms is multileaving
}


def _serve_and_click(
    path: Path, method: str, competitive: bool, arms: list[str]
) -> list[ImpressionCredit]:
    """Serve 250 users 3 lists each through the engine's merge, click with a position bias, and
    return the oracle's credit of what was logged."""
    rng = np.random.default_rng(11)
    catalogue = [f"i{k}" for k in range(30)]
    plan = InterleavePlan("multileave" if len(arms) > 2 else method, competitive, ())
    exposures, outcomes = [], []
    for u in range(250):
        unit = f"u{u}"
        liked = set(rng.choice(catalogue, size=8, replace=False))
        for k in range(3):
            rid = f"{unit}-{k}"
            lists = [list(rng.permutation(catalogue)[:10]) for _ in arms]
            merged, extra = interleave_lists(plan, "test", unit, rid, lists, 6, ())
            extra["arms"] = arms
            teams = [arms[t] for t in merged.teams]
            shown_teams: list[str | None] = list(teams)
            if competitive and merged.shared:
                extra["drafted"] = list(teams)
                for slot in merged.shared:
                    shown_teams[slot] = None
            exposures.append(
                Exposure(
                    request_id=rid,
                    time=START + u * 60 + k,
                    unit=unit,
                    surface="home",
                    items=tuple(merged.items),
                    experiment="test",
                    design="interleave",
                    teams=tuple(shown_teams),
                    propensity=merged.probability,
                    extra=extra,
                )
            )
            for position, item in enumerate(merged.items, start=1):
                if rng.random() < (0.6 if item in liked else 0.08) / position**0.7:
                    for repeat in range(1 + int(rng.random() < 0.2)):  # repeats count once
                        outcomes.append(
                            Outcome(
                                event_id=f"{rid}-{item}-{repeat}",
                                unit=unit,
                                name="click",
                                time=START + u * 60 + k + 1,
                                request_id=rid,
                                item=item,
                            )
                        )
    sink = SQLiteSink(path)
    try:
        sink.write_exposures(exposures)
        sink.write_outcomes(outcomes)
    finally:
        sink.close()
    return credit_impressions(
        exposures, outcomes, credit="competitive_pairs" if competitive else "all"
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_report_credits_clicks_as_the_oracle_does(tmp_path: Path, case: str) -> None:
    method, competitive, count = CASES[case]
    arms = ["control", "personal", "third"][:count]
    arm_yaml = "".join(f"  - {{name: {a}, result_set: popular}}\n" for a in arms)
    settings = f"interleave: {{method: {method}"
    settings += ", credit: competitive_pairs}\n" if competitive else "}\n"
    experiment = f"surface: home\ndesign: interleave\narms:\n{arm_yaml}{settings}"
    project = make_project(tmp_path, experiment)
    oracle = _serve_and_click(project / ".sameday" / "events.db", method, competitive, arms)
    report = build_report(load_project(project), "test")
    assert isinstance(report, InterleavingReport)
    assert report.clicked_impressions == sum(1 for i in oracle if any(i.credit.values()))
    for pair in report.pairs:
        counts = impression_outcomes(oracle, pair.control, pair.arm)
        decided = [i for i in oracle if i.result(pair.control, pair.arm) != "tie"]
        ties = sum(
            1
            for i in oracle
            if i.result(pair.control, pair.arm) == "tie" and i.credit.get(pair.control, 0) > 0
        )
        assert (pair.impressions.wins_a, pair.impressions.wins_b) == (counts.wins_a, counts.wins_b)
        assert pair.impressions.ties == ties
        assert len(decided) == counts.wins_a + counts.wins_b
        # per user: impressions won by each side; users with a decided impression count
        won: dict[str, list[int]] = {}
        for impression in decided:
            side = impression.result(pair.control, pair.arm) == "loss"
            won.setdefault(impression.unit, [0, 0])[side] += 1
        assert pair.users is not None and pair.users.users == len(won)
        assert pair.users.prefer_b == sum(1 for a, b in won.values() if b > a)
        assert pair.users.prefer_a == sum(1 for a, b in won.values() if a > b)
