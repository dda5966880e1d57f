"""The HTML page and each of its parts as a reader meets them: no ``nan``, a glossary, phases."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

import pytest

from sameday.analysis.bandit_report import BanditReport
from sameday.analysis.interleaving_report import InterleavingReport
from sameday.analysis.report import ABReport, Report, build_report
from sameday.analysis.verdict import chance
from sameday.config import load_project
from sameday.events import Exposure, SQLiteSink
from sameday.reports import html as parts
from sameday.reports.data import to_dict
from sameday.reports.format import interval, num, pct, share
from sameday.reports.glossary import glossary
from sameday.reports.html import to_html
from sameday.reports.text import to_text
from tests.analysis._logs import EXPERIMENT, START, make_project, write_ab_log

ARMS = """arms:
  - {name: control, result_set: popular}
  - {name: personal, result_set: personal}
"""
DESIGNS = {
    "ab": EXPERIMENT,
    "interleave": f"surface: home\ndesign: interleave\n{ARMS}",
    "bandit": f"surface: home\ndesign: bandit\n{ARMS}",
}


def _exposures(path: Path, design: str, arms: tuple[str, ...], units: int) -> None:
    """Exposures only: no outcome at all, so every rate, share and lift has a zero in it."""
    sink = SQLiteSink(path)
    try:
        sink.write_exposures(
            [
                Exposure(
                    request_id=f"r{u}",
                    time=START + u,
                    unit=f"u{u}",
                    surface="home",
                    items=("a", "b"),
                    experiment="test",
                    arm="interleaved" if design == "interleave" else arms[u % len(arms)],
                    design=design,
                    teams=("control", "personal") if design == "interleave" else None,
                )
                for u in range(units)
            ]
        )
    finally:
        sink.close()


def _report(tmp_path: Path, design: str, arms: tuple[str, ...], units: int) -> Report:
    project = make_project(tmp_path / f"{design}-{len(arms)}-{units}", DESIGNS[design])
    (project / ".sameday").mkdir(exist_ok=True)
    _exposures(project / ".sameday" / "events.db", design, arms, units)
    return build_report(load_project(project), "test")


def _undefined(text: str) -> list[str]:
    return re.findall(r"(?i)\bnan\b|nan%|\binf\b|inf%", text)


@pytest.mark.parametrize(
    ("design", "arms", "units"),
    [
        ("ab", ("control",), 40),  # one arm empty: no lift can be computed
        ("ab", ("control", "personal"), 40),  # no outcomes: every control value is zero
        ("ab", ("control",), 0),  # nothing logged yet
        ("interleave", (), 30),  # impressions without clicks
        ("interleave", (), 0),
        ("bandit", ("control",), 30),  # an arm never pulled
        ("bandit", (), 0),
    ],
)
def test_no_nan_in_any_format(
    tmp_path: Path, design: str, arms: tuple[str, ...], units: int
) -> None:
    report = _report(tmp_path, design, arms, units)
    for form in (to_text(report), to_html(report), str(to_dict(report))):
        assert _undefined(form) == [], form


@pytest.mark.parametrize(
    ("design", "terms"),
    [
        ("ab", ["lift", "always-valid interval", "chance to win", "sample ratio", "phase"]),
        ("interleave", ["user share", "impression share", "phase"]),
        ("bandit", ["P(best)", "regret", "reward rate", "phase"]),
    ],
)
def test_glossary_explains_the_terms_of_the_page(
    tmp_path: Path, design: str, terms: list[str]
) -> None:
    page = to_html(_report(tmp_path, design, ("control", "personal"), 20))
    glossary = page.split("<h2>Glossary</h2>")[1]
    for term in terms:
        assert f"<dt>{term}</dt><dd>" in glossary
    assert "user share" not in glossary or design == "interleave"


def test_interleaving_states_each_share_once(tmp_path: Path) -> None:
    from tests.analysis.test_designs import ARMS as DESIGN_ARMS
    from tests.analysis.test_designs import _interleaved

    project = make_project(tmp_path, f"surface: home\ndesign: interleave\n{DESIGN_ARMS}")
    _interleaved(project / ".sameday" / "events.db", click_b=0.25, seed=1)
    report = build_report(load_project(project), "test")
    page = to_html(report)
    users = report.pairs[0].users  # type: ignore[union-attr]
    assert users is not None
    assert f"{users.share_b:.1%}" in page
    # The same fact as an offset from one half ("+7.6%") is not printed anywhere.
    assert f"{users.share_b - 0.5:+.1%}" not in page and "one half" not in page
    assert ">no preference</text>" in page and ">50%</text>" in page


def test_ab_page_one_day_of_data(tmp_path: Path) -> None:
    project = make_project(tmp_path, EXPERIMENT)
    write_ab_log(
        project / ".sameday" / "events.db",
        units=800,
        rate={"control": 0.8, "personal": 1.0},
        days=1,
        seed=4,
    )
    page = to_html(build_report(load_project(project), "test"))
    assert page.count("<figcaption>One day of data so far (2023-12-09") == 4  # one per metric
    assert "<polyline" not in page and '<rect class="band"' in page
    assert "units a day over 1 day;" in page


# The parts a page is made of, each embeddable on its own (a dashboard shows one of them).


def _fragment(html: str) -> None:
    """A fragment to embed: markup, but no document around it."""
    assert html.startswith("<") and html.endswith(">")
    for wrapper in ("<!DOCTYPE", "<html", "<head", "<body", "<main", "<style", "<script"):
        assert wrapper not in html


def test_verdict_banner_is_the_decision_in_its_tone(ab_report: ABReport) -> None:
    banner = parts.verdict_banner(ab_report)
    _fragment(banner)
    assert banner == f'<div class="verdict ship">{escape(ab_report.decision.line)}</div>'


def test_srm_block_has_the_test_and_the_shares(ab_report: ABReport) -> None:
    srm = ab_report.srm
    assert srm is not None
    block = parts.srm_block(ab_report)
    _fragment(block)
    assert f"p = {num(srm.p_value, '.3g')}" in block and f"{srm.df} df" in block
    for arm, observed in zip(ab_report.arms, srm.observed_shares, strict=True):
        assert f"{arm} {share(observed, 1)} (planned 50%)" in block


def test_progress_block_has_the_plan(ab_report: ABReport) -> None:
    p = ab_report.progress
    assert p.planned_per_arm is not None and p.share is not None
    block = parts.progress_block(ab_report)
    _fragment(block)
    assert f"{p.share:.0%} of the planned {p.planned_per_arm:,} units per arm" in block


def test_metric_table_has_every_lift_and_interval(ab_report: ABReport) -> None:
    table = parts.metric_table(ab_report)
    _fragment(table)
    assert table.count("<tr>") == 1 + sum(1 + len(m.results) for m in ab_report.metrics)
    for metric in ab_report.metrics:
        assert f"<td>{metric.name}</td>" in table
        for r in metric.results:
            d = r.decision
            assert f"<td class='{r.outcome}'>{pct(d.point)}</td>" in table
            assert interval(d.ci_low, d.ci_high, pct) in table
            assert f"<td>{chance(r.chance_to_win)}</td>" in table


def test_lift_chart_draws_each_metric_and_arm(ab_report: ABReport) -> None:
    chart = parts.lift_chart(ab_report)
    _fragment(chart)
    assert chart.count("<figure>") == len(ab_report.series) == len(ab_report.metrics)
    for series in ab_report.series:
        last = series.points[-1]
        assert f"<h3>{series.metric}: {series.arm} vs control</h3>" in chart
        assert f"lift {pct(last.lift, 1)}, always-valid interval" in chart


def test_warnings_block_lists_what_the_analysis_leaves_out(phased_report: ABReport) -> None:
    block = parts.warnings_block(phased_report)
    _fragment(block)
    assert block.count('<p class="verdict invalid">') == len(phased_report.warnings) >= 1
    assert "phase 0 (300 units)" in block


def test_interleaving_block_has_the_preference(interleaving_report: InterleavingReport) -> None:
    block = parts.interleaving_block(interleaving_report)
    _fragment(block)
    pair = interleaving_report.pairs[0]
    assert pair.users is not None
    assert f"{interleaving_report.impressions:,} impressions" in block
    assert f"<td>{pair.impressions.wins_b:,} / {pair.impressions.wins_a:,}</td>" in block
    assert f"<td>{share(pair.users.share_b)}</td>" in block


def test_bandit_block_has_the_posteriors_and_allocation(bandit_report: BanditReport) -> None:
    block = parts.bandit_block(bandit_report)
    _fragment(block)
    for arm in bandit_report.summary.arms:
        assert f"<td>{escape(arm.arm)}</td><td>{arm.trials:,}</td>" in block
        assert f"<td>{share(arm.probability_best)}</td>" in block
    assert f"Estimated regret: {num(bandit_report.summary.regret, ',.1f')}" in block
    assert "Allocation of pulls over time" in block


def test_the_parts_compose_the_page(
    ab_report: ABReport,
    phased_report: ABReport,
    interleaving_report: InterleavingReport,
    bandit_report: BanditReport,
) -> None:
    """Each page is its parts in order, between the page's head and its glossary."""
    ab_parts = [parts.srm_block, parts.progress_block, parts.metric_table, parts.lift_chart]
    cases: list[tuple[Report, list[str]]] = [
        (ab_report, [p(ab_report) for p in ab_parts]),
        (phased_report, [p(phased_report) for p in [parts.warnings_block, *ab_parts]]),
        (interleaving_report, [parts.interleaving_block(interleaving_report)]),
        (bandit_report, [parts.bandit_block(bandit_report)]),
    ]
    for report, body in cases:
        page = to_html(report)
        head, _, rest = page.partition(parts.verdict_banner(report))
        assert head.endswith("</div>") and rest
        assert "".join(body) + glossary(report.design) + "</main>" in rest
        assert parts.stylesheet() in head and parts.tooltip_script() in rest
