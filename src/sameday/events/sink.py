"""The event-sink interface: where exposures and outcomes are committed, and read back.

Reports do not read through a sink: they read through an
:class:`~sameday.events.source.EventSource`, which hands DuckDB a whole experiment's log at once.

A sink is deliberately dumb: it commits whole batches and reads them back in time order.
Batching, buffering, retrying and acknowledging live above it, in :class:`EventWriter`
(:mod:`sameday.events.writer`), the way redirects live in an HTTP client and not its transport.

Two promises every backend keeps, and the contract tests check:

- **Atomic, idempotent batches.** A ``write_*`` call commits all of its batch or none of it, and
  a record whose ``request_id`` (exposures) or ``event_id`` (outcomes) is already stored is
  skipped. At-least-once delivery from the writer (it retries a batch whose commit it could not
  confirm) therefore stores every record exactly once.
- **Errors at the edge.** A database that cannot be reached raises ``StoreUnavailable`` (the
  writer retries); a record the database refuses raises ``EventRejected`` (the writer drops it).

Backends: :class:`~sameday.events.sqlite.SQLiteSink` (embedded default),
:class:`~sameday.events.postgres.PostgresSink`, :class:`~sameday.events.parquet.ParquetSink`,
:class:`~sameday.events.memory.MemorySink`. The SQL ones share their read queries
(:class:`~sameday.events._sql.SQLSink`); the Parquet one runs them in DuckDB.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from sameday import registry
from sameday._closing import Closing
from sameday.events.records import Exposure, Outcome


class ArmCount(NamedTuple):
    """Exposures logged for one arm, and the distinct units they went to."""

    exposures: int
    units: int


class EventSink(Closing, ABC):
    """Durable storage of exposures and outcomes; see the module docstring for the contract.

    Reading filters, shared by every backend: ``since`` is inclusive and ``until`` exclusive
    (seconds since the epoch, compared with the record's ``time``); ``experiment`` keeps the
    exposures of that experiment, and the outcomes of every unit exposed to it (unit-level
    attribution; join on ``request_id`` for request-level). Records come in ``time`` order.
    """

    @abstractmethod
    def write_exposures(self, batch: Sequence[Exposure]) -> int:
        """Commit ``batch`` atomically; return how many were new (repeated request ids skipped).

        Raises:
            StoreUnavailable: the database cannot be reached; nothing was committed.
            EventRejected: the database refused a record; nothing was committed.
        """

    @abstractmethod
    def write_outcomes(self, batch: Sequence[Outcome]) -> int:
        """Commit ``batch`` atomically; return how many were new (repeated event ids skipped).

        Raises:
            StoreUnavailable: the database cannot be reached; nothing was committed.
            EventRejected: the database refused a record; nothing was committed.
        """

    @abstractmethod
    def read_exposures(
        self,
        *,
        experiment: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> Iterator[Exposure]:
        """Stored exposures matching the filters (see the class docstring), oldest first."""

    @abstractmethod
    def read_outcomes(
        self,
        *,
        experiment: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> Iterator[Outcome]:
        """Stored outcomes matching the filters (see the class docstring), oldest first."""

    def count_exposures(
        self, experiment: str, *, since: float | None = None, until: float | None = None
    ) -> dict[str, ArmCount]:
        """Exposures and distinct units per arm of ``experiment`` (filters as above), for the
        status board and sample-ratio checks. This default reads every record; the database
        backends count in SQL over their experiment-and-time index."""
        exposures: dict[str, int] = {}
        units: dict[str, set[str]] = {}
        for exposure in self.read_exposures(experiment=experiment, since=since, until=until):
            arm = exposure.arm or ""
            exposures[arm] = exposures.get(arm, 0) + 1
            units.setdefault(arm, set()).add(exposure.unit)
        return {arm: ArmCount(count, len(units[arm])) for arm, count in exposures.items()}

    def close(self) -> None:
        """Release connections; the sink cannot be used afterwards."""


def open_sink(url: str, *, origin: registry.Origin | None = None) -> EventSink:
    """The sink a URL names (``storage.events`` in ``sameday.yaml``).

    Accepted: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``,
    ``postgresql://user@host:5432/db`` (also ``postgresql+psycopg://`` and ``postgres://``, the
    SQLAlchemy and libpq spellings), ``parquet:///folder`` or ``s3://bucket/prefix`` (Parquet
    files, see :mod:`sameday.events.parquet`), and ``memory://`` (nothing survives the process).
    Relative SQLite and Parquet paths are taken from the current directory; resolve them
    against the project first (``Project.url``, or use ``Project.open_event_sink``). The backend
    is looked up in :mod:`sameday.registry`.

    Raises:
        ConfigError: the URL names no known backend or does not parse (shown without its
            password, located at ``origin`` when given).
        MissingDependency: a PostgreSQL URL, and psycopg is not installed (an S3 URL, and s3fs).
        StoreUnavailable: the SQLite file (or the Parquet sink's spool) cannot be created.
    """
    sink: EventSink = registry.open_url("events", url, origin=origin)
    return sink
