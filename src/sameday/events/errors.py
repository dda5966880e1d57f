"""The two ways logging can fail, as sameday errors (both fit under ``sameday.errors``' tree).

::

    SamedayError
     ├── StoreUnavailable (ConnectionError)
     │    └── EventsUnavailable      the log cannot promise these records are durable: retry later
     └── EventRejected (ValueError)  a sink refused a record as invalid: retrying will not help

The HTTP layer answers ``503`` (with ``Retry-After``) to ``EventsUnavailable``; the sinks are
idempotent by request and event id, so a client that resends the same batch loses nothing and
duplicates nothing.
"""

from __future__ import annotations

from sameday.errors import SamedayError, StoreUnavailable


class EventsUnavailable(StoreUnavailable):
    """Records were not (or not yet) committed: the buffer is full, the sink is down, or a wait
    ran out of time. Nothing acknowledged is lost; the caller should retry the same records."""


class EventRejected(SamedayError, ValueError):
    """A sink refused a record as invalid (a value it cannot store); it is dropped, not retried."""
