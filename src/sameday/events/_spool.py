"""The local spool of the Parquet sink: segments of acknowledged records waiting to be shipped.

A segment is a small SQLite event log (:class:`~sameday.events.sqlite.SQLiteSink` with
``synchronous=FULL``: each commit is fsynced before it returns, so a batch the writer
acknowledges survives SIGKILL and a power cut) plus a lock file. The process that writes a
segment holds an exclusive ``flock`` on its lock file from before the database exists until the
segment is closed; the kernel releases it when the process dies, SIGKILL included. So a segment
whose lock can be taken is *closed* — rolled by its writer, or left by a dead one — and any
process sharing the spool may ship it; a segment whose lock is held is still being written.
Taking the lock without waiting also keeps two shippers off the same segment.

Names sort by creation time (``<nanoseconds>-<pid>-<random>``), so segments ship oldest first
and a shipped segment's files are named after it, which makes a resend replace them.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sameday.errors import StoreUnavailable
from sameday.events._columns import EXPOSURE_COLUMNS, OUTCOME_COLUMNS
from sameday.events._lake import sync_folder
from sameday.events.sqlite import SQLiteSink

if TYPE_CHECKING:
    import pyarrow as pa

_COLUMNS = {"exposures": EXPOSURE_COLUMNS, "outcomes": OUTCOME_COLUMNS}


@dataclass
class Segment:
    """The segment this process is writing: its sink, and when and how much it has taken."""

    name: str
    sink: SQLiteSink
    lock: int
    opened: float = field(default_factory=time.monotonic)
    records: int = 0

    def size(self) -> int:
        """Bytes on disk: the database and its write-ahead log."""
        total = 0
        for suffix in ("", "-wal"):
            with suppress(FileNotFoundError):
                total += os.stat(f"{self.sink.path}{suffix}").st_size
        return total

    def age(self) -> float:
        """Seconds since the segment was opened."""
        return time.monotonic() - self.opened

    def close(self) -> None:
        """Close the database (SQLite folds the log into it) and release the lock."""
        try:
            self.sink.close()
        finally:
            os.close(self.lock)  # releases the flock: the segment may be shipped


class Spool:
    """The segments in ``folder`` (created if missing).

    Raises:
        StoreUnavailable: the folder cannot be created.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot create the event spool {folder}: {exc}; point ?spool= at a writable "
                "folder on a persistent disk"
            ) from exc

    def open_segment(self) -> Segment:
        """A new segment, locked by this process.

        Raises:
            StoreUnavailable: the segment cannot be created.
        """
        name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        hidden = self.folder / f".{name}.lock.tmp"
        try:
            lock = os.open(hidden, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create a segment in {self.folder}: {exc}") from exc
        try:
            # locked before it has its name, so no other process ever sees it unlocked (and
            # takes it for a crash's leftover), and before the database exists: see the module
            fcntl.flock(lock, fcntl.LOCK_EX)
            os.rename(hidden, self.folder / f"{name}.lock")
            sink = SQLiteSink(self.folder / f"{name}.db", synchronous="FULL")
            sync_folder(self.folder)
        except OSError as exc:
            os.close(lock)
            raise StoreUnavailable(f"cannot create a segment in {self.folder}: {exc}") from exc
        except BaseException:
            os.close(lock)
            raise
        return Segment(name, sink, lock)

    @contextmanager
    def claim(self, name: str) -> Iterator[Path | None]:
        """The database of segment ``name`` if it is closed and still there, locked for the
        block; ``None`` if its writer holds it, another shipper has it, or it is gone."""
        try:
            lock = os.open(self.folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the spool was removed
            yield None
            return
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield None
                return
            database = self.folder / f"{name}.db"
            yield database if database.exists() else None
        finally:
            os.close(lock)

    def names(self) -> list[str]:
        """The segments in the spool, oldest first (closed or not)."""
        return sorted(path.stem for path in self.folder.glob("*.db"))

    def remove(self, name: str) -> None:
        """Delete a shipped segment (the caller holds its claim): database first, so a crash
        half-way leaves a lock file alone, which :meth:`tidy` removes."""
        for suffix in (".db", ".db-wal", ".db-shm", ".lock"):
            with suppress(FileNotFoundError):
                (self.folder / f"{name}{suffix}").unlink()

    def tidy(self) -> None:
        """Remove lock files whose segment is gone (left by a crash inside :meth:`remove` or
        :meth:`open_segment`), holding each one's lock: a segment being created has its lock
        file, locked, before its database, and must keep it."""
        for path in [*self.folder.glob("*.lock"), *self.folder.glob(".*.lock.tmp")]:
            if path.with_suffix(".db").exists():
                continue
            try:
                lock = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(lock)
                continue
            try:
                if not path.with_suffix(".db").exists():
                    path.unlink(missing_ok=True)
            finally:
                os.close(lock)


def read_segment(database: Path, table: str) -> pa.Table:
    """Every row of ``table`` in a segment's database, as Arrow (see ``TABLE_SCHEMAS``).

    Raises:
        StoreUnavailable: the database cannot be read.
    """
    import pyarrow as pa

    from sameday.events._arrow import TABLE_SCHEMAS, table_of

    columns = ", ".join(_COLUMNS[table])
    schema = TABLE_SCHEMAS[table]
    # SQLite has no booleans: ``degraded`` is read as 0 or 1, then cast
    stored = pa.schema([f.with_type(pa.int64()) if f.type == pa.bool_() else f for f in schema])
    uri = f"{database.resolve().as_uri()}?mode=rw"  # never create a file that was shipped
    try:
        with closing(sqlite3.connect(uri, uri=True)) as db:
            found = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
            if db.execute(found, (table,)).fetchone() is None:
                # killed between creating the file and its tables: nothing was committed
                return schema.empty_table()
            return table_of(db.execute(f"SELECT {columns} FROM {table}"), stored).cast(schema)
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"cannot read the spooled segment {database}: {exc}") from exc
