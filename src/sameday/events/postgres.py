"""``PostgresSink``: the event log in PostgreSQL, for several serving replicas and long histories.

Why this shape:

- **Lazy, self-healing connection.** Nothing connects until the first write or read, and a
  connection that fails is dropped and reopened on the next call. A server therefore starts while
  PostgreSQL is down, and the writer's retries bring the log back by themselves when it returns.
- **COPY into a staging table, then one INSERT … ON CONFLICT DO NOTHING.** COPY is the fastest
  way in; the INSERT makes the batch idempotent by ``request_id`` / ``event_id``; both run in one
  transaction, so a batch is committed whole or not at all. The staging tables are temporary
  (per connection) and emptied at every commit.
- **Schema created if missing**, under an advisory lock so replicas starting together do not
  race. Lists and dicts are ``jsonb`` (queryable in SQL); times are ``double precision`` epoch
  seconds, exactly as logged (``to_timestamp(time)`` gives a ``timestamptz``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

try:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict
except ImportError as exc:  # pragma: no cover - psycopg is in the dev environment
    raise ImportError("PostgresSink needs psycopg 3: pip install 'sameday[postgres]'") from exc

from sameday.errors import EventRejected, StoreUnavailable
from sameday.events._columns import (
    EXPOSURE_COLUMNS,
    OUTCOME_COLUMNS,
    Dialect,
    exposure_counts_query,
    exposure_from_row,
    exposure_rows,
    exposures_query,
    outcome_from_row,
    outcome_rows,
    outcomes_query,
)
from sameday.events.records import Exposure, Outcome
from sameday.events.sink import ArmCount, EventSink

_DIALECT = Dialect("%s", json_cast="::text", collate=' COLLATE "C"')
"""JSON columns are ``jsonb`` (read back as text); ids order bytewise, as in SQLite."""
_SCHEMA_LOCK = 0x5A3ED4E7
"""Advisory-lock key held while the tables are created."""

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS exposures (
        request_id text PRIMARY KEY,
        time double precision NOT NULL,
        unit text NOT NULL,
        surface text NOT NULL,
        experiment text,
        arm text,
        hash_attribute text,
        hash_value text,
        hash_version integer,
        seed text,
        bucket double precision,
        items jsonb NOT NULL,
        scores jsonb,
        snapshot_versions jsonb NOT NULL,
        propensity double precision,
        design text,
        teams jsonb,
        extra jsonb NOT NULL,
        degraded boolean NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS exposures_experiment_time ON exposures (experiment, time)",
    "CREATE INDEX IF NOT EXISTS exposures_unit ON exposures (unit)",
    """CREATE TABLE IF NOT EXISTS outcomes (
        event_id text PRIMARY KEY,
        request_id text,
        unit text NOT NULL,
        name text NOT NULL,
        value double precision NOT NULL,
        time double precision NOT NULL,
        item text
    )""",
    "CREATE INDEX IF NOT EXISTS outcomes_time ON outcomes (time)",
    "CREATE INDEX IF NOT EXISTS outcomes_unit_time ON outcomes (unit, time)",
]


class PostgresSink(EventSink):
    """The event log in a PostgreSQL database; see the module docstring.

    Args:
        url: ``postgresql://user:password@host:5432/db``; the SQLAlchemy form
            ``postgresql+psycopg://...`` is accepted too.
        connect_timeout: seconds to wait for the server before reporting it unreachable.
    """

    def __init__(self, url: str, *, connect_timeout: int = 5) -> None:
        scheme, sep, rest = url.partition("://")
        if scheme.lower() not in {"postgresql", "postgresql+psycopg", "postgres"} or not sep:
            raise ValueError(f"not a PostgreSQL URL: {url.split('@')[-1]!r}")
        self._conninfo = "postgresql://" + rest
        params = conninfo_to_dict(self._conninfo)
        self.where = (
            f"{params.get('host', 'localhost')}:{params.get('port', 5432)}/{params.get('dbname')}"
        )
        self._connect_timeout = connect_timeout
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PostgresSink({self.where!r})"

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self._conninfo, connect_timeout=self._connect_timeout)
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"the PostgreSQL event log at {self.where} is unreachable: {exc}".strip()
                + "; check storage.events in sameday.yaml and that the server is up"
            ) from exc

    def _writer(self) -> psycopg.Connection[Any]:
        """The write connection, opened (with the schema and staging tables) when missing."""
        if self._conn is None:
            conn = self._connect()
            try:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                    for statement in _SCHEMA:
                        conn.execute(statement)
                for table in ("exposures", "outcomes"):
                    conn.execute(
                        f"CREATE TEMP TABLE {table}_stage (LIKE {table}) ON COMMIT DELETE ROWS"
                    )
                conn.commit()
            except psycopg.Error as exc:
                conn.close()
                raise StoreUnavailable(
                    f"cannot prepare the event log tables at {self.where}: {exc}"
                ) from exc
            self._conn = conn
        return self._conn

    def _write(self, table: str, key: str, columns: Sequence[str], rows: list[Any]) -> int:
        if not rows:
            return 0
        names = ", ".join(columns)
        with self._lock:
            conn = self._writer()
            try:
                with conn.transaction(), conn.cursor() as cur:
                    with cur.copy(f"COPY {table}_stage ({names}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                    cur.execute(
                        f"INSERT INTO {table} ({names}) SELECT {names} FROM {table}_stage "
                        f"ON CONFLICT ({key}) DO NOTHING"
                    )
                    return cur.rowcount
            except (psycopg.DataError, psycopg.IntegrityError, UnicodeEncodeError) as exc:
                raise EventRejected(f"PostgreSQL at {self.where} refused a record: {exc}") from exc
            except psycopg.Error as exc:
                self._conn = None
                conn.close()
                raise StoreUnavailable(
                    f"cannot write to the PostgreSQL event log at {self.where}: {exc}"
                ) from exc

    def write_exposures(self, batch: Sequence[Exposure]) -> int:
        """Commit exposures (see :meth:`EventSink.write_exposures`)."""
        return self._write("exposures", "request_id", EXPOSURE_COLUMNS, exposure_rows(batch))

    def write_outcomes(self, batch: Sequence[Outcome]) -> int:
        """Commit outcomes (see :meth:`EventSink.write_outcomes`)."""
        return self._write("outcomes", "event_id", OUTCOME_COLUMNS, outcome_rows(batch))

    def _read(self, sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
        """Stream rows through a server-side cursor on a connection of its own."""
        with self._lock:
            self._writer()  # makes sure the tables exist
        with self._connect() as conn:
            try:
                with conn.cursor(name="sameday_events_read") as cur:
                    cur.itersize = 1000
                    cur.execute(sql, params)
                    yield from cur
            except psycopg.Error as exc:
                raise StoreUnavailable(
                    f"cannot read the PostgreSQL event log at {self.where}: {exc}"
                ) from exc

    def read_exposures(
        self,
        *,
        experiment: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> Iterator[Exposure]:
        """Stored exposures, oldest first (see :class:`EventSink` for the filters)."""
        for row in self._read(*exposures_query(_DIALECT, experiment, since, until)):
            yield exposure_from_row(row)

    def count_exposures(
        self, experiment: str, *, since: float | None = None, until: float | None = None
    ) -> dict[str, ArmCount]:
        """Exposures and units per arm, counted in SQL (see :meth:`EventSink.count_exposures`)."""
        query = exposure_counts_query(_DIALECT, experiment, since, until)
        return {arm or "": ArmCount(int(n), int(u)) for arm, n, u in self._read(*query)}

    def read_outcomes(
        self,
        *,
        experiment: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> Iterator[Outcome]:
        """Stored outcomes, oldest first (see :class:`EventSink` for the filters)."""
        for row in self._read(*outcomes_query(_DIALECT, experiment, since, until)):
            yield outcome_from_row(row)

    def close(self) -> None:
        """Close the write connection (a later write would open a new one)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
