"""``build_state``: the serving plan compiled from applied surfaces and experiments."""

from __future__ import annotations

from typing import Any

from sameday.assign import Allocation
from sameday.config.experiment import Experiment
from sameday.design_registry import design
from sameday.serve.bandits import BanditPlan
from sameday.serve.interleaved import InterleavePlan
from sameday.serve.state import ServingState, build_state, fingerprint
from sameday.testing import experiment_spec, surface_spec

Specs = dict[tuple[str, str], dict[str, Any]]


def home(**fields: Any) -> Specs:
    return {("surface", "home"): surface_spec("home", "personal", fallbacks=["popular"], **fields)}


def test_a_surface_alone_serves_its_chain() -> None:
    specs = home(n=7, max_n=50, key="item")
    specs[("metric", "ctr")] = {"name": "ctr"}  # other kinds are not served
    state = build_state(specs)
    assert list(state.surfaces) == ["home"]
    plan = state.surfaces["home"]
    assert plan.chain == ("personal", "popular")
    assert (plan.key_attribute, plan.n, plan.max_n) == ("item", 7, 50)
    assert plan.experiments == () and plan.rules == () and plan.concluded_by is None
    assert state.result_sets == {"personal", "popular"}
    assert state.fingerprint == fingerprint(specs)


def test_a_chain_reads_each_result_set_once() -> None:
    specs = {("surface", "home"): surface_spec("home", "a", fallbacks=["b", "a", "c", "b"])}
    assert build_state(specs).surfaces["home"].chain == ("a", "b", "c")


def test_rules_are_compiled_in_order_and_their_sets_are_read() -> None:
    specs = home(
        rules=[
            {"name": "new", "when": {"is_new": True}, "result_set": "fresh", "fallbacks": ["x"]},
            {"name": "jp", "when": {"country": {"$in": ["JP"]}}, "result_set": "jp"},
        ]
    )
    state = build_state(specs)
    new, jp = state.surfaces["home"].rules
    assert (new.name, new.chain) == ("new", ("fresh", "x"))
    assert (jp.name, jp.chain) == ("jp", ("jp",))
    assert new.condition({"is_new": True}) and not new.condition({"is_new": False})
    assert jp.condition({"country": "JP"}) and not jp.condition({"country": "US"})
    assert state.result_sets == {"personal", "popular", "fresh", "x", "jp"}


def test_only_running_experiments_are_served_in_name_order() -> None:
    specs = home()
    arms = {"control": "personal", "b": "als"}
    specs[("experiment", "zeta")] = experiment_spec(
        "zeta", "home", arms, layer={"name": "l", "range": [0.5, 1.0]}
    )
    specs[("experiment", "alpha")] = experiment_spec(
        "alpha",
        "home",
        {"control": "personal", "c": "ease"},
        layer={"name": "l", "range": [0, 0.5]},
    )
    specs[("experiment", "draft")] = experiment_spec("draft", "home", arms, phase="draft")
    specs[("experiment", "stopped")] = experiment_spec(
        "stopped", "home", {"control": "personal", "d": "old"}, phase="stopped"
    )
    state = build_state(specs)
    assert [e.name for e in state.surfaces["home"].experiments] == ["alpha", "zeta"]
    assert "old" not in state.result_sets  # a stopped arm's result set is no longer read
    assert {"als", "ease"} <= state.result_sets


def test_an_experiment_on_a_surface_not_applied_is_not_served() -> None:
    specs = home()
    specs[("experiment", "e")] = experiment_spec("e", "feed", {"a": "personal", "b": "other"})
    state = build_state(specs)
    assert state.surfaces["home"].experiments == ()
    assert "other" not in state.result_sets


def test_ab_plan_carries_allocation_arms_and_targeting() -> None:
    specs = home()
    spec = experiment_spec(
        "exp",
        "home",
        {"control": "personal", "als": "als"},
        coverage=0.5,
        hashing={"attribute": "device", "bucket_version": 2},
        targeting={"country": "JP"},
    )
    spec["arms"][0]["weight"], spec["arms"][1]["weight"] = 0.25, 0.75
    specs[("experiment", "exp")] = spec
    (plan,) = build_state(specs).surfaces["home"].experiments
    assert plan.design == "ab" and plan.implementation is design("ab") and plan.settings is None
    assert plan.allocation == Allocation.from_experiment(Experiment.model_validate(spec))
    assert plan.allocation.seed == "exp:v2" and plan.allocation.coverage == 0.5
    assert plan.hash_attribute == "device"
    assert [(a.name, a.weight) for a in plan.arms] == [("control", 0.25), ("als", 0.75)]
    assert plan.targeting is not None
    assert plan.targeting({"country": "JP"}) and not plan.targeting({"country": "US"})


def test_no_targeting_is_no_condition() -> None:
    specs = home()
    specs[("experiment", "exp")] = experiment_spec("exp", "home", {"a": "personal", "b": "als"})
    (plan,) = build_state(specs).surfaces["home"].experiments
    assert plan.targeting is None
    assert [a.weight for a in plan.arms] == [0.5, 0.5]


def test_arm_fallbacks_replace_the_surface_ones_and_an_empty_list_means_none() -> None:
    specs = home()
    spec = experiment_spec("exp", "home", {"own": "als", "inherit": "ease", "bare": "bpr"})
    spec["arms"][0]["fallbacks"] = ["als", "trending"]
    spec["arms"][2]["fallbacks"] = []
    specs[("experiment", "exp")] = spec
    (plan,) = build_state(specs).surfaces["home"].experiments
    chains = {arm.name: arm.chain for arm in plan.arms}
    assert chains == {
        "own": ("als", "trending"),
        "inherit": ("ease", "popular"),
        "bare": ("bpr",),
    }
    assert {"trending", "bpr"} <= build_state(specs).result_sets


def test_a_concluded_experiment_makes_its_winner_the_default() -> None:
    specs = home()
    specs[("experiment", "old")] = experiment_spec(
        "old", "home", {"control": "personal", "als": "als"}, phase="concluded", winner="als"
    )
    plan = build_state(specs).surfaces["home"]
    assert plan.chain == ("als", "popular") and plan.concluded_by == "old"
    assert plan.experiments == ()


def test_a_concluded_winner_keeps_its_own_fallbacks() -> None:
    specs = home()
    spec = experiment_spec(
        "old", "home", {"control": "personal", "als": "als"}, phase="concluded", winner="als"
    )
    spec["arms"][1]["fallbacks"] = ["trending"]
    specs[("experiment", "old")] = spec
    state = build_state(specs)
    assert state.surfaces["home"].chain == ("als", "trending")
    assert state.result_sets == {"als", "trending"}  # the surface's own chain is no longer read


def test_interleave_plan_method_credit_and_fallbacks() -> None:
    specs = home()
    spec = experiment_spec(
        "il",
        "home",
        {"a": "personal", "b": "als", "c": "ease"},
        design="interleave",
        interleave={"credit": "competitive_pairs"},
    )
    spec["arms"][1]["fallbacks"] = ["trending", "popular"]
    specs[("experiment", "il")] = spec
    (plan,) = build_state(specs).surfaces["home"].experiments
    assert plan.implementation is design("interleave")
    assert isinstance(plan.settings, InterleavePlan)
    assert plan.settings.method == "multileave"  # team draft over three arms
    assert plan.settings.competitive is True
    assert plan.settings.fallbacks == ("popular", "trending")


def test_two_armed_interleaving_keeps_its_method() -> None:
    for method in ("team_draft", "balanced"):
        specs = home()
        specs[("experiment", "il")] = experiment_spec(
            "il",
            "home",
            {"a": "personal", "b": "als"},
            design="interleave",
            interleave={"method": method},
        )
        (plan,) = build_state(specs).surfaces["home"].experiments
        assert isinstance(plan.settings, InterleavePlan)
        assert (plan.settings.method, plan.settings.competitive) == (method, False)


def test_interleaving_without_settings_uses_the_defaults() -> None:
    specs = home()
    specs[("experiment", "il")] = experiment_spec(
        "il", "home", {"a": "personal", "b": "als"}, design="interleave"
    )
    (plan,) = build_state(specs).surfaces["home"].experiments
    assert isinstance(plan.settings, InterleavePlan)
    assert (plan.settings.method, plan.settings.fallbacks) == ("team_draft", ("popular",))


def test_a_bandit_starts_uniform_until_its_first_snapshot() -> None:
    specs = home()
    specs[("experiment", "b")] = experiment_spec(
        "b",
        "home",
        {"x": "personal", "y": "als", "z": "ease"},
        design="bandit",
        bandit={"algorithm": "softmax", "update_interval": 60},
    )
    (plan,) = build_state(specs).surfaces["home"].experiments
    assert plan.implementation is design("bandit")
    assert isinstance(plan.settings, BanditPlan)
    assert plan.settings.settings.algorithm == "softmax"
    assert plan.settings.settings.update_interval == 60
    initial = plan.settings.initial
    assert (initial.experiment, initial.arms, initial.version) == ("b", ("x", "y", "z"), 0)
    assert initial.allocation == (1 / 3, 1 / 3, 1 / 3)


def test_a_bandit_without_settings_uses_the_defaults() -> None:
    specs = home()
    specs[("experiment", "b")] = experiment_spec(
        "b", "home", {"x": "personal", "y": "als"}, design="bandit"
    )
    (plan,) = build_state(specs).surfaces["home"].experiments
    assert isinstance(plan.settings, BanditPlan)
    assert plan.settings.settings.algorithm == "thompson"
    assert plan.settings.initial.allocation == (0.5, 0.5)


def test_fingerprint_ignores_order_and_sees_every_change() -> None:
    specs = home()
    specs[("experiment", "e")] = experiment_spec("e", "home", {"a": "personal", "b": "als"})
    reordered = dict(reversed(list(specs.items())))
    assert fingerprint(reordered) == fingerprint(specs)
    changed = {k: dict(v) for k, v in specs.items()}
    changed[("experiment", "e")]["coverage"] = 0.5
    assert fingerprint(changed) != fingerprint(specs)
    renamed = {("surface", "feed") if k == ("surface", "home") else k: v for k, v in specs.items()}
    assert fingerprint(renamed) != fingerprint(specs)


def test_the_empty_state_serves_nothing() -> None:
    empty = ServingState.empty()
    assert (dict(empty.surfaces), empty.result_sets, empty.fingerprint) == ({}, frozenset(), "")
    assert build_state({}).surfaces == {} and build_state({}).result_sets == frozenset()
