"""Experiments: running and finished tests with their badges, each test's live report built
from the report's own renderers, the plan/apply diff, stopping and concluding, the wall.

Badges: the **sample ratio** comes from the event log's counts per arm (the status board's
check, three indexed queries); **guardrails** and **progress** to the planned power come from
the test's report, built in the background (:class:`~sameday.ui.state.ReportCache`) and shown
once it exists.

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
from sameday.deploy.apply import apply_project, plan_project
from sameday.deploy.plan import Change
from sameday.errors import NotFound
from sameday.monitor.status import ExperimentStatus, experiment_status
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
    built: Built | None
    report: str | None
    badges: Badges | None
    changes: list[Change]
    refusals: list[str]
    file: str | None


def badges(status: ExperimentStatus | None, built: Built | None) -> Badges:
    """The badges of a test from its traffic and (when built) its report."""
    srm = "n/a" if status is None else status.srm
    srm_tone = {"ok": "good", "mismatch": "bad"}.get(srm, "quiet")
    report = built.report if built is not None else None
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
    return Badges(
        srm,
        srm_tone,
        guardrails,
        guardrails_tone,
        progress,
        verdict,
        tone.get(verdict or "", "quiet"),
    )


def experiments_page(dash: Dashboard, phase: str | None) -> list[Row]:
    """Every experiment declared or applied, running first; badges for the running ones."""
    project = dash.project()
    applied = {o.name: o.spec for o in dash.meta.applied("experiment")}
    names = sorted(set(project.experiments) | set(applied))
    running = [e for e in project.experiments.values() if e.phase == "running"]
    statuses: dict[str, ExperimentStatus] = {}
    if running and phase in (None, "running"):
        sink = dash.event_sink()
        try:
            statuses = {e.name: experiment_status(e, sink, dash.now()) for e in running}
        finally:
            if sink is not None:
                sink.close()
    rows: list[Row] = []
    for name in names:
        declared = project.experiments.get(name)
        spec = applied.get(name)
        current = declared.phase if declared else "removed"
        if phase is not None and current != phase:
            continue
        rows.append(
            Row(
                name,
                declared.surface if declared else str(spec["surface"] if spec else ""),
                declared.design if declared else str(spec["design"] if spec else ""),
                current,
                str(spec["phase"]) if spec else None,
                badges(statuses.get(name), dash.reports.get(name)) if name in statuses else None,
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
    applied = {o.name: o.spec for o in dash.meta.applied("experiment")}
    if declared is None and name not in applied:
        known = ", ".join(sorted(project.experiments)) or "none"
        raise NotFound(f"no experiment named {name!r} (declared: {known})")
    status: ExperimentStatus | None = None
    built: Built | None = None
    if declared is not None:
        if declared.phase == "running":
            sink = dash.event_sink()
            try:
                status = experiment_status(declared, sink, dash.now())
            finally:
                if sink is not None:
                    sink.close()
        built = dash.reports.get(name)
    plan = plan_project(project, dash.meta)
    located = project.sources.get(("experiment", name))
    return ExperimentPage(
        name,
        declared,
        str(applied[name]["phase"]) if name in applied else None,
        status,
        built,
        report_html(built.report) if built is not None and built.report is not None else None,
        badges(status, built) if declared is not None and declared.phase == "running" else None,
        [c for c in plan.changes if c.kind == "experiment" and c.name == name],
        plan.refusals,
        str(located.file) if located is not None else None,
    )


def report_fragment(dash: Dashboard, name: str) -> Built | None:
    """The newest report of ``name`` (asking for a fresh one when due)."""
    return dash.reports.get(name)


def wall(dash: Dashboard) -> list[tuple[Experiment, ExperimentStatus, Built | None]]:
    """The running tests, each with its traffic and newest report, for the wall screen."""
    project = dash.project()
    running = sorted(
        (e for e in project.experiments.values() if e.phase == "running"), key=lambda e: e.name
    )
    if not running:
        return []
    sink = dash.event_sink()
    try:
        return [
            (e, experiment_status(e, sink, dash.now()), dash.reports.get(e.name)) for e in running
        ]
    finally:
        if sink is not None:
            sink.close()


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
