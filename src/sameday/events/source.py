"""The event-source interface: reading the log back for analysis, apart from writing it.

An :class:`~sameday.events.sink.EventSink` commits records one batch at a time on the serving
path; an :class:`EventSource` hands a whole experiment's log to DuckDB for a report. The two sides
need different things (small atomic batches vs. one filtered scan into Arrow), so they are two
interfaces, and a backend may implement either or both.

A source puts two tables in a DuckDB connection: ``log_exposures(request_id, time, unit, arm,
surface, items, teams, seed, <dimensions>)`` and ``log_outcomes(request_id, unit, name, value,
time, item)``, holding the rows an :class:`EventQuery` asks for: one experiment's exposures (with
an arm, unless ``slots``), and the outcome events its metrics name, of units exposed to it.
``items`` and ``teams`` are JSON text (``NULL`` unless ``slots``), times float epoch seconds.

DuckDB's own SQLite and PostgreSQL scanners are extensions downloaded on first use (they are not
in the pip wheel), and a report must work offline, so the SQL sources read with the database's
own driver in batches into Arrow, filtering in the database first; DuckDB queries the Arrow
tables without copying them. Parquet is read by DuckDB directly, lazily.

Backends: :class:`~sameday.events.sqlite.SQLiteSource`,
:class:`~sameday.events.postgres.PostgresSource`, :class:`~sameday.events.memory.MemorySource`,
:class:`~sameday.events.parquet.ParquetSource`; :func:`open_source` picks one by URL through
:mod:`sameday.registry`. Nothing here imports DuckDB or pyarrow: the backends do, when loading.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sameday import registry
from sameday._closing import Closing
from sameday.errors import ConfigError, Problem

if TYPE_CHECKING:
    import duckdb

EXPOSURE_FIELDS = ("request_id", "time", "unit", "arm", "surface", "items", "teams", "seed")
"""The columns of ``log_exposures`` before the dimensions."""
OUTCOME_FIELDS = ("request_id", "unit", "name", "value", "time", "item")
"""The columns of ``log_outcomes``."""

_DIMENSION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True)
class EventQuery:
    """What to read: one experiment's exposures and the outcome events its metrics use.

    ``dimensions`` are keys of the exposures' ``extra`` object to break results down by
    (``surface`` is always available); ``slots`` also reads the served items and interleaving
    teams, which only interleaving analysis needs.

    Raises:
        ConfigError: a dimension is not a plain key (it is spliced into SQL) or is a column.
    """

    experiment: str
    events: tuple[str, ...]
    dimensions: tuple[str, ...] = ()
    slots: bool = False

    def __post_init__(self) -> None:
        for key in self.dimensions:
            if not _DIMENSION.match(key) or key in EXPOSURE_FIELDS:
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

    def keeps(self, arm: str | None) -> bool:
        """Whether an exposure with ``arm`` is read: A/B and bandit reports read exposures with
        an arm; interleaved lists have none (their slots carry teams instead), so a slot-level
        query keeps every exposure of the experiment."""
        return self.slots or arm is not None


class EventSource(Closing, ABC):
    """Where a report reads the event log from; see the module docstring for the tables."""

    @abstractmethod
    def load(self, con: duckdb.DuckDBPyConnection, query: EventQuery) -> None:
        """Create ``log_exposures`` and ``log_outcomes`` in ``con`` (tables or views).

        Raises:
            StoreUnavailable: the log cannot be opened or read.
        """

    def load_unchecked(self, con: duckdb.DuckDBPyConnection, query: EventQuery) -> LogCheck:
        """:meth:`load`, except that a check of the rows may still run when this returns.

        The tables can be read at once, but what is read is final only once the returned
        check's :meth:`LogCheck.settle` says nothing changed: a report starts on its queries
        while the check uses the second core. The check uses ``con`` alone, so the source may
        be closed meanwhile. This default loads checked rows, and its check is already over.

        Raises:
            StoreUnavailable: the log cannot be opened or read.
        """
        self.load(con, query)
        return LogCheck()

    def close(self) -> None:
        """Release connections; the source cannot be used afterwards."""


class LogCheck:
    """A check of the rows an :class:`EventSource` loaded, which may still be running (see
    :meth:`EventSource.load_unchecked`); this one has already ended and changed nothing.

    Whoever holds one calls :meth:`settle` before trusting what was read, and :meth:`wait`
    before closing the connection, even on failure.
    """

    def settle(self) -> bool:
        """Wait for the check and apply it: ``True`` when it replaced ``log_exposures`` or
        ``log_outcomes``, so that anything read from them until now must be read again.
        Afterwards the tables are final, and a second call returns ``False``.

        Raises:
            StoreUnavailable: the check could not read the log.
        """
        return False

    def wait(self) -> None:
        """Wait for the check to end, whatever it found: it reads through the connection, which
        must outlive it."""


def open_source(url: str, *, origin: registry.Origin | None = None) -> EventSource:
    """The source a URL names: ``sqlite:///path.db``, ``postgresql://user@host/db`` (or
    ``postgresql+psycopg://``, ``postgres://``), ``parquet:///folder``, ``s3://bucket/prefix`` or
    ``memory://``.

    Relative paths are taken from the current directory; resolve them against the project
    first (``Project.url``, or use ``Project.open_event_source``).

    Raises:
        ConfigError: the URL names no known source or does not parse (shown without its
            password, located at ``origin`` when given).
        MissingDependency: a PostgreSQL URL, and psycopg is not installed.
    """
    source: EventSource = registry.open_url("source", url, origin=origin)
    return source
