"""Online scoring: scorers re-rank candidates per request, within a budget, swapped live."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.serve import _scorers

from sameday.config.experiment import Experiment
from sameday.events.records import Exposure
from sameday.serve.app import create_app
from sameday.serve.cache import ListCache, refresh_cache
from sameday.serve.client import Client
from sameday.serve.engine import Engine
from sameday.serve.prometheus import ServerMetrics
from sameday.serve.scoring import ScoreOutcome, Scoring, _order
from sameday.serve.state import build_state
from sameday.store.base import Item
from sameday.store.codec import encode_list
from sameday.store.memory import MemoryStore
from sameday.testing import load_lists, surface_spec

BY_X = "python:tests.serve._scorers:by_x"
ITEMS = [f"i{k}" for k in range(10)]
BATCH = ITEMS  # the batch order: i0 first


class Log:
    def __init__(self) -> None:
        self.exposures: list[Exposure] = []

    def log_exposure(self, exposure: Exposure) -> None:
        self.exposures.append(exposure)


def load(store: MemoryStore, result_set: str, lists: dict[str, list[Item]]) -> None:
    chunk = [(key, encode_list(items)) for key, items in sorted(lists.items())]
    store.load(result_set, "v1", [chunk])
    store.set_live(result_set, "v1")


@pytest.fixture
def store() -> MemoryStore:
    """Candidates of u1 and u2 in the batch order i0..i9, each with a feature ``x`` = k, and a
    ``*`` list of two."""
    store = MemoryStore()
    candidates = [Item(f"i{k}", float(10 - k), {"x": k}) for k in range(10)]
    default = [Item("d0", 2.0, {"x": 0}), Item("d1", 1.0, {"x": 1})]
    load(store, "cands", {"u1": candidates, "u2": candidates, "*": default})
    load_lists(store, "popular", "p1", {"*": ["p1", "p2", "p3"]})
    load(
        store,
        "item-stats",
        {f"i{k}": [Item("stats", 0.0, {"pop": (k * 7) % 10})] for k in range(10)},
    )
    load(store, "users", {"u1": [Item("profile", 0.0, {"boost": -1.0})]})
    return store


def surface(**scoring: Any) -> dict[tuple[str, str], Any]:
    """``home`` over ``cands``; a scorer gets a generous budget unless the test sets one (the
    machine running the tests may be loaded)."""
    if scoring.get("python") or scoring.get("model"):
        scoring.setdefault("timeout_ms", 5000)
    return {
        ("surface", "home"): surface_spec("home", "cands", fallbacks=["popular"], n=3, **scoring)
    }


def engine_for(store: MemoryStore, specs: dict, log: Log | None = None) -> Engine:
    state = build_state(specs)
    cache = refresh_cache(store, state.result_sets, ListCache.empty())
    scoring = Scoring(store)
    scoring.refresh(state)
    return Engine(store, state=state, cache=cache, log=log, scoring=scoring)


def items(result: Any) -> list[str]:
    return [slot.item for slot in result.items]


def test_a_python_scorer_reranks_the_candidates_and_the_exposure_names_it(
    store: MemoryStore,
) -> None:
    log = Log()
    engine = engine_for(store, surface(python="tests.serve._scorers:by_x"), log)
    result = engine.recommend("home", "u1")
    assert items(result) == ["i9", "i8", "i7"]
    assert [slot.score for slot in result.items] == [9.0, 8.0, 7.0]  # the model's scores
    assert result.scored == ScoreOutcome(BY_X, BY_X)
    assert result.to_dict()["model"] == {"scorer": BY_X, "version": BY_X, "fallback": None}
    assert log.exposures[0].model == BY_X and list(log.exposures[0].items) == items(result)
    assert engine.scoring.scored == {BY_X: 1}


def test_features_hold_the_request_attributes_and_exclusions_apply_after_scoring(
    store: MemoryStore,
) -> None:
    engine = engine_for(store, surface(python="tests.serve._scorers:by_x"))
    assert items(engine.recommend("home", "u1", attributes={"boost": -1})) == ["i0", "i1", "i2"]
    assert items(engine.recommend("home", "u1", exclude=["i9", "i7"])) == ["i8", "i6", "i5"]


def test_only_the_first_candidates_are_scored(store: MemoryStore) -> None:
    engine = engine_for(store, surface(python="tests.serve._scorers:by_x", candidates=5))
    assert items(engine.recommend("home", "u1")) == ["i4", "i3", "i2"]


def test_an_object_with_predict_scores_and_a_key_without_a_list_scores_the_default_list(
    store: MemoryStore,
) -> None:
    engine = engine_for(store, surface(python="tests.serve._scorers:REVERSED"))
    assert items(engine.recommend("home", "u1")) == ["i9", "i8", "i7"]
    # cands' * list is scored; the fallback's items fill the list unscored
    assert items(engine.recommend("home", "nobody")) == ["d1", "d0", "p1"]


def test_feature_tables_by_item_and_by_request_attribute(store: MemoryStore) -> None:
    by_item = surface(
        python="tests.serve._scorers:by_popularity", features=[{"table": "item-stats"}]
    )
    engine = engine_for(store, by_item)
    assert items(engine.recommend("home", "u1")) == ["i7", "i4", "i1"]  # pop 9, 8, 7
    by_user = surface(
        python="tests.serve._scorers:by_x", features=[{"table": "users", "key": "unit"}]
    )
    engine = engine_for(store, by_user)
    assert items(engine.recommend("home", "u1")) == ["i0", "i1", "i2"]  # u1's boost is -1
    assert items(engine.recommend("home", "u2")) == ["i9", "i8", "i7"]  # u2 has no row


def test_a_model_arm_is_reranked_and_the_batch_arm_is_not(store: MemoryStore) -> None:
    experiment = Experiment.model_validate(
        {
            "name": "rank-test",
            "surface": "home",
            "phase": "running",
            "hashing": {"attribute": "visitor"},
            "arms": [
                {"name": "batch", "result_set": "cands"},
                {
                    "name": "ranked",
                    "result_set": "cands",
                    "python": "tests.serve._scorers:by_x",
                    "timeout_ms": 5000,
                },
            ],
        }
    ).model_dump(mode="json")
    log = Log()
    engine = engine_for(store, {**surface(), ("experiment", "rank-test"): experiment}, log)
    served = {}
    for unit in (f"user{k}" for k in range(40)):
        result = engine.recommend("home", "u1", attributes={"visitor": unit})
        served[result.arm] = result
    assert items(served["batch"]) == BATCH[:3] and served["batch"].scored is None
    assert "model" not in served["batch"].to_dict()
    assert items(served["ranked"]) == ["i9", "i8", "i7"]
    models = {e.arm: e.model for e in log.exposures}
    assert models == {"batch": None, "ranked": BY_X}


def test_a_scorer_over_budget_falls_back_to_the_batch_order_and_is_counted(
    store: MemoryStore,
) -> None:
    specs = surface(python="tests.serve._scorers:hang", timeout_ms=30)
    client = Client(store, state=build_state(specs), refresh_interval=0)
    log = Log()
    client.engine.log = log
    try:
        started = time.perf_counter()
        result = client.recommend("home", "u1")
        elapsed = time.perf_counter() - started
        assert items(result) == BATCH[:3]
        assert result.scored is not None and result.scored.fallback == "timeout"
        assert result.to_dict()["model"]["fallback"] == "timeout"
        assert elapsed < 1.0  # the scorer hangs for 2 s unless released
        assert log.exposures[0].model is None
        assert log.exposures[0].extra["model_fallback"] == "timeout"
        scorer = "python:tests.serve._scorers:hang"
        assert client.engine.scoring.fallbacks == {(scorer, "timeout"): 1}
        text = ServerMetrics(client).render().decode()
        assert f'sameday_scoring_fallbacks_total{{reason="timeout",scorer="{scorer}"}} 1.0' in text
    finally:
        _scorers.RELEASE.set()
        client.close()
    _scorers.RELEASE.clear()


@pytest.mark.parametrize("scorer", ["broken", "short"])
def test_a_failing_scorer_falls_back_and_is_counted(store: MemoryStore, scorer: str) -> None:
    engine = engine_for(store, surface(python=f"tests.serve._scorers:{scorer}"))
    result = engine.recommend("home", "u1")
    assert items(result) == BATCH[:3]
    assert result.scored == ScoreOutcome(f"python:tests.serve._scorers:{scorer}", None, "error")


def test_a_model_that_cannot_load_is_unavailable_and_the_list_served_in_batch_order(
    store: MemoryStore,
) -> None:
    engine = engine_for(store, surface(model="ranker@champion"))  # no registry to load from
    assert engine.scoring.load_errors == 1
    result = engine.recommend("home", "u1")
    assert items(result) == BATCH[:3]
    assert result.scored == ScoreOutcome("ranker@champion", None, "unavailable")


def test_a_batch_of_units_is_scored(store: MemoryStore) -> None:
    specs = surface(python="tests.serve._scorers:by_x")
    client = Client(store, state=build_state(specs), refresh_interval=0)
    try:
        results = client.recommend_batch("home", [("u1", None), ("u2", {"boost": -1})])
    finally:
        client.close()
    assert [items(r) for r in results] == [["i9", "i8", "i7"], ["i0", "i1", "i2"]]


def test_over_http_a_hanging_scorer_never_blocks_the_event_loop(store: MemoryStore) -> None:
    specs = surface(python="tests.serve._scorers:hang", timeout_ms=300)
    client = Client(store, state=build_state(specs), refresh_interval=0)
    app = create_app(client)
    finished: list[str] = []

    async def scenario() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:

            async def recommend() -> dict[str, Any]:
                response = await http.get("/v1/recommend/home", params={"unit": "u1"})
                finished.append("recommend")
                body: dict[str, Any] = response.json()
                return body

            async def health() -> None:
                await asyncio.sleep(0.05)
                await http.get("/healthz")
                finished.append("healthz")

            body, _ = await asyncio.gather(recommend(), health())
            return body

    try:
        body = asyncio.run(scenario())
    finally:
        _scorers.RELEASE.set()
        client.close()
    _scorers.RELEASE.clear()
    assert finished == ["healthz", "recommend"]
    assert [slot["item"] for slot in body["items"]] == BATCH[:3]
    assert body["model"] == {
        "scorer": "python:tests.serve._scorers:hang",
        "version": None,
        "fallback": "timeout",
    }


def test_over_http_the_batch_endpoint_scores_every_unit_and_metrics_count_them(
    store: MemoryStore,
) -> None:
    client = Client(store, state=build_state(surface(python="tests.serve._scorers:by_x")))
    app = create_app(client)

    async def scenario() -> tuple[dict[str, Any], str]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            body = {"requests": [{"unit": "u1"}, {"unit": "u2", "attributes": {"boost": -1}}]}
            response = await http.post("/v1/recommend/home/batch", json=body)
            metrics = await http.get("/metrics")
            return response.json(), metrics.text

    try:
        body, metrics = asyncio.run(scenario())
    finally:
        client.close()
    lists = [[slot["item"] for slot in result["items"]] for result in body["results"]]
    assert lists == [["i9", "i8", "i7"], ["i0", "i1", "i2"]]
    assert all(result["model"]["version"] == BY_X for result in body["results"])
    assert f'sameday_scored_total{{version="{BY_X}"}} 2.0' in metrics
    assert f'sameday_scorer_version{{scorer="{BY_X}",version="{BY_X}"}} 1.0' in metrics


def test_a_rule_is_served_unscored_and_a_concluded_winner_keeps_its_scorer(
    store: MemoryStore,
) -> None:
    rule = {"name": "new", "when": {"is_new": True}, "result_set": "cands"}
    engine = engine_for(store, surface(python="tests.serve._scorers:by_x", rules=[rule]))
    assert items(engine.recommend("home", "u1", attributes={"is_new": True})) == BATCH[:3]
    assert items(engine.recommend("home", "u1")) == ["i9", "i8", "i7"]
    concluded = Experiment.model_validate(
        {
            "name": "rank-test",
            "surface": "home",
            "phase": "concluded",
            "winner": "ranked",
            "arms": [
                {"name": "batch", "result_set": "popular"},
                {
                    "name": "ranked",
                    "result_set": "cands",
                    "python": "tests.serve._scorers:by_x",
                    "timeout_ms": 5000,
                },
            ],
        }
    ).model_dump(mode="json")
    specs = {("surface", "home"): surface_spec("home", "popular", n=3)}
    engine = engine_for(store, {**specs, ("experiment", "rank-test"): concluded})
    result = engine.recommend("home", "u1")
    assert items(result) == ["i9", "i8", "i7"] and result.experiment is None


class Source:
    """A model source whose alias points where the test says, and whose version 2 is broken."""

    def __init__(self) -> None:
        self.champion = "ranker/1"

    def resolve(self, ref: str) -> str:
        return self.champion

    def load(self, version: str) -> Any:
        if version == "ranker/2":
            raise ValueError("bundle ranker/2 is corrupted")
        model = _scorers.Reversed()
        model.ref = version  # type: ignore[attr-defined]
        return model


def test_a_version_that_fails_to_load_leaves_the_previous_one_scoring(store: MemoryStore) -> None:
    source = Source()
    state = build_state(surface(model="ranker@champion"))
    client = Client(store, state=state, refresh_interval=0, models=source)
    try:
        assert client.recommend("home", "u1").scored == ScoreOutcome("ranker@champion", "ranker/1")
        source.champion = "ranker/2"
        assert not client.refresh()
        assert client.engine.scoring.load_errors == 1
        assert client.recommend("home", "u1").scored == ScoreOutcome("ranker@champion", "ranker/1")
        source.champion = "ranker/3"
        assert client.refresh()
        assert client.recommend("home", "u1").scored == ScoreOutcome("ranker@champion", "ranker/3")
    finally:
        client.close()


WHERE = "python:tests.serve._scorers:where"


@pytest.fixture
def where() -> Any:
    """The :func:`_scorers.where` scorer's record, cleared before and after."""
    _scorers.THREADS.clear()
    _scorers.SLOW.clear()
    yield _scorers.THREADS
    _scorers.SLOW.clear()
    _scorers.THREADS.clear()


def inline_engine(store: MemoryStore, specs: dict, after: int) -> Engine:
    state = build_state(specs)
    cache = refresh_cache(store, state.result_sets, ListCache.empty())
    scoring = Scoring(store, inline_after=after)
    scoring.refresh(state)
    return Engine(store, state=state, cache=cache, scoring=scoring)


def test_a_scorer_proven_fast_runs_on_the_requests_thread(store: MemoryStore, where: Any) -> None:
    engine = inline_engine(store, surface(python="tests.serve._scorers:where"), after=3)
    here = threading.get_ident()
    results = []
    for _ in range(12):
        results.append(engine.recommend("home", "u1"))
    assert all(items(result) == ["i9", "i8", "i7"] for result in results)
    assert all(result.scored == ScoreOutcome(WHERE, WHERE) for result in results)
    assert where[:3] == [w for w in where[:3] if w != here]  # the first runs: on workers
    assert where.count(here) >= 6  # then inline (a busy machine may slow a run: a few back)
    assert engine.scoring.inline == where.count(here)
    assert engine.scoring.scored == {WHERE: 12}


def test_an_inline_run_over_budget_is_served_in_batch_order_and_goes_back_to_the_workers(
    store: MemoryStore, where: Any
) -> None:
    engine = inline_engine(
        store, surface(python="tests.serve._scorers:where", timeout_ms=100), after=3
    )
    here = threading.get_ident()
    for _ in range(40):
        engine.recommend("home", "u1")
        if where and where[-1] == here:
            break
    assert where[-1] == here, "never ran inline"
    _scorers.SLOW.set()
    result = engine.recommend("home", "u1")  # inline, 200 ms: over its 100 ms budget
    assert where[-1] == here
    assert items(result) == BATCH[:3]
    assert result.scored == ScoreOutcome(WHERE, None, "timeout")
    assert engine.scoring.fallbacks == {(WHERE, "timeout"): 1}
    started = time.perf_counter()
    result = engine.recommend("home", "u1")  # on a worker again: falls back on time
    assert time.perf_counter() - started < 0.19
    assert result.scored == ScoreOutcome(WHERE, None, "timeout")
    time.sleep(0.25)  # let the worker's run end
    assert where[-1] != here


def test_a_scorer_reading_feature_tables_never_runs_inline(store: MemoryStore, where: Any) -> None:
    specs = surface(
        python="tests.serve._scorers:where", features=[{"table": "item-stats", "key": "item"}]
    )
    engine = inline_engine(store, specs, after=1)
    for _ in range(5):
        engine.recommend("home", "u1")
    assert threading.get_ident() not in where and engine.scoring.inline == 0


def test_a_scorer_declared_not_inline_always_runs_on_a_worker(
    store: MemoryStore, where: Any
) -> None:
    engine = inline_engine(store, surface(python="tests.serve._scorers:where", inline=False), 1)
    for _ in range(5):
        engine.recommend("home", "u1")
    assert len(where) == 5 and threading.get_ident() not in where
    assert engine.scoring.inline == 0


def test_a_held_snapshot_of_a_scored_result_set_keeps_its_payload_matrices(
    store: MemoryStore,
) -> None:
    client = Client(store, state=build_state(surface(python=BY_X[7:])), refresh_interval=0)
    try:
        held = client.engine.cache.held
        assert held["cands"].matrices is not None and sorted(held["cands"].matrices) == [
            "*",
            "u1",
            "u2",
        ]
        assert held["cands"].matrices["u1"].values[:, 0].tolist() == list(map(float, range(10)))
        assert held["popular"].matrices is None  # not scored
        assert held["cands"].read("u1", 4).items.matrix is held["cands"].matrices["u1"]
        result = client.recommend("home", "u1")
        assert items(result) == ["i9", "i8", "i7"]
    finally:
        client.close()
    unscored = Client(store, state=build_state(surface()), refresh_interval=0)
    try:
        snapshot = unscored.engine.cache.held["cands"]
        assert snapshot.matrices is None
        assert snapshot.size < held["cands"].size  # the matrices are counted
    finally:
        unscored.close()


@given(
    st.lists(
        st.sampled_from([0.0, -0.0, 1.0, 2.5, -3.0, math.inf, -math.inf, math.nan]) | st.floats(),
        max_size=60,
    )
)
def test_the_order_is_numpys_stable_argsort_of_the_negated_scores(values: list[float]) -> None:
    scores = np.array(values, dtype=np.float64)
    assert _order(scores) == (-scores).argsort(kind="stable").tolist()
