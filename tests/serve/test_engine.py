"""The engine: assignment, chains, fallbacks, exclusions, degradation and exposures."""

from __future__ import annotations

from collections import Counter

import pytest

from sameday.assign import Allocation
from sameday.errors import StoreUnavailable, UnknownSurface
from sameday.events.records import Exposure
from sameday.serve.cache import ListCache, refresh_cache
from sameday.serve.engine import Engine
from sameday.serve.state import build_state
from sameday.store.base import Item, Listed
from sameday.store.codec import encode_list
from sameday.store.memory import MemoryStore
from sameday.testing import experiment_spec, load_lists, surface_spec


class Log:
    def __init__(self) -> None:
        self.exposures: list[Exposure] = []

    def log_exposure(self, exposure: Exposure) -> None:
        self.exposures.append(exposure)


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    load_lists(store, "personal", "p1", {"u1": ["a", "b", "c"], "u2": ["x"]})
    load_lists(store, "popular", "q1", {"*": ["b", "d", "e", "f", "g"]})
    load_lists(store, "als", "r1", {"u1": ["z1", "z2", "z3", "z4"]})
    return store


def engine_for(store: MemoryStore, specs: dict, log: Log | None = None) -> Engine:
    state = build_state(specs)
    cache = refresh_cache(store, state.result_sets, ListCache.empty())
    return Engine(store, state=state, cache=cache, log=log)


HOME = {("surface", "home"): surface_spec("home", "personal", fallbacks=["popular"], n=4)}


def test_default_chain_fills_without_duplicates(store: MemoryStore) -> None:
    result = engine_for(store, HOME).recommend("home", "u1")
    assert [s.item for s in result.items] == ["a", "b", "c", "d"]
    assert [s.source for s in result.items] == ["personal"] * 3 + ["popular"]
    assert [s.position for s in result.items] == [1, 2, 3, 4]
    assert not result.degraded and result.experiment is None


def test_missing_key_falls_back_and_exclusions_apply(store: MemoryStore) -> None:
    result = engine_for(store, HOME).recommend("home", "nobody", n=3, exclude=["b"])
    assert [s.item for s in result.items] == ["d", "e", "f"]


def test_n_is_checked(store: MemoryStore) -> None:
    engine = engine_for(store, HOME)
    with pytest.raises(ValueError, match="at least 1"):
        engine.recommend("home", "u1", n=0)
    assert len(engine.recommend("home", "u1", n=10_000).items) == 7  # capped, then exhausted
    with pytest.raises(UnknownSurface, match="known: home"):
        engine.recommend("feed", "u1")


def test_rules_pick_another_chain(store: MemoryStore) -> None:
    specs = {
        ("surface", "home"): surface_spec(
            "home",
            "personal",
            fallbacks=["popular"],
            rules=[{"name": "new", "when": {"is_new": True}, "result_set": "popular"}],
        )
    }
    engine = engine_for(store, specs)
    assert engine.recommend("home", "u1", attributes={"is_new": True}).items[0].item == "b"
    assert engine.recommend("home", "u1", attributes={"is_new": False}).items[0].item == "a"


def test_ab_assignment_matches_the_allocation_and_is_logged(store: MemoryStore) -> None:
    specs = dict(HOME)
    specs[("experiment", "exp")] = experiment_spec(
        "exp", "home", {"control": "personal", "als": "als"}
    )
    log = Log()
    engine = engine_for(store, specs, log)
    from sameday.config.experiment import Experiment

    allocation = Allocation.from_experiment(Experiment.model_validate(specs[("experiment", "exp")]))
    arms = Counter()
    for i in range(2000):
        unit = f"user-{i}"
        result = engine.recommend("home", unit)
        expected = ["control", "als"][allocation.assign(unit)]
        assert result.arm == expected and result.experiment == "exp"
        arms[result.arm] += 1
    assert 900 < arms["als"] < 1100
    exposure = log.exposures[0]
    assert exposure.seed == "exp" and exposure.hash_version == 2
    assert exposure.propensity == 0.5 and exposure.design == "ab"
    assert exposure.bucket == allocation.bucket("user-0")
    assert exposure.items and exposure.snapshot_versions


def test_targeting_excludes_units(store: MemoryStore) -> None:
    specs = dict(HOME)
    specs[("experiment", "exp")] = experiment_spec(
        "exp", "home", {"control": "personal", "als": "als"}, targeting={"country": "JP"}
    )
    engine = engine_for(store, specs)
    assert engine.recommend("home", "u1", attributes={"country": "US"}).experiment is None
    assert engine.recommend("home", "u1", attributes={"country": "JP"}).experiment == "exp"


@pytest.mark.parametrize("design", ["ab", "bandit", "interleave"])
def test_exposures_record_the_declared_dimensions(store: MemoryStore, design: str) -> None:
    specs = dict(HOME)
    specs[("experiment", "exp")] = experiment_spec(
        "exp",
        "home",
        {"control": "personal", "als": "als"},
        design=design,
        dimensions=["platform", "is_new", "activity"],
    )
    log = Log()
    engine = engine_for(store, specs, log)
    attributes = {"platform": "ios", "is_new": True, "activity": 3.5, "country": "JP"}
    for unit in ("u1", "u2", "u3"):
        engine.recommend("home", unit, attributes=attributes)
    engine.recommend("home", "u4", attributes={"platform": "web"})
    first, *_, last = log.exposures
    assert first.experiment == "exp" and first.design == design
    # declared attributes only (not country), next to what the design itself records
    assert {k: first.extra[k] for k in ("platform", "is_new", "activity")} == {
        "platform": "ios",
        "is_new": True,
        "activity": 3.5,
    }
    assert "country" not in first.extra
    assert ("params_version" in first.extra) == (design == "bandit")
    assert ("arms" in first.extra) == (design == "interleave")
    # an attribute the request does not send is left out, not logged as null
    assert last.extra.get("platform") == "web" and "is_new" not in last.extra


def test_exposures_outside_experiments_record_no_dimensions(store: MemoryStore) -> None:
    specs = dict(HOME)
    specs[("experiment", "exp")] = experiment_spec(
        "exp",
        "home",
        {"control": "personal", "als": "als"},
        targeting={"country": "JP"},
        dimensions=["platform"],
    )
    log = Log()
    engine_for(store, specs, log).recommend("home", "u1", attributes={"platform": "ios"})
    assert log.exposures[0].experiment is None and log.exposures[0].extra == {}


def test_concluded_experiment_makes_the_winner_the_default(store: MemoryStore) -> None:
    specs = dict(HOME)
    specs[("experiment", "exp")] = experiment_spec(
        "exp", "home", {"control": "personal", "als": "als"}, phase="concluded", winner="als"
    )
    result = engine_for(store, specs).recommend("home", "u1")
    assert result.experiment is None
    assert [s.item for s in result.items] == ["z1", "z2", "z3", "z4"]


class DownStore(MemoryStore):
    def read(self, result_set: str, key: str | int, limit: int | None = None) -> Listed:
        raise StoreUnavailable("down")


def test_store_down_serves_last_known_good_and_flags_degraded(store: MemoryStore) -> None:
    engine = engine_for(store, HOME)
    engine.store = DownStore()
    result = engine.recommend("home", "u1")
    assert result.degraded
    assert [s.item for s in result.items] == ["b", "d", "e", "f"]
    assert engine.counters.degraded == 1 and engine.counters.store_errors == 2


def test_a_list_in_another_format_is_served_degraded_not_failed(store: MemoryStore) -> None:
    engine = engine_for(store, HOME)
    blob = bytearray(encode_list([Item("old", 1.0)]))
    blob[0] = 1  # written by a sameday of list format 1
    store.load("personal", "p0", [[("u1", bytes(blob))]])
    store.set_live("personal", "p0")
    result = engine.recommend("home", "u1")
    assert result.degraded and [s.item for s in result.items] == ["b", "d", "e", "f"]
    assert engine.counters.store_errors == 1


def test_result_set_without_live_snapshot_is_degraded() -> None:
    store = MemoryStore()
    load_lists(store, "popular", "q1", {"*": [Item("b", 1.0).item]})
    result = engine_for(store, HOME).recommend("home", "u1")
    assert result.degraded and [s.item for s in result.items] == ["b"]
