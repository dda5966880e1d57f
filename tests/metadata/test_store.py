"""The metadata store's contract, run against real SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sameday.errors import MetadataError, NotFound, StoreUnavailable
from sameday.metadata import MetadataStore, SnapshotRecord
from sameday.metadata.migrate import downgrade, upgrade
from sameday.metadata.records import AttemptEntry

UNREACHABLE = "postgresql+psycopg://sameday:secret@127.0.0.1:1/metadata"


def snapshot(store: MetadataStore, result_set: str, version: str, **extra: Any) -> SnapshotRecord:
    fields: dict[str, Any] = {
        "content_hash": f"sha256:{version}",
        "rows": 10,
        "keys": 3,
        "schema": {"key": "string", "items": "list<string>"},
        "source": "out/als.parquet",
        "run_id": None,
        "store_url": "sqlite:///.sameday/serving.db",
    }
    return store.create_snapshot(result_set, version, **{**fields, **extra})


# Runs and attempts.


def test_run_lifecycle(store: MetadataStore) -> None:
    run = store.create_run("daily-train", {"date": "2026-11-23", "n": [1, 2]})
    assert run.status == "running" and run.trigger == "manual" and run.ended_at is None
    assert run.id.startswith("daily-train-") and run.params == {"date": "2026-11-23", "n": [1, 2]}
    assert run.started_at.tzinfo is UTC
    assert abs(run.started_at - datetime.now(UTC)) < timedelta(minutes=1)

    done = store.finish_run(run.id, "failed", "job extract failed")
    assert (done.status, done.message) == ("failed", "job extract failed")
    assert done.ended_at is not None and done.ended_at.tzinfo is UTC
    assert done.duration is not None and done.duration >= 0
    assert store.get_run(run.id) == done


def test_resumed_run_remembers_its_origin(store: MetadataStore) -> None:
    first = store.create_run("daily", {}, trigger="schedule")
    resumed = store.create_run("daily", {}, trigger="resume", resumed_from=first.id)
    assert (resumed.trigger, resumed.resumed_from) == ("resume", first.id)


def test_list_runs_is_newest_first_and_filters(store: MetadataStore) -> None:
    ids = [store.create_run("a" if i % 2 else "b", {"i": i}).id for i in range(5)]
    assert [r.id for r in store.list_runs()] == ids[::-1]
    assert [r.id for r in store.list_runs(pipeline="a")] == [ids[3], ids[1]]
    assert [r.id for r in store.list_runs(limit=2)] == ids[:-3:-1]


def test_get_run_accepts_a_unique_prefix(store: MetadataStore) -> None:
    run = store.create_run("daily", {})
    other = store.create_run("weekly", {})
    assert store.get_run("dai").id == run.id
    assert store.get_run(other.id[:-2]).id == other.id
    with pytest.raises(NotFound, match="no run with id or id prefix 'nightly'"):
        store.get_run("nightly")
    store.create_run("daily", {})
    with pytest.raises(NotFound, match="ambiguous") as info:
        store.get_run("daily-")
    assert run.id in str(info.value)


def test_prefix_wildcards_are_literal(store: MetadataStore) -> None:
    store.create_run("daily", {})
    with pytest.raises(NotFound):
        store.get_run("d%")
    with pytest.raises(NotFound):
        store.get_run("_aily")


def test_attempts_and_job_statuses(store: MetadataStore) -> None:
    run = store.create_run("daily", {})
    first = store.start_attempt(run.id, "extract", 1, "/logs/extract.1.log")
    assert (first.status, first.attempt, first.exit_code) == ("running", 1, None)
    store.finish_attempt(first.id, "timed_out", exit_code=-9, reason="timeout after 60s")
    second = store.start_attempt(run.id, "extract", 2, "/logs/extract.2.log")
    store.finish_attempt(second.id, "succeeded", exit_code=0)
    train = store.start_attempt(run.id, "train", 1, "/logs/train.1.log")
    skipped = store.start_attempt(run.id, "publish", 1, "")
    store.finish_attempt(skipped.id, "skipped", reason="upstream failed")

    attempts = store.attempts(run.id)
    assert [(a.job, a.attempt) for a in attempts] == [
        ("extract", 1),
        ("extract", 2),
        ("train", 1),
        ("publish", 1),
    ]
    assert attempts[0].reason == "timeout after 60s" and attempts[0].exit_code == -9
    assert attempts[0].ended_at is not None
    assert [a.attempt for a in store.attempts(run.id[:12], job="extract")] == [1, 2]
    assert store.job_statuses(run.id) == {
        "extract": "succeeded",
        "train": "running",
        "publish": "skipped",
    }
    assert train.log_path == "/logs/train.1.log"


def test_attempt_mistakes_are_refused(store: MetadataStore) -> None:
    run = store.create_run("daily", {})
    store.start_attempt(run.id, "extract", 1, "x.log")
    with pytest.raises(MetadataError, match="already recorded"):
        store.start_attempt(run.id, "extract", 1, "x.log")
    with pytest.raises(NotFound, match="no run with id 'nope'"):
        store.start_attempt("nope", "extract", 1, "x.log")
    with pytest.raises(NotFound, match="no job attempt with id 999"):
        store.finish_attempt(999, "failed")
    with pytest.raises(ValueError, match="start at 1"):
        store.start_attempt(run.id, "extract", 0, "x.log")
    with pytest.raises(ValueError, match="'running' is not one of"):
        store.finish_run(run.id, "running")
    with pytest.raises(ValueError, match="trigger 'cron'"):
        store.create_run("daily", {}, trigger="cron")
    with pytest.raises(TypeError, match="JSON"):
        store.create_run("daily", {"when": datetime.now(UTC)})


T0 = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_record_attempts_inserts_then_finishes_in_batches(store: MetadataStore) -> None:
    run = store.create_run("daily", {})
    store.record_attempts(
        run.id,
        [
            AttemptEntry("extract", 1, "running", at(0), "/logs/extract.1.log"),
            AttemptEntry("train", 1, "succeeded", at(1), "/logs/train.1.log", 0, at(2)),
            AttemptEntry("publish", 1, "skipped", at(3), "", ended_at=at(3), reason="not needed"),
        ],
    )
    tokyo = timezone(timedelta(hours=9))
    store.record_attempts(
        run.id,
        [
            # The start stays as first recorded, whatever a later entry says.
            AttemptEntry("extract", 1, "timed_out", at(9), "elsewhere", -9, at(5), "timed out"),
            AttemptEntry("extract", 2, "running", at(6).astimezone(tokyo), "/logs/extract.2.log"),
        ],
    )
    store.record_attempts(run.id, [])

    attempts = store.attempts(run.id)
    assert [(a.job, a.attempt, a.status) for a in attempts] == [
        ("extract", 1, "timed_out"),
        ("train", 1, "succeeded"),
        ("publish", 1, "skipped"),
        ("extract", 2, "running"),
    ]
    first = attempts[0]
    assert (first.started_at, first.ended_at, first.log_path) == (
        at(0),
        at(5),
        "/logs/extract.1.log",
    )
    assert (first.exit_code, first.reason) == (-9, "timed out")
    assert attempts[2].reason == "not needed" and attempts[3].ended_at is None
    assert attempts[3].started_at == at(6) and attempts[3].started_at.tzinfo is UTC
    assert store.job_statuses(run.id) == {
        "extract": "running",
        "train": "succeeded",
        "publish": "skipped",
    }


def test_record_attempts_never_rewrites_an_ended_attempt(store: MetadataStore) -> None:
    run = store.create_run("daily", {})
    store.record_attempts(
        run.id, [AttemptEntry("train", 1, "succeeded", at(0), "train.1.log", 0, at(1))]
    )
    for late in (
        AttemptEntry("train", 1, "running", at(2), "train.1.log"),
        AttemptEntry("train", 1, "failed", at(2), "train.1.log", 1, at(3), "exit code 1"),
    ):
        store.record_attempts(run.id, [late])
    (train,) = store.attempts(run.id)
    assert (train.status, train.exit_code, train.ended_at) == ("succeeded", 0, at(1))
    assert train.reason is None


def test_record_attempts_and_the_single_calls_mix(store: MetadataStore) -> None:
    run = store.create_run("daily", {})
    started = store.start_attempt(run.id, "extract", 1, "extract.1.log")
    store.record_attempts(
        run.id,
        [
            AttemptEntry("extract", 1, "failed", at(0), "extract.1.log", 2, at(1), "exit code 2"),
            AttemptEntry("extract", 2, "running", at(2), "extract.2.log"),
        ],
    )
    first, second = store.attempts(run.id)
    assert first.id == started.id and (first.status, first.exit_code) == ("failed", 2)
    assert first.started_at == started.started_at
    finished = store.finish_attempt(second.id, "succeeded", exit_code=0)
    assert (finished.job, finished.attempt, finished.status) == ("extract", 2, "succeeded")


def test_record_attempts_refuses_mistakes_and_writes_nothing(store: MetadataStore) -> None:
    run = store.create_run("daily", {})
    good = AttemptEntry("extract", 1, "running", at(0), "x.log")
    mistakes: list[tuple[AttemptEntry, str]] = [
        (AttemptEntry("extract", 0, "running", at(0), "x.log"), "start at 1"),
        (AttemptEntry("extract", 2, "finished", at(0), "x.log"), "'finished' is not one of"),  # type: ignore[arg-type]
        (AttemptEntry("extract", 2, "running", at(0), "x.log", ended_at=at(1)), "no ended_at"),
        (AttemptEntry("extract", 2, "failed", at(0), "x.log", 1), "no ended_at"),
        (AttemptEntry("extract", 2, "running", datetime(2026, 1, 1), "x.log"), "naive"),
        (good, "listed twice"),
    ]
    for entry, message in mistakes:
        with pytest.raises(ValueError, match=message):
            store.record_attempts(run.id, [good, entry])
    with pytest.raises(NotFound, match="no run with id 'daily'"):
        store.record_attempts("daily", [good])  # an exact id, not a prefix
    assert store.attempts(run.id) == []
    store.close()
    with pytest.raises(MetadataError, match="closed"):
        store.record_attempts(run.id, [])


def test_deleting_a_run_deletes_its_attempts(backend_url: str) -> None:
    with MetadataStore.open(backend_url) as store:
        run = store.create_run("daily", {})
        store.start_attempt(run.id, "extract", 1, "x.log")
    engine = sa.create_engine(backend_url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.execute(sa.text("DELETE FROM pipeline_runs"))
            assert connection.execute(sa.text("SELECT count(*) FROM job_attempts")).scalar() == 0
    finally:
        engine.dispose()


# Snapshots.


def test_snapshot_is_staged_then_live(store: MetadataStore) -> None:
    staged = snapshot(store, "als", "als-1", run_id="daily-1")
    assert (staged.status, staged.published_at, staged.run_id) == ("staged", None, "daily-1")
    assert staged.schema == {"key": "string", "items": "list<string>"}
    assert store.live_snapshot("als") is None
    assert store.set_live("als", "als-1") is None
    live = store.live_snapshot("als")
    assert live is not None and live.status == "live" and live.published_at is not None
    assert store.get_snapshot("als-1") == live


def test_set_live_retires_the_previous_one(store: MetadataStore) -> None:
    for version in ("als-1", "als-2", "als-3"):
        snapshot(store, "als", version)
    snapshot(store, "popular", "pop-1")
    store.set_live("popular", "pop-1")
    store.set_live("als", "als-1")

    previous = store.set_live("als", "als-2")
    assert previous is not None and (previous.version, previous.status) == ("als-1", "retired")
    statuses = {s.version: s.status for s in store.list_snapshots("als")}
    assert statuses == {"als-1": "retired", "als-2": "live", "als-3": "staged"}

    rolled_back = store.set_live("als", "als-1")  # rollback: an older one goes live again
    assert rolled_back is not None and rolled_back.version == "als-2"
    assert [s.version for s in store.list_snapshots("als") if s.status == "live"] == ["als-1"]
    assert store.live_snapshot("popular") == store.get_snapshot("pop-1")

    same = store.set_live("als", "als-1")
    assert same == store.live_snapshot("als")


def test_every_change_of_what_is_live_is_in_the_history(store: MetadataStore) -> None:
    for version in ("als-1", "als-2"):
        snapshot(store, "als", version)
    snapshot(store, "popular", "pop-1")
    store.set_live("als", "als-1")
    store.set_live("popular", "pop-1", actor="ci@runner")
    store.set_live("als", "als-2", reason="new model")
    store.set_live("als", "als-1", action="rollback", actor="ana@laptop", reason="CTR fell")
    store.set_live("als", "als-1", action="rollback")  # already live: nothing changes
    changes = store.history("als")
    assert [(c.action, c.version, c.previous) for c in changes] == [
        ("rollback", "als-1", "als-2"),
        ("publish", "als-2", "als-1"),
        ("publish", "als-1", None),
    ]
    assert (changes[0].actor, changes[0].reason) == ("ana@laptop", "CTR fell")
    assert changes[1].reason == "new model" and "@" in changes[1].actor
    assert changes[0].at >= changes[2].at and changes[0].at.tzinfo is not None
    assert [c.actor for c in store.history("popular")] == ["ci@runner"]
    assert [c.version for c in store.history("als", limit=1)] == ["als-1"]
    with pytest.raises(ValueError, match="unknown live action 'undo'"):
        store.set_live("als", "als-2", action="undo")
    assert store.live_snapshot("als") == store.get_snapshot("als-1")  # refused: unchanged


def test_find_snapshot_by_unique_prefix(store: MetadataStore) -> None:
    for version in ("als-20261203T0700-aa11", "als-20261203T0700-ab22", "als-20261204T0900-cc"):
        snapshot(store, "als", version)
    snapshot(store, "als_x", "als_x-1")
    assert store.find_snapshot("als", "als-20261204").version == "als-20261204T0900-cc"
    assert store.find_snapshot("als", "20261203T0700-ab").version == "als-20261203T0700-ab22"
    with pytest.raises(NotFound, match="matches several") as info:
        store.find_snapshot("als", "als-20261203T0700-a")
    assert "als-20261203T0700-aa11 (staged)" in str(info.value)
    assert "als-20261203T0700-ab22 (staged)" in str(info.value)
    assert "cc" not in str(info.value)
    with pytest.raises(NotFound, match="no snapshot of 'als'"):
        store.find_snapshot("als", "als_")  # a literal underscore, never a wildcard
    with pytest.raises(NotFound, match="belongs to result set 'als_x'"):
        store.find_snapshot("als", "als_x-1")


def test_a_full_sqlite_database_says_so(
    sqlite_url: str, cap_sqlite: Callable[[str, int], None]
) -> None:
    MetadataStore.open(sqlite_url).close()  # migrated while there is room
    cap_sqlite("meta.db", 2)
    with MetadataStore.open(sqlite_url) as store:
        with pytest.raises(MetadataError) as info:
            snapshot(store, "als", "als-1", schema={"columns": "x" * 30_000})
        message = str(info.value)
        assert "database or disk is full" in message and "free space" in message
        assert "cannot rollback" not in message
        assert store.list_snapshots("als") == []
        snapshot(store, "als", "als-2")  # a small write still fits: the store still works


def test_set_live_refusals(store: MetadataStore) -> None:
    snapshot(store, "als", "als-1")
    snapshot(store, "popular", "pop-1")
    with pytest.raises(NotFound, match="no result set 'nope'"):
        store.set_live("nope", "als-1")
    with pytest.raises(NotFound, match="no snapshot with version 'als-9'"):
        store.set_live("als", "als-9")
    with pytest.raises(MetadataError, match="belongs to result set 'popular'"):
        store.set_live("als", "pop-1")
    store.mark_deleted("als-1")
    with pytest.raises(MetadataError, match="was deleted"):
        store.set_live("als", "als-1")


def test_database_allows_one_live_snapshot_per_result_set(
    store: MetadataStore, backend_url: str
) -> None:
    """The partial unique index holds even against writers that bypass the store."""
    snapshot(store, "als", "als-1")
    snapshot(store, "als", "als-2")
    store.set_live("als", "als-1")
    engine = sa.create_engine(backend_url)
    try:
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(sa.text("UPDATE snapshots SET status = 'live'"))
    finally:
        engine.dispose()
    assert store.live_snapshot("als") == store.get_snapshot("als-1")


def test_concurrent_set_live_keeps_exactly_one_live(store: MetadataStore) -> None:
    versions = [f"als-{i}" for i in range(8)]
    for version in versions:
        snapshot(store, "als", version)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda v: store.set_live("als", v), versions * 2))
    live = [s for s in store.list_snapshots("als") if s.status == "live"]
    assert len(live) == 1
    assert {s.status for s in store.list_snapshots("als")} == {"live", "retired"}


def test_list_snapshots_newest_first_without_deleted(store: MetadataStore) -> None:
    for version in ("als-1", "als-2", "als-3"):
        snapshot(store, "als", version)
    store.mark_deleted("als-2")
    assert [s.version for s in store.list_snapshots("als")] == ["als-3", "als-1"]
    everything = store.list_snapshots("als", include_deleted=True)
    assert [(s.version, s.status) for s in everything] == [
        ("als-3", "staged"),
        ("als-2", "deleted"),
        ("als-1", "staged"),
    ]
    assert store.list_snapshots("unknown") == []


def test_snapshot_mistakes_are_refused(store: MetadataStore) -> None:
    snapshot(store, "als", "als-1")
    with pytest.raises(MetadataError, match="already exists"):
        snapshot(store, "popular", "als-1")
    with pytest.raises(ValueError, match="negative"):
        snapshot(store, "als", "als-2", rows=-1)
    with pytest.raises(NotFound, match="no snapshot with version 'x'"):
        store.get_snapshot("x")
    store.set_live("als", "als-1")
    with pytest.raises(MetadataError, match="is live"):
        store.mark_deleted("als-1")


def test_delete_staged_removes_only_abandoned_staged(store: MetadataStore) -> None:
    for version in ("als-1", "als-2", "als-3"):
        snapshot(store, "als", version)
    snapshot(store, "popular", "pop-1")
    store.set_live("als", "als-1")
    assert store.delete_staged("als", older_than=timedelta(hours=1)) == []
    removed = store.delete_staged("als")
    assert sorted(s.version for s in removed) == ["als-2", "als-3"]
    assert [s.version for s in store.list_snapshots("als", include_deleted=True)] == ["als-1"]
    assert [s.version for s in store.list_snapshots("popular")] == ["pop-1"]


# Applied objects.


def test_replace_applied_is_a_full_replace(store: MetadataStore) -> None:
    assert store.applied() == []
    first = store.replace_applied(
        [
            ("experiment", "home-personal", {"weights": [0.5, 0.5]}),
            ("surface", "home", {"default": "popular"}),
        ]
    )
    assert [(o.kind, o.name) for o in first] == [
        ("experiment", "home-personal"),
        ("surface", "home"),
    ]
    second = store.replace_applied(
        [
            ("surface", "home", {"default": "popular"}),
            ("surface", "email", {"default": "als"}),
        ]
    )
    assert [(o.kind, o.name) for o in second] == [("surface", "email"), ("surface", "home")]
    unchanged = {o.name: o for o in first}["home"]
    assert {o.name: o for o in second}["home"] == unchanged  # same spec keeps applied_at
    assert [o.name for o in store.applied("experiment")] == []

    changed = store.replace_applied([("surface", "home", {"default": "als"})])
    assert changed[0].spec == {"default": "als"}
    assert changed[0].spec_hash != unchanged.spec_hash
    assert changed[0].applied_at >= unchanged.applied_at
    assert store.applied() == changed


def test_replace_applied_refuses_duplicates_and_changes_nothing(store: MetadataStore) -> None:
    store.replace_applied([("surface", "home", {})])
    with pytest.raises(ValueError, match="listed twice"):
        store.replace_applied([("surface", "a", {}), ("surface", "a", {"x": 1})])
    with pytest.raises(TypeError, match="JSON"):
        store.replace_applied([("surface", "b", {}), ("surface", "c", {"x": {1, 2}})])
    assert [o.name for o in store.applied()] == ["home"]


# Opening, closing, failures.


def test_open_refuses_an_old_schema_without_migrate(backend_url: str) -> None:
    with pytest.raises(MetadataError, match="run 'sameday db upgrade'"):
        MetadataStore.open(backend_url, migrate=False)
    upgrade(backend_url)
    with MetadataStore.open(backend_url, migrate=False) as store:
        assert store.list_runs() == []


def test_a_downgraded_database_is_upgraded_again_on_open(backend_url: str) -> None:
    upgrade(backend_url)
    downgrade(backend_url, "base")
    with MetadataStore.open(backend_url) as store:
        assert store.create_run("daily", {}).status == "running"


def test_sqlite_embedded_default_just_works(tmp_path: Path) -> None:
    path = tmp_path / "project" / ".sameday" / "metadata.db"
    with MetadataStore.open(f"sqlite:///{path}") as store:
        run = store.create_run("daily", {})
    assert path.is_file()
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()
    with MetadataStore.open(f"sqlite:///{path}") as store:
        assert store.get_run(run.id) == run


def test_in_memory_sqlite(tmp_path: Path) -> None:
    with MetadataStore.open("sqlite://") as store:
        run = store.create_run("daily", {})
        assert store.get_run(run.id) == run


def test_two_stores_on_one_file_see_each_other(sqlite_url: str) -> None:
    with MetadataStore.open(sqlite_url) as writer, MetadataStore.open(sqlite_url) as reader:
        run = writer.create_run("daily", {})
        assert reader.get_run(run.id) == run


def test_unreachable_postgres_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailable, match="is unavailable") as info:
        MetadataStore.open(UNREACHABLE)
    assert "secret" not in str(info.value)
    with pytest.raises(StoreUnavailable):
        MetadataStore.open(UNREACHABLE, migrate=False)


def test_repr_hides_the_password(postgres_url: str) -> None:
    url = postgres_url.replace("postgres@", "postgres:hunter2@")
    with MetadataStore.open(url) as store:
        assert "hunter2" not in repr(store) and "***" in repr(store)
        assert store.url in repr(store)
    assert repr(store).endswith(", closed)")


def test_closed_store_refuses_work(sqlite_url: str) -> None:
    store = MetadataStore.open(sqlite_url)
    store.close()
    with pytest.raises(MetadataError, match="closed"):
        store.list_runs()


def test_records_are_frozen_and_serialisable(store: MetadataStore) -> None:
    run = store.create_run("daily", {"a": 1})
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.status = "failed"  # type: ignore[misc]
    assert dataclasses.asdict(run)["params"] == {"a": 1}
