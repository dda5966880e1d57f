"""Dataset observations and schema history in the metadata store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sameday.metadata import MetadataStore
from sameday.metadata.dataset_records import Observed

V1 = (("user", "VARCHAR"), ("item", "VARCHAR"), ("ts", "TIMESTAMP"))
V2 = (("user", "VARCHAR"), ("item", "BIGINT"), ("ts", "TIMESTAMP"))


def test_schema_history_adds_a_revision_only_when_columns_change(store: MetadataStore) -> None:
    run = store.create_run("daily", {})
    first = store.record_observation("events", Observed(columns=V1, row_count=10), run_id=run.id)
    same = store.record_observation("events", Observed(columns=V1, row_count=12))
    changed = store.record_observation("events", Observed(columns=V2, row_count=11))
    back = store.record_observation("events", Observed(columns=V1, row_count=9))
    assert [o.schema_revision for o in (first, same, changed, back)] == [1, 1, 2, 3]
    history = store.schema_history("events")
    assert [(r.revision, r.columns) for r in history] == [(3, V1), (2, V2), (1, V1)]
    assert history[-1].run_id == run.id
    assert [r.revision for r in store.schema_history("events", limit=2)] == [3, 2]


def test_observations_come_back_whole_and_newest_first(store: MetadataStore) -> None:
    fresh = datetime(2026, 12, 2, 23, 59, tzinfo=UTC)
    store.record_observation(
        "events",
        Observed(
            columns=V1,
            row_count=100,
            null_shares={"user": 0.0, "item": 0.25, "ts": 0.0},
            freshness=fresh,
            bytes=4096,
            files=2,
        ),
        run_id="r1",
        job="extract",
        role="write",
    )
    store.record_observation("events", Observed(error="no file matches data/*.csv", files=0))
    newest, oldest = store.dataset_observations("events")
    assert newest.error == "no file matches data/*.csv"
    assert newest.columns is None and newest.schema_revision is None
    assert newest.role == "observe"
    assert oldest.columns == V1
    assert oldest.null_shares == {"user": 0.0, "item": 0.25, "ts": 0.0}
    assert oldest.freshness == fresh
    assert (oldest.row_count, oldest.bytes, oldest.files) == (100, 4096, 2)
    assert (oldest.run_id, oldest.job, oldest.role) == ("r1", "extract", "write")
    assert store.dataset_observations("events", limit=1) == [newest]


def test_latest_observation_of_every_dataset(store: MetadataStore) -> None:
    store.record_observation("a", Observed(columns=V1, row_count=1))
    store.record_observation("b", Observed(columns=V2, row_count=2))
    store.record_observation("a", Observed(columns=V2, row_count=3))
    latest = store.latest_observations()
    assert {name: (o.row_count, o.columns) for name, o in latest.items()} == {
        "a": (3, V2),
        "b": (2, V2),
    }


def test_bad_values_fail_before_any_sql(store: MetadataStore) -> None:
    with pytest.raises(ValueError, match="observation role 'peek' is not one of"):
        store.record_observation("a", Observed(), role="peek")
    with pytest.raises(TypeError, match="null shares of dataset 'a' must be JSON"):
        store.record_observation("a", Observed(null_shares={"x": float("nan")}))
    assert store.latest_observations() == {}
