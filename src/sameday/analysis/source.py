"""Where a report's rows come from: an event source, opened in a DuckDB connection.

The source (:mod:`sameday.events.source`: SQLite, PostgreSQL, memory or Parquet, chosen by URL
through :mod:`sameday.registry`) puts the experiment's whole log in the connection as
``log_exposures(request_id, time, unit, arm, surface, items, teams, seed, <dimensions>)`` and
``log_outcomes(request_id, unit, name, value, time, item)``; this module adds the DuckDB settings
a report runs with, and views ``exposures`` and ``outcomes`` over all of the log, which
:func:`sameday.analysis.phases.restrict` narrows to one phase or time range.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import duckdb

from sameday.events.source import EventQuery, EventSource, LogCheck, open_source

MEMORY_LIMIT = "512MB"
"""DuckDB's working memory for a report. Beyond it aggregates and joins spill to a temporary
folder instead of growing: a report over 10 million exposures stays near half a gigabyte and is
barely slower (``benchmarks/report_bench.py``); DuckDB's own default is 80% of the machine."""

DUCKDB_SETTINGS = {"enable_progress_bar": "false", "preserve_insertion_order": "false"}
"""No progress bar on the terminal (the CLI owns the terminal); row order is never relied on."""


class _Connecting:
    """A DuckDB connection being made on a thread of its own."""

    def __init__(self) -> None:
        self._con: duckdb.DuckDBPyConnection | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._connect, name="sameday-duckdb-connect")
        self._thread.start()

    def _connect(self) -> None:
        try:
            self._con = duckdb.connect()
        except BaseException as exc:  # raised on the caller's thread by result()
            self._error = exc

    def result(self) -> duckdb.DuckDBPyConnection:
        self._thread.join()
        if self._con is None:
            raise self._error or RuntimeError("no DuckDB connection was made")
        return self._con


_ahead: list[_Connecting] = []


def connect_ahead() -> None:
    """Start making, on a thread, the DuckDB connection the next :func:`open_events` uses.

    Starting DuckDB's in-memory database takes 0.02-0.03 s, and it lets go of the GIL meanwhile:
    a command that will read the log (``sameday report``) calls this before it loads its
    project, which the main thread does in the meantime (``benchmarks/report_bench.py`` times the
    whole process). Calling it again before the connection is taken does nothing.
    """
    if not _ahead:
        _ahead.append(_Connecting())


def _connect() -> duckdb.DuckDBPyConnection:
    """The connection :func:`connect_ahead` made, or a new one."""
    try:
        connecting = _ahead.pop()
    except IndexError:
        return duckdb.connect()
    return connecting.result()


def open_events(
    source: EventSource | str, query: EventQuery, *, memory_limit: str = MEMORY_LIMIT
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding the ``exposures`` and ``outcomes`` that ``query`` needs.

    Args:
        source: the event source, or its URL (``sqlite:///path.db``, ``postgresql://...``,
            ``parquet:///folder``; relative paths already resolved against the project), which
            is opened and closed here.
        query: the experiment, event names and dimensions to read.
        memory_limit: DuckDB's memory limit (``"512MB"``, ``"4GB"``); see :data:`MEMORY_LIMIT`.

    Raises:
        StoreUnavailable: the log cannot be opened or read.
        ConfigError: the URL names no supported event log.

    The caller closes the connection.
    """
    con, check = open_events_unchecked(source, query, memory_limit=memory_limit)
    try:
        check.settle()
    except BaseException:
        con.close()
        raise
    return con


def open_events_unchecked(
    source: EventSource | str, query: EventQuery, *, memory_limit: str = MEMORY_LIMIT
) -> tuple[duckdb.DuckDBPyConnection, LogCheck]:
    """:func:`open_events`, with the source's check of the rows possibly still running (see
    :meth:`EventSource.load_unchecked`): a report reads the views while the check runs, and
    reads them again when :meth:`LogCheck.settle` says they changed.

    The caller calls :meth:`LogCheck.wait` before it closes the connection, even on failure.
    """
    reader = open_source(source) if isinstance(source, str) else source
    con = _connect()
    check: LogCheck | None = None
    try:
        for key, value in DUCKDB_SETTINGS.items():
            con.execute(f"SET {key} = {value}")
        con.execute(f"SET memory_limit = {_literal(memory_limit)}")
        spill = Path(tempfile.gettempdir()) / "sameday-duckdb"
        con.execute(f"SET temp_directory = {_literal(str(spill))}")
        check = reader.load_unchecked(con, query)
        for table in ("exposures", "outcomes"):
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM log_{table}")
    except BaseException:
        if check is not None:
            check.wait()
        con.close()
        raise
    finally:
        if reader is not source:
            reader.close()
    return con, check


def _literal(text: str) -> str:
    """``text`` as a SQL string literal (DuckDB has no parameters in SET)."""
    return "'" + text.replace("'", "''") + "'"
