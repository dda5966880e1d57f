"""Reads across every result set and pipeline at once (the dashboard's), on SQLite and
PostgreSQL: each is one query, and must give what the per-object reads give."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sameday.metadata import MetadataStore
from sameday.metadata.store import _overview


def publish(store: MetadataStore, result_set: str, version: str) -> None:
    store.create_snapshot(
        result_set,
        version,
        content_hash="h",
        rows=10,
        keys=2,
        schema={},
        source="s",
        run_id=None,
        store_url="sqlite://",
    )
    store.set_live(result_set, version)


def test_live_snapshots_are_every_result_sets_live_one(store: MetadataStore) -> None:
    for name in ("popular", "als", "knn"):
        publish(store, name, f"{name}-1")
    publish(store, "als", "als-2")
    store.create_snapshot(
        "knn", "knn-staged", content_hash="h", rows=1, keys=1, schema={}, source="s",
        run_id=None, store_url="sqlite://",
    )  # fmt: skip
    live = store.live_snapshots()
    assert [(s.result_set, s.version) for s in live] == [
        ("als", "als-2"), ("knn", "knn-1"), ("popular", "popular-1"),
    ]  # fmt: skip
    assert live == [store.live_snapshot(s.result_set) for s in live]


def test_changes_and_runs_since_a_time_across_every_object(store: MetadataStore) -> None:
    publish(store, "als", "als-1")
    publish(store, "knn", "knn-1")
    publish(store, "als", "als-2")
    store.set_live("als", "als-1", action="rollback")
    changes = store.live_changes_since(store.history("als")[-1].at)
    assert [(c.result_set, c.version, c.action) for c in changes] == [
        ("als", "als-1", "rollback"), ("als", "als-2", "publish"),
        ("knn", "knn-1", "publish"), ("als", "als-1", "publish"),
    ]  # fmt: skip
    assert store.live_changes_since(changes[0].at + timedelta(seconds=1)) == []
    assert len(store.live_changes_since(changes[-1].at, limit=2)) == 2

    first = store.create_run("daily", {})
    second = store.create_run("hourly", {})
    assert [r.id for r in store.runs_since(first.started_at)] == [second.id, first.id]
    assert [r.id for r in store.runs_since(second.started_at)] == [second.id]


def test_profiles_of_many_versions_in_chunks(
    store: MetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        publish(store, "als", f"als-{n}")
        store.record_profile(f"als-{n}", "als", {"rows": n, "keys": 1}, [])
    monkeypatch.setattr(_overview, "CHUNK", 2)  # five versions: three queries
    found = store.profiles_of(["als-4", "als-0", "als-2", "als-3", "als-1", "gone", "als-4"])
    assert sorted(found) == [f"als-{n}" for n in range(5)]
    assert found["als-3"] == store.profile("als-3")
