"""``design: bandit``: each unit is served the list of the arm a bandit policy draws.

Serving is :class:`~sameday.designs.base.OneArm` with the arm drawn by the experiment's live
policy (:attr:`Engine.bandits`, swapped when a parameter snapshot changes; the uniform policy
compiled here until the first one) and the draw's probability as the propensity. The report
(:func:`sameday.analysis.bandit_report.bandit_report`) gives the posteriors, the allocation
over time and the regret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sameday.config.experiment import Bandit
from sameday.designs.base import OneArm
from sameday.policies.bandit import BanditPolicy, initial_params
from sameday.serve.bandits import BanditPlan

if TYPE_CHECKING:
    from sameday.analysis.phases import Selection
    from sameday.analysis.report import Report
    from sameday.config.experiment import Experiment
    from sameday.config.loader import Project
    from sameday.events.source import EventSource
    from sameday.serve.engine import Engine, Prepared
    from sameday.serve.state import ArmPlan


_TERMS = {
    "bandit": "A test that moves traffic towards the arm doing best while it runs.",
    "pull": "One list served by an arm.",
    "reward rate": "The share of pulls followed by the reward event within its window.",
    "interval": "The range the arm's true reward rate is likely in (a credible interval).",
    "P(best)": "The probability that the arm has the highest reward rate; an arm is shipped "
    "at 95%.",
    "regret": "Rewards lost by serving arms other than the best one: the price of learning.",
}


class Bandits(OneArm):
    """The bandit design (see the module docstring)."""

    fixed_split = False
    unsplit_why = (
        "a bandit: its allocation changes with what it learns, so a unit's arm depends on when "
        "it came and the arms' units are not alike"
    )
    terms: Mapping[str, str] = MappingProxyType(_TERMS)
    """The report's terms in plain words, for the HTML glossary."""

    def check(self, experiment: Experiment) -> list[str]:
        """Arms have no weights (the policy sets the shares), and the shares every arm keeps
        fit in the whole traffic."""
        problems = []
        if any(arm.weight is not None for arm in experiment.arms):
            problems.append("arm weights apply to design 'ab' only, not 'bandit'")
        settings = experiment.bandit
        arms = len(experiment.arms)
        if settings is not None and settings.min_share * arms > 1:
            problems.append(
                f"bandit.min_share {settings.min_share:g} x {arms} arms exceeds "
                f"the whole traffic: use at most {1 / arms:.4g}"
            )
        return problems

    def plan(self, experiment: Experiment, arms: tuple[ArmPlan, ...]) -> BanditPlan:
        """The settings and the uniform policy served before the first snapshot."""
        settings = experiment.bandit or Bandit()
        names = [arm.name for arm in arms]
        initial = BanditPolicy.build(experiment.name, initial_params(names, settings, start=0), 0)
        return BanditPlan(settings, initial)

    def prepare(self, engine: Engine, request: Prepared) -> None:
        """Draw the arm from the live policy, keyed by the unit and the request."""
        experiment = request.experiment
        assert experiment is not None
        plan: BanditPlan = experiment.settings
        policy = engine.bandits.get(experiment.name) or plan.initial
        hashed = str(request.attrs[experiment.hash_attribute])
        index, request.propensity = policy.pick(hashed, request.request_id)
        request.arm_index = index
        request.chain = experiment.arms[index].chain
        request.extra["params_version"] = policy.version

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
        """The posteriors, allocation over time and regret."""
        from sameday.analysis.bandit_report import bandit_report
        from sameday.analysis.preload import preload

        preload()  # numpy, on a thread while DuckDB reads the log (see sameday.analysis.preload)
        return bandit_report(source, experiment, selection=selection)

    def text(self, report: Report, *, width: int) -> str:
        """The posteriors and the regret."""
        from sameday.analysis.bandit_report import BanditReport
        from sameday.reports.text import bandit_block

        assert isinstance(report, BanditReport)
        return bandit_block(report, width=width)

    def html(self, report: Report) -> str:
        """The warnings, the posteriors and the allocation over time."""
        from sameday.analysis.bandit_report import BanditReport
        from sameday.reports.html import bandit_block, warnings_block

        assert isinstance(report, BanditReport)
        return warnings_block(report) + bandit_block(report)

    def data(self, report: Report) -> dict[str, Any]:
        """The report's data as it is."""
        from sameday.reports.data import report_data

        return report_data(report)


BANDIT_DESIGN = Bandits()
"""The ``bandit`` design (:data:`sameday.design_registry.DESIGNS` names it)."""
