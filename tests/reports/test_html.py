"""The HTML page and its text siblings as a reader meets them: no ``nan``, a glossary, phases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sameday.analysis.report import Report, build_report
from sameday.config import load_project
from sameday.events import Exposure, SQLiteSink
from sameday.reports.html import to_html
from sameday.reports.text import to_dict, to_text
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
