"""One seeded report of each design, built once: the renderers' tests only read them."""

from __future__ import annotations

import numpy as np
import pytest

from sameday.analysis.bandit_report import BanditReport
from sameday.analysis.interleaving_report import InterleavingReport
from sameday.analysis.report import ABReport, build_report
from sameday.config import load_project
from sameday.events import Exposure, Outcome, SQLiteSink
from tests.analysis._logs import DAY, EXPERIMENT, START, make_project, write_ab_log
from tests.analysis.test_designs import ARMS, _interleaved


@pytest.fixture(scope="session")
def ab_report(tmp_path_factory: pytest.TempPathFactory) -> ABReport:
    """A week of a two-arm A/B test where ``personal`` clearly wins on ctr."""
    project = make_project(tmp_path_factory.mktemp("ab"), EXPERIMENT)
    write_ab_log(
        project / ".sameday" / "events.db",
        units=2000,
        rate={"control": 0.8, "personal": 1.2},
        seed=11,
    )
    report = build_report(load_project(project), "test")
    assert isinstance(report, ABReport) and report.decision.verdict == "ship"
    return report


@pytest.fixture(scope="session")
def phased_report(tmp_path_factory: pytest.TempPathFactory) -> ABReport:
    """Phase 1 of an A/B test after a bucket-version bump: it warns about phase 0."""
    project = make_project(
        tmp_path_factory.mktemp("phased"), EXPERIMENT + "hashing: {bucket_version: 1}\n"
    )
    log = project / ".sameday" / "events.db"
    write_ab_log(log, units=300, rate={"control": 1.0, "personal": 1.0}, days=2, hash_seed="test")
    write_ab_log(
        log,
        units=300,
        rate={"control": 1.0, "personal": 1.0},
        days=2,
        seed=1,
        start=START + 3 * DAY,
        hash_seed="test:v1",
        tag="p1-",
    )
    report = build_report(load_project(project), "test")
    assert isinstance(report, ABReport) and report.warnings
    return report


@pytest.fixture(scope="session")
def interleaving_report(tmp_path_factory: pytest.TempPathFactory) -> InterleavingReport:
    """An interleaving test whose users prefer ``personal``."""
    project = make_project(
        tmp_path_factory.mktemp("interleave"), f"surface: home\ndesign: interleave\n{ARMS}"
    )
    _interleaved(project / ".sameday" / "events.db", click_b=0.25, seed=1)
    report = build_report(load_project(project), "test")
    assert isinstance(report, InterleavingReport) and report.pairs[0].users is not None
    return report


@pytest.fixture(scope="session")
def bandit_report(tmp_path_factory: pytest.TempPathFactory) -> BanditReport:
    """Three days of a two-arm bandit where ``personal`` earns more rewards."""
    project = make_project(
        tmp_path_factory.mktemp("bandit"), f"surface: home\ndesign: bandit\n{ARMS}"
    )
    rng = np.random.default_rng(7)
    exposures, outcomes = [], []
    for i in range(1500):
        arm = "personal" if rng.random() < 0.6 else "control"
        time = START + (i // 500) * DAY + i
        exposures.append(
            Exposure(
                request_id=f"r{i}",
                time=time,
                unit=f"u{i}",
                surface="home",
                items=("a",),
                experiment="test",
                arm=arm,
                design="bandit",
            )
        )
        if rng.random() < (0.15 if arm == "personal" else 0.05):
            outcomes.append(
                Outcome(
                    event_id=f"e{i}", unit=f"u{i}", name="click", time=time + 60, request_id=f"r{i}"
                )
            )
    sink = SQLiteSink(project / ".sameday" / "events.db")
    try:
        sink.write_exposures(exposures)
        sink.write_outcomes(outcomes)
    finally:
        sink.close()
    report = build_report(load_project(project), "test")
    assert isinstance(report, BanditReport) and len(report.days) == 3
    return report
