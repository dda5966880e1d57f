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
from typing import Any

from sameday.assign import Allocation, compile_condition
from sameday.config.experiment import Bandit, Design, Experiment, Interleave
from sameday.config.surface import Surface
from sameday.policies.bandit import BanditPolicy, initial_params

SERVED_DESIGNS = ("ab", "interleave", "bandit")
"""Experiment designs this server can run."""

Condition = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class ArmPlan:
    """An arm as served: its name, the result sets it reads in order, its traffic share."""

    name: str
    chain: tuple[str, ...]
    weight: float


@dataclass(frozen=True, slots=True)
class InterleavePlan:
    """How an interleaved experiment merges its arms' lists.

    ``method`` is ``team_draft`` (two arms), ``multileave`` (three or more) or ``balanced``;
    ``fallbacks`` fill a list the arms leave short, with no team.
    """

    method: str
    competitive: bool
    fallbacks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BanditPlan:
    """A bandit's settings and the uniform policy it serves until its first parameter snapshot."""

    settings: Bandit
    initial: BanditPolicy


@dataclass(frozen=True, slots=True)
class ExperimentPlan:
    """A running experiment as served (``interleave``/``bandit`` set for those designs).

    ``dimensions`` are the request attributes each of its exposures records in ``extra``.
    """

    name: str
    design: Design
    allocation: Allocation
    hash_attribute: str
    arms: tuple[ArmPlan, ...]
    targeting: Condition | None
    interleave: InterleavePlan | None = None
    bandit: BanditPlan | None = None
    dimensions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RulePlan:
    """A surface rule: requests matching ``condition`` read ``chain``."""

    name: str
    condition: Condition
    chain: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SurfacePlan:
    """A surface as served: its default chain, rules, list sizes and running experiments."""

    name: str
    key_attribute: str
    n: int
    max_n: int
    chain: tuple[str, ...]
    rules: tuple[RulePlan, ...]
    experiments: tuple[ExperimentPlan, ...]
    concluded_by: str | None = None


@dataclass(frozen=True)
class ServingState:
    """Every surface a server answers for, and the result sets they read."""

    surfaces: Mapping[str, SurfacePlan]
    result_sets: frozenset[str]
    fingerprint: str

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
    for name, surface in sorted(surfaces.items()):
        chain = (surface.result_set, *surface.fallbacks)
        concluded_by = None
        for experiment in experiments:
            if experiment.surface == name and experiment.phase == "concluded":
                winner = next(arm for arm in experiment.arms if arm.name == experiment.winner)
                chain = (winner.result_set, *(winner.fallbacks or surface.fallbacks))
                concluded_by = experiment.name
        running = tuple(
            _experiment_plan(e, surface)
            for e in experiments
            if e.surface == name and e.phase == "running" and e.design in SERVED_DESIGNS
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
            chain=_unique(chain),
            rules=rules,
            experiments=running,
            concluded_by=concluded_by,
        )
        used.update(chain)
        for rule in rules:
            used.update(rule.chain)
        for plan in running:
            for arm in plan.arms:
                used.update(arm.chain)
    return ServingState(plans, frozenset(used), fingerprint(specs))


def _experiment_plan(experiment: Experiment, surface: Surface) -> ExperimentPlan:
    arms = tuple(
        ArmPlan(
            arm.name,
            _unique(
                (
                    arm.result_set,
                    *(arm.fallbacks if arm.fallbacks is not None else surface.fallbacks),
                )
            ),
            weight,
        )
        for arm, weight in zip(experiment.arms, experiment.weights, strict=True)
    )
    return ExperimentPlan(
        name=experiment.name,
        design=experiment.design,
        allocation=Allocation.from_experiment(experiment),
        hash_attribute=experiment.hashing.attribute,
        arms=arms,
        targeting=compile_condition(experiment.targeting) if experiment.targeting else None,
        interleave=_interleave_plan(experiment.interleave or Interleave(), arms)
        if experiment.design == "interleave"
        else None,
        bandit=_bandit_plan(experiment.name, experiment.bandit or Bandit(), arms)
        if experiment.design == "bandit"
        else None,
        dimensions=tuple(experiment.dimensions),
    )


def _interleave_plan(settings: Interleave, arms: tuple[ArmPlan, ...]) -> InterleavePlan:
    method: str = settings.method
    if method == "team_draft" and len(arms) > 2:
        method = "multileave"
    fallbacks = _unique(tuple(rs for arm in arms for rs in arm.chain[1:]))
    return InterleavePlan(method, settings.credit == "competitive_pairs", fallbacks)


def _bandit_plan(name: str, settings: Bandit, arms: tuple[ArmPlan, ...]) -> BanditPlan:
    names = [arm.name for arm in arms]
    return BanditPlan(
        settings, BanditPolicy.build(name, initial_params(names, settings, start=0), 0)
    )


def _unique(chain: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(chain))
