"""``SQLiteSink`` and ``SQLiteSource``: the embedded event log, one SQLite file in WAL mode.

Why SQLite and these settings: a commit in WAL mode is one append to the ``-wal`` file, so a
batch of a thousand records costs about one ``write()``; readers (analysis, DuckDB's sqlite
scanner) never block the writer. With ``synchronous=NORMAL`` (the default here) a committed batch
survives the process being killed — the data is in the operating system's hands — but the last
batches may be lost if the machine loses power; ``synchronous="FULL"`` adds an ``fsync`` per
commit to survive that too. Several processes may share the file: writers queue on the busy
timeout instead of failing.

Indexes are the ones reads need, no more: every index is written on every exposure insert. The
experiment-and-time index serves the analysis and ``read_exposures`` filters; outcomes are found
by unit through their own index. (Files made by earlier versions keep an ``exposures (unit)``
index; it costs writes, not correctness, and may be dropped.)

Writes go through one connection guarded by a lock (the writer's flusher thread is the usual
caller); each read opens its own connection, so a long analysis scan never holds up logging.
:class:`SQLiteSource` reads the file read-only for reports (see :mod:`sameday.events.source`).
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import replace
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sameday._sqlite import use_wal
from sameday.errors import EventRejected, StoreUnavailable
from sameday.events._columns import (
    EXPOSURE_COLUMNS,
    OUTCOME_COLUMNS,
    Dialect,
    analysis_queries,
    exposure_rows,
    outcome_rows,
)
from sameday.events._sql import SQLSink
from sameday.events.records import Exposure, Outcome
from sameday.events.source import EXPOSURE_FIELDS, EventQuery, EventSource

if TYPE_CHECKING:
    import duckdb

_DIALECT = Dialect("?", json_field=None)
"""JSON columns are stored as text, and text compares bytewise: no casts, no collation."""
BUSY_TIMEOUT = 10.0
"""Seconds a write waits for another process's write to finish before giving up."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS exposures (
    request_id TEXT NOT NULL PRIMARY KEY,
    time REAL NOT NULL,
    unit TEXT NOT NULL,
    surface TEXT NOT NULL,
    experiment TEXT,
    arm TEXT,
    hash_attribute TEXT,
    hash_value TEXT,
    hash_version INTEGER,
    seed TEXT,
    bucket REAL,
    items TEXT NOT NULL,
    scores TEXT,
    snapshot_versions TEXT NOT NULL,
    propensity REAL,
    design TEXT,
    teams TEXT,
    extra TEXT NOT NULL,
    degraded INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS exposures_experiment_time ON exposures (experiment, time);
CREATE TABLE IF NOT EXISTS outcomes (
    event_id TEXT NOT NULL UNIQUE,
    request_id TEXT,
    unit TEXT NOT NULL,
    name TEXT NOT NULL,
    value REAL NOT NULL,
    time REAL NOT NULL,
    item TEXT
);
CREATE INDEX IF NOT EXISTS outcomes_time ON outcomes (time);
CREATE INDEX IF NOT EXISTS outcomes_unit_time ON outcomes (unit, time);
"""

ROWS_PER_STATEMENT = 1000
"""Most rows per multi-row ``INSERT``: the writer's usual batch in one statement (19,000
parameters; fewer rows where the library allows fewer parameters, as SQLite before 3.32 does).
The statement runs with the GIL released, and every time the writer takes the GIL back the
serving thread is made to hand it over, which costs it more than the writer's own work: a Python
loop running beside the writer lost 5.3 µs per exposure written with 64 rows per statement,
3.0-3.8 µs with 1,000. The price is one longer hold, about 2 ms per thousand rows, which a request
may wait for.

A batch is cut into statements of that many rows and then of powers of two (999 rows: 512 + 256
+ ... + 1), so a table has at most 11 statement shapes for each set of columns left out
(:func:`null_columns`; a few sets in practice: exposures outside experiments, in one-arm designs,
in interleaving). With one statement of exactly the batch's size, a long-running server prepared
an ``INSERT`` of every size from 1 to 1,000 rows, each up to 19,000 parameters, and sqlite3
caches 128 prepared statements per connection: the resident memory climbed 12 MB per 100,000
requests (``benchmarks/memory_soak.py``)."""


def null_columns(rows: Sequence[tuple[Any, ...]], width: int) -> tuple[int, ...]:
    """The positions of the columns that are ``None`` in every row of ``rows``.

    Why: the sink leaves them out of the ``INSERT`` (a column left out is NULL, what binding
    ``None`` stores), because Python's ``sqlite3`` binds ``None`` through its adapter lookup,
    about 270 ns a value against 20-70 ns for a number or a string (CPython 3.11): 2.7 µs a
    row for an exposure outside any experiment (ten ``None`` columns), 0.3 µs for an A/B one
    (``teams``). A column that holds a value in the first row costs one test.
    """
    return tuple(i for i in range(width) if all(row[i] is None for row in rows))


def statement_sizes(rows: int, most: int) -> list[int]:
    """Rows per ``INSERT`` for a batch of ``rows``: ``most`` at a time, then powers of two."""
    sizes = [most] * (rows // most)
    left = rows % most
    while left:
        size = 1 << (left.bit_length() - 1)
        sizes.append(size)
        left -= size
    return sizes


@functools.lru_cache(maxsize=64)
def _insert_sql(table: str, columns: tuple[str, ...], unique: str, rows: int) -> str:
    row = f"({', '.join('?' * len(columns))})"
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * rows)} "
        f"ON CONFLICT ({unique}) DO NOTHING"
    )


_REFUSED = (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.ProgrammingError, UnicodeEncodeError)
"""Errors of one record (a lone surrogate is not UTF-8 and fails before SQLite sees it)."""


def _path(url: str) -> Path:
    """The file of ``sqlite:///relative.db`` or ``sqlite:////absolute.db``."""
    return Path(url.partition("://")[2][1:])


class SQLiteSink(SQLSink):
    """The event log in a SQLite file (created with its tables if missing).

    Args:
        path: the database file; its folder is created if needed.
        synchronous: ``"NORMAL"`` survives a killed process, ``"FULL"`` also a power cut
            (see the module docstring).

    Raises:
        StoreUnavailable: the file cannot be created or opened as a database.
    """

    def __init__(self, path: str | Path, *, synchronous: Literal["NORMAL", "FULL"] = "NORMAL"):
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be 'NORMAL' or 'FULL', not {synchronous!r}")
        self.path = Path(path)
        self._synchronous = synchronous
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = self._connect()
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(
                f"cannot open the event log {self.path}: {exc}; check that the folder is "
                "writable and the file is a SQLite database"
            ) from exc
        # SQLite before 3.32 allows 999 parameters per statement, later ones 32,766 or more
        self._variables = self._conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        try:
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            self._conn.close()
            raise StoreUnavailable(f"cannot create the tables of {self.path}: {exc}") from exc

    dialect = _DIALECT

    @classmethod
    def from_url(cls, url: str) -> SQLiteSink:
        """The sink of a ``sqlite:///path.db`` URL (checked by :mod:`sameday.registry`)."""
        return cls(_path(url))

    def __repr__(self) -> str:
        return f"SQLiteSink({str(self.path)!r})"

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        try:
            use_wal(conn, timeout=BUSY_TIMEOUT)
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def _write(
        self, table: str, columns: tuple[str, ...], unique: str, rows: list[tuple[Any, ...]]
    ) -> int:
        if not rows:
            return 0
        null = null_columns(rows, len(columns))
        pick = None
        # Left out of the INSERT (see null_columns), as long as two columns stay: itemgetter of
        # one index gives a bare value, and a record that is all NULL is refused either way.
        if null and len(null) < len(columns) - 1:
            kept = [i for i in range(len(columns)) if i not in null]
            columns = tuple(columns[i] for i in kept)
            pick = itemgetter(*kept)
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    count = start = 0
                    most = min(ROWS_PER_STATEMENT, self._variables // len(columns))
                    for size in statement_sizes(len(rows), most):
                        part = rows[start : start + size]
                        start += size
                        sql = _insert_sql(table, columns, unique, size)
                        values = list(
                            chain.from_iterable(part if pick is None else map(pick, part))
                        )
                        count += self._conn.execute(sql, values).rowcount
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
            except _REFUSED as exc:
                raise EventRejected(f"{self.path} refused a record: {exc}") from exc
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"cannot write to the event log {self.path}: {exc}") from exc
        return count

    def write_exposures(self, batch: Sequence[Exposure]) -> int:
        """Commit exposures (see :meth:`EventSink.write_exposures`)."""
        rows = exposure_rows(batch, integer_flags=True)
        return self._write("exposures", EXPOSURE_COLUMNS, "request_id", rows)

    def write_outcomes(self, batch: Sequence[Outcome]) -> int:
        """Commit outcomes (see :meth:`EventSink.write_outcomes`)."""
        return self._write("outcomes", OUTCOME_COLUMNS, "event_id", outcome_rows(batch))

    def _read(self, sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
        try:
            conn = self._connect()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot read the event log {self.path}: {exc}") from exc
        with closing(conn):
            try:
                cursor = conn.execute(sql, params)
                while rows := cursor.fetchmany(1000):
                    yield from rows
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"cannot read the event log {self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the write connection."""
        with self._lock:
            self._conn.close()


class SQLiteSource(EventSource):
    """The event log in a SQLite file, read (read-only) for a report.

    Args:
        path: the database file, as :class:`SQLiteSink` writes it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @classmethod
    def from_url(cls, url: str) -> SQLiteSource:
        """The source of a ``sqlite:///path.db`` URL (checked by :mod:`sameday.registry`)."""
        return cls(_path(url))

    def __repr__(self) -> str:
        return f"SQLiteSource({str(self.path)!r})"

    def load(self, con: duckdb.DuckDBPyConnection, query: EventQuery) -> None:
        """Read ``query``'s rows into ``con`` (see :meth:`EventSource.load`)."""
        import pyarrow as pa

        from sameday.events._arrow import OUTCOME_SCHEMA, exposure_schema, register

        if not self.path.is_file():
            raise StoreUnavailable(
                f"the event log {self.path} does not exist: serve some traffic first, or point "
                "storage.events (or --events) at the log to analyse"
            )
        exposures, outcomes = analysis_queries(_DIALECT, query)
        # Dimensions come as the whole `extra`, opened up by DuckDB: SQLite's JSON functions cost
        # more than the rest of the read, and turn true into 1 (DuckDB gives "true", as Parquet).
        raw = exposure_schema(replace(query, dimensions=()))
        named = "sqlite_exposures" if query.dimensions else "log_exposures"
        if query.dimensions:
            raw = raw.append(pa.field("extra", pa.string()))
        try:
            with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as db:
                register(con, named, raw, db.execute(*exposures))
                register(con, "log_outcomes", OUTCOME_SCHEMA, db.execute(*outcomes))
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot read the event log {self.path}: {exc}") from exc
        if query.dimensions:
            dims = "".join(
                f", json_extract_string(extra, '$.{d}') AS {d}" for d in query.dimensions
            )
            con.execute(
                f"CREATE VIEW log_exposures AS SELECT {', '.join(EXPOSURE_FIELDS)}{dims} "
                "FROM sqlite_exposures"
            )
