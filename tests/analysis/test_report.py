"""Report verdicts on seeded event logs with a known truth, and the sample-ratio alarm."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from sameday.analysis.comparisons import Role
from sameday.analysis.report import ABReport, ab_report, build_report, metric_roles
from sameday.analysis.stats.summary import ArmSummary
from sameday.analysis.summaries import Summaries
from sameday.config import load_project
from sameday.config.metric import Metric
from sameday.errors import NotFound
from sameday.reports.html import to_html
from sameday.reports.text import to_text
from tests.analysis._logs import EXPERIMENT, make_project, write_ab_log


def _report(tmp_path: Path, **log: object) -> ABReport:
    project = make_project(tmp_path, EXPERIMENT)
    write_ab_log(project / ".sameday" / "events.db", **log)  # type: ignore[arg-type]
    report = build_report(load_project(project), "test")
    assert isinstance(report, ABReport)
    return report


def test_aa_log_keeps_running(tmp_path: Path) -> None:
    report = _report(tmp_path, units=3000, rate={"control": 1.0, "personal": 1.0}, seed=3)
    assert report.srm is not None and not report.srm.mismatch
    assert report.decision.verdict == "keep running"
    assert report.decision.line.startswith("keep running — no primary metric is conclusive")
    assert all(r.outcome == "flat" for m in report.metrics for r in m.results)


def test_strong_effect_ships(tmp_path: Path) -> None:
    report = _report(tmp_path, units=4000, rate={"control": 0.8, "personal": 1.1}, seed=1)
    assert report.decision.verdict == "ship"
    assert report.decision.arm == "personal"
    ctr = report.metrics[0]
    result = ctr.results[0]
    assert result.outcome == "better"
    # Always-valid intervals are wider than the fixed ones they accompany.
    fixed = result.fixed.relative
    assert result.decision.ci_high - result.decision.ci_low > fixed.ci_high - fixed.ci_low
    assert result.chance_to_win > 0.99
    assert report.series[0].points[-1].lift == pytest.approx(fixed.point)


def test_harmful_guardrail_stops(tmp_path: Path) -> None:
    report = _report(
        tmp_path,
        units=4000,
        rate={"control": 0.8, "personal": 1.1},
        errors={"control": 0.2, "personal": 0.6},
        seed=2,
    )
    assert report.decision.verdict == "stop for harm"
    assert "errors" in report.decision.line
    errors = next(m for m in report.metrics if m.name == "errors")
    assert errors.role == "guardrail" and errors.results[0].outcome == "worse"


def test_cuped_reduces_variance_on_the_log(tmp_path: Path) -> None:
    report = _report(tmp_path, units=3000, rate={"control": 1.0, "personal": 1.2}, seed=4)
    clicks = next(m for m in report.metrics if m.name == "clicks")
    fixed = clicks.results[0].fixed
    assert clicks.method == "cuped"
    assert fixed.theta is not None and fixed.theta > 0
    assert fixed.variance_reduction is not None and fixed.variance_reduction > 0.05


def _split(control: int, treatment: int) -> Summaries:
    day = 19_700
    cells = {
        ("ctr", "control", day): ArmSummary.from_proportion(control // 10, control),
        ("ctr", "personal", day): ArmSummary.from_proportion(treatment // 10, treatment),
    }
    return Summaries(
        arms=("control", "personal"),
        days=(day,),
        metrics=("ctr",),
        units={("control", day): control, ("personal", day): treatment},
        cells=cells,
    )


def test_sample_ratio_mismatch_blocks_the_verdict(tmp_path: Path) -> None:
    project = load_project(make_project(tmp_path, EXPERIMENT))
    experiment = project.experiments["test"]
    ctr = [(m, r) for m, r in metric_roles(experiment, project.metrics) if m.name == "ctr"]
    # A big, real lift, but 50.5/49.5 over a million units.
    summaries = _split(505_000, 495_000)
    summaries.cells[("ctr", "personal", 19_700)] = ArmSummary.from_proportion(60_000, 495_000)
    report = ab_report(experiment, ctr, summaries)
    assert report.srm is not None and report.srm.mismatch
    assert report.srm.p_value < 1e-20
    assert report.decision.verdict == "invalid: sample ratio mismatch"
    assert report.decision.line.startswith("invalid: sample ratio mismatch")
    # No verdict may be drawn, so no chance to win is shown either.
    assert all(math.isnan(r.chance_to_win) for m in report.metrics for r in m.results)
    balanced = ab_report(experiment, ctr, _split(500_300, 499_700))
    assert balanced.srm is not None and not balanced.srm.mismatch


def test_unknown_experiment_and_metric(tmp_path: Path) -> None:
    project = load_project(make_project(tmp_path, EXPERIMENT))
    with pytest.raises(NotFound, match="no experiment named 'nope'"):
        build_report(project, "nope")
    experiment = project.experiments["test"]
    with pytest.raises(NotFound, match="undefined metrics: ctr"):
        metric_roles(experiment, {})


def _few_buyers(summaries: dict[str, ArmSummary]) -> Summaries:
    """500 units per arm, flat CTR, and revenue from an A/A pair with 32 and 24 buyers."""
    day = 19_700
    cells = {("ctr", arm, day): ArmSummary.from_proportion(250, 500) for arm in summaries}
    cells |= {("revenue", arm, day): s for arm, s in summaries.items()}
    return Summaries(
        arms=tuple(summaries),
        days=(day,),
        metrics=("ctr", "revenue"),
        units={(arm, day): 500 for arm in summaries},
        cells=cells,
    )


def test_a_few_buyers_never_stop_a_test_for_harm(tmp_path: Path) -> None:
    """The delta method read this A/A pair as -68.6% [-112.0%, -25.2%]: "stop for harm"."""
    project = load_project(make_project(tmp_path, EXPERIMENT))
    experiment = project.experiments["test"]
    revenue = Metric(name="revenue", type="mean", event="purchase", guardrail=True)
    roles: list[tuple[Metric, Role]] = [(project.metrics["ctr"], "primary"), (revenue, "guardrail")]
    arms = {
        "control": ArmSummary(
            n=500, sum=1910.5283547398046, sum_sq=427097.21224845946, n_nonzero=32
        ),
        "personal": ArmSummary(
            n=500, sum=599.8935072971371, sum_sq=31461.176532711437, n_nonzero=24
        ),
    }
    report = ab_report(experiment, roles, _few_buyers(arms))
    assert report.decision.verdict == "keep running"
    assert "too few units for a verdict on revenue" in report.decision.line
    result = report.metrics[1].results[0]
    assert result.outcome == "flat" and result.shortfall is not None
    assert "personal 24/30 non-zero" in result.shortfall
    assert math.isnan(result.chance_to_win) and math.isnan(result.expected_loss)
    assert report.metrics[1].note == "no verdict yet: personal 24/30 non-zero"
    # The withheld chance to win and expected loss print as "-", never as "nan%".
    assert "nan" not in to_html(report).lower() and "nan" not in to_text(report).lower()
    # The always-valid band is unbounded above: the chart runs it to its edge, not to "inf".
    assert math.isinf(report.series[1].points[0].sequential_high)
    assert re.search(r"\binf\b", to_html(report)) is None
    for estimate in (result.decision, result.fixed.relative, result.sequential.relative):
        assert estimate.ci_low >= -1.0
    # Without the minimum sample the test itself still finds no harm in an A/A pair.
    lenient = revenue.model_copy(update={"min_nonzero": 0})
    report = ab_report(experiment, [roles[0], (lenient, "guardrail")], _few_buyers(arms))
    assert report.decision.verdict == "keep running"
    assert not math.isnan(report.metrics[1].results[0].chance_to_win)


def test_the_metric_file_sets_the_minimum_sample(tmp_path: Path) -> None:
    """The strong effect of test_strong_effect_ships, with ctr asking for 3,000 units per arm."""
    project = make_project(tmp_path, EXPERIMENT)
    ctr = project / "metrics" / "ctr.yaml"
    ctr.write_text(ctr.read_text() + "min_units: 3000\n")
    write_ab_log(
        project / ".sameday" / "events.db",
        units=4000,
        rate={"control": 0.8, "personal": 1.1},
        seed=1,
    )
    report = build_report(load_project(project), "test")
    assert isinstance(report, ABReport)
    assert report.decision.verdict == "keep running"
    assert report.decision.line.startswith("keep running — too few units for a verdict on ctr")
    result = report.metrics[0].results[0]
    assert result.fixed.relative.p_value < 0.001 and result.outcome == "flat"
    assert result.shortfall is not None and "control 1,994/3,000 units" in result.shortfall


def test_no_ship_while_a_guardrail_lacks_its_minimum_sample(tmp_path: Path) -> None:
    """A winning primary metric does not ship while a guardrail cannot yet show harm."""
    project = make_project(tmp_path, EXPERIMENT)
    errors = project / "metrics" / "errors.yaml"
    errors.write_text(errors.read_text() + "min_nonzero: 5000\n")
    write_ab_log(
        project / ".sameday" / "events.db",
        units=4000,
        rate={"control": 0.8, "personal": 1.1},
        seed=1,
    )
    report = build_report(load_project(project), "test")
    assert isinstance(report, ABReport)
    assert report.metrics[0].results[0].outcome == "better"
    assert report.decision.verdict == "keep running"
    assert "too few units for a verdict on errors" in report.decision.line
