"""The protocol every experiment design implements, and the serving most designs share.

A design is looked up by name (:func:`sameday.design_registry.design`) where the layers below
need it: the config checks an experiment with it (:meth:`Design.check`), ``build_state``
compiles its settings once (:meth:`Design.plan`) and stores the design on the experiment's plan,
the engine hands it each request assigned to the experiment (:meth:`Design.prepare`,
:meth:`Design.first_reads`, :meth:`Design.finish`), ``build_report`` asks it for the report
(:meth:`Design.report`) and the renderers for the report's body (:meth:`Design.text`,
:meth:`Design.html`, :meth:`Design.data`) and its glossary (:attr:`Design.terms`).

:class:`OneArm` is the serving of a design that serves each request one arm's chain (``ab`` and
``bandit``); such a design only says which arm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sameday.analysis.phases import Selection
    from sameday.analysis.report import Report
    from sameday.config.experiment import Experiment
    from sameday.config.loader import Project
    from sameday.events.source import EventSource
    from sameday.serve.engine import Answers, Engine, Prepared, Recommendation
    from sameday.serve.state import ArmPlan
    from sameday.store.base import Read


class Design(Protocol):
    """What a design does, from the experiment file to the rendered report.

    The serving methods run once per request and must stay cheap: compute what can be computed
    once in :meth:`plan`, and import nothing heavy at module level (the analysis and rendering
    methods import what they need when called).
    """

    @property
    def fixed_split(self) -> bool:
        """Whether each unit sees one arm, in shares its weights fix: then a sample-ratio test,
        segment effects and uplift models apply (the monitors, ``report --by``, ``uplift``)."""

    @property
    def unsplit_why(self) -> str:
        """When not :attr:`fixed_split`: what the experiment is and why its arms are no
        comparable groups of units, completing "'NAME' is ..." in a refusal; else empty."""

    @property
    def terms(self) -> Mapping[str, str]:
        """The terms its report uses, in plain words (the HTML page's glossary)."""
        ...

    def check(self, experiment: Experiment) -> list[str]:
        """Why ``experiment`` cannot run under this design (empty when it can); the config
        loader reports each at the experiment's file, so it is refused before ``apply``."""
        ...

    def plan(self, experiment: Experiment, arms: tuple[ArmPlan, ...]) -> Any:
        """What serving needs of the experiment's settings, compiled once per applied
        configuration (``ExperimentPlan.settings``); ``None`` when nothing."""
        ...

    def prepare(self, engine: Engine, request: Prepared) -> None:
        """Fill in ``request``'s ``arm_index`` (``None`` when the design mixes arms),
        ``chain``, ``propensity`` and ``extra`` (``Engine.prepare`` assigned the unit)."""
        ...

    def first_reads(self, request: Prepared) -> list[Read]:
        """The store reads :meth:`finish` needs in any case."""
        ...

    def finish(
        self, engine: Engine, request: Prepared, answers: Answers
    ) -> Recommendation | list[Read]:
        """Serve ``request`` from ``answers`` through ``engine.deliver`` (which logs the
        exposure), or return the reads still needed (``Engine.finish`` says when)."""
        ...

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
        """The analysis of ``experiment`` from the exposures and outcomes in ``source``."""
        ...

    def text(self, report: Report, *, width: int) -> str:
        """The body of the plain-text report (between the verdict and the warnings)."""
        ...

    def html(self, report: Report) -> str:
        """The body of the HTML page (between the verdict and the glossary)."""
        ...

    def data(self, report: Report) -> dict[str, Any]:
        """``report`` as JSON-ready data (``sameday report --format json``)."""
        ...


class OneArm:
    """Serving for designs that serve each request the chain of one arm.

    :meth:`prepare` takes the arm the allocation chose; a design that chooses otherwise
    (a bandit) overrides it and sets ``request.propensity``.
    """

    def prepare(self, engine: Engine, request: Prepared) -> None:
        """Serve the chain of the arm the allocation chose."""
        assert request.experiment is not None and request.arm_index is not None
        request.chain = request.experiment.arms[request.arm_index].chain

    def first_reads(self, request: Prepared) -> list[Read]:
        """The read of the arm's first result set."""
        return request.chain_reads()

    def finish(
        self, engine: Engine, request: Prepared, answers: Answers
    ) -> Recommendation | list[Read]:
        """Walk the arm's chain and serve it; the propensity is the arm's share unless
        :meth:`prepare` set one."""
        filled = engine.fill(
            request.chain, request.key, request.size, request.excluded, request.cache, answers
        )
        if isinstance(filled, list):
            return filled
        experiment, index = request.experiment, request.arm_index
        assert experiment is not None and index is not None
        arm = experiment.arms[index]
        propensity = arm.weight if request.propensity is None else request.propensity
        return engine.deliver(request, filled, arm=arm.name, propensity=propensity)
