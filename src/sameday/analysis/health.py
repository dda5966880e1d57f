"""The ``health`` check: is each running A/B test still a fair test, and is it hurting anyone?

The monitors run it with their other checks (``sameday monitor run``, the Argo CronWorkflow,
``--every``). For every experiment *applied* as running under a design whose split is fixed
(``ab``) it reports:

- ``health.srm`` (subject: the experiment): the sequential sample-ratio test of the units per
  arm in the current phase against the weights
  (:mod:`~sameday.monitor.srm`), valid however often the monitors look;
  ``fail`` once it crosses ``health.srm_alpha``. The chi-square p-value rides along in the
  evidence, for comparison with the report.
- ``health.traffic`` (subject: ``experiment/arm``): an arm that got no new unit over the last
  ``health.quiet_after`` while the other arms got so many that this would happen by chance less
  than once in a million (``(1 - weight)^units``) has lost its traffic: ``fail``.
- ``health.guardrail`` (subject: ``experiment/metric/arm``): each guardrail of each treatment
  arm gets an always-valid interval of its relative lift (the report's confidence sequence,
  :mod:`~sameday.analysis.stats.sequential`, at ``health.guardrail_alpha`` split evenly across
  guardrails and arms); ``fail`` once the whole interval lies beyond the guardrail's
  ``health.max_harm`` on the harmful side. Below the metric's minimum sample it is ``learning``.

Every failure is ``critical``. An experiment with ``health.auto_stop`` is then stopped: its
applied phase becomes ``stopped`` and the decision and its evidence are recorded
(:meth:`~sameday.metadata.MetadataStore.stop_experiment`); servers serve the surface's default
from their next refresh. A stop not yet acknowledged (``phase: stopped`` in the experiment's
file, then ``sameday apply``) is reported as ``health.stopped``, so its incident stays open.

The check lives in ``analysis`` rather than ``monitor`` because it reads the experiment's
summaries and statistics; the registry finds it by name, so no lower layer imports it.
Interleaving and bandit tests are not checked: every interleaved unit sees every arm, and a
bandit moves its shares on purpose.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sameday import design_registry
from sameday.analysis.comparisons import compare, shortfall
from sameday.analysis.metric_sql import columns
from sameday.analysis.phases import CURRENT
from sameday.analysis.progress import progress
from sameday.analysis.report import metric_roles
from sameday.analysis.stats.frequentist import Comparison
from sameday.analysis.stats.sequential import halfwidth_arrays
from sameday.analysis.stats.srm import sample_ratio_check
from sameday.analysis.summaries import Summaries, summarise
from sameday.config.experiment import Experiment
from sameday.config.metric import Metric
from sameday.errors import NotFound, SamedayError, StatsInputError
from sameday.metadata import ExperimentStop
from sameday.monitor.check import Context, Finding
from sameday.monitor.srm import sequential_srm

if TYPE_CHECKING:
    from sameday.config.loader import Project
    from sameday.config.monitor import Monitor
    from sameday.events.sink import EventSink

QUIET_CHANCE = 1e-6
"""An arm without units is alarming once the others' units make that less likely than this."""


@dataclass(frozen=True)
class HealthCheck:
    """The findings of every running A/B test, and the stops of those that opted in."""

    name: str = "health"

    def evaluate(self, context: Context) -> list[Finding]:
        """Judge each applied running A/B test; stop those that fail and may stop."""
        applied = {
            o.name: Experiment.model_validate(o.spec)
            for o in context.metadata.applied("experiment")
        }
        findings = [
            stopped_finding(stop)
            for stop in _latest(context.metadata.experiment_stops(open_only=True))
            if stop.experiment in applied and applied[stop.experiment].phase == "stopped"
        ]
        running = [
            e
            for e in applied.values()
            if e.phase == "running" and design_registry.design(e.design).fixed_split
        ]
        if not running or not _log_exists(context.project):
            return findings
        with context.project.open_event_sink() as sink:
            for experiment in running:
                try:
                    judged = judge(context.project, experiment, sink, context.now)
                except SamedayError as exc:  # one broken test never hides the others
                    summary = f"{experiment.name}: health not checked: {exc}"
                    findings.append(
                        Finding("health.srm", experiment.name, "error", summary, "warning")
                    )
                    continue
                findings += act(context, experiment, judged)
        return findings


def judge(
    project: Project, experiment: Experiment, sink: EventSink, now: datetime
) -> list[Finding]:
    """The ``health.srm``, ``health.traffic`` and ``health.guardrail`` findings of one test."""
    roles = metric_roles(experiment, project.metrics)
    guardrails = [m for m, role in roles if role == "guardrail"]
    primary = [m for m, role in roles if role == "primary"][:1]
    arms = [a.name for a in experiment.arms]
    try:
        summaries = summarise(
            project.url(project.settings.storage.events),
            experiment.name,
            [*primary, *guardrails],
            arms=arms,
            phase=(experiment, CURRENT),
        )
    except NotFound:
        summary = f"{experiment.name}: no exposures in its current phase yet"
        return [Finding("health.srm", experiment.name, "learning", summary, "info")]
    counts = dict(zip(summaries.arms, summaries.unit_counts(), strict=True))
    findings = [srm_finding(experiment, [counts.get(a, 0) for a in arms])]
    window = sink.count_exposures(
        experiment.name, since=now.timestamp() - experiment.health.quiet_after
    )
    findings += traffic_findings(experiment, {arm: c.units for arm, c in window.items()})
    findings += guardrail_findings(experiment, summaries, primary, guardrails)
    return findings


def srm_finding(experiment: Experiment, units: Sequence[int]) -> Finding:
    """``health.srm``: the sequential test of ``units`` per arm against the weights."""
    name, weights = experiment.name, experiment.weights
    test = sequential_srm(units, weights, alpha=experiment.health.srm_alpha)
    total = sum(units)
    evidence: dict[str, Any] = {
        "arms": [a.name for a in experiment.arms],
        "units": list(units),
        "weights": list(test.weights),
        "shares": [round(s, 6) for s in test.observed_shares] if total else [],
        "log_bayes_factor": round(test.log_bayes_factor, 6),
        "p_value": test.p_value,
        "alpha": test.alpha,
        "chi_square_p": sample_ratio_check(units, weights).p_value if total else 1.0,
    }
    split = " / ".join(
        f"{arm.name} {n:,}" + (f" ({n / total:.1%}, expected {w:.1%})" if total else "")
        for arm, n, w in zip(experiment.arms, units, test.weights, strict=True)
    )
    if total == 0:
        return Finding("health.srm", name, "learning", f"{name}: no units yet", "info", evidence)
    if test.mismatch:
        summary = (
            f"{name}: sample ratio mismatch: {split}; always-valid p {test.p_value:.2g} <= "
            f"{test.alpha:g} (sequential test, valid at every check): assignment or logging "
            "is broken and every lift is biased"
        )
        return Finding("health.srm", name, "fail", summary, "critical", evidence)
    summary = f"{name}: units per arm as configured ({split}; always-valid p {test.p_value:.2g})"
    return Finding("health.srm", name, "ok", summary, "info", evidence)


def traffic_findings(experiment: Experiment, window: dict[str, int]) -> list[Finding]:
    """``health.traffic``: each arm's new units over the last ``quiet_after``."""
    name = experiment.name
    total = sum(window.get(a.name, 0) for a in experiment.arms)
    span = _duration(experiment.health.quiet_after)
    findings = []
    for arm, weight in zip(experiment.arms, experiment.weights, strict=True):
        subject = f"{name}/{arm.name}"
        got = window.get(arm.name, 0)
        evidence = {"arm": arm.name, "units": got, "all_arms": total, "weight": weight}
        evidence["window_seconds"] = experiment.health.quiet_after
        if got > 0 or weight == 0:
            summary = f"{subject}: {got:,} units in the last {span}"
            findings.append(Finding("health.traffic", subject, "ok", summary, "info", evidence))
            continue
        chance = (1.0 - weight) ** total
        evidence["chance"] = chance
        if chance >= QUIET_CHANCE:
            summary = f"{subject}: no units in the last {span}, but too little traffic to judge"
            learning = Finding("health.traffic", subject, "learning", summary, "info", evidence)
            findings.append(learning)
            continue
        summary = (
            f"{subject}: no units in the last {span} while the other arms got {total:,} "
            f"(it should get {weight:.0%}: chance {chance:.1g}): the arm lost its traffic"
        )
        findings.append(Finding("health.traffic", subject, "fail", summary, "critical", evidence))
    return findings


def guardrail_findings(
    experiment: Experiment,
    summaries: Summaries,
    primary: Sequence[Metric],
    guardrails: Sequence[Metric],
) -> list[Finding]:
    """``health.guardrail``: an always-valid interval of each guardrail's lift, per arm."""
    control, *treatments = [a.name for a in experiment.arms]
    tests = max(1, len(guardrails) * len(treatments))
    alpha = experiment.health.guardrail_alpha or experiment.plan.alpha
    level = alpha / tests
    counts = [summaries.total(primary[0].name, a).n if primary else 0 for a in summaries.arms]
    tuning = progress(
        experiment.plan,
        metric_type=primary[0].type if primary else None,
        control=summaries.total(primary[0].name, control) if primary else None,
        arms=len(experiment.arms),
        counts=counts,
        days=len(summaries.days),
    ).n_star
    findings = []
    for metric in guardrails:
        for arm in treatments:
            findings.append(_guardrail(experiment, summaries, metric, control, arm, level, tuning))
    return findings


def _guardrail(
    experiment: Experiment,
    summaries: Summaries,
    metric: Metric,
    control: str,
    arm: str,
    level: float,
    n_star: float,
) -> Finding:
    subject = f"{experiment.name}/{metric.name}/{arm}"
    limit = experiment.health.max_harm.get(metric.name, 0.0)
    pair = {control: summaries.total(metric.name, control), arm: summaries.total(metric.name, arm)}
    evidence: dict[str, Any] = {"metric": metric.name, "arm": arm, "max_harm": limit}
    evidence |= {"alpha": level, "direction": metric.direction}
    missing = shortfall(metric, pair)
    if missing is not None:
        return Finding("health.guardrail", subject, "learning", f"{subject}: {missing}", "info",
                       evidence)  # fmt: skip
    method = columns([metric])[0].kind
    try:
        fixed = compare(method, pair[control], pair[arm], level, nonnegative=metric.nonnegative)
    except StatsInputError as exc:
        return Finding("health.guardrail", subject, "learning", f"{subject}: {exc}", "info",
                       evidence)  # fmt: skip
    n = fixed.n_control + fixed.n_treatment
    low, high = relative_sequence(fixed, n_star=n_star, alpha=level)
    lift = fixed.relative.point
    evidence |= {"lift": lift, "low": low, "high": high, "control": fixed.control,
                 "treatment": fixed.treatment, "units": n, "n_star": n_star}  # fmt: skip
    harmed = high < -limit if metric.direction == "increase" else low > limit
    interval = f"lift {_pct(lift)}, always-valid interval [{_pct(low)}, {_pct(high)}]"
    if not harmed or math.isnan(lift):
        summary = f"{subject}: not harmed beyond {limit:.1%} ({interval})"
        return Finding("health.guardrail", subject, "ok", summary, "info", evidence)
    worse = "lower" if metric.direction == "increase" else "higher"
    summary = (
        f"{subject}: guardrail harmed: {metric.name} is surely more than {limit:.1%} {worse} "
        f"than in {control} ({interval}, level {level:.2g})"
    )
    return Finding("health.guardrail", subject, "fail", summary, "critical", evidence)


def relative_sequence(fixed: Comparison, *, n_star: float, alpha: float) -> tuple[float, float]:
    """The always-valid interval of the relative lift of ``fixed`` at level ``alpha``: Fieller's
    interval with the confidence sequence's multiplier, as the report's sequential column."""
    n = fixed.n_control + fixed.n_treatment
    return fixed.ratio.interval(float(halfwidth_arrays(1.0, n, n_star=n_star, alpha=alpha)))


def act(context: Context, experiment: Experiment, findings: list[Finding]) -> list[Finding]:
    """``findings`` of a test, and its stop when one failed and the test opted in."""
    failing = [f for f in findings if f.status == "fail"]
    if not failing or not experiment.health.auto_stop:
        return findings
    cause = failing[0]
    evidence = {
        "subject": cause.subject,
        **dict(cause.evidence),
        "failing": [{"check": f.monitor, "subject": f.subject, "summary": f.summary}
                    for f in failing],
    }  # fmt: skip
    stop = context.metadata.stop_experiment(
        experiment.name, cause=cause.monitor, summary=cause.summary, evidence=evidence
    )
    if stop is None:  # an apply or another pass changed it first
        return findings
    return [*findings, stopped_finding(stop)]


def stopped_finding(stop: ExperimentStop) -> Finding:
    """``health.stopped``: a stop that waits for a person to acknowledge it."""
    summary = (
        f"{stop.experiment} was stopped by its health check at {stop.stopped_at:%Y-%m-%d %H:%M} "
        f"UTC: {stop.summary}. Its surface serves its default. Fix the cause, then set "
        "'phase: stopped' in its file and apply to acknowledge"
    )
    evidence = {"stop_id": stop.id, "cause": stop.cause, "stopped_at": stop.stopped_at.isoformat()}
    return Finding("health.stopped", stop.experiment, "fail", summary, "critical", evidence)


def _latest(stops: list[ExperimentStop]) -> list[ExperimentStop]:
    """The newest stop of each experiment (``stops`` come newest first)."""
    newest: dict[str, ExperimentStop] = {}
    for stop in stops:
        newest.setdefault(stop.experiment, stop)
    return list(newest.values())


def _log_exists(project: Project) -> bool:
    """False for a SQLite event log that was never written (nothing to judge, nothing made)."""
    url = project.url(project.settings.storage.events)
    return not url.startswith("sqlite:///") or Path(url.removeprefix("sqlite:///")).exists()


def _pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:+.1%}"


def _duration(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    return f"{seconds / 60:g}m" if seconds % 60 == 0 else f"{seconds:g}s"


def builtin_checks(project: Project, monitor: Monitor) -> list[HealthCheck]:
    """The ``health`` check (its settings are each experiment's ``health`` section)."""
    return [HealthCheck()]
