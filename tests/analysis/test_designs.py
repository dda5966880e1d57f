"""Interleaving and bandit reports on seeded logs with a known preference and a known best arm."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sameday.analysis.bandit_report import BanditReport
from sameday.analysis.interleaving_report import InterleavingReport
from sameday.analysis.report import build_report
from sameday.config import load_project
from sameday.events import Exposure, Outcome, SQLiteSink
from sameday.reports.data import to_dict
from sameday.reports.html import to_html
from sameday.reports.text import to_text
from tests.analysis._logs import DAY, START, make_project

ARMS = """arms:
  - {name: control, result_set: popular}
  - {name: personal, result_set: personal}
"""


def _interleaved(path: Path, click_b: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    exposures, outcomes = [], []
    for u in range(300):
        for k in range(4):
            rid = f"u{u}-{k}"
            teams = (
                ("control", "personal") * 2 if rng.random() < 0.5 else ("personal", "control") * 2
            )
            items = tuple(f"i{u}-{k}-{j}" for j in range(4))
            exposures.append(
                Exposure(
                    request_id=rid,
                    time=START + u * 60 + k,
                    unit=f"u{u}",
                    surface="home",
                    items=items,
                    experiment="test",
                    arm="interleaved",
                    design="interleave",
                    teams=teams,
                )
            )
            for item, team in zip(items, teams, strict=True):
                p = click_b if team == "personal" else 0.1
                if rng.random() < p:
                    outcomes.append(
                        Outcome(
                            event_id=f"e{len(outcomes)}",
                            unit=f"u{u}",
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


def test_interleaving_prefers_the_better_ranker(tmp_path: Path) -> None:
    project = make_project(tmp_path, f"surface: home\ndesign: interleave\n{ARMS}")
    _interleaved(project / ".sameday" / "events.db", click_b=0.25, seed=1)
    report = build_report(load_project(project), "test")
    assert isinstance(report, InterleavingReport)
    pair = report.pairs[0]
    assert report.impressions == 1200 and report.units == 300
    assert pair.impressions.share_b > 0.6 and pair.impressions.p_value < 0.001
    assert pair.users is not None and pair.users.ci_low > 0.5
    assert report.decision.verdict == "ship" and report.decision.arm == "personal"
    assert "personal vs control" in to_text(report) and "<svg" in to_html(report)
    assert to_dict(report)["pairs"][0]["users"]["share_b"] > 0.5


def test_interleaving_without_preference_keeps_running(tmp_path: Path) -> None:
    project = make_project(tmp_path, f"surface: home\ndesign: interleave\n{ARMS}")
    _interleaved(project / ".sameday" / "events.db", click_b=0.1, seed=2)
    report = build_report(load_project(project), "test")
    assert report.decision.verdict == "keep running"


def test_bandit_report(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        f"surface: home\ndesign: bandit\n{ARMS}bandit: {{reward: {{event: click, window: 1h}}}}\n",
    )
    rng = np.random.default_rng(5)
    exposures, outcomes = [], []
    for i in range(4000):
        day = i // 1000
        arm = "personal" if rng.random() < 0.3 + 0.15 * day else "control"
        t = START + day * DAY + i
        exposures.append(
            Exposure(
                request_id=f"r{i}",
                time=t,
                unit=f"u{i}",
                surface="home",
                items=("a",),
                experiment="test",
                arm=arm,
                design="bandit",
            )
        )
        if rng.random() < (0.12 if arm == "personal" else 0.05):
            late = 7200.0 if i % 10 == 0 else 60.0  # some rewards arrive after the window
            outcomes.append(
                Outcome(
                    event_id=f"e{i}", unit=f"u{i}", name="click", time=t + late, request_id=f"r{i}"
                )
            )
    sink = SQLiteSink(project / ".sameday" / "events.db")
    try:
        sink.write_exposures(exposures)
        sink.write_outcomes(outcomes)
    finally:
        sink.close()
    report = build_report(load_project(project), "test")
    assert isinstance(report, BanditReport)
    assert len(report.days) == 4 and sum(map(sum, report.allocation)) == 4000
    personal = report.summary.arms[1]
    assert personal.probability_best > 0.99
    assert report.regret == tuple(sorted(report.regret)) and report.regret[-1] > 0
    assert report.decision.verdict == "ship" and report.decision.arm == "personal"
    assert "P(best)" in to_text(report) and "Allocation over time" in to_html(report)
