"""Exposure and outcome logging: records, the batched durable writer, the sinks that store them
and the sources that hand them to DuckDB for reports.

Typical use by the serving layer::

    sink = project.open_event_sink()             # or open_sink(url)
    writer = EventWriter(sink)
    writer.log_exposure(Exposure(...))           # on every served list: a deque append
    writer.log_outcomes(events).wait(2.0)         # POST /v1/events: ack only durable events
    writer.close(); sink.close()                  # at shutdown

``PostgresSink`` and ``PostgresSource`` are imported on first use, so ``import sameday.events``
does not load psycopg; the sources import DuckDB and pyarrow only when they load a log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sameday.errors import EventRejected, EventsUnavailable
from sameday.events.memory import MemorySink, MemorySource
from sameday.events.obd import from_obd_csv, to_obd_rows
from sameday.events.records import Exposure, Outcome
from sameday.events.sink import EventSink, open_sink
from sameday.events.source import EventQuery, EventSource, open_source
from sameday.events.sqlite import SQLiteSink, SQLiteSource
from sameday.events.ticket import Ticket
from sameday.events.writer import EventWriter, WriterStats

if TYPE_CHECKING:
    from sameday.events.postgres import PostgresSink, PostgresSource

__all__ = [
    "EventQuery",
    "EventRejected",
    "EventSink",
    "EventSource",
    "EventWriter",
    "EventsUnavailable",
    "Exposure",
    "MemorySink",
    "MemorySource",
    "Outcome",
    "PostgresSink",
    "PostgresSource",
    "SQLiteSink",
    "SQLiteSource",
    "Ticket",
    "WriterStats",
    "from_obd_csv",
    "open_sink",
    "open_source",
    "to_obd_rows",
]


def __getattr__(name: str) -> Any:
    if name in {"PostgresSink", "PostgresSource"}:
        from sameday.events import postgres

        return getattr(postgres, name)
    raise AttributeError(f"module 'sameday.events' has no attribute {name!r}")
