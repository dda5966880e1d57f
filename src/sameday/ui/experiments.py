"""Experiments: running and finished tests with their badges, each test's live report built
from the report's own renderers, the plan/apply diff, stopping and concluding, the wall.

Badges: the **sample ratio** comes from the event log's counts per arm (the status board's
check); **guardrails** and **progress** to the planned power come from the test's report. Both
are computed in the background (:class:`~sameday.ui.state.Background`) and shown once they
exist; the list shows the reports built last (a test's page or the wall asks for fresh ones:
the list alone never makes the machine rebuild every running test's report). The plan/apply
diff compares the experiment's file with its applied spec alone; apply itself, when an action
runs it, checks the whole project.

Stopping and concluding change the experiment's file, as a person would (``phase: stopped``;
``phase: concluded`` with ``winner: ARM``), then apply the project as ``sameday apply`` does.
The project files stay the truth: the change shows in ``git diff`` and is committed like any
other. If apply refuses, the file is put back as it was and the refusal is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sameday.analysis.bandit_report import BanditReport
from sameday.analysis.interleaving_report import InterleavingReport
from sameday.analysis.report import ABReport, Report
from sameday.config.experiment import Experiment
from sameday.deploy.apply import apply_project
from sameday.deploy.plan import Change, make_plan
from sameday.errors import NotFound
from sameday.monitor.status import ExperimentStatus
from sameday.reports import html
from sameday.ui.state import Built, Dashboard

PHASE_ORDER = {"running": 0, "stopped": 1, "draft": 2, "concluded": 3}


@dataclass(frozen=True)
class Badges:
    """What a glance should tell of a test: sample ratio, guardrails, progress."""

    srm: str
    srm_tone: str
    guardrails: str | None
    guardrails_tone: str
    progress: float | None
    verdict: str | None
    verdict_tone: str


@dataclass(frozen=True)
class Row:
    """One experiment in the list: as declared, as applied, and how it stands."""

    name: str
    surface: str
    design: str
    phase: str
    applied_phase: str | None
    badges: Badges | None


@dataclass(frozen=True)
class ExperimentPage:
    """One experiment: its spec, traffic, report, pending changes and possible actions."""

    name: str
    experiment: Experiment | None
    applied_phase: str | None
    status: ExperimentStatus | None
    built: Built[Report] | None
    report: str | None
    badges: Badges | None
    changes: list[Change]
    refusals: list[str]
    file: str | None


def badges(status: ExperimentStatus | None, built: Built[Report] | None) -> Badges:
    """The badges of a test from its traffic and (when built) its report."""
    srm = "counting…" if status is None else status.srm
    srm_tone = {"ok": "good", "mismatch": "bad"}.get(srm, "quiet")
    report = built.value if built is not None else None
    guardrails: str | None = None
    guardrails_tone = "quiet"
    progress: float | None = None
    if isinstance(report, ABReport):
        guards = [m for m in report.metrics if m.role == "guardrail"]
        worse = [m.name for m in guards if any(r.outcome == "worse" for r in m.results)]
        if guards:
            guardrails = f"guardrail worse: {', '.join(worse)}" if worse else "guardrails ok"
            guardrails_tone = "bad" if worse else "good"
        progress = report.progress.share
    verdict = report.decision.verdict if report is not None else None
    tone = {"ship": "good", "stop for harm": "bad", "invalid: sample ratio mismatch": "bad"}
    verdict_tone = tone.get(verdict or "", "quiet")
    return Badges(srm, srm_tone, guardrails, guardrails_tone, progress, verdict, verdict_tone)


def traffic_of(dash: Dashboard, name: str) -> ExperimentStatus | None:
    """A running experiment's counts as last computed in the background (``None`` until then)."""
    built = dash.traffic.get(name)
    return built.value if built is not None else None


def experiments_page(dash: Dashboard, phase: str | None) -> list[Row]:
    """Every experiment declared or applied, running first; badges for the running ones."""
    project = dash.project()
    applied = dash.meta.applied_field("experiment", "phase")
    names = sorted(set(project.experiments) | set(applied))
    rows: list[Row] = []
    for name in names:
        declared = project.experiments.get(name)
        current = declared.phase if declared else "removed"
        if phase is not None and current != phase:
            continue
        running = declared is not None and declared.phase == "running"
        rows.append(
            Row(
                name,
                declared.surface if declared else "",
                declared.design if declared else "",
                current,
                applied.get(name),
                badges(traffic_of(dash, name), dash.reports.peek(name)) if running else None,
            )
        )
    return sorted(rows, key=lambda r: (PHASE_ORDER.get(r.phase, 9), r.name))


def report_html(report: Report) -> str:
    """The report's parts, drawn by the report's own renderers."""
    if isinstance(report, ABReport):
        return (
            html.verdict_banner(report)
            + html.warnings_block(report)
            + html.srm_block(report)
            + html.progress_block(report)
            + html.metric_table(report)
            + html.lift_chart(report)
        )
    if isinstance(report, InterleavingReport):
        return (
            html.verdict_banner(report)
            + html.warnings_block(report)
            + html.interleaving_block(report)
        )
    assert isinstance(report, BanditReport)
    return html.verdict_banner(report) + html.warnings_block(report) + html.bandit_block(report)


def experiment_page(dash: Dashboard, name: str) -> ExperimentPage:
    """The page of experiment ``name``.

    Raises:
        NotFound: it is neither declared nor applied.
    """
    project = dash.project()
    declared = project.experiments.get(name)
    applied = dash.meta.applied_object("experiment", name)
    if declared is None and applied is None:
        known = ", ".join(sorted(project.experiments)[:20]) or "none"
        raise NotFound(f"no experiment named {name!r} (declared: {known})")
    running = declared is not None and declared.phase == "running"
    status = traffic_of(dash, name) if running else None
    built = dash.reports.get(name) if declared is not None else None
    plan = make_plan(
        {("experiment", name): applied.spec} if applied is not None else {},
        {("experiment", name): declared.model_dump(mode="json")} if declared is not None else {},
    )
    located = project.sources.get(("experiment", name))
    return ExperimentPage(
        name,
        declared,
        str(applied.spec.get("phase")) if applied is not None else None,
        status,
        built,
        report_html(built.value) if built is not None and built.value is not None else None,
        badges(status, built) if running else None,
        plan.changes,
        plan.refusals,
        _relative(Path(located.file), project.root) if located is not None else None,
    )


def _relative(path: Path, root: Path) -> str:
    """``path`` as written from the project's folder, when it is inside it."""
    try:
        return str(path.relative_to(root)) if path.is_absolute() else str(path)
    except ValueError:
        return str(path)


def report_fragment(dash: Dashboard, name: str) -> Built[Report] | None:
    """The newest report of ``name`` (asking for a fresh one when due)."""
    return dash.reports.get(name)


@dataclass(frozen=True)
class Slide:
    """One running test on the wall: which of how many, its counts and its report."""

    experiment: Experiment
    index: int
    count: int
    status: ExperimentStatus | None
    report: Built[Report] | None


def wall(dash: Dashboard, index: int) -> Slide | None:
    """The ``index``-th running test (modulo their number), or ``None`` when none runs."""
    project = dash.project()
    running = sorted(
        (e for e in project.experiments.values() if e.phase == "running"), key=lambda e: e.name
    )
    if not running:
        return None
    chosen = running[index % len(running)]
    following = running[(index + 1) % len(running)].name
    dash.reports.get(following)  # the next slide's report is built while this one shows
    return Slide(
        chosen,
        index % len(running),
        len(running),
        traffic_of(dash, chosen.name),
        dash.reports.get(chosen.name),
    )


_PHASE = re.compile(r"^phase:[ \t]*([^#\n]*?)([ \t]*#.*)?$", re.MULTILINE)
_WINNER = re.compile(r"^winner:[ \t]*([^#\n]*?)([ \t]*#.*)?\n?", re.MULTILINE)


def with_phase(text: str, phase: str, winner: str | None) -> str:
    """The YAML ``text`` of an experiment file with its top-level ``phase`` (and ``winner``)
    set, every other line (comments too) as it was."""
    text = _WINNER.sub("", text)
    line = f"phase: {phase}" + (f"\nwinner: {winner}" if winner else "")
    if _PHASE.search(text):
        return _PHASE.sub(lambda m: line + (m.group(2) or ""), text, count=1)
    return text.rstrip("\n") + "\n" + line + "\n"


def change_phase(dash: Dashboard, name: str, phase: str, winner: str | None = None) -> Path:
    """Set experiment ``name``'s phase in its file and apply the project; return the file.

    Raises:
        NotFound: no such experiment, or ``winner`` is not one of its arms.
        ApplyRefused: apply refused the change (the file is restored).
        ConfigError: the edited file does not load (the file is restored).
    """
    project = dash.reload()
    experiment = project.experiments.get(name)
    located = project.sources.get(("experiment", name))
    if experiment is None or located is None:
        known = ", ".join(sorted(project.experiments)) or "none"
        raise NotFound(f"no experiment named {name!r} in the project files (declared: {known})")
    arms = [a.name for a in experiment.arms]
    if phase == "concluded" and winner not in arms:
        raise NotFound(f"{winner!r} is not an arm of {name!r} (arms: {', '.join(arms)})")
    path = project.path(str(located.file))
    before = path.read_text(encoding="utf-8")
    path.write_text(with_phase(before, phase, winner), encoding="utf-8")
    try:
        apply_project(dash.reload(), dash.meta)
    except BaseException:
        path.write_text(before, encoding="utf-8")
        dash.reload()
        raise
    dash.reports.forget(name)
    return path
