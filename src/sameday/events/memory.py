"""``MemorySink``: an event sink in two lists, for tests and for trying things out.

It keeps the promises of the real backends (atomic, idempotent batches; the same read filters
and order), so code tested against it behaves the same on SQLite and PostgreSQL. Setting
``available = False`` makes every write raise ``StoreUnavailable``, which is how tests of the
layers above (the writer's retries, the HTTP layer's 503) take the sink down and bring it back.
:class:`MemorySource` reads a memory sink's records for a report, as the SQL sources read theirs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from sameday.errors import StoreUnavailable
from sameday.events.records import Exposure, Outcome
from sameday.events.sink import EventSink
from sameday.events.source import EventQuery, EventSource

if TYPE_CHECKING:
    import duckdb


class MemorySink(EventSink):
    """An event sink held in process memory; see the module docstring.

    Attributes:
        available: when ``False``, writes raise ``StoreUnavailable`` and commit nothing.
    """

    def __init__(self) -> None:
        self.available = True
        self._exposures: dict[str, Exposure] = {}
        self._outcomes: dict[str, Outcome] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> MemorySink:
        """A new, empty sink for ``memory://`` (the URL holds nothing else)."""
        return cls()

    def __repr__(self) -> str:
        return (
            f"MemorySink(exposures={len(self._exposures)}, outcomes={len(self._outcomes)}, "
            f"available={self.available})"
        )

    def _check(self) -> None:
        if not self.available:
            raise StoreUnavailable("the memory sink is switched off (available = False)")

    def write_exposures(self, batch: Sequence[Exposure]) -> int:
        """Keep the exposures whose request id is new (see :meth:`EventSink.write_exposures`)."""
        with self._lock:
            self._check()
            before = len(self._exposures)
            for exposure in batch:
                self._exposures.setdefault(exposure.request_id, exposure)
            return len(self._exposures) - before

    def write_outcomes(self, batch: Sequence[Outcome]) -> int:
        """Keep the outcomes whose event id is new (see :meth:`EventSink.write_outcomes`)."""
        with self._lock:
            self._check()
            before = len(self._outcomes)
            for outcome in batch:
                self._outcomes.setdefault(outcome.event_id, outcome)
            return len(self._outcomes) - before

    def read_exposures(
        self,
        *,
        experiment: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> Iterator[Exposure]:
        """Stored exposures matching the filters, oldest first."""
        with self._lock:
            stored = list(self._exposures.values())
        chosen = [
            e
            for e in stored
            if (experiment is None or e.experiment == experiment) and _within(e.time, since, until)
        ]
        yield from sorted(chosen, key=lambda e: (e.time, e.request_id))

    def read_outcomes(
        self,
        *,
        experiment: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> Iterator[Outcome]:
        """Stored outcomes matching the filters, oldest first."""
        with self._lock:
            stored = list(self._outcomes.values())
            units = (
                None
                if experiment is None
                else {e.unit for e in self._exposures.values() if e.experiment == experiment}
            )
        chosen = [
            o
            for o in stored
            if (units is None or o.unit in units) and _within(o.time, since, until)
        ]
        yield from sorted(chosen, key=lambda o: (o.time, o.event_id))


class MemorySource(EventSource):
    """The records of a :class:`MemorySink`, read for a report.

    Args:
        sink: whose records to read; a new, empty one when omitted (``memory://``).
    """

    def __init__(self, sink: MemorySink | None = None) -> None:
        self.sink = sink if sink is not None else MemorySink()

    @classmethod
    def from_url(cls, url: str) -> MemorySource:
        """A source over a new, empty memory sink, for ``memory://``."""
        return cls()

    def __repr__(self) -> str:
        return f"MemorySource({self.sink!r})"

    def load(self, con: duckdb.DuckDBPyConnection, query: EventQuery) -> None:
        """Put ``query``'s rows into ``con`` (see :meth:`EventSource.load`)."""
        from sameday.events._arrow import OUTCOME_SCHEMA, exposure_schema, register_rows

        exposures = [
            e for e in self.sink.read_exposures(experiment=query.experiment) if query.keeps(e.arm)
        ]
        register_rows(
            con,
            "log_exposures",
            exposure_schema(query),
            [_exposure_row(e, query) for e in exposures],
        )
        names = set(query.events)
        outcomes = [
            (o.request_id, o.unit, o.name, o.value, o.time, o.item)
            for o in self.sink.read_outcomes(experiment=query.experiment)
            if o.name in names
        ]
        register_rows(con, "log_outcomes", OUTCOME_SCHEMA, outcomes)


def _exposure_row(e: Exposure, query: EventQuery) -> tuple[Any, ...]:
    """The ``log_exposures`` row of ``e``, lists as JSON text as the SQL sinks store them."""
    items = teams = None
    if query.slots:
        items = orjson.dumps(e.items).decode()
        teams = None if e.teams is None else orjson.dumps(e.teams).decode()
    dims = tuple(_text(e.extra.get(d)) for d in query.dimensions)
    return (e.request_id, e.time, e.unit, e.arm, e.surface, items, teams, e.seed, *dims)


def _text(value: Any) -> str | None:
    """A dimension's value as the SQL sources read it: strings as they are, anything else as
    its JSON text (``true``, ``3.5``)."""
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _within(time: float, since: float | None, until: float | None) -> bool:
    return (since is None or time >= since) and (until is None or time < until)
