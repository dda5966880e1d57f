"""ReadBatcher: concurrent reads share one ``get_reads`` call; every read gets its own answer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import pytest
import redis
from starlette.testclient import TestClient

from sameday.errors import NotFound, StoreUnavailable
from sameday.events.memory import MemorySink
from sameday.events.writer import EventWriter
from sameday.serve.app import create_app
from sameday.serve.batching import ReadBatcher, served_all
from sameday.serve.client import Client
from sameday.serve.engine import Recommendation
from sameday.serve.state import build_state
from sameday.store import Item, MemoryStore
from sameday.store.base import Answer, Listed, Read
from sameday.store.codec import encode_list
from sameday.store.redis import RedisStore
from sameday.testing import experiment_spec, load_lists, surface_spec


class CountingStore(MemoryStore):
    """A memory store that records each ``get_reads`` batch and can hold one until released."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[Read]] = []
        self.gate = threading.Event()
        self.gate.set()

    def get_reads(self, reads: Sequence[Read]) -> list[Answer]:
        self.gate.wait(5)
        self.batches.append(list(reads))
        return super().get_reads(reads)


async def one(batcher: ReadBatcher, read: Read) -> Answer:
    """The answer to a single read."""
    return (await batcher.read([read]))[0]


def listed(*items: str) -> Listed:
    return Listed("v1", [Item(item, 1.0) for item in items])


def loaded() -> CountingStore:
    store = CountingStore()
    pairs = [(f"u{k}", encode_list([Item(f"item-{k}", 1.0)])) for k in range(10)]
    store.load("home", "v1", [pairs])
    store.set_live("home", "v1")
    return store


def test_concurrent_reads_share_one_batch() -> None:
    store = loaded()
    batcher = ReadBatcher(store)

    async def main() -> list[object]:
        return await asyncio.gather(*(one(batcher, ("home", f"u{k}", None)) for k in range(10)))

    answers = asyncio.run(main())
    batcher.close()
    assert answers == [listed(f"item-{k}") for k in range(10)]
    assert len(store.batches) == 1 and len(store.batches[0]) == 10


def test_reads_arriving_during_a_batch_form_the_next_one() -> None:
    store = loaded()
    store.gate.clear()  # hold the first batch in the store
    batcher = ReadBatcher(store, deadline=5)

    async def main() -> tuple[object, list[object]]:
        first = asyncio.ensure_future(one(batcher, ("home", "u0", None)))
        await asyncio.sleep(0.05)  # the first batch is in flight now
        later = [asyncio.ensure_future(one(batcher, ("home", f"u{k}", 1))) for k in (1, 2, 3)]
        await asyncio.sleep(0.05)
        store.gate.set()
        return await first, list(await asyncio.gather(*later))

    first, later = asyncio.run(main())
    batcher.close()
    assert first == listed("item-0")
    assert later == [listed(f"item-{k}") for k in (1, 2, 3)]
    assert [len(batch) for batch in store.batches] == [1, 3]


def test_each_read_gets_its_own_error() -> None:
    store = loaded()
    batcher = ReadBatcher(store)

    async def main() -> list[object]:
        reads = [("home", "u1", None), ("absent", "u1", None), ("home", "nobody", None)]
        return await asyncio.gather(*(one(batcher, read) for read in reads))

    found, missing, empty = asyncio.run(main())
    batcher.close()
    assert found == listed("item-1") and empty == listed()
    assert isinstance(missing, NotFound)


def test_a_store_that_breaks_answers_store_unavailable() -> None:
    class Broken(MemoryStore):
        def get_reads(self, reads: Sequence[Read]) -> list[Answer]:
            raise RuntimeError("boom")

    batcher = ReadBatcher(Broken())

    async def main() -> list[object]:
        return await asyncio.gather(*(one(batcher, ("home", f"u{k}", None)) for k in range(3)))

    answers = asyncio.run(main())
    batcher.close()
    assert all(isinstance(a, StoreUnavailable) and "boom" in str(a) for a in answers)


def test_a_closed_batcher_answers_unavailable_and_a_gone_loop_is_not_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = loaded()
    store.gate.clear()
    batcher = ReadBatcher(store)
    loop = asyncio.new_event_loop()
    pending = loop.create_task(one(batcher, ("home", "u0", None)))
    loop.run_until_complete(asyncio.sleep(0.05))  # the batch is in the store now
    pending.cancel()
    loop.close()  # the server stopped while the batch ran
    store.gate.set()
    batcher.close()
    time.sleep(0.05)
    assert not [r for r in caplog.records if "exception calling callback" in r.getMessage()]
    closed = asyncio.run(one(batcher, ("home", "u1", None)))
    assert isinstance(closed, StoreUnavailable) and "shutting down" in str(closed)


def test_the_http_answers_over_redis_match_the_in_process_ones(redis_url: str) -> None:
    specs = {
        ("surface", "home"): surface_spec("home", "personal", fallbacks=["popular"], n=3),
        ("experiment", "exp"): experiment_spec(
            "exp", "home", {"control": "personal", "b": "other"}
        ),
    }
    store = RedisStore(redis_url, pointer_ttl=60.0)
    load_lists(store, "personal", "p1", {f"u{k}": ["a", "b", f"p{k}"] for k in range(20)})
    load_lists(store, "other", "o1", {f"u{k}": [f"o{k}", "a"] for k in range(0, 20, 2)})
    load_lists(store, "popular", "q1", {"*": ["b", "c", "d"]})
    writer = EventWriter(MemorySink())
    with (
        # a generous read deadline: on a busy test machine no answer may turn degraded
        Client(
            store,
            writer=writer,
            state=build_state(specs),
            refresh_interval=0,
            read_deadline=10,
            memory_limit=0,  # every list read from Redis through the batcher
        ) as client,
        TestClient(create_app(client)) as http,
    ):
        for k in range(20):
            params = {"unit": f"u{k}", "n": 3, "exclude": "b"}
            body = http.get("/v1/recommend/home", params=params).json()
            posted = http.post(
                "/v1/recommend/home", json={"unit": f"u{k}", "n": 3, "exclude": ["b"]}
            ).json()
            direct = client.recommend("home", f"u{k}", n=3, exclude=["b"]).to_dict()
            for answer in (body, posted):
                assert answer["arm"] == direct["arm"] and answer["degraded"] is False
                assert answer["items"] == direct["items"]
                assert answer["snapshots"] == direct["snapshots"]
        metrics = http.get("/metrics").text
        assert "sameday_read_batches_total" in metrics
        assert "sameday_batched_reads_total 40.0" in metrics  # 20 GETs and 20 POSTs
        live = store._client
        store._client = redis.Redis.from_url("redis://127.0.0.1:1/0")  # Redis down
        try:
            down = http.get("/v1/recommend/home", params={"unit": "u1"})
        finally:
            store._client.close()
            store._client = live
    assert down.status_code == 200 and down.json()["degraded"] is True
    assert [i["item"] for i in down.json()["items"]] == ["b", "c", "d"]  # the fallback list


def test_a_batch_reads_every_unit_in_one_call_and_answers_as_one_by_one() -> None:
    store = loaded()
    load_lists(store, "popular", "q1", {"*": ["p1", "p2", "p3"]})
    specs = {("surface", "home"): surface_spec("home", "home", fallbacks=["popular"], n=2)}
    # lists read from the store, not held in memory: the reads are what this test counts
    with Client(store, state=build_state(specs), refresh_interval=0, memory_limit=0) as client:
        units = [(f"u{k}", None) for k in range(12)]  # u10, u11 have no list: fallbacks
        batch = client.recommend_batch("home", units, exclude=["item-3"])
        # every unit's list in one call, then (each list is short of n=2) every fallback in one
        assert [len(reads) for reads in store.batches] == [12, 12]
        assert {read[0] for read in store.batches[1]} == {"popular"}
        one_by_one = [client.recommend("home", unit, exclude=["item-3"]) for unit, _ in units]
    assert [r.to_dict()["items"] for r in batch] == [r.to_dict()["items"] for r in one_by_one]
    assert [item.item for item in batch[3].items] == ["p1", "p2"]  # excluded, then filled


def test_a_read_the_store_holds_past_the_deadline_is_answered_unavailable_in_time() -> None:
    store = loaded()
    store.gate.clear()  # the store hangs
    batcher = ReadBatcher(store, deadline=0.2)

    async def main() -> list[tuple[float, Answer]]:
        timed = []
        for unit in ("u0", "u1"):  # the first waits the deadline; the second finds it stalled
            started = time.perf_counter()
            answer = await one(batcher, ("home", unit, None))
            timed.append((time.perf_counter() - started, answer))
        store.gate.set()  # the store answers again
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        answer = await one(batcher, ("home", "u2", None))
        return [*timed, (time.perf_counter() - started, answer)]

    (waited, late), (failed_fast, stalled), (_, back) = asyncio.run(main())
    batcher.close()
    assert isinstance(late, StoreUnavailable) and "did not answer within 200 ms" in str(late)
    assert 0.19 < waited < 1 and isinstance(stalled, StoreUnavailable) and failed_fast < 0.1
    assert back == listed("item-2") and batcher.late == 2
    assert [len(batch) for batch in store.batches] == [1, 1]  # the stalled read was never sent


def test_a_deadline_must_be_positive() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        ReadBatcher(MemoryStore(), deadline=0)


def test_a_call_of_the_batch_endpoint_waits_one_deadline_per_hundred_units() -> None:
    store = loaded()
    specs = {("surface", "home"): surface_spec("home", "home", n=1)}
    # lists read from the store, not held in memory: its hang is what this test is about
    with Client(store, state=build_state(specs), refresh_interval=0, memory_limit=0) as client:
        store.gate.clear()  # the store hangs from now on
        batcher = ReadBatcher(store, deadline=0.05)
        engine = client.engine

        async def timed(units: int) -> tuple[float, list[Recommendation]]:
            prepared = [engine.prepare("home", f"u{k % 10}") for k in range(units)]
            started = time.perf_counter()
            served = await served_all(engine, prepared, batcher)
            return time.perf_counter() - started, served

        waited, served = asyncio.run(timed(250))  # three deadlines
        store.gate.set()
        batcher.close()
    assert 0.14 < waited < 0.6 and len(served) == 250
    assert all(one.degraded and not one.entries for one in served)
