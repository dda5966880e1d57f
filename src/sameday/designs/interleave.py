"""``design: interleave``: every unit is served one list merged from every arm's list.

Serving reads each arm's first result set, merges them by the experiment's method (team draft,
multileaving or balanced: :func:`sameday.serve.interleaved.interleave_lists`), fills a short
list from the arms' fallbacks (those slots belong to no team) and logs the arm behind each slot
(``teams``) with the list's probability as the propensity. The report
(:func:`sameday.analysis.interleaving_report.interleaving_report`) credits clicks to teams and
asks which arm users prefer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sameday.config.experiment import Interleave
from sameday.serve.engine import Filled, list_of
from sameday.serve.interleaved import InterleavePlan, interleave_lists
from sameday.serve.state import unique
from sameday.store.base import Item

if TYPE_CHECKING:
    from sameday.analysis.phases import Selection
    from sameday.analysis.report import Report
    from sameday.config.experiment import Experiment
    from sameday.config.loader import Project
    from sameday.events.source import EventSource
    from sameday.serve.engine import Answers, Engine, Prepared, Recommendation
    from sameday.serve.state import ArmPlan
    from sameday.store.base import Read


_TERMS = {
    "interleaving": "Each user sees one list that mixes the arms' results; a click counts "
    "for the arm that contributed the clicked item.",
    "impression share": "Of the lists where one arm got more clicks than the other, the share "
    "won by the arm.",
    "user share": "Of the users who clicked one arm's items more than the other's, the share "
    "who preferred the arm. Above 50% users prefer the arm; the verdict reads this.",
    "interval": "The range the true share is likely in; if it includes 50%, there is no "
    "clear preference yet.",
    "adj. p": "The p-value after correcting for comparing several arms with the control.",
}


class Interleaving:
    """The interleaving design (see the module docstring)."""

    fixed_split = False
    unsplit_why = (
        "an interleaving test: every unit sees both arms merged in one list, so no group of "
        "units saw one arm alone"
    )
    terms: Mapping[str, str] = MappingProxyType(_TERMS)
    """The report's terms in plain words, for the HTML glossary."""

    def check(self, experiment: Experiment) -> list[str]:
        """Arms have no weights (every unit sees every arm) nor scorers; balanced compares two
        arms."""
        problems = []
        if any(arm.weight is not None for arm in experiment.arms):
            problems.append("arm weights apply to design 'ab' only, not 'interleave'")
        scored = [arm.name for arm in experiment.arms if arm.scorer is not None]
        if scored:
            problems.append(
                f"arm {', '.join(scored)}: a model or python scorer re-ranks one arm's list, "
                "which design 'ab' or 'bandit' serves; an interleaved arm is served in its "
                "batch order (score it offline into the result set instead)"
            )
        settings = experiment.interleave
        if settings is not None and settings.method == "balanced" and len(experiment.arms) != 2:
            problems.append("balanced interleaving compares exactly two arms")
        return problems

    def plan(self, experiment: Experiment, arms: tuple[ArmPlan, ...]) -> InterleavePlan:
        """The merge method (team draft over three or more arms is multileaving), whether
        credit is competitive, and the fallbacks of every arm, in order."""
        settings = experiment.interleave or Interleave()
        method: str = settings.method
        if method == "team_draft" and len(arms) > 2:
            method = "multileave"
        fallbacks = unique(tuple(rs for arm in arms for rs in arm.chain[1:]))
        return InterleavePlan(method, settings.credit == "competitive_pairs", fallbacks)

    def prepare(self, engine: Engine, request: Prepared) -> None:
        """No one arm: :meth:`finish` reads every arm's list and merges them."""
        request.arm_index = None

    def first_reads(self, request: Prepared) -> list[Read]:
        """Every arm's first result set, with room for the items the merge skips."""
        experiment = request.experiment
        assert experiment is not None
        only_default = request.cache.only_default
        arms = dict.fromkeys(arm.chain[0] for arm in experiment.arms)
        limit = 2 * request.size + len(request.excluded)  # the merge may skip the other arm's
        return [(rs, request.key, limit) for rs in arms if rs not in only_default]

    def finish(
        self, engine: Engine, request: Prepared, answers: Answers
    ) -> Recommendation | list[Read]:
        """Merge the arms' lists, fill from the fallbacks, serve with the teams."""
        experiment = request.experiment
        assert experiment is not None
        plan: InterleavePlan = experiment.settings
        size, cache, excluded = request.size, request.cache, request.excluded
        lists: list[list[str]] = []
        known: dict[str, tuple[Item, str]] = {}
        degraded = False
        store_errors = 0
        versions: dict[str, str] = {}
        for arm in experiment.arms:
            result_set = arm.chain[0]
            found, version, failed, error = list_of(answers, result_set, cache)
            degraded, store_errors = degraded or failed, store_errors + error
            if version is not None and found:
                versions[result_set] = version
            lists.append([entry.item for entry in found])
            for entry in found:
                known.setdefault(entry.item, (entry, result_set))
        hashed = str(request.attrs[experiment.hash_attribute])
        merged, extra = interleave_lists(
            plan, experiment.name, hashed, request.request_id, lists, size, excluded
        )
        names = [arm.name for arm in experiment.arms]
        entries = [known[item][0] for item in merged.items]
        sources = [known[item][1] for item in merged.items]
        teams: list[str | None] = [names[t] for t in merged.teams]
        if plan.competitive and merged.shared:
            extra["drafted"] = list(teams)
            for slot in merged.shared:
                teams[slot] = None
        fills = 0
        if len(entries) < size and plan.fallbacks:
            filled = engine.fill(
                plan.fallbacks,
                request.key,
                size - len(entries),
                excluded | set(merged.items),
                cache,
                answers,
            )
            if isinstance(filled, list):
                return filled
            fills = 1 if filled.entries else 0
            degraded = degraded or filled.degraded
            store_errors += filled.store_errors
            versions.update(filled.versions)
            entries.extend(filled.entries)
            sources.extend(filled.sources)
            teams.extend([None] * len(filled.entries))
        extra["arms"] = names
        request.extra = {**request.extra, **extra}  # the declared dimensions stay
        served = Filled(tuple(entries), tuple(sources), degraded, versions, store_errors, fills)
        return engine.deliver(request, served, propensity=merged.probability, teams=tuple(teams))

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
        """Which arm users prefer, from the clicks credited to each team."""
        from sameday.analysis.interleaving_report import interleaving_report
        from sameday.analysis.preload import preload

        preload()  # numpy, on a thread while DuckDB reads the log (see sameday.analysis.preload)
        return interleaving_report(source, experiment, selection=selection)

    def text(self, report: Report, *, width: int) -> str:
        """The preference table."""
        from sameday.analysis.interleaving_report import InterleavingReport
        from sameday.reports.text import interleaving_block

        assert isinstance(report, InterleavingReport)
        return interleaving_block(report, width=width)

    def html(self, report: Report) -> str:
        """The warnings and the preference block."""
        from sameday.analysis.interleaving_report import InterleavingReport
        from sameday.reports.html import interleaving_block, warnings_block

        assert isinstance(report, InterleavingReport)
        return warnings_block(report) + interleaving_block(report)

    def data(self, report: Report) -> dict[str, Any]:
        """The report's data as it is."""
        from sameday.reports.data import report_data

        return report_data(report)


INTERLEAVE_DESIGN = Interleaving()
"""The ``interleave`` design (:data:`sameday.design_registry.DESIGNS` names it)."""
