"""What a server serves, compiled once per applied configuration, read lock-free per request.

``build_state`` turns the applied specs (surfaces, experiments) into plain frozen objects whose
per-request work is minimal: allocations with precomputed ranges and seed hashes, compiled
targeting conditions, fallback chains as tuples. A new state replaces the old one by one reference
assignment, so a request sees either the old configuration or the new one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sameday import design_registry
from sameday.assign import Allocation, compile_condition
from sameday.config.experiment import Experiment
from sameday.config.surface import Surface
from sameday.serve.scoring import ScoringPlan

if TYPE_CHECKING:
    from sameday.designs.base import Design

Condition = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class ArmPlan:
    """An arm as served: its name, the result sets it reads in order, its traffic share, and
    the scorer that re-ranks its list per request, if any (:mod:`sameday.serve.scoring`)."""

    name: str
    chain: tuple[str, ...]
    weight: float
    scoring: ScoringPlan | None = None


@dataclass(frozen=True, slots=True)
class ExperimentPlan:
    """A running experiment as served.

    ``implementation`` is its design (:mod:`sameday.designs`), looked up by name once per state
    so that a request reaches it through one attribute; ``settings`` is what that design
    compiled from the experiment's settings (``Design.plan``: ``None`` for an A/B test).
    """

    name: str
    design: str
    implementation: Design
    allocation: Allocation
    hash_attribute: str
    arms: tuple[ArmPlan, ...]
    targeting: Condition | None
    settings: Any = None
    dimensions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RulePlan:
    """A surface rule: requests matching ``condition`` read ``chain``."""

    name: str
    condition: Condition
    chain: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SurfacePlan:
    """A surface as served: its default chain, rules, list sizes and running experiments;
    ``scoring`` re-ranks the default chain's list (not a rule's, not an arm's)."""

    name: str
    key_attribute: str
    n: int
    max_n: int
    chain: tuple[str, ...]
    rules: tuple[RulePlan, ...]
    experiments: tuple[ExperimentPlan, ...]
    concluded_by: str | None = None
    scoring: ScoringPlan | None = None


@dataclass(frozen=True)
class ServingState:
    """Every surface a server answers for, and the result sets they read."""

    surfaces: Mapping[str, SurfacePlan]
    result_sets: frozenset[str]
    fingerprint: str
    scored: frozenset[str] = frozenset()
    """Result sets whose lists a scorer re-ranks (a scored arm's or surface's first): a held
    snapshot of one keeps its numeric payload columns as matrices (``serve.held``)."""

    @classmethod
    def empty(cls) -> ServingState:
        """A state that serves nothing (before the first apply)."""
        return cls(surfaces={}, result_sets=frozenset(), fingerprint="")


def fingerprint(specs: Mapping[tuple[str, str], Mapping[str, Any]]) -> str:
    """A digest of applied specs: equal digests mean the state need not be rebuilt."""
    canonical = json.dumps(sorted((list(k), v) for k, v in specs.items()), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def build_state(specs: Mapping[tuple[str, str], Mapping[str, Any]]) -> ServingState:
    """Compile applied ``(kind, name) → spec`` into a ``ServingState``.

    A concluded experiment's winning arm becomes its surface's default; running experiments are
    tried in name order (layers keep them from sharing a unit).
    """
    surfaces = {
        name: Surface.model_validate(spec)
        for (kind, name), spec in specs.items()
        if kind == "surface"
    }
    experiments = sorted(
        (
            Experiment.model_validate(spec)
            for (kind, _), spec in specs.items()
            if kind == "experiment"
        ),
        key=lambda e: e.name,
    )
    plans: dict[str, SurfacePlan] = {}
    used: set[str] = set()
    scored: set[str] = set()
    for name, surface in sorted(surfaces.items()):
        chain = (surface.result_set, *surface.fallbacks)
        concluded_by = None
        scoring = ScoringPlan.of(surface)
        for experiment in experiments:
            if experiment.surface == name and experiment.phase == "concluded":
                winner = next(arm for arm in experiment.arms if arm.name == experiment.winner)
                chain = (winner.result_set, *(winner.fallbacks or surface.fallbacks))
                concluded_by = experiment.name
                scoring = ScoringPlan.of(winner)  # the winner is served as it was tested
        running = tuple(
            _experiment_plan(e, surface)
            for e in experiments
            if e.surface == name and e.phase == "running"
        )
        rules = tuple(
            RulePlan(rule.name, compile_condition(rule.when), (rule.result_set, *rule.fallbacks))
            for rule in surface.rules
        )
        plans[name] = SurfacePlan(
            name=name,
            key_attribute=surface.key,
            n=surface.n,
            max_n=surface.max_n,
            chain=unique(chain),
            rules=rules,
            experiments=running,
            concluded_by=concluded_by,
            scoring=scoring,
        )
        used.update(chain)
        if scoring is not None:  # the refresher follows feature tables' live versions too
            used.update(scoring.tables)
            scored.add(chain[0])
        for rule in rules:
            used.update(rule.chain)
        for plan in running:
            for arm in plan.arms:
                used.update(arm.chain)
                if arm.scoring is not None:
                    used.update(arm.scoring.tables)
                    scored.add(arm.chain[0])
    return ServingState(plans, frozenset(used), fingerprint(specs), frozenset(scored))


def _experiment_plan(experiment: Experiment, surface: Surface) -> ExperimentPlan:
    arms = tuple(
        ArmPlan(
            arm.name,
            unique(
                (
                    arm.result_set,
                    *(arm.fallbacks if arm.fallbacks is not None else surface.fallbacks),
                )
            ),
            weight,
            ScoringPlan.of(arm),
        )
        for arm, weight in zip(experiment.arms, experiment.weights, strict=True)
    )
    implementation = design_registry.design(experiment.design)
    return ExperimentPlan(
        name=experiment.name,
        design=experiment.design,
        implementation=implementation,
        allocation=Allocation.from_experiment(experiment),
        hash_attribute=experiment.hashing.attribute,
        arms=arms,
        targeting=compile_condition(experiment.targeting) if experiment.targeting else None,
        settings=implementation.plan(experiment, arms),
        dimensions=tuple(experiment.dimensions),
    )


def unique(chain: tuple[str, ...]) -> tuple[str, ...]:
    """``chain`` without repeats, in order: a chain reads each result set once."""
    return tuple(dict.fromkeys(chain))
