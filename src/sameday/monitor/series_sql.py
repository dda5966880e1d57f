"""Running a series' SQL and adding its rows up per bucket.

Where the SQL runs (``source:``): the event log's DuckDB views (no source; see
:mod:`sameday.monitor.event_views`), a PostgreSQL database (psycopg, the SQL as PostgreSQL
reads it), a DuckDB file (opened read-only) or Parquet files (DuckDB, with a view ``data`` over
them). Each way gives rows; :func:`totals` finds the time and value columns by name, places each
time in its bucket and adds the values of a bucket up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sameday.errors import SeriesError, StoreUnavailable
from sameday.monitor.buckets import Buckets
from sameday.urls import redact

if TYPE_CHECKING:
    import duckdb

    from sameday.config.series import Series

Rows = tuple[list[str], list[tuple[Any, ...]]]
"""Column names and rows of a query."""


def run_sql(series: Series, log: duckdb.DuckDBPyConnection | None, root: Path) -> Rows:
    """The rows of ``series.sql`` on its source (``log``: the event log's views).

    Raises:
        SeriesError: the query failed (the message names the series).
        StoreUnavailable: its source cannot be reached.
    """
    assert series.sql is not None
    source = series.source
    if source is None:
        if log is None:
            raise SeriesError(f"series {series.name}: the event log is not open")
        return _duckdb(series, log)
    if source.startswith(("postgresql", "postgres://")):
        return _postgres(series, source)
    import duckdb

    path = _path(source, root)
    if source.startswith("duckdb:"):
        if not path.is_file():
            raise StoreUnavailable(f"series {series.name}: no DuckDB file at {path}")
        with duckdb.connect(str(path), read_only=True) as con:
            return _duckdb(series, con)
    pattern = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
    with duckdb.connect() as con:
        try:
            con.execute(f"CREATE VIEW data AS SELECT * FROM read_parquet('{_quote(pattern)}')")
        except duckdb.Error as exc:
            raise StoreUnavailable(f"series {series.name}: cannot read {pattern}: {exc}") from exc
        return _duckdb(series, con)


def _path(url: str, root: Path) -> Path:
    """``duckdb:///rel/file`` and ``parquet:///rel/dir`` from the project root; four slashes
    (``duckdb:////abs``) for an absolute path."""
    rest = url.partition("://")[2][1:]
    path = Path(rest)
    return path if path.is_absolute() else root / path


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _duckdb(series: Series, con: duckdb.DuckDBPyConnection) -> Rows:
    import duckdb

    assert series.sql is not None
    try:
        cursor = con.execute(series.sql)
        names = [d[0] for d in cursor.description or ()]
        return names, cursor.fetchall()
    except duckdb.Error as exc:
        raise SeriesError(f"series {series.name}: the SQL failed: {exc}") from exc


def _postgres(series: Series, url: str) -> Rows:
    from sameday._extras import extra

    with extra("postgres", f"series {series.name} (a PostgreSQL source)"):
        import psycopg

    assert series.sql is not None
    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        with psycopg.connect(conninfo, connect_timeout=10) as db, db.cursor() as cur:
            try:
                cur.execute(series.sql)
            except psycopg.Error as exc:
                raise SeriesError(f"series {series.name}: the SQL failed: {exc}") from exc
            names = [d.name for d in cur.description or ()]
            return names, cur.fetchall()
    except psycopg.OperationalError as exc:
        raise StoreUnavailable(f"series {series.name}: cannot reach {redact(url)}: {exc}") from exc


def _column(series: Series, names: Sequence[str], wanted: str) -> int:
    lowered = [n.lower() for n in names]
    if wanted.lower() not in lowered:
        raise SeriesError(
            f"series {series.name}: the SQL gives no column {wanted!r} (it gives "
            f"{', '.join(names) or 'none'}): name the columns with AS, or set "
            "time_column / value_column"
        )
    return lowered.index(wanted.lower())


def totals(series: Series, rows: Rows, buckets: Buckets) -> tuple[np.ndarray, np.ndarray]:
    """Per bucket, the sum of the values whose time falls in it, and how many rows it had.

    Rows outside the buckets are left out; a ``NULL`` value counts as no row.

    Raises:
        SeriesError: a column is missing, a time is not a time or a value not a number.
    """
    names, data = rows
    t = _column(series, names, series.time_column)
    v = _column(series, names, series.value_column)
    sums = np.zeros(len(buckets))
    counts = np.zeros(len(buckets), dtype=np.int64)
    for row in data:
        moment, value = row[t], row[v]
        if moment is None or value is None:
            continue
        try:
            at = buckets.place(moment) if not isinstance(moment, str) else -2
            number = float(value)
        except (TypeError, ValueError):
            at, number = -2, math.nan
        if at == -2 or not math.isfinite(number):
            raise SeriesError(
                f"series {series.name}: row ({moment!r}, {value!r}) is not a time and a "
                f"finite number in {series.time_column!r} and {series.value_column!r}"
            )
        if at >= 0:
            sums[at] += number
            counts[at] += 1
    return sums, counts


__all__ = ["Rows", "run_sql", "totals"]
