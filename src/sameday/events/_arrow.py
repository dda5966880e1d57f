"""Rows from a database cursor into Arrow tables that DuckDB reads without copying.

Imported by the event sources when they load, never by the serving path: pyarrow is heavy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import duckdb
import pyarrow as pa

from sameday.events.source import EventQuery

BATCH_ROWS = 200_000
"""Rows fetched per Arrow batch: bounds the Python objects alive at once."""

_EXPOSURE_TYPES = [
    ("request_id", pa.string()),
    ("time", pa.float64()),
    ("unit", pa.string()),
    ("arm", pa.string()),
    ("surface", pa.string()),
    ("items", pa.string()),
    ("teams", pa.string()),
    ("seed", pa.string()),
]
OUTCOME_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("unit", pa.string()),
        ("name", pa.string()),
        ("value", pa.float64()),
        ("time", pa.float64()),
        ("item", pa.string()),
    ]
)


TABLE_SCHEMAS = {
    "exposures": pa.schema(
        [
            ("request_id", pa.string()),
            ("time", pa.float64()),
            ("unit", pa.string()),
            ("surface", pa.string()),
            ("experiment", pa.string()),
            ("arm", pa.string()),
            ("hash_attribute", pa.string()),
            ("hash_value", pa.string()),
            ("hash_version", pa.int64()),
            ("seed", pa.string()),
            ("bucket", pa.float64()),
            ("items", pa.string()),
            ("scores", pa.string()),
            ("snapshot_versions", pa.string()),
            ("propensity", pa.float64()),
            ("design", pa.string()),
            ("teams", pa.string()),
            ("extra", pa.string()),
            ("degraded", pa.bool_()),
        ]
    ),
    "outcomes": pa.schema(
        [
            ("event_id", pa.string()),
            ("request_id", pa.string()),
            ("unit", pa.string()),
            ("name", pa.string()),
            ("value", pa.float64()),
            ("time", pa.float64()),
            ("item", pa.string()),
        ]
    ),
}
"""The Arrow schema of each table as the Parquet event log stores it: ``EXPOSURE_COLUMNS`` and
``OUTCOME_COLUMNS`` (:mod:`sameday.events._columns`) in order, typed, so that a file whose values
are all null still says what each column holds."""


def exposure_schema(query: EventQuery) -> pa.Schema:
    """The Arrow schema of ``log_exposures`` for ``query`` (dimensions are text)."""
    return pa.schema([*_EXPOSURE_TYPES, *[(d, pa.string()) for d in query.dimensions]])


def register(con: duckdb.DuckDBPyConnection, name: str, schema: pa.Schema, cursor: Any) -> None:
    """Stream ``cursor`` (anything with ``fetchmany``) into an Arrow table and expose it to
    DuckDB as ``name``."""
    con.register(name, table_of(cursor, schema))


def table_of(cursor: Any, schema: pa.Schema) -> pa.Table:
    """The rows of ``cursor`` (anything with ``fetchmany``) as an Arrow table of ``schema``."""
    return pa.Table.from_batches(list(_batches(cursor, schema)), schema=schema)


def register_rows(
    con: duckdb.DuckDBPyConnection, name: str, schema: pa.Schema, rows: Sequence[Sequence[Any]]
) -> None:
    """Expose ``rows`` (tuples in ``schema``'s column order) to DuckDB as ``name``."""
    con.register(name, table_of_rows(rows, schema))


def table_of_rows(rows: Sequence[Sequence[Any]], schema: pa.Schema) -> pa.Table:
    """``rows`` (tuples in ``schema``'s column order) as an Arrow table of ``schema``."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    arrays = [pa.array(col, type=field.type) for col, field in zip(columns, schema, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


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
