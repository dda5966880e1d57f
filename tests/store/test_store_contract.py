"""One behaviour, three backends: every serving store passes the same tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sameday.errors import NotFound, StoreUnavailable, VersionInUse
from sameday.store import Item, MemoryStore, ServingStore, open_store
from sameday.store.base import Listed, Scannable
from sameday.store.codec import encode_list
from sameday.store.redis import RedisStore
from sameday.store.redis_cluster import RedisClusterStore
from sameday.store.sqlite import SQLiteStore


@pytest.fixture(
    params=[
        *("memory", "sqlite", "sqlite-snapshot", "redis", "redis-pinned"),
        *("redis-cluster", "redis-cluster-pinned"),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServingStore]:
    """A fresh, empty store of each backend; Redis uses the real server (``redis_url``), once
    reading the live pointer on every lookup and once trusting it for a minute (as servers do);
    SQLite once reading the file afresh on every lookup and once holding a read snapshot for a
    minute (servers hold one for ``SNAPSHOT_TTL``; a write through the store ends it). Redis
    Cluster the same two ways, on the three-master cluster the session starts."""
    if request.param == "memory":
        backend: ServingStore = MemoryStore()
    elif request.param == "sqlite":
        backend = open_store(f"sqlite:///{tmp_path / 'serving.db'}")
    elif request.param == "sqlite-snapshot":
        backend = SQLiteStore(tmp_path / "serving.db", snapshot_ttl=60.0)
    elif request.param.startswith("redis-cluster"):
        backend = open_store(request.getfixturevalue("redis_cluster_url"))
        assert isinstance(backend, RedisClusterStore)
        if request.param == "redis-cluster-pinned":
            backend.pointer_ttl = 60.0
    else:
        backend = open_store(request.getfixturevalue("redis_url"))
        if request.param == "redis-pinned":
            assert isinstance(backend, RedisStore)
            backend.pointer_ttl = 60.0
    with backend:
        yield backend


def lists(version: str, keys: int = 30) -> list[tuple[str, bytes]]:
    """Deterministic lists whose first item names the version, keys in ascending order."""
    return [
        (
            f"user-{k:03d}",
            encode_list([Item(f"{version}-{k}", 1.0), Item("other", 0.5, None)]),
        )
        for k in range(keys)
    ]


def load(store: ServingStore, version: str, keys: int = 30, rs: str = "home") -> int:
    pairs = lists(version, keys)
    return store.load(rs, version, [pairs[:7], pairs[7:]])


def test_nothing_live_at_first(store: ServingStore) -> None:
    assert store.live_version("home") is None
    assert store.versions("home") == []
    with pytest.raises(NotFound, match="no live snapshot"):
        store.get("home", "user-001")
    with pytest.raises(NotFound):
        store.get_many("home", ["user-001"])


def test_load_then_set_live_serves_the_version(store: ServingStore) -> None:
    assert load(store, "v1") == 30
    assert store.versions("home") == ["v1"]
    assert store.live_version("home") is None
    store.set_live("home", "v1")
    assert store.live_version("home") == "v1"
    assert store.get("home", "user-004") == [Item("v1-4", 1.0), Item("other", 0.5)]


def test_missing_keys_are_empty_lists(store: ServingStore) -> None:
    load(store, "v1")
    store.set_live("home", "v1")
    assert store.get("home", "nobody") == []
    found = store.get_many("home", ["user-001", "nobody", "user-002"])
    assert list(found) == ["user-001", "nobody", "user-002"]
    assert found["nobody"] == []
    assert found["user-002"][0].item == "v1-2"


def test_integer_keys_are_looked_up_as_text(store: ServingStore) -> None:
    store.load("ids", "v1", [[("7", encode_list([Item("a", 2.0)]))]])
    store.set_live("ids", "v1")
    assert store.get("ids", 7) == [Item("a", 2.0)]
    assert store.get_many("ids", [7]) == {"7": [Item("a", 2.0)]}


def test_get_many_beyond_one_batch(store: ServingStore) -> None:
    load(store, "v1", keys=1200)
    store.set_live("home", "v1")
    keys = [f"user-{k:03d}" for k in range(1200)]
    found = store.get_many("home", keys)
    assert len(found) == 1200
    assert all(found[f"user-{k:03d}"][0].item == f"v1-{k}" for k in range(1200))


def test_payloads_round_trip(store: ServingStore) -> None:
    blob = encode_list([Item("a", 0.25, {"title": "A", "price": 3}), Item("b", 0.125, {})])
    store.load("p", "v1", [[("k", blob)]])
    store.set_live("p", "v1")
    assert store.get("p", "k") == [
        Item("a", 0.25, {"title": "A", "price": 3}),
        Item("b", 0.125, {}),
    ]


def test_swap_and_rollback_between_versions(store: ServingStore) -> None:
    load(store, "v1")
    store.set_live("home", "v1")
    load(store, "v2", keys=10)
    assert store.get("home", "user-001")[0].item == "v1-1", "loading must not change reads"
    store.set_live("home", "v2")
    assert store.get("home", "user-001")[0].item == "v2-1"
    assert store.get("home", "user-020") == []
    store.set_live("home", "v1")
    assert store.get("home", "user-020")[0].item == "v1-20"


def test_versions_are_immutable(store: ServingStore) -> None:
    load(store, "v1")
    with pytest.raises(VersionInUse, match="already loaded"):
        load(store, "v1")


def test_set_live_needs_a_loaded_version(store: ServingStore) -> None:
    with pytest.raises(NotFound, match="not loaded"):
        store.set_live("home", "v9")


def test_drop_reclaims_all_but_the_live_version(store: ServingStore) -> None:
    load(store, "v1")
    load(store, "v2")
    store.set_live("home", "v2")
    with pytest.raises(VersionInUse, match="live"):
        store.drop("home", "v2")
    store.drop("home", "v1")
    store.drop("home", "v1")  # dropping twice is harmless
    assert store.versions("home") == ["v2"]
    with pytest.raises(NotFound):
        store.set_live("home", "v1")
    assert store.get("home", "user-003")[0].item == "v2-3"


def test_result_sets_are_independent(store: ServingStore) -> None:
    load(store, "v1", rs="a")
    load(store, "v1", rs="b", keys=3)
    store.set_live("a", "v1")
    assert store.live_version("b") is None
    assert store.versions("b") == ["v1"]
    store.drop("b", "v1")
    assert store.get("a", "user-010")[0].item == "v1-10"


def test_failed_load_leaves_the_live_version(store: ServingStore) -> None:
    load(store, "v1")
    store.set_live("home", "v1")

    def broken() -> Iterator[list[tuple[str, bytes]]]:
        yield lists("v2")[:5]
        raise RuntimeError("source went away")

    with pytest.raises(RuntimeError):
        store.load("home", "v2", broken())
    assert store.live_version("home") == "v1"
    assert store.get("home", "user-001")[0].item == "v1-1"
    for version in store.versions("home"):
        if version != "v1":
            store.drop("home", version)
    assert store.versions("home") == ["v1"]


def test_concurrent_readers_during_swaps(store: ServingStore) -> None:
    load(store, "v1")
    load(store, "v2")
    store.set_live("home", "v1")
    seen: set[str] = set()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(200):
                lists_ = store.get_many("home", ["user-001", "user-002"])
                versions = {items[0].item.split("-")[0] for items in lists_.values()}
                assert len(versions) == 1, "one call must read one version"
                seen.update(versions)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for i in range(50):
        store.set_live("home", "v2" if i % 2 == 0 else "v1")
    for thread in threads:
        thread.join()
    assert not errors
    assert seen <= {"v1", "v2"}


def test_get_reads_answers_each_read_as_get_does(store: ServingStore) -> None:
    load(store, "v1")
    store.set_live("home", "v1")
    load(store, "s1", rs="side")
    store.set_live("side", "s1")
    reads = [
        ("home", "user-001", None),
        ("side", "user-002", 1),
        ("home", "nobody", 5),
        ("absent", "user-001", None),
        ("home", "user-003", 1),
    ]
    answers = store.get_reads(reads)
    assert answers[0] == Listed("v1", store.get("home", "user-001"))
    assert answers[1] == Listed("s1", [Item("s1-2", 1.0)])
    assert answers[2] == Listed("v1", [])
    assert isinstance(answers[3], NotFound)  # one failing read does not fail the others
    assert answers[4] == Listed("v1", [Item("v1-3", 1.0)])
    assert store.get_reads([]) == []


def test_a_read_names_the_version_its_list_came_from(store: ServingStore) -> None:
    load(store, "v1")
    load(store, "v2")
    store.set_live("home", "v1")
    assert store.read("home", "user-004", 1) == Listed("v1", [Item("v1-4", 1.0)])
    store.set_live("home", "v2")
    store.drop("home", "v1")
    assert store.read("home", "user-004") == Listed("v2", store.get("home", "user-004"))
    assert store.read("home", "nobody") == Listed("v2", [])
    with pytest.raises(NotFound, match="no live snapshot"):
        store.read("absent", "user-004")


def test_a_list_in_another_format_is_unavailable_for_its_read_only(store: ServingStore) -> None:
    old = bytearray(encode_list([Item("old", 1.0)]))
    old[0] = 1  # list format 1, as an older sameday wrote it
    store.load("home", "v1", [[("new", encode_list([Item("a", 1.0)])), ("old", bytes(old))]])
    store.set_live("home", "v1")
    with pytest.raises(StoreUnavailable, match="format version 1"):
        store.get("home", "old")
    answers = store.get_reads([("home", "old", None), ("home", "new", None)])
    assert isinstance(answers[0], StoreUnavailable)
    assert answers[1] == Listed("v1", [Item("a", 1.0)])


def test_scan_hands_over_every_list_of_a_version_live_or_not(store: ServingStore) -> None:
    assert isinstance(store, Scannable)
    load(store, "v1", keys=2500)  # more than one chunk of every backend
    load(store, "v2", keys=3)
    store.set_live("home", "v2")
    scanned = [pair for chunk in store.scan("home", "v1") for pair in chunk]
    assert sorted(scanned) == sorted(lists("v1", 2500))  # the marker field of Redis left out
    assert sorted(pair for chunk in store.scan("home", "v2") for pair in chunk) == lists("v2", 3)
    with pytest.raises(NotFound):
        list(store.scan("home", "v9"))
    store.drop("home", "v1")
    with pytest.raises(NotFound):
        list(store.scan("home", "v1"))


def test_repr_names_the_backend(store: ServingStore) -> None:
    assert type(store).__name__ in repr(store)


def test_open_store_rejects_unknown_schemes() -> None:
    with pytest.raises(ValueError, match="unsupported serving store URL"):
        open_store("postgres://x/y")


def test_unreachable_redis_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailable, match="not reachable"):
        open_store("redis://127.0.0.1:1/0")


def test_unopenable_sqlite_is_store_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailable, match="cannot open"):
        open_store(f"sqlite:///{blocker / 'serving.db'}")
