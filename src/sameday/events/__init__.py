"""Exposure and outcome logging: records, the batched durable writer, and the sinks.

Typical use by the serving layer::

    sink = project.open_event_sink()             # or open_sink(url)
    writer = EventWriter(sink)
    writer.log_exposure(Exposure(...))           # on every served list: a deque append
    writer.log_outcomes(events).wait(2.0)         # POST /v1/events: ack only durable events
    writer.close(); sink.close()                  # at shutdown

``PostgresSink`` is imported on first use, so ``import sameday.events`` does not load psycopg.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sameday.errors import EventRejected, EventsUnavailable
from sameday.events.memory import MemorySink
from sameday.events.obd import from_obd_csv, to_obd_rows
from sameday.events.records import Exposure, Outcome
from sameday.events.sink import EventSink, open_sink
from sameday.events.sqlite import SQLiteSink
from sameday.events.ticket import Ticket
from sameday.events.writer import EventWriter, WriterStats

if TYPE_CHECKING:
    from sameday.events.postgres import PostgresSink

__all__ = [
    "EventRejected",
    "EventSink",
    "EventWriter",
    "EventsUnavailable",
    "Exposure",
    "MemorySink",
    "Outcome",
    "PostgresSink",
    "SQLiteSink",
    "Ticket",
    "WriterStats",
    "from_obd_csv",
    "open_sink",
    "to_obd_rows",
]


def __getattr__(name: str) -> Any:
    if name == "PostgresSink":
        from sameday.events.postgres import PostgresSink

        return PostgresSink
    raise AttributeError(f"module 'sameday.events' has no attribute {name!r}")
