"""The event log as Parquet files, in a local folder or on object storage: the form for large logs.

``ParquetSink`` writes the log, ``ParquetSource`` reads it for reports. URLs:

- ``parquet:///relative/folder`` or ``parquet:////absolute/folder`` (a local folder; relative
  to the project in ``sameday.yaml``);
- ``s3://bucket/prefix`` (any S3-compatible storage, through fsspec and s3fs:
  ``pip install 'sameday[s3]'``; credentials from the environment as for the AWS CLI).

Options go in the query: ``?spool=FOLDER`` (where records wait to be shipped: by default
``_spool`` in a local log's folder, ``.sameday/spool`` in the project for object storage),
``roll_mb=64`` and ``roll_seconds=300`` (when a segment is shipped), ``endpoint_url=`` (an
S3-compatible server other than AWS).

**Local first, then shipped.** An object store cannot append, and a Parquet file cannot grow, so
the sink writes each batch to a local segment (a SQLite file, fsynced before ``write_*``
returns: an acknowledged record survives SIGKILL and a power cut, as with the SQLite sink) and a
background thread ships closed segments: a segment closes when it passes ``roll_mb`` on disk or
``roll_seconds`` after its first record, and is then written as one Parquet file per UTC day
(``exposures/date=YYYY-MM-DD/<segment>.parquet``, see :mod:`sameday.events._lake`), atomically,
and deleted from the spool. A segment left by a killed process is shipped by the next process
that opens the spool. Reports see a record once its segment is shipped: at most
``roll_seconds`` (plus a shipping) after it was logged.

**Exactly once, on read.** A segment is shipped under its own name, so shipping it again after a
crash (files written, segment not yet deleted) replaces the same files. A record sent twice
(the writer retries a commit it could not confirm; a client resends after a 503 or a restart)
is skipped within a segment, as by every sink, but may land in two segments: the files are not
read back at write time, so readers keep one row per ``request_id`` (exposures) and per
``event_id`` (outcomes) — :class:`ParquetSource` and the sink's own reads both do, in DuckDB.
``write_*`` counts as new the records new to their segment.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from sameday.errors import StoreUnavailable
from sameday.events._columns import EXPOSURE_COLUMNS, OUTCOME_COLUMNS, Dialect
from sameday.events._lake import KEYS, READ_OPTIONS, TABLES, Lake, LocalLake, RemoteLake
from sameday.events._repeats import RepeatCheck, View
from sameday.events._spool import Segment, Spool, read_segment
from sameday.events._sql import SQLSink
from sameday.events.records import Exposure, Outcome
from sameday.events.source import EventQuery, EventSource, LogCheck
from sameday.events.sqlite import SQLiteSink

if TYPE_CHECKING:  # imported where used: a serving process writes, it reads nothing back
    import duckdb
    import pyarrow as pa

logger = logging.getLogger("sameday.events")

ROLL_MB = 64.0
"""A segment is shipped once its SQLite file passes this size (about 100,000 exposures of ten
items; the Parquet file is about a fifth of it)."""
ROLL_SECONDS = 300.0
"""A segment is shipped this long after its first record, however small: how far behind the
files may be. Shorter means fresher reports and more, smaller files."""
OPTIONS = ("spool", "roll_mb", "roll_seconds", "endpoint_url")
"""The options a Parquet event log URL takes in its query."""
SPOOL = ".sameday/spool"
"""The default spool of a log on object storage, relative to the project (or the current folder
when the URL is opened outside a project)."""


@dataclass(frozen=True)
class Target:
    """A parsed Parquet event log URL: where the files go, and the sink's settings."""

    lake: Lake
    spool: Path
    roll_bytes: int
    roll_seconds: float


def parse_url(url: str) -> Target:
    """The lake and settings of ``parquet:///folder?...`` or ``s3://bucket/prefix?...``.

    Raises:
        ValueError: an unknown option, or a roll setting that is not a positive number (the
            registry turns it into a ``ConfigError`` naming ``storage.events``).
        MissingDependency: an object-storage URL, and fsspec or s3fs is not installed.
    """
    base, _, query = url.partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r}: the options are {', '.join(OPTIONS)}")
    roll_mb = _positive(options, "roll_mb", ROLL_MB)
    roll_seconds = _positive(options, "roll_seconds", ROLL_SECONDS)
    scheme, _, rest = base.partition("://")
    lake: Lake
    if scheme.lower() == "parquet":
        lake = LocalLake(Path(rest[1:]))
        spool = Path(options.get("spool") or lake.folder / "_spool")
    else:
        storage = {"endpoint_url": options["endpoint_url"]} if "endpoint_url" in options else {}
        lake = RemoteLake(base, storage)
        # one spool folder per log: two logs sharing a project never ship each other's records
        digest = hashlib.sha256(base.encode()).hexdigest()[:12]
        spool = Path(options.get("spool") or SPOOL) / digest
    return Target(lake, spool, int(roll_mb * 1024 * 1024), roll_seconds)


def _positive(options: dict[str, str], name: str, default: float) -> float:
    text = options.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ValueError(f"{name} must be a positive number, not {text!r}")
    return value


class ParquetSink(SQLSink):
    """Exposures and outcomes into Parquet files, through a local spool; see the module.

    Args:
        lake: where the files go (:mod:`sameday.events._lake`).
        spool: the local folder of segments waiting to be shipped; several processes may share
            it (each writes its own segments, any of them ships closed ones).
        roll_bytes: a segment closes once its database passes this many bytes.
        roll_seconds: a segment closes this long after its first record.

    Raises:
        StoreUnavailable: the spool folder cannot be created.
    """

    dialect = Dialect("?", json_field="json_extract_string(extra, '$.{}')")

    def __init__(
        self,
        lake: Lake,
        *,
        spool: Path,
        roll_bytes: int = int(ROLL_MB * 1024 * 1024),
        roll_seconds: float = ROLL_SECONDS,
    ) -> None:
        if roll_bytes <= 0 or roll_seconds <= 0:
            raise ValueError("roll_bytes and roll_seconds must be positive")
        self.lake = lake
        self.spool = Spool(spool)
        self._roll_bytes = roll_bytes
        self._roll_seconds = roll_seconds
        self._lock = threading.Lock()  # the current segment
        self._shipping = threading.Lock()
        self._segment: Segment | None = None
        self._closed = False
        self._failing = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sameday-parquet", daemon=True)
        self._thread.start()

    @classmethod
    def from_url(cls, url: str) -> ParquetSink:
        """The sink of a Parquet event log URL (see the module docstring)."""
        target = parse_url(url)
        return cls(
            target.lake,
            spool=target.spool,
            roll_bytes=target.roll_bytes,
            roll_seconds=target.roll_seconds,
        )

    def __repr__(self) -> str:
        return f"ParquetSink({str(self.lake)!r}, spool={str(self.spool.folder)!r})"

    def write_exposures(self, batch: Sequence[Exposure]) -> int:
        """Commit exposures to the current segment (see :meth:`EventSink.write_exposures`)."""
        return self._write(lambda sink: sink.write_exposures(batch), len(batch))

    def write_outcomes(self, batch: Sequence[Outcome]) -> int:
        """Commit outcomes to the current segment (see :meth:`EventSink.write_outcomes`)."""
        return self._write(lambda sink: sink.write_outcomes(batch), len(batch))

    def _write(self, commit: Callable[[SQLiteSink], int], records: int) -> int:
        if not records:
            return 0
        with self._lock:
            if self._closed:
                raise StoreUnavailable(f"the Parquet event log {self.lake} is closed")
            if self._segment is None:
                self._segment = self.spool.open_segment()
            count = commit(self._segment.sink)
            self._segment.records += records
            full = self._segment.size() >= self._roll_bytes
            if full:
                self._roll()
        if full:
            self._wake.set()
        return count

    def _roll(self) -> None:
        """Close the current segment (the caller holds ``_lock``): it is shipped next."""
        segment, self._segment = self._segment, None
        if segment is not None:
            segment.close()

    def ship(self) -> int:
        """Close the current segment and ship every closed one now; return how many shipped.

        Raises:
            StoreUnavailable: the files could not be written; what is left stays in the spool.
        """
        with self._lock:
            self._roll()
        return self._ship()

    def _ship(self) -> int:
        """Ship every closed segment, oldest first; one that fails does not hold up the
        others, and the first failure is raised once all were tried."""
        shipped = 0
        failure: StoreUnavailable | None = None
        with self._shipping:
            for name in self.spool.names():
                with self.spool.claim(name) as database:
                    if database is None:
                        continue
                    try:
                        for table in TABLES:
                            self.lake.write(table, read_segment(database, table), name)
                    except StoreUnavailable as exc:
                        failure = failure or exc
                        continue
                    self.spool.remove(name)
                    shipped += 1
            self.spool.tidy()
        if failure is not None:
            raise failure
        return shipped

    def _run(self) -> None:
        """The shipper: rolls a segment that is old enough, ships closed segments (also those a
        killed process left), and retries while the storage is down."""
        tick = min(1.0, self._roll_seconds / 4)
        while True:
            self._wake.wait(tick)
            self._wake.clear()
            if self._stop.is_set():
                return
            with self._lock:
                segment = self._segment
                if segment is not None and segment.age() >= self._roll_seconds:
                    self._roll()
            self._ship_logged()

    def _ship_logged(self) -> None:
        """Ship, logging when shipping starts failing and when it works again."""
        try:
            self._ship()
        except Exception as exc:  # StoreUnavailable, or a bug: the thread must keep shipping
            if not self._failing:
                logger.warning(
                    "cannot ship events to %s: %s; they wait in %s and are retried",
                    self.lake,
                    exc,
                    self.spool.folder,
                )
            self._failing = True
            return
        if self._failing:
            logger.warning("shipping events to %s works again", self.lake)
        self._failing = False

    def _read(self, sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
        import duckdb

        con = duckdb.connect()
        try:
            self._views(con)
            cursor = con.execute(sql, params)
            while rows := cursor.fetchmany(1000):
                yield from rows
        except duckdb.Error as exc:
            raise StoreUnavailable(f"cannot read the Parquet event log {self.lake}: {exc}") from exc
        finally:
            con.close()

    def _views(self, con: duckdb.DuckDBPyConnection) -> None:
        """Views ``exposures`` and ``outcomes`` over the shipped files and the spool, one row
        per id. The spool is read first: a segment shipped meanwhile is then in the files."""
        import pyarrow as pa

        from sameday.events._arrow import TABLE_SCHEMAS

        self.lake.attach(con)
        for table, columns in (("exposures", EXPOSURE_COLUMNS), ("outcomes", OUTCOME_COLUMNS)):
            spooled = [self._spooled(name, table) for name in self.spool.names()]
            present = [part for part in spooled if part is not None]
            con.register(
                f"spool_{table}", pa.concat_tables([TABLE_SCHEMAS[table].empty_table(), *present])
            )
            parts = [f"SELECT * FROM spool_{table}"]
            pattern = self.lake.pattern(table)
            if pattern is not None:
                parts.append(
                    f"SELECT {', '.join(columns)} FROM read_parquet({literal(pattern)}, "
                    f"{READ_OPTIONS})"
                )
            con.execute(
                f"CREATE VIEW {table} AS SELECT * FROM ({' UNION ALL BY NAME '.join(parts)}) "
                f"QUALIFY row_number() OVER (PARTITION BY {KEYS[table]}) = 1"
            )

    def _spooled(self, name: str, table: str) -> pa.Table | None:
        database = self.spool.folder / f"{name}.db"
        try:
            return read_segment(database, table)
        except StoreUnavailable:
            if database.exists():
                raise
            return None  # shipped since it was listed

    def close(self) -> None:
        """Stop the shipper, close the current segment and ship what is left; if the storage
        is down it stays in the spool, and the next sink to open the spool ships it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        self._wake.set()
        self._thread.join()
        with self._lock:
            self._roll()
        self._ship_logged()


class ParquetSource(EventSource):
    """The Parquet event log in ``lake``, read by DuckDB directly and lazily, so a report over
    a log larger than memory never loads it whole; one row per request id and event id.

    Args:
        lake: where the files are (see :mod:`sameday.events._lake` for the layouts it reads).
    """

    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    @classmethod
    def from_url(cls, url: str) -> ParquetSource:
        """The source of a Parquet event log URL (the sink's options are accepted, unused)."""
        return cls(parse_url(url).lake)

    def __repr__(self) -> str:
        return f"ParquetSource({str(self.lake)!r})"

    def load(self, con: duckdb.DuckDBPyConnection, query: EventQuery) -> None:
        """Create views of ``query``'s rows in ``con``, one row per id (see
        :meth:`EventSource.load`)."""
        self.load_unchecked(con, query).settle()

    def load_unchecked(self, con: duckdb.DuckDBPyConnection, query: EventQuery) -> LogCheck:
        """Create views of ``query``'s rows in ``con`` at once, and check them for repeated ids
        on a thread (see :mod:`sameday.events._repeats`)."""
        import duckdb

        try:
            return self._load(con, query)
        except duckdb.Error as exc:
            raise StoreUnavailable(f"cannot read the Parquet event log {self.lake}: {exc}") from exc

    def _load(self, con: duckdb.DuckDBPyConnection, query: EventQuery) -> RepeatCheck:
        self.lake.attach(con)
        files = {
            table: f"read_parquet({literal(self._pattern(table))}, {READ_OPTIONS})"
            for table in TABLES
        }
        exposure_columns = _columns(con, files["exposures"])
        outcome_columns = _columns(con, files["outcomes"])
        arm = "" if query.slots else " AND arm IS NOT NULL"
        slots = "items, teams" if query.slots else "NULL::VARCHAR AS items, NULL::VARCHAR AS teams"
        dims = "".join(f", json_extract_string(extra, '$.{d}') AS {d}" for d in query.dimensions)
        # A log exported before seeds were recorded has no column: its phases cannot be told apart.
        seed = "seed::VARCHAR" if "seed" in exposure_columns else "NULL::VARCHAR"
        names = ", ".join(literal(e) for e in query.events) or "NULL"
        exposures = View(
            name="log_exposures",
            select="SELECT request_id::VARCHAR AS request_id, time::DOUBLE AS time, "
            "unit::VARCHAR AS unit, arm::VARCHAR AS arm, surface::VARCHAR AS surface, "
            f"{slots}, {seed} AS seed{dims}",
            rows=f"{files['exposures']} WHERE experiment = {literal(query.experiment)}{arm}",
            key="request_id",
        )
        outcomes = View(
            name="log_outcomes",
            select="SELECT request_id::VARCHAR AS request_id, unit::VARCHAR AS unit, "
            "name::VARCHAR AS name, value::DOUBLE AS value, time::DOUBLE AS time, "
            "item::VARCHAR AS item",
            rows=f"{files['outcomes']} WHERE name IN ({names})",
            # Outcomes exported without their ids (by hand) cannot be told apart: all are kept.
            key="event_id" if "event_id" in outcome_columns else None,
        )
        return RepeatCheck(con, {"exposures": exposures, "outcomes": outcomes}, str(self.lake))

    def _pattern(self, table: str) -> str:
        pattern = self.lake.pattern(table)
        if pattern is None:
            raise StoreUnavailable(
                f"no {table} in the Parquet event log {self.lake}: expected "
                f"{table}/date=YYYY-MM-DD/*.parquet, {table}/*.parquet or {table}.parquet there"
            )
        return pattern


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    return {str(row[0]) for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def literal(text: str) -> str:
    """``text`` as a SQL string literal (DuckDB has no parameters in CREATE VIEW)."""
    return "'" + text.replace("'", "''") + "'"
