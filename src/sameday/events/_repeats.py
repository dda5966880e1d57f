"""Checking a Parquet event log for repeated ids while a report already reads it.

A Parquet log may hold a record twice (see :mod:`sameday.events.parquet`, "Exactly once, on
read"), so its reader keeps one row per ``request_id`` and per ``event_id``. Numbering the rows
to keep one costs about 0.8 s per million exposures on every read of a view, and a report reads
its views several times; counting distinct ids once costs about 0.1 s and almost always finds
nothing. So the views are first created without numbering, and the count runs on a thread of its
own while the report reads them: DuckDB reads a Parquet row group on one thread, and a log of few
large files would otherwise leave the second core idle for the count's 0.1 s
(``benchmarks/report_bench.py``). Only when the count finds a repeat are the views replaced by
numbered ones, and what was read from them is read again (:meth:`RepeatCheck.settle`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sameday.errors import StoreUnavailable
from sameday.events.source import LogCheck

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class View:
    """One view of the log: ``CREATE VIEW {name} AS {select} FROM {rows}``.

    Attributes:
        name: the view (``log_exposures``).
        select: its ``SELECT`` list, ``SELECT`` included.
        rows: the relation it reads, with its filter (``read_parquet(...) WHERE ...``).
        key: the id that is one row per record (``request_id``); ``None`` when the files have
            no such column and rows cannot be told apart (all are kept).
    """

    name: str
    select: str
    rows: str
    key: str | None

    def create(self, con: duckdb.DuckDBPyConnection, *, once: bool = False) -> None:
        """Create (or replace) the view; ``once`` keeps one row per :attr:`key`."""
        qualify = f" QUALIFY row_number() OVER (PARTITION BY {self.key}) = 1" if once else ""
        con.execute(
            f"CREATE OR REPLACE VIEW {self.name} AS {self.select} FROM {self.rows}{qualify}"
        )

    def repeats(self, con: duckdb.DuckDBPyConnection) -> bool:
        """Whether any :attr:`key` is on more than one row.

        Equal ids have equal hashes, so a repeat is never missed; two ids that share a hash only
        cost the numbering, needlessly."""
        if self.key is None:
            return False
        found = con.execute(
            f"SELECT count({self.key}) - count(DISTINCT hash({self.key})) FROM {self.rows}"
        ).fetchone()
        return bool(found and found[0])


class RepeatCheck(LogCheck):
    """``views`` created in ``con`` without numbering, and checked for repeats on a thread of
    their own through a cursor of ``con`` (the same database, files and settings).

    Args:
        con: the connection the views are created in.
        views: the views, by the table they hold (``exposures``).
        where: the log, for error messages.
    """

    def __init__(
        self, con: duckdb.DuckDBPyConnection, views: Mapping[str, View], where: str
    ) -> None:
        for view in views.values():
            view.create(con)
        self._con = con
        self._views = dict(views)
        self._where = where
        self._cursor = con.cursor()
        self._repeated: list[View] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sameday-parquet-repeats")
        self._thread.start()

    def _run(self) -> None:
        try:
            self._repeated = [view for view in self._views.values() if view.repeats(self._cursor)]
        except BaseException as exc:  # raised on the caller's thread by settle()
            self._error = exc
        finally:
            self._cursor.close()

    def wait(self) -> None:
        """Wait for the check to end (see :meth:`LogCheck.wait`)."""
        self._thread.join()

    def settle(self) -> bool:
        """Wait for the check, and number the views that repeat an id (see
        :meth:`LogCheck.settle`).

        Raises:
            StoreUnavailable: the check could not read the files (a column is missing, a file
                is unreadable).
        """
        import duckdb

        self.wait()
        if self._error is not None:
            error, self._error = self._error, None
            if isinstance(error, duckdb.Error):
                raise StoreUnavailable(
                    f"cannot read the Parquet event log {self._where}: {error}"
                ) from error
            raise error
        repeated, self._repeated = self._repeated, []
        for view in repeated:
            view.create(self._con, once=True)
        return bool(repeated)
