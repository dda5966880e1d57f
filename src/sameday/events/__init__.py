"""Exposure and outcome logging: records, the batched durable writer, the sinks that store them
and the sources that hand them to DuckDB for reports.

Typical use by the serving layer::

    sink = project.open_event_sink()             # or open_sink(url)
    writer = EventWriter(sink)
    writer.log_exposure(Exposure(...))           # on every served list: a deque append
    writer.log_outcomes(events).wait(2.0)         # POST /v1/events: ack only durable events
    writer.close(); sink.close()                  # at shutdown

Every name here is imported on first use, so ``import sameday.events`` loads neither psycopg
nor anything else it does not need; the sources import DuckDB and pyarrow only when they load a
log.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sameday.errors import EventRejected, EventsUnavailable

if TYPE_CHECKING:
    from sameday.events.memory import MemorySink, MemorySource
    from sameday.events.obd import from_obd_csv, to_obd_rows
    from sameday.events.postgres import PostgresSink, PostgresSource
    from sameday.events.records import Exposure, Outcome
    from sameday.events.sink import EventSink, open_sink
    from sameday.events.source import EventQuery, EventSource, open_source
    from sameday.events.sqlite import SQLiteSink, SQLiteSource
    from sameday.events.ticket import Ticket
    from sameday.events.writer import EventWriter, WriterStats

_MODULES = {
    "EventQuery": "source",
    "EventSink": "sink",
    "EventSource": "source",
    "EventWriter": "writer",
    "Exposure": "records",
    "MemorySink": "memory",
    "MemorySource": "memory",
    "Outcome": "records",
    "PostgresSink": "postgres",
    "PostgresSource": "postgres",
    "SQLiteSink": "sqlite",
    "SQLiteSource": "sqlite",
    "Ticket": "ticket",
    "WriterStats": "writer",
    "from_obd_csv": "obd",
    "open_sink": "sink",
    "open_source": "source",
    "to_obd_rows": "obd",
}
"""Which module of the package defines each name. Each is imported on first use, as psycopg's
backend always was: a report imports ``sameday.events.source``, which runs this file first, and
needs neither the writer, nor the memory sink, nor the Open Bandit Dataset converter."""

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
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'sameday.events' has no attribute {name!r}")
    return getattr(importlib.import_module(f"sameday.events.{module}"), name)
