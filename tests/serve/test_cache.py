"""The refresher's list cache: ``*`` lists held in process, and result sets that hold only one."""

from __future__ import annotations

from pathlib import Path

import orjson
from tests.serve._counting import CountingStore

from sameday.errors import StoreUnavailable
from sameday.serve.cache import ListCache, refresh_cache
from sameday.serve.engine import Engine
from sameday.serve.held import EncodedEntries
from sameday.serve.state import build_state
from sameday.store.base import Item
from sameday.store.codec import encode_list
from sameday.store.memory import MemoryStore
from sameday.store.sqlite import SQLiteStore
from sameday.testing import load_lists, surface_spec

SPECS = {("surface", "home"): surface_spec("home", "personal", fallbacks=["popular"], n=3)}


def test_a_result_set_holding_only_its_star_list_is_served_without_a_read(
    tmp_path: Path,
) -> None:
    with CountingStore(tmp_path / "serving.db") as store:
        load_lists(store, "personal", "p1", {"u1": ["a"], "*": ["z"]})
        load_lists(store, "popular", "q1", {"*": ["b", "c", "d"]})
        cache = refresh_cache(store, {"personal", "popular"}, ListCache.empty())
        assert cache.only_default == {"popular"}
        store.reads.clear()
        engine = Engine(store, state=build_state(SPECS), cache=cache)
        served = engine.recommend("home", "u1")
        assert [e.item for e in served.entries] == ["a", "b", "c"]
        assert served.sources == ("personal", "popular", "popular")
        assert served.snapshot_versions == {"personal": "p1", "popular": "q1"}
        assert store.reads == {"personal": 1}
        # A new version with per-key lists is read again once the refresher sees it.
        load_lists(store, "popular", "q2", {"*": ["b"], "u1": ["x", "y"]})
        cache = refresh_cache(store, {"personal", "popular"}, cache)
        assert cache.only_default == frozenset()
        engine.swap(engine.state, cache)
        assert [e.item for e in engine.recommend("home", "u1").entries] == ["a", "x", "y"]


def test_an_unchanged_version_keeps_its_note(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "serving.db") as store:
        load_lists(store, "popular", "q1", {"*": ["b"]})
        first = refresh_cache(store, {"popular"}, ListCache.empty())
        assert refresh_cache(store, {"popular"}, first).only_default == {"popular"}
        assert store.key_count("popular", "q1") == 1 and store.key_count("popular", "x") is None


def test_an_unreadable_star_list_keeps_the_last_one_and_the_others_refresh(
    tmp_path: Path,
) -> None:
    with SQLiteStore(tmp_path / "serving.db") as store:
        load_lists(store, "personal", "p1", {"*": ["a"]})
        load_lists(store, "popular", "q1", {"*": ["b"]})
        first = refresh_cache(store, {"personal", "popular"}, ListCache.empty())
        old = bytearray(encode_list([Item("old", 1.0)]))
        old[0] = 1  # list format 1: this sameday cannot read it
        store.load("personal", "p2", [[("*", bytes(old))]])
        store.set_live("personal", "p2")
        load_lists(store, "popular", "q2", {"*": ["c"]})
        cache = refresh_cache(store, {"personal", "popular"}, first)
    assert cache.versions == {"personal": "p1", "popular": "q2"}  # each list names its version
    assert cache.default_list("personal") == [Item("a", 1.0)]
    assert cache.default_list("popular") == [Item("c", 1.0)]
    assert cache.store_error is None  # the store answers: only one list is unreadable


def test_a_store_that_cannot_be_reached_keeps_every_list_and_says_why() -> None:
    store = MemoryStore()
    load_lists(store, "popular", "q1", {"*": ["b"]})
    first = refresh_cache(store, {"popular", "personal"}, ListCache.empty())

    class Down(MemoryStore):
        calls = 0

        def live_version(self, result_set: str) -> str | None:
            Down.calls += 1
            raise StoreUnavailable("Redis at 127.0.0.1:6379 is not reachable")

    cache = refresh_cache(Down(), {"popular", "personal"}, first)
    assert cache.versions == first.versions and cache.defaults == first.defaults
    assert cache.store_error == "Redis at 127.0.0.1:6379 is not reachable"
    assert Down.calls == 1  # each further try could wait the whole timeout


def test_a_chain_starting_with_a_result_set_served_from_memory_serves_what_the_walk_would(
    tmp_path: Path,
) -> None:
    """``Engine.fill``'s short path for a first result set with only a ``*`` list: the same
    entries, sources and versions as the general walk (which an exclusion forces), and the
    held list's JSON carried to the answer."""
    specs = {("surface", "home"): surface_spec("home", "popular", fallbacks=["personal"], n=2)}
    with SQLiteStore(tmp_path / "serving.db") as store:
        load_lists(store, "popular", "q1", {"*": ["b", "c", "d"]})
        load_lists(store, "personal", "p1", {"u1": ["a"]})
        cache = refresh_cache(store, {"personal", "popular"}, ListCache.empty())
        assert cache.only_default == {"popular"}
        engine = Engine(store, state=build_state(specs), cache=cache)
        short = engine.recommend("home", "u1")
        walked = engine.recommend("home", "u1", exclude=["zzz"])  # an exclusion: the walk
        assert short.entries == walked.entries and [e.item for e in short.entries] == ["b", "c"]
        assert short.sources == walked.sources == ("popular", "popular")
        assert short.snapshot_versions == walked.snapshot_versions == {"popular": "q1"}
        assert not short.degraded and not walked.degraded
        assert short.to_json() == orjson.dumps(short.to_dict())
        assert type(short.entries) is EncodedEntries  # served as encoded, only the head dumped
        # n above the list's length: the walk tops it up from the fallback
        longer = engine.recommend("home", "u1", n=4)
        assert [e.item for e in longer.entries] == ["b", "c", "d", "a"]
        assert longer.snapshot_versions == {"popular": "q1", "personal": "p1"}
