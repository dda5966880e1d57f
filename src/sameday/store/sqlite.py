"""``SQLiteStore``: the embedded serving store, one file, many reader processes.

Layout (chosen after measuring): every list of every version sits in one ``WITHOUT ROWID`` table
keyed by ``(slot, key)``, where ``slot`` is a small integer naming a (result set, version). A new
version takes the highest slot, so its rows, inserted in key order, are appended at the right edge
of the B-tree: the load is as fast as a bare ``executemany`` into an empty table. A lookup is one
statement joining the live pointer to the list, so it always reads the version that was live when
the statement started, even while another process swaps the pointer or drops old versions.

* A load is one write transaction: killed halfway, SQLite rolls it back on the next open, so an
  interrupted load leaves nothing behind.
* ``set_live`` is one ``UPSERT`` of the pointer row: readers see the old version or the new one.
* Write-ahead logging lets any number of reader processes read while one process writes.

Lookups are fast for two reasons (measured; see ``docs/benchmarks.md``, "Serving"). The file is
memory-mapped (``MMAP_SIZE``), so a page not in SQLite's own cache costs a memory access instead of
a ``pread``. And a server may keep one read transaction open for ``snapshot_ttl`` seconds
(``Client.from_project`` sets ``SNAPSHOT_TTL``): in WAL mode every statement outside a transaction
starts and ends one, which costs locks on the shared-memory index and a check of the file, about
half of a lookup. Every lookup in that window reads the same consistent snapshot of the file, at
most ``snapshot_ttl`` old, as a lookup that started that long ago would; it is still one statement
joining the live pointer to the list, so it never pairs one version's pointer with another's
lists. Only ``read`` reads in the held snapshot: every other method ends it first, so the
refresher always sees the current pointers, and a new live version is served from the first
lookup after the refresh that noticed it. The age is checked at the next lookup, so an idle
server's snapshot lasts until its next refresh: never long enough to keep the write-ahead log
from being checkpointed.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sameday._sqlite import use_wal
from sameday.errors import NotFound, StoreUnavailable, VersionInUse
from sameday.store.base import Chunk, Item, Listed, ServingStore
from sameday.store.codec import decode_list

BUSY_TIMEOUT = 30.0
"""Seconds a writer waits for another writer before giving up."""
WAL_SIZE_LIMIT = 64 * 1024 * 1024
"""Bytes the write-ahead log is truncated back to after a large load."""
IN_LIMIT = 500
"""Keys per ``IN (...)`` lookup statement in ``get_many``."""
MMAP_SIZE = 1 << 30
"""Bytes of the file read through a memory map rather than ``pread`` (the rest is read)."""
SNAPSHOT_TTL = 0.01
"""Seconds a server keeps one read snapshot for its lookups: long enough to spread the cost of
starting a read transaction over hundreds of lookups, short enough that no caller could notice."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sameday_versions (
    slot INTEGER PRIMARY KEY,
    result_set TEXT NOT NULL,
    version TEXT NOT NULL,
    keys INTEGER NOT NULL DEFAULT 0,
    UNIQUE (result_set, version)
);
CREATE TABLE IF NOT EXISTS sameday_live (
    result_set TEXT PRIMARY KEY,
    slot INTEGER NOT NULL,
    version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sameday_lists (
    slot INTEGER NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (slot, key)
) WITHOUT ROWID;
"""
_GET = (
    "SELECT p.version, l.value FROM sameday_live AS p LEFT JOIN sameday_lists AS l "
    "ON l.slot = p.slot AND l.key = ? WHERE p.result_set = ?"
)
"""One row when the result set is live (``NULL`` value: the key has no list), none when not;
the version comes from the same row as the list, so it is the one the list was read from."""


_SCAN = (
    "SELECT l.key, l.value FROM sameday_versions AS v JOIN sameday_lists AS l "
    "ON l.slot = v.slot WHERE v.result_set = ? AND v.version = ? ORDER BY l.key"
)
SCAN_CHUNK = 1000
"""Lists per chunk of ``scan``."""


def sqlite_path(url: str) -> str:
    """The database path of a ``sqlite:///`` URL (four slashes for an absolute path)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise ValueError(f"not a SQLite URL: {url!r} (expected sqlite:///path/to/serving.db)")
    return url[len(prefix) :] or ":memory:"


class SQLiteStore(ServingStore):
    """The embedded serving store; see the module docstring for the layout and guarantees.

    Args:
        path: the database file (created with its tables if missing).
        snapshot_ttl: seconds ``read`` may keep reading one snapshot; ``0`` (the default, what
            publishers want) starts a fresh read for every lookup.
    """

    def __init__(self, path: str | Path, *, snapshot_ttl: float = 0.0) -> None:
        self.path = str(path)
        self.snapshot_ttl = snapshot_ttl
        self._snapshot_until = 0.0  # monotonic deadline of the held snapshot; 0: none held
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(
                f"cannot open the SQLite serving store {self.path}: {exc}; check that the folder "
                "exists and is writable"
            ) from exc
        self._lock = threading.Lock()
        with self._errors():
            use_wal(self._db, timeout=BUSY_TIMEOUT)
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
            self._db.execute(f"PRAGMA mmap_size = {MMAP_SIZE}")
            self._db.executescript(_SCHEMA)
        self._cursor = self._db.cursor()  # reused by ``read``: one allocation less per lookup

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        """A store for ``sqlite:///path.db``."""
        return cls(sqlite_path(url))

    def __repr__(self) -> str:
        return f"SQLiteStore(path={self.path!r})"

    def _end_snapshot(self) -> None:
        """End the snapshot ``read`` holds, if any (call with the lock held)."""
        if self._snapshot_until:
            self._snapshot_until = 0.0
            if self._db.in_transaction:  # a failed statement may have rolled it back already
                self._db.execute("COMMIT")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            self._end_snapshot()
            yield
        except sqlite3.Error as exc:
            hint = ""
            if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                hint = "; free space on the disk that holds it, then try again"
            raise StoreUnavailable(f"SQLite serving store {self.path}: {exc}{hint}") from exc

    @contextmanager
    def _transaction(self, begin: str = "BEGIN IMMEDIATE") -> Iterator[sqlite3.Connection]:
        with self._lock, self._errors():
            self._db.execute(begin)
            try:
                yield self._db
            except BaseException as exc:
                # SQLite has already rolled back after some errors (a full disk): a second
                # rollback would fail and hide the error that matters
                if self._db.in_transaction:
                    try:
                        self._db.execute("ROLLBACK")
                    except sqlite3.Error as failed:
                        exc.add_note(f"rolling back failed too: {failed}")
                raise
            self._db.execute("COMMIT")

    def load(self, result_set: str, version: str, chunks: Iterable[Chunk]) -> int:
        """Store a new version in one transaction (see :meth:`ServingStore.load`)."""
        with self._transaction() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO sameday_versions (result_set, version) VALUES (?, ?)",
                    (result_set, version),
                )
            except sqlite3.IntegrityError as exc:
                raise VersionInUse(f"{result_set} version {version} is already loaded") from exc
            slot = cursor.lastrowid
            sql = f"INSERT INTO sameday_lists (slot, key, value) VALUES ({int(slot or 0)}, ?, ?)"
            count = 0
            for chunk in chunks:
                db.executemany(sql, chunk)
                count += len(chunk)
            db.execute("UPDATE sameday_versions SET keys = ? WHERE slot = ?", (count, slot))
        return count

    def set_live(self, result_set: str, version: str) -> None:
        """Swap the pointer in one statement (see :meth:`ServingStore.set_live`)."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT slot FROM sameday_versions WHERE result_set = ? AND version = ?",
                (result_set, version),
            ).fetchone()
            if row is None:
                raise NotFound(f"{result_set} version {version} is not loaded in {self.path}")
            db.execute(
                "INSERT INTO sameday_live (result_set, slot, version) VALUES (?, ?, ?) "
                "ON CONFLICT (result_set) DO UPDATE SET slot = excluded.slot, "
                "version = excluded.version",
                (result_set, row[0], version),
            )

    def live_version(self, result_set: str) -> str | None:
        """The live version, or ``None``."""
        with self._lock, self._errors():
            row = self._db.execute(
                "SELECT version FROM sameday_live WHERE result_set = ?", (result_set,)
            ).fetchone()
        return None if row is None else str(row[0])

    def read(self, result_set: str, key: str | int, limit: int | None = None) -> Listed:
        """The live list of ``key`` and its version in one primary-key read (see
        :meth:`ServingStore.read`): one statement joins the pointer to the list."""
        # The hot path: a bare try instead of the ``_errors`` context manager (a generator).
        try:
            with self._lock:
                if self.snapshot_ttl > 0:
                    now = time.monotonic()
                    if now >= self._snapshot_until:
                        self._end_snapshot()
                        self._db.execute("BEGIN")
                        self._snapshot_until = now + self.snapshot_ttl
                row = self._cursor.execute(_GET, (str(key), result_set)).fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite serving store {self.path}: {exc}") from exc
        if row is None:
            raise NotFound(f"result set {result_set!r} has no live snapshot in {self.path}")
        return Listed(row[0], [] if row[1] is None else decode_list(row[1], limit))

    def key_count(self, result_set: str, version: str) -> int | None:
        """How many keys ``version`` holds (``None``: not loaded); the refresher uses it to
        skip reads of result sets that hold only a ``*`` list."""
        with self._lock, self._errors():
            row = self._db.execute(
                "SELECT keys FROM sameday_versions WHERE result_set = ? AND version = ?",
                (result_set, version),
            ).fetchone()
        return None if row is None else int(row[0])

    def scan(self, result_set: str, version: str) -> Iterator[Chunk]:
        """Every ``(key, blob)`` of ``version``, in key order, ``SCAN_CHUNK`` at a time (a server
        holds a live version in memory with it: ``sameday.serve.held``).

        The file is read on a connection of its own, in one read transaction, so the scan
        never holds the lock that serving lookups take.

        Raises:
            NotFound: ``version`` is not loaded.
        """
        if self.path == ":memory:":  # another connection would open another database
            with self._lock, self._errors():
                rows = self._db.execute(_SCAN, (result_set, version)).fetchall()
            if not rows:
                self._require_version(result_set, version)
            yield from (rows[at : at + SCAN_CHUNK] for at in range(0, len(rows), SCAN_CHUNK))
            return
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite serving store {self.path}: {exc}") from exc
        scanned = 0
        try:
            db.execute(f"PRAGMA mmap_size = {MMAP_SIZE}")
            db.execute("BEGIN")
            cursor = db.execute(_SCAN, (result_set, version))
            while rows := cursor.fetchmany(SCAN_CHUNK):
                scanned += len(rows)
                yield rows
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite serving store {self.path}: {exc}") from exc
        finally:
            db.close()
        if not scanned:
            self._require_version(result_set, version)

    def _require_version(self, result_set: str, version: str) -> None:
        if self.key_count(result_set, version) is None:
            raise NotFound(f"{result_set} version {version} is not loaded in {self.path}")

    def get_many(self, result_set: str, keys: Sequence[str | int]) -> dict[str, list[Item]]:
        """The live lists of ``keys``, read in one snapshot (see :meth:`ServingStore.get_many`)."""
        wanted = [str(key) for key in keys]
        blobs: dict[str, bytes] = {}
        with self._transaction("BEGIN") as db:
            for start in range(0, len(wanted), IN_LIMIT):
                part = wanted[start : start + IN_LIMIT]
                marks = ", ".join("?" * len(part))
                blobs.update(
                    db.execute(
                        "SELECT l.key, l.value FROM sameday_live AS p JOIN sameday_lists AS l "
                        f"ON l.slot = p.slot WHERE p.result_set = ? AND l.key IN ({marks})",
                        (result_set, *part),
                    ).fetchall()
                )
        if not blobs:
            self._require_live(result_set)
        return {key: decode_list(blobs[key]) if key in blobs else [] for key in wanted}

    def _require_live(self, result_set: str) -> None:
        if self.live_version(result_set) is None:
            raise NotFound(f"result set {result_set!r} has no live snapshot in {self.path}")

    def versions(self, result_set: str) -> list[str]:
        """Every version of ``result_set`` in the file, sorted."""
        with self._lock, self._errors():
            rows = self._db.execute(
                "SELECT version FROM sameday_versions WHERE result_set = ? ORDER BY version",
                (result_set,),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def drop(self, result_set: str, version: str) -> None:
        """Delete a version's rows; its pages are reused by later loads."""
        with self._transaction() as db:
            live = db.execute(
                "SELECT version FROM sameday_live WHERE result_set = ?", (result_set,)
            ).fetchone()
            if live is not None and live[0] == version:
                raise VersionInUse(f"{result_set} version {version} is live; it cannot be dropped")
            row = db.execute(
                "SELECT slot FROM sameday_versions WHERE result_set = ? AND version = ?",
                (result_set, version),
            ).fetchone()
            if row is not None:
                db.execute("DELETE FROM sameday_lists WHERE slot = ?", (row[0],))
                db.execute("DELETE FROM sameday_versions WHERE slot = ?", (row[0],))

    def close(self) -> None:
        """Close the connection (ending the held snapshot, if any)."""
        with self._lock:
            self._snapshot_until = 0.0
            self._db.close()
