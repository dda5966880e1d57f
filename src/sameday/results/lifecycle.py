"""Which snapshots exist and which one is live: repair, retention, rollback and listing.

Two places know about snapshots: the serving store (the lists, and the pointer readers follow)
and the metadata database (the records). Publishing writes them in this order::

    1. store.load(version)        lists written under a new version, not live, while the
                                  checks that scan the rows run; a failure abandons the load
    2. repair, meta.create_snapshot   debris of earlier publishes removed; record, "staged"
    3. store.set_live(version)    THE COMMIT POINT: readers switch here, atomically
    4. meta.set_live(version)     record "live", the previous one "retired", and the change in
                                  the history of what was live (rollback follows it)
    5. retention                  mark "deleted" in metadata, then drop from the store, all
                                  but the snapshots live most recently

A publish killed before step 3 leaves the previous snapshot live in both places, plus debris: a
partial or complete version in the store and perhaps a staged record. Killed between 3 and 4, the
new snapshot is live (it was fully written and checked) and the metadata lags. Killed during 5,
a deleted record's lists may still be in the store. :func:`repair` makes all of these whole again
and runs in every publish (once its checks have passed, sparing the version it just loaded, so a
refused publish changes nothing) and before every rollback: the store's pointer is the truth
about what is live, staged records are forgotten, and every other stored version without a live
or retired record is dropped. Publishes and rollbacks of one result set are serialised by a lock
file, so a repair never removes the version another process is still writing.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sameday.config.loader import Project
from sameday.config.results import ResultSet
from sameday.errors import NotFound, PublishInProgress
from sameday.metadata.records import LiveChange, SnapshotRecord
from sameday.metadata.snapshot_ledger import SnapshotBook, SnapshotLedger
from sameday.store import ServingStore

if TYPE_CHECKING:
    from sameday.metadata import MetadataStore

LOCK_TIMEOUT = 120.0
"""Seconds to wait for another publish or rollback of the same result set to finish."""
KEPT = ("live", "retired")
"""Snapshot statuses whose lists must stay in the store."""


@dataclass(frozen=True)
class RollbackResult:
    """What a rollback did: the snapshot now live and the one it replaced."""

    result_set: str
    version: str
    previous: str | None


def result_set(project: Project, name: str) -> ResultSet:
    """The declared result set ``name``, or ``NotFound`` naming the declared ones."""
    try:
        return project.result_sets[name]
    except KeyError:
        known = ", ".join(sorted(project.result_sets)) or "none"
        raise NotFound(
            f"no result set {name!r} in {project.root / 'results'} (declared: {known})"
        ) from None


@contextmanager
def publish_lock(project: Project, name: str, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the lock of result set ``name``; the OS releases it if the process dies."""
    folder = project.root / ".sameday" / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"publish-{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise PublishInProgress(
                        f"another publish or rollback of {name!r} has held its lock for "
                        f"{timeout:.0f}s; wait for it, or check for a stuck process"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


@contextmanager
def open_both(project: Project) -> Iterator[tuple[MetadataStore, ServingStore]]:
    """The project's metadata database and serving store, closed on exit."""
    with project.open_metadata(migrate=True) as meta, project.open_serving_store() as store:
        yield meta, store


@contextmanager
def open_for_publish(project: Project) -> Iterator[tuple[SnapshotBook, ServingStore]]:
    """The project's snapshot records and serving store, closed on exit.

    A SQLite metadata file at the current schema is opened as a :class:`SnapshotLedger`
    (``sqlite3``, no SQLAlchemy: half the CPU of a small publish); anything else, a file to
    create or upgrade included, through the full store, as :func:`open_both` does.
    """
    path = _sqlite_file(project.url(project.settings.storage.metadata))
    ledger = SnapshotLedger.open(path) if path is not None else None
    meta: SnapshotBook = ledger if ledger is not None else project.open_metadata(migrate=True)
    try:
        with project.open_serving_store() as store:
            yield meta, store
    finally:
        meta.close()


def _sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL resolved by ``Project.url``; ``None`` for anything
    the ledger leaves to SQLAlchemy (other databases, memory, URI files, query options)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or any(mark in url for mark in ("?", "%", ":memory:")):
        return None
    path = url[len(prefix) :]
    return Path(path) if path and not path.startswith("file:") else None


def live_record(meta: SnapshotBook, store: ServingStore, name: str) -> SnapshotRecord | None:
    """The record of the snapshot readers get now: the store's pointer decides."""
    version = store.live_version(name)
    if version is not None:
        try:
            return meta.get_snapshot(version)
        except NotFound:
            return None
    return meta.live_snapshot(name)


def repair(
    meta: SnapshotBook, store: ServingStore, name: str, *, loading: str | None = None
) -> list[str]:
    """Make metadata and store agree after an interrupted publish; return the versions dropped.

    ``loading`` is the version the calling publish has just loaded and not yet recorded: the
    one stored version without a record that is not debris.
    """
    store_live = store.live_version(name)
    meta_live = meta.live_snapshot(name)
    if store_live is not None and (meta_live is None or meta_live.version != store_live):
        try:
            record = meta.get_snapshot(store_live)
        except NotFound:
            record = None
        if record is not None and record.result_set == name and record.status != "deleted":
            meta.set_live(
                name, store_live, action="repair", reason="finished an interrupted change"
            )
    meta.delete_staged(name)
    keep = {s.version for s in meta.list_snapshots(name) if s.status in KEPT}
    dropped = []
    for version in store.versions(name):
        if version not in keep and version not in (store_live, loading):
            store.drop(name, version)
            dropped.append(version)
    return dropped


def apply_retention(meta: SnapshotBook, store: ServingStore, name: str, keep: int) -> list[str]:
    """Delete all but the ``keep`` snapshots live most recently (never the live one); return
    them.

    Recency of being live, not of creation: after publish A, publish B, rollback, publish C,
    rollback goes to A, so A must outlive B, though B is newer. ``published_at`` is the last
    time a snapshot went live.
    """
    kept = sorted(
        (s for s in meta.list_snapshots(name) if s.status in KEPT),
        key=lambda s: (s.published_at or s.created_at, s.created_at, s.version),
        reverse=True,
    )
    deleted = []
    for record in kept[keep:]:
        if record.status == "live":
            continue
        meta.mark_deleted(record.version)  # first: a crash now leaves debris repair removes
        store.drop(name, record.version)
        deleted.append(record.version)
    return deleted


def undo_stack(changes: Sequence[LiveChange]) -> list[str]:
    """The versions a plain rollback walks back through, the live one last.

    Replays the history (``changes``, newest first, as :meth:`MetadataStore.history` gives
    it): a publish or a ``rollback --to`` puts its version on top; a rollback takes the top
    off, down to the version it made live (skipped ones, deleted since, go too). So each
    rollback undoes the latest change still in force: publish A, publish B, roll back (A),
    publish C, roll back gives A again, and one more rollback finds nothing earlier. A repair
    finished a publish or a rollback killed halfway: if its version is already below the top
    it was a rollback, otherwise a publish.
    """
    stack: list[str] = []
    for change in reversed(changes):
        undoes = change.action == "rollback" or (
            change.action == "repair" and change.version in stack[:-1]
        )
        if undoes:
            while stack and stack[-1] != change.version:
                stack.pop()
        if not stack or stack[-1] != change.version:
            stack.append(change.version)
    return stack


def rollback(
    project: Project, name: str, to: str | None = None, *, reason: str | None = None
) -> RollbackResult:
    """Make an earlier snapshot live again: ``to``, or the one live before the live one.

    Without ``to``, rollback undoes the latest change of what is live that is still in force,
    following the history of what was live (:func:`undo_stack`), not creation times;
    snapshots deleted since are skipped. ``to`` is a version or any unique prefix of one
    (with or without the leading ``RESULT_SET-``). The change is recorded in that history,
    with ``reason`` if given.

    Raises:
        NotFound: the result set or the snapshot does not exist, a prefix is ambiguous (the
            candidates are listed), nothing earlier is left to roll back to, or the snapshot's
            lists were deleted from the store.
    """
    result_set(project, name)
    with publish_lock(project, name), open_both(project) as (meta, store):
        repair(meta, store, name)
        live = meta.live_snapshot(name)
        if to is None:
            if live is None:
                raise NotFound(f"{name!r} has no live snapshot to roll back from: publish first")
            target = _previous_live(meta, store, name, live)
        else:
            target = meta.find_snapshot(name, to)
            if target.status not in KEPT:
                raise NotFound(
                    f"snapshot {target.version!r} of {name!r} is {target.status}, not live or "
                    f"retired: it cannot go live again; see 'sameday snapshots {name}'"
                )
        if target.version not in store.versions(name):
            raise NotFound(
                f"the lists of snapshot {target.version!r} are no longer in the serving store; "
                "republish instead"
            )
        store.set_live(name, target.version)
        action = "rollback" if to is None else "rollback-to"
        meta.set_live(name, target.version, action=action, reason=reason)
    return RollbackResult(name, target.version, live.version if live else None)


def _previous_live(
    meta: MetadataStore, store: ServingStore, name: str, live: SnapshotRecord
) -> SnapshotRecord:
    """The snapshot a plain rollback makes live: the newest one below the live one on the
    :func:`undo_stack` that is still kept and still in the store."""
    stack = undo_stack(meta.history(name))
    if not stack or stack[-1] != live.version:
        stack.append(live.version)  # a history that lags the pointer (never written by sameday)
    kept = {s.version: s for s in meta.list_snapshots(name) if s.status in KEPT}
    stored = set(store.versions(name))
    for version in reversed(stack[:-1]):
        if version in kept and version in stored and version != live.version:
            return kept[version]
    raise NotFound(
        f"nothing earlier to roll back to: every change that led to {live.version} was undone "
        f"or its snapshot deleted. Choose one with 'sameday rollback {name} --to VERSION' "
        f"(see 'sameday snapshots {name}')"
    )


def history(project: Project, name: str, *, limit: int | None = None) -> list[LiveChange]:
    """What was live when for result set ``name``: every change, newest first."""
    result_set(project, name)
    with project.open_metadata(migrate=True) as meta:
        return meta.history(name, limit)


def snapshots(
    project: Project, name: str, *, include_deleted: bool = False
) -> list[SnapshotRecord]:
    """The snapshots of result set ``name``, newest first."""
    result_set(project, name)
    with project.open_metadata(migrate=True) as meta:
        return meta.list_snapshots(name, include_deleted=include_deleted)
