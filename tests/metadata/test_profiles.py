"""Snapshot profiles in the metadata store, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from sameday.errors import MetadataError
from sameday.metadata import MetadataStore


def snapshot(store: MetadataStore, version: str) -> None:
    store.create_snapshot(
        "als",
        version,
        content_hash="h",
        rows=10,
        keys=2,
        schema={},
        source="s",
        run_id=None,
        store_url="sqlite://",
    )
    store.set_live("als", version)


def test_profiles_are_recorded_once_and_listed_newest_first(store: MetadataStore) -> None:
    for n in range(3):
        snapshot(store, f"als-{n}")
        store.record_profile(f"als-{n}", "als", {"rows": 10 + n, "keys": 2, "x": [n]}, [])
    listed = store.profiles("als", limit=2)
    assert [p.version for p in listed] == ["als-2", "als-1"]
    assert (listed[0].rows, listed[0].keys, listed[0].profile["x"]) == (12, 2, [2])
    assert store.profile("als-0") is not None and store.profile("nope") is None
    assert store.profiles("other") == []
    with pytest.raises(MetadataError, match="already has a profile"):
        store.record_profile("als-2", "als", {"rows": 1, "keys": 1}, [])


def test_a_profile_that_is_not_json_is_refused(store: MetadataStore) -> None:
    snapshot(store, "als-0")
    with pytest.raises(TypeError, match="JSON"):
        store.record_profile("als-0", "als", {"rows": 1, "keys": 1, "mean": float("nan")}, [])
    assert store.profile("als-0") is None
