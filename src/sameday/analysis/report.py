"""``sameday report``'s library function: an experiment's analysis, from the event log to a verdict.

:func:`build_report` loads the experiment and its metrics from the project, reads the event log
(``storage.events``, or another log given explicitly) and asks the experiment's design
(:mod:`sameday.designs`, found by name in :mod:`sameday.design_registry`) for the report: an
A/B test gets :class:`ABReport` (:func:`ab_report`, which works on summaries alone, so it can be
fed summaries from anywhere), an interleaving test
:class:`~sameday.analysis.interleaving_report.InterleavingReport`, a bandit
:class:`~sameday.analysis.bandit_report.BanditReport`. Every report is a :class:`Report`: it has
a ``decision`` with the one-line verdict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import Field, dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from sameday import design_registry
from sameday.analysis.metric_sql import columns
from sameday.analysis.phases import CURRENT, Scope, Selection
from sameday.errors import NotFound, UnsupportedAnalysis

if TYPE_CHECKING:
    # The statistics (numpy, scipy.special) are imported by ab_report, once the summaries are
    # computed: a report's DuckDB queries run while a thread imports them (analysis.preload).
    from sameday.analysis.comparisons import MetricResult, Role
    from sameday.analysis.progress import Progress
    from sameday.analysis.segments import SegmentEffects
    from sameday.analysis.series import LiftSeries
    from sameday.analysis.stats.srm import SampleRatioCheck
    from sameday.analysis.summaries import Summaries
    from sameday.analysis.verdict import Decision
    from sameday.config.experiment import Experiment
    from sameday.config.loader import Project
    from sameday.config.metric import Metric


AB_STATISTICS = (
    "sameday.analysis.comparisons",
    "sameday.analysis.progress",
    "sameday.analysis.segments",
    "sameday.analysis.series",
    "sameday.analysis.stats.srm",
    "sameday.analysis.verdict",
)
"""What :func:`ab_report` imports: some twenty dataclasses, 0.03 s of CPU, worth loading on the
preload thread while the queries run (:meth:`sameday.designs.ab.AB.report`)."""


@dataclass(frozen=True)
class Breakdown:
    """A metric's value for one arm within one value of a dimension."""

    dimension: str
    value: str
    metric: str
    arm: str
    n: int
    mean: float


@dataclass(frozen=True)
class ABReport:
    """Everything ``sameday report`` shows for an A/B test; ``decision.line`` is the verdict."""

    experiment: str
    design: str
    generated: str
    control: str
    arms: tuple[str, ...]
    alpha: float
    sequential: bool
    first_day: str | None
    last_day: str | None
    srm: SampleRatioCheck | None
    metrics: tuple[MetricResult, ...]
    series: tuple[LiftSeries, ...]
    progress: Progress
    decision: Decision
    breakdown: tuple[Breakdown, ...]
    warnings: tuple[str, ...]
    scope: Scope | None = None
    segments: tuple[SegmentEffects, ...] = ()


class Report(Protocol):
    """What every design's report is: a dataclass naming its experiment and design, when it
    was generated, the verdict, what it analysed, and what to know before trusting it."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    @property
    def experiment(self) -> str:
        """The experiment's name."""
        ...

    @property
    def design(self) -> str:
        """The experiment's design (its renderers are that design's)."""
        ...

    @property
    def generated(self) -> str:
        """When the report was built, ISO 8601 UTC."""
        ...

    @property
    def decision(self) -> Decision:
        """The verdict."""
        ...

    @property
    def scope(self) -> Scope | None:
        """The phase and time range analysed."""
        ...

    @property
    def warnings(self) -> Sequence[str]:
        """What the reader must know before trusting the numbers."""
        ...


def build_report(
    project: Project,
    name: str,
    *,
    events_url: str | None = None,
    dimensions: Sequence[str] = (),
    selection: Selection = CURRENT,
    by: Sequence[str] = (),
) -> Report:
    """Analyse experiment ``name`` of ``project``.

    Args:
        project: the loaded project.
        name: the experiment's name.
        events_url: the event log to read (default ``storage.events``); ``parquet:///folder``
            reads an exported log.
        dimensions: keys of the exposures' ``extra`` to break metrics down by.
        selection: the phase (default: the current one) and time range to analyse.
        by: dimensions to give segment effects for (:mod:`sameday.analysis.segments`):
            ``surface`` or dimensions the experiment declares; A/B tests only.

    Raises:
        NotFound: no such experiment, a metric it names is not defined, the selected phase
            has no exposures, or ``by`` names a dimension the experiment does not declare.
        UnsupportedAnalysis: ``by`` is given for an interleaving or bandit experiment.
        StoreUnavailable: the event log cannot be read.
    """
    if name not in project.experiments:
        raise NotFound(
            f"no experiment named {name!r} in {project.root}; "
            f"known: {', '.join(sorted(project.experiments)) or 'none'}"
        )
    experiment = project.experiments[name]
    check_by(experiment, by)
    design = design_registry.design(experiment.design)
    with project.open_event_source(events_url) as source:
        # Each design starts importing its statistics on a thread while DuckDB reads the log
        # (see sameday.analysis.preload).
        return design.report(
            project,
            experiment,
            source,
            dimensions=list(dict.fromkeys([*dimensions, *(d for d in by if d != "surface")])),
            selection=selection,
            by=by,
        )


def check_by(experiment: Experiment, by: Sequence[str]) -> None:
    """Refuse segment effects the experiment cannot give (see :func:`build_report`)."""
    if by and not (design := design_registry.design(experiment.design)).fixed_split:
        raise UnsupportedAnalysis(
            f"segment effects (--by) need an A/B test, and {experiment.name!r} is "
            f"{design.unsplit_why}. To learn who benefits, run the arms as an A/B test with "
            "dimensions"
        )
    undeclared = [d for d in by if d != "surface" and d not in experiment.dimensions]
    if undeclared:
        declared = ", ".join(["surface", *experiment.dimensions])
        raise NotFound(
            f"experiment {experiment.name!r} records no dimension {', '.join(undeclared)} "
            f"(it records: {declared}); add it under 'dimensions:' in its file so that new "
            "exposures record it"
        )


def metric_roles(experiment: Experiment, metrics: dict[str, Metric]) -> list[tuple[Metric, Role]]:
    """The experiment's metric definitions with their role, primary first.

    A metric flagged ``guardrail: true`` is analysed as a guardrail wherever it is listed.
    """
    listed: list[tuple[str, Role]] = [
        *[(m, "primary") for m in experiment.metrics.primary],
        *[(m, "secondary") for m in experiment.metrics.secondary],
        *[(m, "guardrail") for m in experiment.metrics.guardrails],
    ]
    missing = [m for m, _ in listed if m not in metrics]
    if missing:
        raise NotFound(
            f"experiment {experiment.name!r} names undefined metrics: {', '.join(missing)}; "
            "add metrics/NAME.yaml for each"
        )
    out: list[tuple[Metric, Role]] = []
    for metric_name, role in listed:
        metric = metrics[metric_name]
        out.append((metric, "guardrail" if metric.guardrail and role != "primary" else role))
    return out


def ab_report(
    experiment: Experiment,
    roles: Sequence[tuple[Metric, Role]],
    summaries: Summaries,
    *,
    now: dt.datetime | None = None,
    by: Sequence[str] = (),
) -> ABReport:
    """The A/B report of ``experiment`` from its summaries (no I/O), with segment effects
    along each dimension of ``by`` (which ``summaries`` must be broken down by)."""
    from sameday.analysis.comparisons import analyse_metrics, without_chances
    from sameday.analysis.progress import progress
    from sameday.analysis.segments import segment_effects
    from sameday.analysis.series import date_of, lift_series
    from sameday.analysis.stats.srm import sample_ratio_check
    from sameday.analysis.verdict import decide

    arms = tuple(a.name for a in experiment.arms)
    control, treatments = arms[0], arms[1:]
    per_arm = dict(zip(summaries.arms, summaries.unit_counts(), strict=True))
    counts = [per_arm.get(a, 0) for a in arms]
    warnings: list[str] = []
    unknown = [a for a in summaries.arms if a not in arms]
    if unknown:
        warnings.append(f"exposures name arms the experiment does not have: {', '.join(unknown)}")
    if summaries.crossed:
        seen = summaries.crossed + sum(counts)
        warnings.append(
            f"{summaries.crossed:,} of {seen:,} units ({summaries.crossed / seen:.1%}) were "
            "served more than one arm and are left out, as GrowthBook does: their outcomes "
            "belong to no one arm. Many such units mean assignment changed mid-phase (weights "
            "or targeting edited, or ids shared across devices)"
        )
    if summaries.scope is not None:
        warnings.extend(summaries.scope.notes)
    srm = sample_ratio_check(counts, experiment.weights) if sum(counts) else None
    primary = next((m for m, role in roles if role == "primary"), None)
    plan_progress = progress(
        experiment.plan,
        metric_type=None if primary is None else primary.type,
        control=None if primary is None else summaries.total(primary.name, control),
        arms=len(arms),
        counts=counts,
        days=len(summaries.days),
    )
    alpha, sequential, n_star = (
        experiment.plan.alpha,
        experiment.plan.sequential,
        plan_progress.n_star,
    )
    results = analyse_metrics(
        summaries,
        roles,
        control=control,
        treatments=treatments,
        alpha=alpha,
        sequential=sequential,
        n_star=n_star,
    )
    if srm is not None and srm.mismatch:
        results = without_chances(results)
    series = lift_series(
        summaries,
        [m for m, _ in roles],
        control=control,
        treatments=treatments,
        alpha=alpha,
        sequential=sequential,
        n_star=n_star,
    )
    stamp = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
    return ABReport(
        experiment=experiment.name,
        design=experiment.design,
        generated=stamp,
        control=control,
        arms=arms,
        alpha=experiment.plan.alpha,
        sequential=experiment.plan.sequential,
        first_day=date_of(summaries.days[0]) if summaries.days else None,
        last_day=date_of(summaries.days[-1]) if summaries.days else None,
        srm=srm,
        metrics=tuple(results),
        series=tuple(series),
        progress=plan_progress,
        decision=decide(srm, arms, results, plan_progress),
        breakdown=tuple(_breakdown(summaries, roles)),
        warnings=tuple(warnings),
        scope=summaries.scope,
        segments=tuple(
            effects
            for dimension in by
            for effects in segment_effects(
                summaries,
                roles,
                dimension=dimension,
                control=control,
                treatments=treatments,
                alpha=alpha,
            )
        ),
    )


def _breakdown(summaries: Summaries, roles: Sequence[tuple[Metric, Role]]) -> list[Breakdown]:
    from sameday.analysis.comparisons import arm_value

    kinds = {col.metric.name: col.kind for col in columns([m for m, _ in roles])}
    return [
        Breakdown(dim, value, metric, arm, s.n, arm_value(kinds[metric], s))
        for dim, cells in summaries.by_dimension.items()
        for (metric, arm, value), s in sorted(cells.items())
    ]
