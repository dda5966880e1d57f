"""What the SQL sinks share: reading records back with one set of queries.

SQLite and PostgreSQL differ in how they connect and stream rows (:meth:`SQLSink._read`), not in
what they select: the queries come from :mod:`sameday.events._columns`, spelled by each
backend's :class:`~sameday.events._columns.Dialect`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar

from sameday.events._columns import (
    Dialect,
    exposure_counts_query,
    exposure_from_row,
    exposures_query,
    outcome_from_row,
    outcomes_query,
)
from sameday.events.records import Exposure, Outcome
from sameday.events.sink import ArmCount, EventSink


class SQLSink(EventSink):
    """An :class:`EventSink` over SQL tables laid out as :mod:`sameday.events._columns` says."""

    dialect: ClassVar[Dialect]

    @abstractmethod
    def _read(self, sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
        """The rows of ``sql``, streamed on a connection of the read's own."""

    def read_exposures(
        self,
        *,
        experiment: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> Iterator[Exposure]:
        """Stored exposures, oldest first (see :class:`EventSink` for the filters)."""
        for row in self._read(*exposures_query(self.dialect, experiment, since, until)):
            yield exposure_from_row(row)

    def count_exposures(
        self, experiment: str, *, since: float | None = None, until: float | None = None
    ) -> dict[str, ArmCount]:
        """Exposures and units per arm, counted in SQL (see :meth:`EventSink.count_exposures`)."""
        query = exposure_counts_query(self.dialect, experiment, since, until)
        return {arm or "": ArmCount(int(n), int(u)) for arm, n, u in self._read(*query)}

    def read_outcomes(
        self,
        *,
        experiment: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> Iterator[Outcome]:
        """Stored outcomes, oldest first (see :class:`EventSink` for the filters)."""
        for row in self._read(*outcomes_query(self.dialect, experiment, since, until)):
            yield outcome_from_row(row)
