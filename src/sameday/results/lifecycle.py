"""Which snapshots exist and which one is live: repair, retention, rollback and listing.

Two places know about snapshots: the serving store (the lists, and the pointer readers follow)
and the metadata database (the records). Publishing writes them in this order::

    1. store.load(version)        lists written under a new version, not live, while the
                                  checks that scan the rows run; a failure abandons the load
    2. repair, meta.create_snapshot   debris of earlier publishes removed; record, "staged"
    3. store.set_live(version)    THE COMMIT POINT: readers switch here, atomically
    4. meta.set_live(version)     record "live", the previous one "retired"
    5. retention                  mark "deleted" in metadata, then drop from the store

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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sameday.config.loader import Project
from sameday.config.results import ResultSet
from sameday.errors import NotFound, PublishInProgress
from sameday.metadata import MetadataStore, SnapshotRecord
from sameday.store import ServingStore, open_store

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
    settings = project.settings.storage
    with (
        MetadataStore.open(project.url(settings.metadata), migrate=True) as meta,
        open_store(project.url(settings.serving)) as store,
    ):
        yield meta, store


def live_record(meta: MetadataStore, store: ServingStore, name: str) -> SnapshotRecord | None:
    """The record of the snapshot readers get now: the store's pointer decides."""
    version = store.live_version(name)
    if version is not None:
        try:
            return meta.get_snapshot(version)
        except NotFound:
            return None
    return meta.live_snapshot(name)


def repair(
    meta: MetadataStore, store: ServingStore, name: str, *, loading: str | None = None
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
            meta.set_live(name, store_live)
    meta.delete_staged(name)
    keep = {s.version for s in meta.list_snapshots(name) if s.status in KEPT}
    dropped = []
    for version in store.versions(name):
        if version not in keep and version not in (store_live, loading):
            store.drop(name, version)
            dropped.append(version)
    return dropped


def apply_retention(meta: MetadataStore, store: ServingStore, name: str, keep: int) -> list[str]:
    """Delete all but the ``keep`` newest kept snapshots (never the live one); return them."""
    kept = [s for s in meta.list_snapshots(name) if s.status in KEPT]
    deleted = []
    for record in kept[keep:]:
        if record.status == "live":
            continue
        meta.mark_deleted(record.version)  # first: a crash now leaves debris repair removes
        store.drop(name, record.version)
        deleted.append(record.version)
    return deleted


def rollback(project: Project, name: str, to: str | None = None) -> RollbackResult:
    """Make an earlier snapshot live again: ``to``, or the newest one before the live one.

    Raises:
        NotFound: the result set, the snapshot or an earlier snapshot does not exist, or its
            lists were deleted from the store.
    """
    result_set(project, name)
    with publish_lock(project, name), open_both(project) as (meta, store):
        repair(meta, store, name)
        live = meta.live_snapshot(name)
        if to is None:
            if live is None:
                raise NotFound(f"{name!r} has no live snapshot to roll back from: publish first")
            earlier = [
                s
                for s in meta.list_snapshots(name)
                if s.status == "retired"
                and s.created_at <= live.created_at
                and s.version != live.version
            ]
            if not earlier:
                raise NotFound(
                    f"{name!r} has no snapshot older than {live.version} left to roll back to "
                    "(see 'sameday snapshots')"
                )
            target = earlier[0]
        else:
            target = meta.get_snapshot(to)
            if target.result_set != name or target.status not in KEPT:
                raise NotFound(
                    f"snapshot {to!r} is not a live or retired snapshot of {name!r} "
                    f"(it is {target.status} in {target.result_set!r}); see 'sameday snapshots'"
                )
        if target.version not in store.versions(name):
            raise NotFound(
                f"the lists of snapshot {target.version!r} are no longer in the serving store; "
                "republish instead"
            )
        store.set_live(name, target.version)
        meta.set_live(name, target.version)
    return RollbackResult(name, target.version, live.version if live else None)


def snapshots(
    project: Project, name: str, *, include_deleted: bool = False
) -> list[SnapshotRecord]:
    """The snapshots of result set ``name``, newest first."""
    result_set(project, name)
    settings = project.settings.storage
    with MetadataStore.open(project.url(settings.metadata), migrate=True) as meta:
        return meta.list_snapshots(name, include_deleted=include_deleted)
