"""``design: ab``: each unit is served one arm's list, by the arms' weights.

Serving is :class:`~sameday.designs.base.OneArm` with the arm the allocation chose and the
arm's weight as the propensity. The report (:func:`sameday.analysis.report.ab_report`) compares
each arm with the control (the first arm) on the experiment's metrics, after a sample-ratio
check; its text and HTML show that check, the metric table and the progress toward the planned
sample.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sameday.designs.base import OneArm

if TYPE_CHECKING:
    from sameday.analysis.phases import Selection
    from sameday.analysis.report import ABReport, Report
    from sameday.config.experiment import Experiment
    from sameday.config.loader import Project
    from sameday.events.source import EventSource
    from sameday.serve.state import ArmPlan


_TERMS = {
    "control": "The arm every other arm is compared with: the first arm, usually today's list.",
    "lift": "How much better or worse an arm does than the control, relative to the "
    "control: +5% means 5% more than the control's value.",
    "interval": "The range the true lift is likely in (95% unless alpha says otherwise). "
    "If it includes 0%, the test cannot yet tell the arm from the control.",
    "always-valid interval": "An interval that stays trustworthy however often the report "
    "is read, so it is safe to check daily. It is wider than a fixed interval.",
    "fixed interval": "The interval for reading the test once, at its planned end; narrower, "
    "but misleading if looked at every day.",
    "chance to win": "The probability that the arm is better than the control on this "
    "metric (Bayesian), shown next to the interval, not instead of it.",
    "expected loss": "How much would be lost, on average, by shipping the arm if it is in "
    "fact worse: small means a mistake would be cheap.",
    "adj. p": "The p-value after correcting for testing several metrics and arms at once; "
    "below alpha (usually 0.05) the difference is called.",
    "primary, secondary, guardrail": "Primary metrics decide the test; secondary ones explain "
    "it; guardrails must not get worse.",
    "sample ratio": "Whether the units split between arms as planned. A mismatch means "
    "assignment or logging is broken, and no lift can be trusted.",
    "planned power": "The number of units per arm the plan needs to detect the minimum "
    "effect it was sized for.",
}


class AB(OneArm):
    """The A/B design (see the module docstring)."""

    fixed_split = True
    unsplit_why = ""
    terms: Mapping[str, str] = MappingProxyType(_TERMS)
    """The report's terms in plain words, for the HTML glossary."""

    def check(self, experiment: Experiment) -> list[str]:
        """Nothing beyond the experiment's own checks: every arm setting applies."""
        return []

    def plan(self, experiment: Experiment, arms: tuple[ArmPlan, ...]) -> None:
        """Nothing: the allocation holds the arms' ranges."""
        return None

    def report(
        self,
        project: Project,
        experiment: Experiment,
        source: EventSource,
        *,
        dimensions: Sequence[str],
        selection: Selection,
        by: Sequence[str] = (),
    ) -> Report:
        """The A/B report from per-arm summaries of the experiment's metrics."""
        from sameday.analysis.preload import STATISTICS
        from sameday.analysis.report import AB_STATISTICS, ab_report, metric_roles
        from sameday.analysis.summaries import summarise

        roles = metric_roles(experiment, project.metrics)
        summaries = summarise(
            source,
            experiment.name,
            [m for m, _ in roles],
            arms=[a.name for a in experiment.arms],
            dimensions=dimensions,
            phase=(experiment, selection),
            # Every module the queries need is imported: the statistics modules can load on a
            # thread while they run (see sameday.analysis.preload).
            importing=(*STATISTICS, *AB_STATISTICS),
        )
        return ab_report(experiment, roles, summaries, by=by)

    def text(self, report: Report, *, width: int) -> str:
        """The sample-ratio line, the metric table and the progress."""
        from sameday.reports.segments import who_benefits_text
        from sameday.reports.text import metric_table, progress_block, srm_block

        ab = _ab(report)
        return (
            srm_block(ab, width=width)
            + metric_table(ab, width=width)
            + progress_block(ab, width=width)
            + who_benefits_text(ab, width=width)
        )

    def html(self, report: Report) -> str:
        """The context, warnings, sample ratio, progress, metric table and lift chart."""
        from sameday.reports import html
        from sameday.reports.segments import who_benefits

        ab = _ab(report)
        return (
            html.context_block(ab)
            + html.warnings_block(ab)
            + html.srm_block(ab)
            + html.progress_block(ab)
            + html.metric_table(ab)
            + html.lift_chart(ab)
            + who_benefits(ab)
        )

    def data(self, report: Report) -> dict[str, Any]:
        """The report's data, with the sample-ratio check's verdict and observed shares."""
        from sameday.reports.data import report_data

        ab = _ab(report)
        data = report_data(ab)
        if ab.srm is not None:
            data["srm"]["mismatch"] = ab.srm.mismatch
            data["srm"]["observed_shares"] = list(ab.srm.observed_shares)
        return data


def _ab(report: Report) -> ABReport:
    from sameday.analysis.report import ABReport

    assert isinstance(report, ABReport), f"not an A/B report: {type(report).__name__}"
    return report


AB_DESIGN = AB()
"""The ``ab`` design (:data:`sameday.design_registry.DESIGNS` names it)."""
