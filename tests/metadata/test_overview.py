"""Reads across every result set, pipeline and applied object at once (the dashboard's), on
SQLite and PostgreSQL: each is one query, and gives what the per-object reads give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sameday.metadata import MetadataStore, Observation
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


def test_changes_since_a_time_across_every_result_set(store: MetadataStore) -> None:
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


def test_runs_counted_and_found_by_pipeline_and_status(store: MetadataStore) -> None:
    first = store.create_run("daily", {})
    second = store.create_run("hourly", {})
    third = store.create_run("daily", {})
    store.finish_run(first.id, "failed")
    store.finish_run(second.id, "succeeded")
    assert store.run_counts_since(first.started_at) == {"failed": 1, "succeeded": 1, "running": 1}
    assert store.run_counts_since(third.started_at + timedelta(seconds=1)) == {}
    assert [r.id for r in store.find_runs(pipeline="daily")] == [third.id, first.id]
    assert [r.id for r in store.find_runs(status="failed")] == [first.id]
    assert store.find_runs(pipeline="hourly", status="failed") == []
    assert store.find_runs(limit=1) == store.list_runs(limit=1)
    latest = store.latest_runs(["daily", "hourly", "never"], per=1)
    assert latest == {"daily": [store.get_run(third.id)], "hourly": [store.get_run(second.id)],
                      "never": []}  # fmt: skip
    assert store.latest_runs(["daily"])["daily"] == store.list_runs("daily")
    assert store.latest_runs([]) == {}


def test_profile_summaries_read_three_numbers_and_the_findings(
    store: MetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    warning = {"check": "drift.overlap", "status": "warn", "summary": "lists changed"}
    for n in range(5):
        publish(store, "als", f"als-{n}")
        profile = {
            "rows": n, "keys": 1, "items": 40 + n, "list_length": {"mean": 9.5, "quantiles": []},
            "overlap": {"jaccard": 0.25 * n, "keys": 3} if n else None, "sample": [["a", "b"]],
        }  # fmt: skip
        store.record_profile(f"als-{n}", "als", profile, [warning] if n == 3 else [])
    monkeypatch.setattr(_overview, "CHUNK", 2)  # five versions: three queries
    found = store.profile_summaries(["als-4", "als-0", "als-2", "als-3", "als-1", "gone"])
    assert sorted(found) == [f"als-{n}" for n in range(5)]
    assert (found["als-3"].items, found["als-3"].mean_length) == (43, 9.5)
    assert (found["als-3"].overlap, found["als-0"].overlap) == (0.75, None)
    assert found["als-3"].findings == [warning] and found["als-2"].findings == []
    findings = store.profile_findings(["als-4", "als-3", "als-0", "als-2", "als-1", "gone"])
    assert findings == {version: summary.findings for version, summary in found.items()}


def test_applied_objects_since_a_time_by_field_and_one_by_name(store: MetadataStore) -> None:
    store.replace_applied([
        ("experiment", "a", {"phase": "running", "surface": "home"}),
        ("experiment", "b", {"phase": "draft"}),
        ("surface", "home", {"n": 10}),
    ])  # fmt: skip
    every = store.applied()
    since = min(o.applied_at for o in every)
    assert sorted((o.kind, o.name) for o in store.applied_since(since)) == sorted(
        (o.kind, o.name) for o in every
    )
    assert store.applied_since(since + timedelta(days=1)) == []
    assert store.applied_field("experiment", "phase") == {"a": "running", "b": "draft"}
    assert store.applied_field("experiment", "surface") == {"a": "home", "b": None}
    assert store.applied_object("experiment", "a") == store.applied("experiment")[0]
    assert store.applied_object("experiment", "home") is None


def test_incident_counts_since_count_openings_and_resolutions(store: MetadataStore) -> None:
    t0 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)

    def seen(subject: str, status: str) -> Observation:
        return Observation(check="runs", subject=subject, status=status, severity="critical",
                           summary=status, evidence={}, notifiers=())  # fmt: skip

    def observe(at: datetime, *items: Observation) -> None:
        store.observe_alerts("nightly", items, complete=(), remind_after=timedelta(hours=4),
                             project="shop", now=at)  # fmt: skip

    observe(t0, seen("a", "fail"), seen("b", "fail"))
    observe(t0 + timedelta(hours=2), seen("a", "ok"), seen("c", "fail"))
    assert store.incident_counts_since(t0) == (3, 1)
    assert store.incident_counts_since(t0 + timedelta(hours=1)) == (1, 1)
    assert store.incident_counts_since(t0 + timedelta(hours=3)) == (0, 0)
