"""The SQLite snapshot ledger against the full store: same records, same refusals, each reading
what the other wrote."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sameday.errors import MetadataError, NotFound, StoreUnavailable
from sameday.metadata import MetadataStore
from sameday.metadata.records import SCHEMA_REVISION
from sameday.metadata.snapshot_ledger import SnapshotBook, SnapshotLedger


def _new_file(folder: Path) -> Path:
    path = folder / "metadata.db"
    MetadataStore.open(f"sqlite:///{path}").close()  # created and migrated by Alembic
    return path


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return _new_file(tmp_path)


@pytest.fixture(params=["ledger", "store"])
def book(request: pytest.FixtureRequest, path: Path) -> Iterator[SnapshotBook]:
    """Each implementation in turn, on a fresh file at the current schema."""
    opened: SnapshotBook | None
    if request.param == "ledger":
        opened = SnapshotLedger.open(path)
    else:
        opened = MetadataStore.open(f"sqlite:///{path}")
    assert opened is not None
    try:
        yield opened
    finally:
        opened.close()


def _create(book: SnapshotBook, version: str, **overrides: Any) -> None:
    values: dict[str, Any] = {
        "content_hash": f"sha256:{version}",
        "rows": 10,
        "keys": 2,
        "schema": {"source": {"user": "VARCHAR"}, "columns": {"key": "user"}},
        "source": "out/recs.parquet",
        "run_id": None,
        "store_url": "sqlite:///serving.db",
    }
    book.create_snapshot("recs", version, **(values | overrides))


def _cycle(book: SnapshotBook) -> dict[str, Any]:
    """A publish, a second publish, retention and a repair's clean-up; what was seen."""
    _create(book, "recs-a", run_id="run-1")
    assert book.set_live("recs", "recs-a", reason="first") is None
    book.record_profile("recs-a", "recs", {"rows": 10, "keys": 2, "x": [1.5, None]}, [])
    _create(book, "recs-b")
    retired = book.set_live("recs", "recs-b")
    book.record_profile("recs-b", "recs", {"rows": 10, "keys": 2}, [{"status": "warn"}])
    again = book.set_live("recs", "recs-b")  # already live: nothing changes
    _create(book, "recs-c")  # staged, never made live: debris of a killed publish
    staged = book.delete_staged("recs")
    deleted = book.mark_deleted("recs-a")
    return {
        "retired": retired,
        "again": again,
        "staged": [s.version for s in staged],
        "deleted": deleted,
        "live": book.live_snapshot("recs"),
        "listed": book.list_snapshots("recs"),
        "all": book.list_snapshots("recs", include_deleted=True),
        "profiles": book.profiles("recs", 5),
        "profile": book.profile("recs-a"),
        "no profile": book.profile("recs-z"),
    }


def _shape(seen: dict[str, Any]) -> dict[str, Any]:
    """What must not depend on the implementation: everything but the clock."""

    def strip(value: Any) -> Any:
        if isinstance(value, list):
            return [strip(v) for v in value]
        if hasattr(value, "__dataclass_fields__"):
            return {
                k: strip(getattr(value, k))
                for k in value.__dataclass_fields__
                if k not in ("created_at", "published_at")
            } | {"published": getattr(value, "published_at", None) is not None}
        return value

    return {key: strip(value) for key, value in seen.items()}


def test_both_record_a_publish_cycle_alike(tmp_path: Path) -> None:
    with SnapshotLedger.open(_new_file(tmp_path / "l")) as ledger:  # type: ignore[union-attr]
        by_ledger = _cycle(ledger)
    with MetadataStore.open(f"sqlite:///{_new_file(tmp_path / 's')}") as store:
        by_store = _cycle(store)
    assert _shape(by_ledger) == _shape(by_store)
    assert by_ledger["retired"].status == "retired" and by_ledger["live"].version == "recs-b"
    assert by_ledger["staged"] == ["recs-c"] and by_ledger["deleted"].status == "deleted"


def test_the_full_store_reads_what_the_ledger_wrote(path: Path) -> None:
    ledger = SnapshotLedger.open(path)
    assert ledger is not None
    with ledger:
        seen = _cycle(ledger)
        ledger.set_live("recs", "recs-b", action="repair")
    with MetadataStore.open(f"sqlite:///{path}", migrate=False) as store:
        assert store.live_snapshot("recs") == seen["live"]
        assert store.list_snapshots("recs", include_deleted=True) == seen["all"]
        assert store.profiles("recs", 5) == seen["profiles"]
        changes = store.history("recs")
        assert [(c.version, c.previous, c.action, c.reason) for c in changes] == [
            ("recs-b", "recs-a", "publish", None),
            ("recs-a", None, "publish", "first"),
        ]
        assert all("@" in c.actor for c in changes)
        # and the ledger reads what the full store writes
        store.create_snapshot(
            "recs", "recs-d", content_hash="h", rows=1, keys=1, schema={}, source="s",
            run_id=None, store_url="u",
        )  # fmt: skip
        store.set_live("recs", "recs-d")
        written = store.get_snapshot("recs-d")
    with SnapshotLedger.open(path) as again:  # type: ignore[union-attr]
        assert again.get_snapshot("recs-d") == written
        assert again.get_snapshot("recs-b").status == "retired"


def test_both_refuse_alike(book: SnapshotBook) -> None:
    _create(book, "recs-a")
    with pytest.raises(MetadataError, match="already exists"):
        _create(book, "recs-a")
    with pytest.raises(ValueError, match="cannot be negative"):
        _create(book, "recs-x", rows=-1)
    with pytest.raises(TypeError, match="JSON"):
        _create(book, "recs-y", schema={"nan": float("nan")})
    with pytest.raises(NotFound, match="no snapshot"):
        book.get_snapshot("recs-missing")
    with pytest.raises(NotFound, match="publish it first"):
        book.set_live("other", "recs-a")
    with pytest.raises(ValueError, match="unknown live action"):
        book.set_live("recs", "recs-a", action="sideways")
    book.set_live("recs", "recs-a")
    with pytest.raises(MetadataError, match="is live"):
        book.mark_deleted("recs-a")
    book.record_profile("recs-a", "recs", {"rows": 1, "keys": 1}, [])
    with pytest.raises(MetadataError, match="immutable"):
        book.record_profile("recs-a", "recs", {"rows": 1, "keys": 1}, [])
    _create(book, "recs-b")
    book.mark_deleted("recs-b")
    with pytest.raises(MetadataError, match="was deleted"):
        book.set_live("recs", "recs-b")


def test_the_ledger_opens_only_a_file_at_the_current_schema(tmp_path: Path) -> None:
    assert SnapshotLedger.open(tmp_path / "missing.db") is None
    path = _new_file(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = '0001'")
    assert SnapshotLedger.open(path) is None  # the full store upgrades it
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = ?", (SCHEMA_REVISION,))
    opened = SnapshotLedger.open(path)
    assert opened is not None and repr(opened) == f"SnapshotLedger({str(path)!r})"
    opened.close()


def test_the_ledger_reports_a_busy_file_as_unavailable(path: Path) -> None:
    ledger = SnapshotLedger.open(path)
    assert ledger is not None
    ledger._db.execute("PRAGMA busy_timeout = 50")  # not thirty seconds in a test
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        with pytest.raises(StoreUnavailable, match="unavailable: database is locked"):
            _create(ledger, "recs-a")
        assert ledger.list_snapshots("recs") == []  # reads go on beside the writer (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        ledger.close()
