"""The terminal form of a report and its parts: each says its numbers; together, the text."""

from __future__ import annotations

from sameday.analysis.bandit_report import BanditReport
from sameday.analysis.interleaving_report import InterleavingReport
from sameday.analysis.report import ABReport, Report
from sameday.analysis.verdict import chance
from sameday.reports import text
from sameday.reports.format import interval, num, pct, share


def test_verdict_banner_is_the_decision_line(ab_report: ABReport) -> None:
    assert text.verdict_banner(ab_report) == ab_report.decision.line + "\n"


def test_long_lines_wrap_at_the_width(phased_report: ABReport) -> None:
    narrow = text.warnings_block(phased_report, width=60)
    assert max(len(line) for line in narrow.splitlines()) <= 60
    assert narrow.replace("\n", " ").split() == text.warnings_block(phased_report).split()


def test_srm_block_has_the_counts_and_the_test(ab_report: ABReport) -> None:
    srm = ab_report.srm
    assert srm is not None
    block = text.srm_block(ab_report)
    assert block.startswith("Sample ratio: ok — ") and f"p = {num(srm.p_value, '.3g')}" in block
    for arm, n in zip(ab_report.arms, srm.observed, strict=True):
        assert f"{arm} {n:,} (" in block


def test_metric_table_has_every_lift(ab_report: ABReport) -> None:
    table = text.metric_table(ab_report)
    assert "lift: relative; interval: always-valid" in table
    for metric in ab_report.metrics:
        for r in metric.results:
            row = next(line for line in table.splitlines() if line.split()[:1] == [metric.name])
            d = r.decision
            assert pct(d.point) in row and interval(d.ci_low, d.ci_high, pct) in row
            assert chance(r.chance_to_win) in row


def test_progress_block_has_the_plan(ab_report: ABReport) -> None:
    p = ab_report.progress
    assert p.planned_per_arm is not None
    block = text.progress_block(ab_report)
    assert f"of the planned {p.planned_per_arm:,} units per arm" in block
    assert block.endswith(f"Plan: {p.basis}\n")


def test_warnings_block_of_each_design(
    phased_report: ABReport, interleaving_report: InterleavingReport
) -> None:
    assert text.warnings_block(phased_report).count("warning: ") == len(phased_report.warnings)
    assert text.warnings_block(interleaving_report) == ""  # one phase: nothing left out


def test_interleaving_block_has_the_preference(interleaving_report: InterleavingReport) -> None:
    block = text.interleaving_block(interleaving_report)
    pair = interleaving_report.pairs[0]
    assert pair.users is not None
    assert block.startswith(f"{interleaving_report.impressions:,} impressions")
    assert f"{pair.impressions.wins_b:,} / {pair.impressions.wins_a:,}" in block
    assert share(pair.users.share_b) in block


def test_bandit_block_has_the_posteriors(bandit_report: BanditReport) -> None:
    block = text.bandit_block(bandit_report)
    for arm in bandit_report.summary.arms:
        row = next(line for line in block.splitlines() if line.split()[:1] == [arm.arm])
        assert f"{arm.trials:,}" in row and share(arm.probability_best) in row
    assert f"Estimated regret: {bandit_report.summary.regret:,.1f} rewards" in block


def test_the_parts_compose_the_text(
    ab_report: ABReport,
    phased_report: ABReport,
    interleaving_report: InterleavingReport,
    bandit_report: BanditReport,
) -> None:
    ab_parts = [text.srm_block, text.metric_table, text.progress_block, text.warnings_block]
    cases: list[tuple[Report, list[str]]] = [
        (ab_report, [p(ab_report) for p in ab_parts]),
        (phased_report, [p(phased_report) for p in ab_parts]),
        (interleaving_report, [text.interleaving_block(interleaving_report)]),
        (bandit_report, [text.bandit_block(bandit_report)]),
    ]
    for report, body in cases:
        head = f"{report.experiment} ({report.design})\n" + text.verdict_banner(report)
        scope = "" if report.scope is None else f"Analysed: {report.scope.line}\n"
        assert text.to_text(report) == head + scope + "".join(body)
