"""Where Parquet event files live: a local folder or an fsspec URL, each file written atomically.

The layout, hive-style, one folder per UTC day of the records' ``time``::

    <root>/exposures/date=2026-12-03/<name>.parquet
    <root>/outcomes/date=2026-12-03/<name>.parquet

The columns are the SQL tables' (:mod:`sameday.events._columns`): JSON as text, times as float
seconds since the epoch, ``event_id`` kept so that readers can drop repeated records. DuckDB,
Spark or Athena read the files as they are; :class:`~sameday.events.parquet.ParquetSource` reads
them for reports, and also the flat ``exposures/*.parquet`` or ``exposures.parquet`` of logs
exported by hand.

A file appears whole or not at all, so a reader never sees half of one: it is encoded in memory
first (a shipped segment is tens of megabytes), then, in a local folder, written beside its final
name (``.<name>.tmp``, which no reader's ``*.parquet`` matches), fsynced and renamed; on object
storage it is one PUT, which S3 makes visible only once complete. Writing a name again replaces
the file, which is what makes shipping idempotent (see :mod:`sameday.events.parquet`).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sameday._extras import extra
from sameday.errors import StoreUnavailable
from sameday.urls import redact

if TYPE_CHECKING:  # reading needs neither: pyarrow is imported only to write files
    import duckdb
    import pyarrow as pa

TABLES = ("exposures", "outcomes")
"""The two tables of the log, one folder each."""

KEYS = {"exposures": "request_id", "outcomes": "event_id"}
"""The id that makes a record unique in each table: readers keep one row per id."""

READ_OPTIONS = "hive_partitioning = false, union_by_name = true"
"""How DuckDB reads the files: the day is in ``time`` already, and files written before a column
was added (``seed``) read as null there instead of failing the whole scan."""


class Lake(ABC):
    """A place for Parquet event files; ``str()`` of it is its URL without secrets."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` at ``key`` (``exposures/date=.../name.parquet``), atomically.

        Raises:
            StoreUnavailable: the storage cannot be reached or written.
        """

    @abstractmethod
    def pattern(self, table: str) -> str | None:
        """What DuckDB's ``read_parquet`` reads for ``table``, or ``None`` if it has no file."""

    @abstractmethod
    def attach(self, con: duckdb.DuckDBPyConnection) -> None:
        """Let ``con`` read this lake's paths (object storage goes through fsspec)."""

    def write(self, table: str, rows: pa.Table, name: str) -> int:
        """Store ``rows`` of ``table`` as one file per UTC day, each called ``name``; return the
        files written. The same rows under the same name give the same files again."""
        written = 0
        for day, part in by_day(rows):
            self.put(f"{table}/date={day}/{name}.parquet", encode(part))
            written += 1
        return written


class LocalLake(Lake):
    """Parquet files under a local ``folder`` (created on the first write)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __str__(self) -> str:
        return str(self.folder)

    def put(self, key: str, data: bytes) -> None:
        """Write beside the final name, fsync, rename, fsync the folder."""
        target = self.folder / key
        temp = target.with_name(f".{target.name}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(temp, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, target)
            sync_folder(target.parent)
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot write {target}: {exc}; check that the folder is writable and has room"
            ) from exc

    def attach(self, con: duckdb.DuckDBPyConnection) -> None:
        """Nothing to do: DuckDB reads local files itself."""

    def pattern(self, table: str) -> str | None:
        """``<folder>/<table>/**/*.parquet`` (flat or by day), or ``<table>.parquet``."""
        base = self.folder / table
        if base.is_dir() and next(base.rglob("*.parquet"), None) is not None:
            return str(base / "**" / "*.parquet")
        if (self.folder / f"{table}.parquet").is_file():
            return str(self.folder / f"{table}.parquet")
        return None


class RemoteLake(Lake):
    """Parquet files under an fsspec URL (``s3://bucket/prefix``); ``options`` are the
    filesystem's (``endpoint_url``). Credentials come from the environment, as the filesystem
    library reads them (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``...).

    Raises:
        MissingDependency: fsspec or the protocol's library (s3fs) is not installed.
    """

    def __init__(self, url: str, options: dict[str, Any]) -> None:
        self.url = url.rstrip("/")
        with extra("s3", f"storage.events {redact(url)}"):
            import fsspec

            self.fs, root = fsspec.core.url_to_fs(self.url, **options)
        self.root = str(root).rstrip("/")
        protocol = self.fs.protocol
        self.scheme = protocol if isinstance(protocol, str) else protocol[0]

    def __str__(self) -> str:
        return redact(self.url)

    def put(self, key: str, data: bytes) -> None:
        """One PUT of the whole file."""
        try:
            self.fs.pipe_file(f"{self.root}/{key}", data)
        except Exception as exc:  # the filesystem library's errors are its own (botocore...)
            raise StoreUnavailable(f"cannot write {self}/{key}: {exc}") from exc

    def pattern(self, table: str) -> str | None:
        """``<scheme>://<root>/<table>/**/*.parquet`` when the listing (made fresh: fsspec
        caches listings) finds a file there."""
        base = f"{self.root}/{table}"
        try:
            self.fs.invalidate_cache()
            found = self.fs.glob(f"{base}/**/*.parquet")
        except Exception as exc:  # as in put
            raise StoreUnavailable(f"cannot list {self}/{table}: {exc}") from exc
        return f"{self.scheme}://{base}/**/*.parquet" if found else None

    def attach(self, con: duckdb.DuckDBPyConnection) -> None:
        """DuckDB reads ``s3://`` through this fsspec filesystem: its own ``httpfs`` extension
        would be downloaded on first use, and a report must work offline."""
        con.register_filesystem(self.fs)


def encode(rows: pa.Table) -> bytes:
    """``rows`` as the bytes of a Parquet file (zstd: about a fifth of the SQLite size)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(rows, sink, compression="zstd")
    return bytes(sink.getvalue())


def by_day(rows: pa.Table) -> Iterator[tuple[str, pa.Table]]:
    """``rows`` split by the UTC day (``YYYY-MM-DD``) of their ``time``, days in order."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if rows.num_rows == 0:
        return
    micros = pc.cast(pc.floor(pc.multiply(rows["time"], 1e6)), pa.int64())
    days = pc.strftime(pc.cast(micros, pa.timestamp("us")), format="%Y-%m-%d")
    for day in sorted(pc.unique(days).to_pylist()):
        yield day, rows.filter(pc.equal(days, day))


def sync_folder(folder: Path) -> None:
    """fsync ``folder`` so that a new or renamed entry in it survives a power cut too."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
