"""The two ways logging can fail, as sameday errors (both fit under ``sameday.errors``' tree).

::

    SamedayError
     ├── StoreUnavailable (ConnectionError)
     │    └── EventsUnavailable      the log cannot promise these records are durable: retry later
     └── EventRejected (ValueError)  a record is invalid: retrying it will not help

The HTTP layer answers ``503`` to ``EventsUnavailable``; the sinks are idempotent by request and
event id, so a client that resends the same batch loses nothing and duplicates nothing. It answers
``400`` to ``EventRejected``, naming the field or the events at fault.
"""

from __future__ import annotations

from sameday.errors import SamedayError, StoreUnavailable


class EventsUnavailable(StoreUnavailable):
    """Records were not (or not yet) committed: the buffer is full, the sink is down, or a wait
    ran out of time. Nothing acknowledged is lost; the caller should retry the same records."""


class EventRejected(SamedayError, ValueError):
    """A record is invalid (a value no event log can store): refused before it is queued, or
    refused by a sink and dropped. Retrying it unchanged will not help.

    Attributes:
        field: the record's field at fault, when known (``"unit"``).
        event_ids: the ids of the outcomes refused (when a sink refused them after they were
            queued, the others of their batch are stored).
    """

    def __init__(
        self, message: str, *, field: str | None = None, event_ids: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.field = field
        self.event_ids = event_ids
