"""Live snapshots held in memory: served without a store read, named by their version, encoded
once, within a memory ceiling."""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
import pytest
from starlette.testclient import TestClient
from tests.serve._counting import CountingStore

from sameday.serve.app import create_app
from sameday.serve.client import Client
from sameday.serve.held import (
    EncodedEntries,
    HeldItems,
    encode_items,
    held_size,
    load_snapshot,
)
from sameday.serve.state import build_state
from sameday.store.base import Item
from sameday.store.memory import MemoryStore
from sameday.store.sqlite import SQLiteStore
from sameday.testing import load_lists, surface_spec

SPECS = {("surface", "home"): surface_spec("home", "personal", fallbacks=["popular"], n=3)}


def test_a_held_result_set_is_served_without_a_read_and_names_its_version(
    tmp_path: Path,
) -> None:
    with CountingStore(tmp_path / "serving.db") as store:
        load_lists(store, "personal", "p1", {"u1": ["a", "b", "c", "d"], "u2": ["e"]})
        load_lists(store, "popular", "q1", {"*": ["x", "y", "z"], "u2": ["w"]})
        with Client(store, state=build_state(SPECS), refresh_interval=0) as client:
            assert sorted(client.engine.cache.held) == ["personal", "popular"]
            store.reads.clear()
            served = client.recommend("home", "u1")
            assert [e.item for e in served.entries] == ["a", "b", "c"]
            assert served.snapshot_versions == {"personal": "p1"}
            short = client.recommend("home", "u2")  # the fallback comes from memory too
            assert [e.item for e in short.entries] == ["e", "w"]
            assert short.snapshot_versions == {"personal": "p1", "popular": "q1"}
            assert store.reads == {}
            load_lists(store, "personal", "p2", {"u1": ["f", "g", "h"]})  # a publish
            assert client.recommend("home", "u1").snapshot_versions == {"personal": "p1"}
            assert client.refresh() is True
            store.reads.clear()  # the refresher reads each new version's * list
            again = client.recommend("home", "u1")
            assert [e.item for e in again.entries] == ["f", "g", "h"]
            assert again.snapshot_versions == {"personal": "p2"}
            assert store.reads == {}


def test_a_snapshot_over_the_memory_limit_is_read_per_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="sameday")
    with CountingStore(tmp_path / "serving.db") as store:
        load_lists(store, "personal", "p1", {f"u{k}": ["a", "b", "c"] for k in range(50)})
        load_lists(store, "popular", "q1", {"*": ["x"], "u1": ["y"]})
        small = load_snapshot(store, "popular", "q1", 10**6)
        assert small is not None
        # room for popular, not for personal (50 lists)
        with Client(
            store, state=build_state(SPECS), refresh_interval=0, memory_limit=small.size + 1000
        ) as client:
            cache = client.engine.cache
            assert list(cache.held) == ["popular"] and cache.too_large == {("personal", "p1")}
            store.reads.clear()
            served = client.recommend("home", "u7")
            assert [e.item for e in served.entries] == ["a", "b", "c"]
            assert served.snapshot_versions == {"personal": "p1"}
            assert store.reads == {"personal": 1}
            client.refresh()
            assert client.engine.cache.too_large == {("personal", "p1")}  # not tried again
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "result set personal: snapshot p1 does not fit in serve.memory_limit; it is read from "
        "the serving store per request"
    ]


def test_the_size_counted_grows_with_the_lists() -> None:
    store = MemoryStore()
    load_lists(store, "personal", "p1", {f"u{k}": ["a", "b", "c"] for k in range(10)})
    snapshot = load_snapshot(store, "personal", "p1", 10**6)
    assert snapshot is not None and len(snapshot.lists) == 10
    blob, text, ends = snapshot.lists["u3"]
    assert snapshot.size == 10 * held_size("u3", blob, text, ends)
    assert load_snapshot(store, "personal", "p1", snapshot.size - 1) is None
    assert "10 lists" in repr(snapshot)


@pytest.mark.parametrize(
    "payload",
    [None, {"title": 'Ça "va"', "tags": ["a", "b"], "n": 3}, {"x": [{"item": 1}, {"item": 2}]}],
)
def test_encoded_items_are_the_bytes_the_api_builds(payload: dict[str, object] | None) -> None:
    items = [Item(f'it,{{"item":{k}"', 1 / (k + 1), payload) for k in range(12)]
    text, ends = encode_items(items, "personal")
    held = HeldItems(items, text, ends)
    assert encode_items([], "personal") == (b"", b"")
    for n in (1, 5, 12):
        expected = orjson.dumps(
            [
                {"item": e.item, "score": e.score, "position": p, "source": "personal"}
                | ({} if e.payload is None else {"payload": e.payload})
                for p, e in enumerate(items[:n], 1)
            ]
        )
        assert b"[" + held.json(n) + b"]" == expected


def test_a_response_body_is_the_same_whether_encoded_ahead_or_not(tmp_path: Path) -> None:
    specs = {
        **SPECS,
        ("surface", "plain"): surface_spec("plain", "personal", fallbacks=["popular"], n=2),
    }
    lists = {f"u{k}": [f"i{k}", "b", "c", "d"] for k in range(5)}
    with SQLiteStore(tmp_path / "serving.db") as store:
        load_lists(store, "personal", "p1", lists)
        load_lists(store, "popular", "q1", {"*": ["x", "y"]})
        with (
            Client(store, state=build_state(specs), refresh_interval=0) as held,
            Client(store, state=build_state(specs), refresh_interval=0, memory_limit=0) as read,
            TestClient(create_app(held)) as http,
        ):
            for unit, surface, extra in [
                ("u1", "home", {}),
                ("u2", "plain", {"n": "4"}),
                ("u3", "home", {"exclude": "b"}),  # not a prefix: built per request
                ("nobody", "home", {}),  # the * list of popular
            ]:
                params = {"unit": unit, "request_id": f"r-{unit}", **extra}
                body = http.get(f"/v1/recommend/{surface}", params=params).content
                n = int(extra["n"]) if "n" in extra else None
                exclude = extra["exclude"].split(",") if "exclude" in extra else ()
                direct = read.recommend(surface, unit, n=n, exclude=exclude, request_id=f"r-{unit}")
                assert type(direct.entries) is tuple  # nothing encoded ahead
                assert body == orjson.dumps(direct.to_dict())
                mine = held.recommend(surface, unit, n=n, exclude=exclude, request_id="x")
                assert mine.to_json() == orjson.dumps(mine.to_dict())
            assert type(held.recommend("home", "u1").entries) is EncodedEntries
