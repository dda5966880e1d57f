"""Looking at a dataset: its columns and types, rows, null shares, freshness, files and bytes.

One function, :func:`observe`, for every kind of dataset a pipeline declares:

* Parquet, CSV and JSONL files (a path or a glob) are read with DuckDB: ``DESCRIBE`` gives the
  schema, one aggregate query the rows, each column's nulls and the newest ``time_column``;
* NPZ archives are read by their arrays' headers only (names, dtypes, lengths), never their
  data; other files by their sizes alone;
* tables behind ``duckdb://`` are read by DuckDB (the file opened read-only), tables behind
  ``postgresql://`` through psycopg (``information_schema`` and the same aggregate query).

A dataset that cannot be read is not an exception: the observation says why in ``error``, so
one missing file is recorded (and alerted on) without hiding the other datasets of the run.
"""

from __future__ import annotations

import glob
import zipfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import duckdb

from sameday._extras import extra
from sameday.config.datasets import Dataset
from sameday.errors import MissingDependency
from sameday.metadata.dataset_records import Columns, Observed
from sameday.urls import redact, scrub

_EXTENSIONS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".npz": "npz",
}
_READERS = {
    "parquet": "read_parquet({files})",
    "csv": "read_csv({files}, auto_detect = true, union_by_name = true)",
    "jsonl": "read_json({files}, format = 'newline_delimited', union_by_name = true)",
}


def observe(dataset: Dataset, root: Path) -> Observed:
    """What ``dataset`` holds now; relative paths (and ``duckdb:///`` files) from ``root``."""
    try:
        if dataset.path is not None:
            return _observe_files(dataset, root)
        return _observe_table(dataset, root)
    except (duckdb.Error, OSError, ValueError, MissingDependency) as exc:
        return Observed(error=scrub(f"{type(exc).__name__}: {exc}"))


def file_format(dataset: Dataset) -> str:
    """The format a file dataset is read as: its own, or the one its extension says."""
    if dataset.format != "auto" or dataset.path is None:
        return dataset.format
    return _EXTENSIONS.get(Path(dataset.path).suffix.lower(), "files")


def _observe_files(dataset: Dataset, root: Path) -> Observed:
    assert dataset.path is not None
    pattern = str(Path(dataset.path).expanduser())
    full = pattern if Path(pattern).is_absolute() else str(root / pattern)
    files = sorted(p for p in glob.glob(full, recursive=True) if Path(p).is_file())
    if not files:
        return Observed(files=0, bytes=0, error=f"no file matches {dataset.path}")
    size = sum(Path(p).stat().st_size for p in files)
    kind = file_format(dataset)
    if kind == "files":
        return Observed(files=len(files), bytes=size)
    if kind == "npz":
        columns, rows = _npz_headers(files)
        return Observed(columns=columns, row_count=rows, files=len(files), bytes=size)
    relation = _READERS[kind].format(files=_literal_list(files))
    with duckdb.connect() as con:
        found = _aggregate(con, relation, dataset.time_column)
    return Observed(**found, files=len(files), bytes=size)


def _observe_table(dataset: Dataset, root: Path) -> Observed:
    assert dataset.table is not None and dataset.url is not None
    scheme, _, rest = dataset.url.partition("://")
    if scheme == "duckdb":
        path = Path(rest[1:] if rest.startswith("/") else rest)
        database = path if path.is_absolute() else root / path
        if not database.is_file():
            raise ValueError(f"no DuckDB database at {database}")
        with duckdb.connect(str(database), read_only=True) as con:
            return Observed(**_aggregate(con, _table_sql(dataset.table), dataset.time_column))
    return Observed(**_postgres(dataset.url, dataset.table, dataset.time_column))


def _aggregate(
    con: duckdb.DuckDBPyConnection, relation: str, time_column: str | None
) -> dict[str, Any]:
    """Columns, rows, null shares and freshness of ``relation`` in two queries."""
    described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    columns: Columns = tuple((str(row[0]), str(row[1])) for row in described)
    _check_time_column(columns, time_column)
    counts = ", ".join(f"count({_ident(name)})" for name, _ in columns)
    newest = f", max({_ident(time_column)})" if time_column else ""
    row = con.execute(f"SELECT count(*), {counts}{newest} FROM {relation}").fetchone()
    assert row is not None
    return _summary(columns, row, time_column)


def _postgres(url: str, table: str, time_column: str | None) -> dict[str, Any]:
    with extra("postgres", f"reading the table {table} at {redact(url)}"):
        import psycopg
        from psycopg import sql
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1).replace(
        "postgres://", "postgresql://", 1
    )
    schema, _, name = table.rpartition(".")
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            described = conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                (schema or "public", name),
            ).fetchall()
            if not described:
                raise ValueError(f"no table {table} at {redact(url)} (or no column visible)")
            columns: Columns = tuple((str(c), str(t)) for c, t in described)
            _check_time_column(columns, time_column)
            parts: list[sql.Composable] = [sql.SQL("count(*)")]
            parts += [sql.SQL("count({})").format(sql.Identifier(c)) for c, _ in columns]
            if time_column:
                parts.append(sql.SQL("max({})").format(sql.Identifier(time_column)))
            query = sql.SQL("SELECT {} FROM {}").format(
                sql.SQL(", ").join(parts), sql.Identifier(*table.split("."))
            )
            row = conn.execute(query).fetchone()
    except psycopg.Error as exc:
        raise ValueError(scrub(f"reading {table} at {redact(url)} failed: {exc}")) from exc
    assert row is not None
    return _summary(columns, tuple(row), time_column)


def _summary(columns: Columns, row: Sequence[Any], time_column: str | None) -> dict[str, Any]:
    rows = int(row[0])
    shares = {
        name: (rows - int(row[1 + i])) / rows if rows else 0.0
        for i, (name, _) in enumerate(columns)
    }
    freshness = _as_datetime(row[-1]) if time_column else None
    return {"columns": columns, "row_count": rows, "null_shares": shares, "freshness": freshness}


def _check_time_column(columns: Columns, time_column: str | None) -> None:
    if time_column is not None and time_column not in {name for name, _ in columns}:
        names = ", ".join(name for name, _ in columns)
        raise ValueError(f"time_column {time_column!r} is not a column (columns: {names})")


def _as_datetime(value: Any) -> datetime | None:
    """The newest time value as an aware UTC datetime (naive values are taken as UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, str):
        return _as_datetime(datetime.fromisoformat(value))
    raise ValueError(
        f"the time column's newest value {value!r} is not a date or a time: declare a "
        "DATE or TIMESTAMP column as time_column"
    )


def _npz_headers(files: Sequence[str]) -> tuple[Columns, int]:
    """Each array's name and dtype (with its trailing dimensions), and the rows: the length of
    the longest array of each file, summed; read from the ``.npy`` headers, not the data."""
    import numpy as np
    from numpy.lib import format as npy

    columns: dict[str, str] = {}
    rows = 0
    for file in files:
        longest = 0
        with zipfile.ZipFile(file) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue
                with archive.open(member) as handle:
                    major, _ = npy.read_magic(handle)
                    header = npy.read_array_header_1_0 if major == 1 else npy.read_array_header_2_0
                    shape, _, dtype = header(handle)
                dims = "".join(f"[{d}]" for d in shape[1:])
                columns.setdefault(member[:-4], f"{np.dtype(dtype).name}{dims}")
                longest = max(longest, shape[0] if shape else 1)
        rows += longest
    return tuple(columns.items()), rows


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_sql(table: str) -> str:
    return ".".join(_ident(part) for part in table.split("."))


def _literal_list(values: Sequence[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"
