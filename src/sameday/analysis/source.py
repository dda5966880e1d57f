"""Where a report's rows come from: the event log, opened as two DuckDB tables.

DuckDB does the aggregation, but its SQLite and PostgreSQL scanners are extensions that download
from the internet on first use (they are not in the pip wheel), and a report must work offline.
So the rows an experiment needs are read with the database's own Python driver (``sqlite3``,
psycopg) in batches into Arrow, filtered in the database first (one experiment's exposures, the
outcome events its metrics name, of units in the experiment), and DuckDB queries the Arrow tables
without copying them. Parquet is read by DuckDB directly, lazily, so it is the form for large logs:
``parquet:///path/to/folder`` with ``exposures/*.parquet`` (or ``exposures.parquet``) and
``outcomes/*.parquet`` holding the SQL tables' columns (JSON columns as text, times as float
seconds since the epoch).

Either way the connection ends up with the experiment's whole log as ``log_exposures(request_id,
time, unit, arm, surface, items, teams, seed, <dimensions>)`` and ``log_outcomes(request_id, unit,
name, value, time, item)``, and views ``exposures`` and ``outcomes`` over all of it, which
:func:`sameday.analysis.phases.restrict` narrows to one phase or time range.
"""

from __future__ import annotations

import re
import sqlite3
import tempfile
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from sameday._extras import extra
from sameday.errors import ConfigError, Problem, StoreUnavailable
from sameday.urls import redact

BATCH_ROWS = 200_000
"""Rows fetched from SQLite or PostgreSQL per Arrow batch: bounds the Python objects alive."""

MEMORY_LIMIT = "512MB"
"""DuckDB's working memory for a report. Beyond it aggregates and joins spill to a temporary
folder instead of growing: a report over 10 million exposures stays near half a gigabyte and is
barely slower (``benchmarks/report_bench.py``); DuckDB's own default is 80% of the machine."""

DUCKDB_SETTINGS = {"enable_progress_bar": "false", "preserve_insertion_order": "false"}
"""No progress bar on the terminal (the CLI owns the terminal); row order is never relied on."""

_EXPOSURE_SCHEMA = [
    ("request_id", pa.string()),
    ("time", pa.float64()),
    ("unit", pa.string()),
    ("arm", pa.string()),
    ("surface", pa.string()),
    ("items", pa.string()),
    ("teams", pa.string()),
    ("seed", pa.string()),
]
_OUTCOME_SCHEMA = [
    ("request_id", pa.string()),
    ("unit", pa.string()),
    ("name", pa.string()),
    ("value", pa.float64()),
    ("time", pa.float64()),
    ("item", pa.string()),
]
_DIMENSION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True)
class EventQuery:
    """What to read: one experiment's exposures and the outcome events its metrics use.

    ``dimensions`` are keys of the exposures' ``extra`` object to break results down by
    (``surface`` is always available); ``slots`` also reads the served items and interleaving
    teams, which only interleaving analysis needs.
    """

    experiment: str
    events: tuple[str, ...]
    dimensions: tuple[str, ...] = ()
    slots: bool = False

    def __post_init__(self) -> None:
        for key in self.dimensions:
            if not _DIMENSION.match(key) or key in {n for n, _ in _EXPOSURE_SCHEMA}:
                raise ConfigError(
                    [
                        Problem(
                            path=None,
                            line=None,
                            column=None,
                            field="dimension",
                            message=f"dimension {key!r} must be a plain key of the exposures' "
                            "'extra' (letters, digits, underscores) and not a column name",
                        )
                    ]
                )


def open_events(
    url: str, query: EventQuery, *, memory_limit: str = MEMORY_LIMIT
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding the ``exposures`` and ``outcomes`` that ``query`` needs.

    Args:
        url: ``sqlite:///path.db``, ``postgresql://...`` or ``parquet:///folder`` (relative
            paths already resolved against the project).
        query: the experiment, event names and dimensions to read.
        memory_limit: DuckDB's memory limit (``"512MB"``, ``"4GB"``); see :data:`MEMORY_LIMIT`.

    Raises:
        StoreUnavailable: the log cannot be opened or read.
        ConfigError: the URL names no supported event log.

    The caller closes the connection.
    """
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    con = duckdb.connect()
    try:
        for key, value in DUCKDB_SETTINGS.items():
            con.execute(f"SET {key} = {value}")
        con.execute(f"SET memory_limit = {_literal(memory_limit)}")
        spill = Path(tempfile.gettempdir()) / "sameday-duckdb"
        con.execute(f"SET temp_directory = {_literal(str(spill))}")
        if sep and scheme == "sqlite" and rest.startswith("/") and len(rest) > 1:
            _load_sqlite(con, Path(rest[1:]), query)
        elif sep and scheme in {"postgresql", "postgresql+psycopg", "postgres"}:
            _load_postgres(con, "postgresql://" + rest, query)
        elif sep and scheme == "parquet" and rest.startswith("/"):
            _view_parquet(con, Path(rest[1:] if rest.startswith("//") else rest), query)
        else:
            raise ConfigError(
                [
                    Problem(
                        path=None,
                        line=None,
                        column=None,
                        field="storage.events",
                        message=f"cannot analyse the event log {redact(url)!r}: expected "
                        "sqlite:///path/events.db, postgresql://user@host/db or "
                        "parquet:///folder",
                    )
                ]
            )
        for table in ("exposures", "outcomes"):
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM log_{table}")
    except BaseException:
        con.close()
        raise
    return con


def _arm_filter(query: EventQuery) -> str:
    """A/B and bandit reports read exposures with an arm; interleaved lists have none (their
    slots carry teams instead), so a slot-level query keeps every exposure of the experiment."""
    return "" if query.slots else " AND arm IS NOT NULL"


def _exposure_sql(query: EventQuery, dims: Sequence[str], mark: str) -> str:
    slots = "items, teams" if query.slots else "NULL, NULL"
    extra = "".join(f", {d}" for d in dims)
    return (
        f"SELECT request_id, time, unit, arm, surface, {slots}, seed{extra} FROM exposures "
        f"WHERE experiment = {mark}{_arm_filter(query)}"
    )


def _outcome_sql(query: EventQuery, mark: str) -> str:
    names = ", ".join([mark] * len(query.events)) or "NULL"
    return (
        "SELECT request_id, unit, name, value, time, item FROM outcomes "
        f"WHERE name IN ({names}) AND unit IN "
        f"(SELECT unit FROM exposures WHERE experiment = {mark})"
    )


def _load_sqlite(con: duckdb.DuckDBPyConnection, path: Path, query: EventQuery) -> None:
    if not path.is_file():
        raise StoreUnavailable(
            f"the event log {path} does not exist: serve some traffic first, or point "
            "storage.events (or --events) at the log to analyse"
        )
    dims = [f"json_extract(extra, '$.{d}')" for d in query.dimensions]
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            exposures = db.execute(_exposure_sql(query, dims, "?"), (query.experiment,))
            _register(con, "log_exposures", _schema(query), exposures)
            outcomes = db.execute(_outcome_sql(query, "?"), (*query.events, query.experiment))
            _register(con, "log_outcomes", _OUTCOME_SCHEMA, outcomes)
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"cannot read the event log {path}: {exc}") from exc


def _load_postgres(con: duckdb.DuckDBPyConnection, conninfo: str, query: EventQuery) -> None:
    with extra("postgres", "reading the PostgreSQL event log"):
        import psycopg

    dims = [f"extra->>'{d}'" for d in query.dimensions]
    sql = _exposure_sql(query, dims, "%s").replace("items, teams", "items::text, teams::text")
    try:
        with psycopg.connect(conninfo, connect_timeout=5) as db:
            with db.cursor(name="sameday_exposures") as cur:
                cur.itersize = BATCH_ROWS
                cur.execute(sql, (query.experiment,))
                _register(con, "log_exposures", _schema(query), cur)
            with db.cursor(name="sameday_outcomes") as cur:
                cur.itersize = BATCH_ROWS
                cur.execute(_outcome_sql(query, "%s"), (*query.events, query.experiment))
                _register(con, "log_outcomes", _OUTCOME_SCHEMA, cur)
    except psycopg.Error as exc:
        where = conninfo.split("@")[-1]
        raise StoreUnavailable(f"cannot read the PostgreSQL event log at {where}: {exc}") from exc


def _register(
    con: duckdb.DuckDBPyConnection,
    name: str,
    schema: Sequence[tuple[str, pa.DataType]],
    cursor: Any,
) -> None:
    """Stream ``cursor`` into an Arrow table and expose it to DuckDB as ``name``."""
    arrow_schema = pa.schema(list(schema))
    batches = list(_batches(cursor, arrow_schema))
    table = pa.Table.from_batches(batches, schema=arrow_schema)
    con.register(name, table)


def _batches(cursor: Any, schema: pa.Schema) -> Iterable[pa.RecordBatch]:
    while True:
        rows = cursor.fetchmany(BATCH_ROWS)
        if not rows:
            return
        columns = list(zip(*rows, strict=True))
        yield pa.RecordBatch.from_arrays(
            [pa.array(col, type=field.type) for col, field in zip(columns, schema, strict=True)],
            schema=schema,
        )


def _schema(query: EventQuery) -> list[tuple[str, pa.DataType]]:
    return [*_EXPOSURE_SCHEMA, *[(d, pa.string()) for d in query.dimensions]]


def _view_parquet(con: duckdb.DuckDBPyConnection, folder: Path, query: EventQuery) -> None:
    sources = {table: _parquet_files(folder, table) for table in ("exposures", "outcomes")}
    slots = "items, teams" if query.slots else "NULL::VARCHAR AS items, NULL::VARCHAR AS teams"
    dims = "".join(f", json_extract_string(extra, '$.{d}') AS {d}" for d in query.dimensions)
    experiment = _literal(query.experiment)
    files = _literal(sources["exposures"])
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({files})").fetchall()
    # A log exported before seeds were recorded has no column: its phases cannot be told apart.
    seed = "seed::VARCHAR" if "seed" in {str(row[0]) for row in described} else "NULL::VARCHAR"
    con.execute(
        "CREATE VIEW log_exposures AS SELECT request_id::VARCHAR AS request_id, "
        "time::DOUBLE AS time, unit::VARCHAR AS unit, arm::VARCHAR AS arm, "
        f"surface::VARCHAR AS surface, {slots}, {seed} AS seed{dims} "
        f"FROM read_parquet({files}) WHERE experiment = {experiment}{_arm_filter(query)}"
    )
    names = ", ".join(_literal(e) for e in query.events) or "NULL"
    con.execute(
        "CREATE VIEW log_outcomes AS SELECT request_id::VARCHAR AS request_id, "
        "unit::VARCHAR AS unit, name::VARCHAR AS name, value::DOUBLE AS value, "
        "time::DOUBLE AS time, item::VARCHAR AS item "
        f"FROM read_parquet({_literal(sources['outcomes'])}) WHERE name IN ({names})"
    )


def _parquet_files(folder: Path, table: str) -> str:
    if (folder / table).is_dir():
        return str(folder / table / "*.parquet")
    if (folder / f"{table}.parquet").is_file():
        return str(folder / f"{table}.parquet")
    raise StoreUnavailable(
        f"no {table} in the Parquet event log {folder}: expected {table}/*.parquet or "
        f"{table}.parquet there"
    )


def _literal(text: str) -> str:
    """``text`` as a SQL string literal (DuckDB has no parameters in CREATE VIEW)."""
    return "'" + text.replace("'", "''") + "'"
