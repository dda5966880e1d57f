"""Publishing, retention, rollback and repair, against SQLite and Redis serving stores."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sameday.config import Project
from sameday.errors import NotFound, ResultCheckFailed, StoreUnavailable
from sameday.metadata import MetadataStore
from sameday.results import history, publish, rollback, snapshots
from sameday.store import Item, ServingStore, open_store
from sameday.store.codec import encode_list
from tests.results.conftest import MakeProject, rows, write_parquet


@pytest.fixture(params=["sqlite", "redis"])
def serving(request: pytest.FixtureRequest) -> str | None:
    """The serving store URL: the project default (SQLite), or the real Redis."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("redis_url"))


def store_of(project: Project) -> ServingStore:
    return open_store(project.url(project.settings.storage.serving))


def meta_of(project: Project) -> MetadataStore:
    return MetadataStore.open(project.url(project.settings.storage.metadata))


def republish(make_project: MakeProject, serving: str | None, top: str) -> Project:
    """Rewrite the source so that every user's first item is ``top``, and publish it."""
    records = [r | {"item": top} if r["score"] == 1.0 else r for r in rows()]
    project = make_project(serving=serving, records=records)
    publish(project, "recs")
    return project


def test_publish_makes_the_rows_live(make_project: MakeProject, serving: str | None) -> None:
    project = make_project(serving=serving)
    result = publish(project, "recs", run_id="daily-1")
    assert result.version is not None and result.previous is None
    with store_of(project) as store:
        assert store.live_version("recs") == result.version
        assert store.get("recs", "u003")[:2] == [Item("i3", 1.0), Item("i4", 0.9)]
    (record,) = snapshots(project, "recs")
    assert (record.status, record.rows, record.keys, record.run_id) == ("live", 100, 20, "daily-1")
    assert record.content_hash == result.content_hash
    assert record.schema["source"]["user"] == "VARCHAR"
    assert "password" not in record.store_url


def test_the_hash_depends_on_content_not_on_format(
    make_project: MakeProject, tmp_path: Path
) -> None:
    project = make_project()
    first = publish(project, "recs", dry_run=True).content_hash
    csv = tmp_path / "recs.csv"
    csv.write_text(
        "user,item,score\n"
        + "".join(f"{r['user']},{r['item']},{r['score']}\n" for r in reversed(rows()))
    )
    assert publish(project, "recs", source=csv, dry_run=True).content_hash == first
    changed = rows()
    changed[0]["score"] = 0.99
    write_parquet(tmp_path / "other.parquet", changed)
    assert (
        publish(project, "recs", source=tmp_path / "other.parquet", dry_run=True).content_hash
        != first
    )


def test_republishing_the_same_lists_says_so(make_project: MakeProject, tmp_path: Path) -> None:
    project = make_project()
    first = publish(project, "recs")
    again = publish(project, "recs")
    assert not first.unchanged and again.unchanged and again.previous == first.version
    assert again.content_hash == first.content_hash
    changed = rows()
    changed[0]["score"] = 0.99
    write_parquet(tmp_path / "other.parquet", changed)
    assert not publish(project, "recs", source=tmp_path / "other.parquet", dry_run=True).unchanged


def test_dry_run_and_failed_checks_change_nothing(
    make_project: MakeProject, serving: str | None
) -> None:
    project = make_project(serving=serving)
    publish(project, "recs", dry_run=True)
    assert snapshots(project, "recs") == []
    with store_of(project) as store:
        assert store.versions("recs") == []
    live = publish(project, "recs").version
    bad = make_project(serving=serving, checks={"min_rows": 1000})
    with pytest.raises(ResultCheckFailed):
        publish(bad, "recs")
    assert [s.version for s in snapshots(project, "recs")] == [live]
    with store_of(project) as store:
        assert store.versions("recs") == [live]


def test_retention_keeps_the_newest_snapshots(
    make_project: MakeProject, serving: str | None
) -> None:
    versions = []
    for n in range(5):
        project = republish(make_project, serving, f"top{n}")
        versions.append(snapshots(project, "recs")[0].version)
    kept = snapshots(project, "recs")
    assert [s.version for s in kept] == versions[::-1][:3]
    assert [s.status for s in kept] == ["live", "retired", "retired"]
    every = snapshots(project, "recs", include_deleted=True)
    assert [s.status for s in every[3:]] == ["deleted", "deleted"]
    with store_of(project) as store:
        assert store.versions("recs") == sorted(versions[2:])
        assert store.get("recs", "u001")[0].item == "top4"


def test_rollback_to_previous_and_to_a_version(
    make_project: MakeProject, serving: str | None
) -> None:
    for n in range(3):
        project = republish(make_project, serving, f"top{n}")
    newest, middle, oldest = (s.version for s in snapshots(project, "recs"))
    result = rollback(project, "recs")
    assert (result.version, result.previous) == (middle, newest)
    with store_of(project) as store:
        assert store.get("recs", "u001")[0].item == "top1"
    rollback(project, "recs", to=oldest)
    with store_of(project) as store:
        assert store.get("recs", "u001")[0].item == "top0"
    assert {s.version: s.status for s in snapshots(project, "recs")}[oldest] == "live"
    assert rollback(project, "recs").version == middle  # undoes the --to
    assert rollback(project, "recs").version == oldest  # then the first publish's successor
    with pytest.raises(NotFound, match="nothing earlier"):
        rollback(project, "recs")
    with pytest.raises(NotFound):
        rollback(project, "recs", to="recs-nope")


@pytest.fixture(params=["sqlite", "postgres"])
def metadata(request: pytest.FixtureRequest) -> str | None:
    """The metadata database URL: the project default (SQLite), or a fresh PostgreSQL one."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))


def test_rollback_goes_back_to_what_was_live_before(
    make_project: MakeProject, serving: str | None, metadata: str | None
) -> None:
    """Publish A, publish B, roll back, publish C, roll back: A is live, not B."""

    def publish_top(top: str) -> tuple[Project, str | None, str | None]:
        records = [r | {"item": top} if r["score"] == 1.0 else r for r in rows()]
        project = make_project(serving=serving, metadata=metadata, records=records)
        result = publish(project, "recs", reason=f"ship {top}")
        return project, result.version, result.previous

    project, a, _ = publish_top("A")
    _, b, before_b = publish_top("B")
    assert before_b == a
    assert rollback(project, "recs").version == a
    _, c, before_c = publish_top("C")
    assert before_c == a
    result = rollback(project, "recs", reason="C hurts clicks")
    assert (result.version, result.previous) == (a, c)
    with store_of(project) as store:
        assert store.live_version("recs") == a
        assert store.get("recs", "u001")[0].item == "A"
    with meta_of(project) as meta:
        live = meta.live_snapshot("recs")
        assert live is not None and live.version == a
    changes = history(project, "recs")
    assert [(h.action, h.version, h.previous) for h in changes] == [
        ("rollback", a, c),
        ("publish", c, a),
        ("rollback", a, b),
        ("publish", b, a),
        ("publish", a, None),
    ]
    assert changes[0].reason == "C hurts clicks" and changes[-1].reason == "ship A"
    assert all(h.actor and h.at.tzinfo is not None for h in changes)
    assert changes[0].at >= changes[-1].at
    with pytest.raises(NotFound, match="nothing earlier"):
        rollback(project, "recs")  # A was the first: there is nothing left to undo


def test_retention_keeps_what_was_live_most_recently(
    make_project: MakeProject, serving: str | None
) -> None:
    """With room for two snapshots, the one to roll back to is kept, not the newest made."""

    def publish_top(top: str) -> tuple[Project, str | None]:
        records = [r | {"item": top} if r["score"] == 1.0 else r for r in rows()]
        project = make_project(serving=serving, records=records, retention=2)
        return project, publish(project, "recs").version

    project, a = publish_top("A")
    _, b = publish_top("B")
    rollback(project, "recs")
    _, c = publish_top("C")
    statuses = {s.version: s.status for s in snapshots(project, "recs", include_deleted=True)}
    assert statuses == {c: "live", a: "retired", b: "deleted"}
    assert rollback(project, "recs").version == a
    with store_of(project) as store:
        assert store.get("recs", "u001")[0].item == "A"
        assert sorted(store.versions("recs")) == sorted([a, c])


def test_a_full_serving_store_says_so_and_changes_nothing(
    make_project: MakeProject,
    cap_sqlite: Callable[[str, int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = make_project()
    first = publish(project, "recs").version
    big = make_project(records=rows(keys=500))
    cap_sqlite("serving.db", 2)  # the new lists need about 10 more pages
    with pytest.raises(StoreUnavailable) as info:
        publish(big, "recs")
    message = str(info.value)
    assert "database or disk is full" in message and "free space" in message
    assert "cannot rollback" not in message
    assert [(s.version, s.status) for s in snapshots(project, "recs")] == [(first, "live")]
    with store_of(project) as store:
        assert store.versions("recs") == [first]
    monkeypatch.undo()  # space freed: the same publish goes through
    assert publish(big, "recs").previous == first


def test_a_header_only_csv_says_it_has_no_rows(make_project: MakeProject, tmp_path: Path) -> None:
    project = make_project()
    header_only = tmp_path / "recs.csv"
    header_only.write_text("user,item,score\n")
    with pytest.raises(ResultCheckFailed) as info:
        publish(project, "recs", source=header_only)
    assert f"min_rows: {header_only} has no rows, at least 1 required" in str(info.value)
    assert "VARCHAR" not in str(info.value)
    assert snapshots(project, "recs") == []


def test_unknown_result_set(make_project: MakeProject) -> None:
    with pytest.raises(NotFound, match="declared: recs"):
        publish(make_project(), "nope")


def test_repair_removes_debris_and_finishes_a_half_done_swap(
    make_project: MakeProject, serving: str | None
) -> None:
    project = make_project(serving=serving)
    live = publish(project, "recs").version
    assert live is not None
    blob = encode_list([Item("debris", 1.0)])
    with store_of(project) as store, meta_of(project) as meta:
        store.load("recs", "recs-orphan", [[("u001", blob)]])  # killed before the record
        store.load("recs", "recs-staged", [[("u001", blob)]])  # killed before the swap
        meta.create_snapshot(
            "recs",
            "recs-staged",
            content_hash="x",
            rows=1,
            keys=1,
            schema={},
            source="t",
            run_id=None,
            store_url="t",
        )
        store.load("recs", "recs-swapped", [[("u001", blob)]])  # killed after the swap
        meta.create_snapshot(
            "recs",
            "recs-swapped",
            content_hash="y",
            rows=1,
            keys=1,
            schema={},
            source="t",
            run_id=None,
            store_url="t",
        )
        store.set_live("recs", "recs-swapped")
    result = publish(project, "recs")
    assert sorted(result.repaired) == ["recs-orphan", "recs-staged"]
    assert result.previous == "recs-swapped"
    statuses = {s.version: s.status for s in snapshots(project, "recs", include_deleted=True)}
    assert statuses == {result.version: "live", "recs-swapped": "retired", live: "retired"}
    with store_of(project) as store:
        assert sorted(store.versions("recs")) == sorted([result.version, "recs-swapped", live])
    assert [(h.action, h.version) for h in history(project, "recs")] == [
        ("publish", result.version),
        ("repair", "recs-swapped"),
        ("publish", live),
    ]
    assert rollback(project, "recs").version == "recs-swapped"
    assert rollback(project, "recs").version == live


def test_a_check_failing_during_the_load_abandons_it(
    make_project: MakeProject, serving: str | None
) -> None:
    project = make_project(serving=serving)
    live = publish(project, "recs").version
    duplicated = [*rows(), {"user": "u001", "item": "i1", "score": 0.01}]
    write_parquet(project.root / "out" / "recs.parquet", duplicated)
    loaded: list[int] = []
    with pytest.raises(ResultCheckFailed) as caught:
        publish(project, "recs", progress=lambda done, _: loaded.append(done))
    assert caught.value.failures == ["unique_items"] and loaded  # it failed mid-publish
    assert [(s.version, s.status) for s in snapshots(project, "recs")] == [(live, "live")]
    with store_of(project) as store:
        assert store.versions("recs") == [live]
        assert store.get("recs", "u001")[0] == Item("i1", 1.0)
    forced = publish(project, "recs", force=True)
    assert forced.forced == ["unique_items"] and forced.previous == live
