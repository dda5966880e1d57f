"""``sameday uplift``'s library functions: the whole analysis, and the targeted follow-up test.

:func:`uplift` reads an A/B test's units (:mod:`~sameday.analysis.uplift.data`), fits the three
learners (:mod:`~sameday.analysis.uplift.learners`), grades each ranking by its Qini and uplift
curves and its calibration (:mod:`~sameday.analysis.uplift.curves`), and learns the targeting rule
with its value (:mod:`~sameday.analysis.uplift.policy`). :func:`propose` writes the rule as a new
experiment: the same arms, served only to the units the rule selects, to confirm in a test of its
own what one test's data suggested (a rule found by searching is a hypothesis, not a result).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from scipy import stats

from sameday.analysis.phases import CURRENT, Scope, Selection
from sameday.analysis.uplift.curves import Calibration, Curves, calibration, curves
from sameday.analysis.uplift.data import check_design, load_units
from sameday.analysis.uplift.learners import LEARNERS, Settings, fit_scores
from sameday.analysis.uplift.policy import Policy, Value, learn_policy
from sameday.config.experiment import Experiment
from sameday.config.loader import Project, load_project
from sameday.errors import ConfigError, NotFound, Problem, UnsupportedAnalysis


@dataclass(frozen=True)
class LearnerResult:
    """One learner's ranking, graded."""

    name: str
    curves: Curves
    calibration: Calibration


@dataclass(frozen=True)
class UpliftReport:
    """Everything ``sameday uplift`` shows.

    Attributes:
        ate: the average effect (doubly-robust: the mean of the units' scores), with interval.
        learners: each learner's curves and calibration, in :data:`LEARNERS` order.
        best: the learner with the largest Qini area (the one whose ranking to use).
        policy: the targeting rule and its value against treating everyone or no one.
        notes: what the reader must know before acting on the numbers.
        timings: seconds per stage (``load``, ``fit``, ``grade``, ``policy``).
    """

    experiment: str
    metric: str
    outcome: str
    control: str
    arm: str
    units: int
    treated: int
    features: tuple[str, ...]
    ate: Value
    learners: tuple[LearnerResult, ...]
    best: str
    policy: Policy
    settings: Settings
    bootstrap: int
    alpha: float
    generated: str
    scope: Scope | None
    notes: tuple[str, ...]
    timings: dict[str, float]


def uplift(
    project: Project,
    name: str,
    *,
    metric: str | None = None,
    arm: str | None = None,
    events_url: str | None = None,
    selection: Selection = CURRENT,
    settings: Settings | None = None,
    bootstrap: int = 200,
) -> UpliftReport:
    """Fit uplift models on experiment ``name``'s logged dimensions and grade them.

    Args:
        project: the loaded project.
        name: an A/B experiment that declares ``dimensions``.
        metric: the outcome (default: the first primary metric); not a ratio metric.
        arm: the treatment arm compared with the control (default: the first treatment).
        events_url: the event log to read (default ``storage.events``).
        selection: the phase and time range (default: the whole current phase).
        settings: how the models are fitted (folds, seed, threads, ...).
        bootstrap: bootstrap replicates of the curves' intervals.

    Raises:
        NotFound: no such experiment, metric or arm, or the phase has no exposures.
        UnsupportedAnalysis: an interleaving or bandit experiment, no dimensions, a ratio
            metric or too few units.
        MissingDependency: scikit-learn (``pip install 'sameday[uplift]'``) is missing.
        StoreUnavailable: the event log cannot be read.
    """
    settings = settings or Settings()
    experiment = _experiment(project, name)
    check_design(experiment)
    chosen = _metric(project, experiment, metric)
    treatment = _arm(experiment, arm)
    alpha = experiment.plan.alpha
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with project.open_event_source(events_url) as source:
        data, scope = load_units(
            source, experiment, project.metrics[chosen], arm=treatment, selection=selection
        )
    timings["load"] = time.perf_counter() - started
    started = time.perf_counter()
    scores = fit_scores(data, settings)
    timings["fit"] = time.perf_counter() - started
    started = time.perf_counter()
    results = tuple(
        LearnerResult(
            learner,
            curves(
                scores.tau[learner],
                data.treated,
                data.y,
                seed=settings.seed,
                bootstrap=bootstrap,
                alpha=alpha,
            ),
            calibration(scores.tau[learner], data.treated, data.y, seed=settings.seed, alpha=alpha),
        )
        for learner in LEARNERS
    )
    timings["grade"] = time.perf_counter() - started
    started = time.perf_counter()
    policy = learn_policy(data, scores, seed=settings.seed, alpha=alpha)
    timings["policy"] = time.perf_counter() - started
    best = max(results, key=lambda r: r.curves.qini_area.point)
    z = float(stats.norm.ppf(1 - alpha / 2))
    half = z * float(scores.gamma.std(ddof=1)) / math.sqrt(data.units)
    mean = float(scores.gamma.mean())
    return UpliftReport(
        experiment=experiment.name,
        metric=chosen,
        outcome=data.outcome,
        control=data.control,
        arm=treatment,
        units=data.units,
        treated=int(data.treated.sum()),
        features=tuple(f.name for f in data.features),
        ate=Value(mean, mean - half, mean + half),
        learners=results,
        best=best.name,
        policy=policy,
        settings=settings,
        bootstrap=bootstrap,
        alpha=alpha,
        generated=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        scope=scope,
        notes=tuple(_notes(best, policy, scope)),
        timings=timings,
    )


def _experiment(project: Project, name: str) -> Experiment:
    if name not in project.experiments:
        raise NotFound(
            f"no experiment named {name!r} in {project.root}; "
            f"known: {', '.join(sorted(project.experiments)) or 'none'}"
        )
    return project.experiments[name]


def _metric(project: Project, experiment: Experiment, metric: str | None) -> str:
    if metric is None:
        if not experiment.metrics.primary:
            raise NotFound(
                f"experiment {experiment.name!r} has no primary metric: name the outcome "
                "with --metric"
            )
        metric = experiment.metrics.primary[0]
    if metric not in project.metrics:
        raise NotFound(
            f"no metric named {metric!r}; known: {', '.join(sorted(project.metrics)) or 'none'}"
        )
    return metric


def _arm(experiment: Experiment, arm: str | None) -> str:
    treatments = [a.name for a in experiment.arms[1:]]
    if arm is None:
        return treatments[0]
    if arm not in treatments:
        raise NotFound(
            f"{arm!r} is not a treatment arm of {experiment.name!r} "
            f"(the control is {experiment.arms[0].name!r}; treatments: {', '.join(treatments)})"
        )
    return arm


def _notes(best: LearnerResult, policy: Policy, scope: Scope | None) -> list[str]:
    notes = []
    if best.curves.qini_area.low <= 0:
        notes.append(
            f"even the best ranking ({best.name}) is not clearly better than chance: its Qini "
            "area's interval includes 0, so the data show no difference between units that "
            "the models can find; do not target on it"
        )
    if policy.condition is not None and policy.condition != {} and policy.gain_vs_all.low <= 0:
        notes.append(
            "targeting by the rule is not clearly better than treating everyone (the interval of "
            "its gain includes 0): confirm it in a targeted test before relying on it (--propose)"
        )
    notes.append(
        "curve intervals hold the fitted models fixed (a bootstrap of the units' outcomes); the "
        "rule was learned on one half of the units and valued on the other"
    )
    if scope is not None:
        notes.extend(scope.notes)
    return notes


def propose(
    project: Project, report: UpliftReport, *, name: str | None = None
) -> tuple[Path, dict[str, Any]]:
    """Write the follow-up experiment: the report's arms, served only to the rule's units.

    The file is a ``draft`` in ``experiments/`` (``NAME-targeted.yaml`` by default), with the
    rule as its ``targeting`` (GrowthBook syntax), the original's dimensions, metrics and plan,
    and a fresh hash seed (its own name), so that it re-randomises. It is checked by loading the
    project with it; a file that would not load is not left behind.

    Returns:
        The file written and the experiment as written.

    Raises:
        UnsupportedAnalysis: the rule treats everyone or no one: there is no segment to confirm.
        ConfigError: the file exists already, or the project does not load with it.
    """
    original = _experiment(project, report.experiment)
    condition = report.policy.condition
    if condition is None or condition == {}:
        who = "no one" if condition is None else "everyone"
        raise UnsupportedAnalysis(
            f"the targeting rule treats {who}: there is no segment to confirm in a targeted test"
            + ("; ship or stop the arm for all units instead" if condition == {} else "")
        )
    target = name or f"{original.name}-targeted"
    path = project.root / "experiments" / f"{target}.yaml"
    if path.exists():
        raise ConfigError(
            [Problem(path, None, None, "exists already: give another name with --name")]
        )
    arms = [a for a in original.arms if a.name in (report.control, report.arm)]
    gain = report.policy.gain_vs_none
    spec: dict[str, Any] = {
        "name": target,
        "description": f"Targeted follow-up of {original.name}, proposed by sameday uplift.",
        "hypothesis": f"{report.arm} raises {report.metric} for units where {report.policy.rule} "
        f"(estimated {gain.point:+.4g} per unit [{gain.low:+.4g}, {gain.high:+.4g}] over "
        f"serving {report.control} to all, on {report.policy.evaluation_units:,} units of "
        f"{original.name} held out from learning the rule)",
        "surface": original.surface,
        "design": "ab",
        "phase": "draft",
        "arms": [a.model_dump(mode="json", exclude_none=True) for a in arms],
        "targeting": condition,
        "dimensions": list(original.dimensions),
        "metrics": original.metrics.model_dump(mode="json"),
        "plan": original.plan.model_dump(mode="json", exclude_none=True),
    }
    header = (
        f"# Proposed by `sameday uplift {original.name} --propose` on {report.generated}.\n"
        "# It serves the test only to the units the targeting rule selects. Review the rule, then\n"
        "# `sameday validate` and `sameday plan`; set phase: running to start it. If the\n"
        f"# original test still runs on {original.surface}, put both in one layer first.\n"
    )
    path.write_text(header + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    try:
        load_project(project.root)
    except ConfigError:
        path.unlink()
        raise
    return path, spec
