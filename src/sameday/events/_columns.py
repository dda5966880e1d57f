"""The table layout the SQL sinks share: column names, and records ↔ row tuples.

One column per record field, in field order. List- and dict-valued fields (items, scores,
snapshot versions, teams, extra) are JSON text, so one table row is one record and analysis
tools (DuckDB, ``jsonb`` in PostgreSQL) can open them up in SQL. ``Exposure.model``, the newest
field, is the one exception: it is kept as the key ``model`` of ``extra``, so that the tables
of every sink, and the files and databases written before it, keep their layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from sameday.errors import EventRejected
from sameday.events.records import Exposure, Outcome, from_json
from sameday.events.source import OUTCOME_FIELDS, EventQuery

EXPOSURE_COLUMNS = (
    "request_id",
    "time",
    "unit",
    "surface",
    "experiment",
    "arm",
    "hash_attribute",
    "hash_value",
    "hash_version",
    "seed",
    "bucket",
    "items",
    "scores",
    "snapshot_versions",
    "propensity",
    "design",
    "teams",
    "extra",
    "degraded",
)
OUTCOME_COLUMNS = ("event_id", "request_id", "unit", "name", "value", "time", "item")

_JSON_EXPOSURE_COLUMNS = frozenset({"items", "scores", "snapshot_versions", "teams", "extra"})


def exposure_rows(
    batch: Sequence[Exposure], *, integer_flags: bool = False
) -> list[tuple[Any, ...]]:
    """Row tuples (in :data:`EXPOSURE_COLUMNS` order) for ``batch``; with ``integer_flags``,
    ``degraded`` as ``1`` or ``0`` instead of a ``bool`` (SQLite, which has no booleans).

    This runs in the event writer's thread, which holds the GIL the serving thread needs, so it
    calls orjson directly rather than through :func:`json_text` (the same text) and writes the
    usual empty ``extra`` as a constant. Why ``integer_flags``: SQLite stores a ``bool`` as the
    same integer, but Python's ``sqlite3`` binds a value whose type is not exactly ``int``,
    ``float``, ``str`` or ``bytearray`` through its adapter lookup, about 260 ns a value against
    20 ns for an ``int`` (CPython 3.11).

    Raises:
        EventRejected: a record holds something that is not JSON-serialisable (in ``extra``).
    """
    dumps = orjson.dumps
    try:
        return [
            (
                e.request_id,
                e.time,
                e.unit,
                e.surface,
                e.experiment,
                e.arm,
                e.hash_attribute,
                e.hash_value,
                e.hash_version,
                e.seed,
                e.bucket,
                dumps(e.items).decode(),
                None if e.scores is None else dumps(e.scores).decode(),
                dumps(e.snapshot_versions).decode(),
                e.propensity,
                e.design,
                None if e.teams is None else dumps(e.teams).decode(),
                _extra(e, dumps),
                (1 if e.degraded else 0) if integer_flags else e.degraded,
            )
            for e in batch
        ]
    except TypeError as exc:
        raise EventRejected(f"an exposure cannot be stored as JSON: {exc}") from exc


def _extra(exposure: Exposure, dumps: Any) -> str:
    """The ``extra`` column: the record's ``extra``, with ``model`` when a model scored it."""
    if exposure.model is not None:
        return str(dumps({**exposure.extra, "model": exposure.model}).decode())
    return str(dumps(exposure.extra).decode()) if exposure.extra else "{}"


def outcome_rows(batch: Sequence[Outcome]) -> list[tuple[Any, ...]]:
    """Row tuples (in :data:`OUTCOME_COLUMNS` order) for ``batch``."""
    return [(o.event_id, o.request_id, o.unit, o.name, o.value, o.time, o.item) for o in batch]


def exposure_from_row(row: Sequence[Any]) -> Exposure:
    """The exposure a row (in :data:`EXPOSURE_COLUMNS` order) stores."""
    (
        request_id,
        time,
        unit,
        surface,
        experiment,
        arm,
        hash_attribute,
        hash_value,
        hash_version,
        seed,
        bucket,
        items,
        scores,
        snapshot_versions,
        propensity,
        design,
        teams,
        extra,
        degraded,
    ) = row
    stored = from_json(extra)
    model = stored.pop("model", None) if isinstance(stored, dict) else None
    return Exposure(
        request_id=request_id,
        time=time,
        unit=unit,
        surface=surface,
        items=tuple(from_json(items)),
        experiment=experiment,
        arm=arm,
        hash_attribute=hash_attribute,
        hash_value=hash_value,
        hash_version=hash_version,
        seed=seed,
        bucket=bucket,
        scores=None if scores is None else tuple(from_json(scores)),
        snapshot_versions=from_json(snapshot_versions),
        propensity=propensity,
        design=design,
        teams=None if teams is None else tuple(from_json(teams)),
        extra=stored,
        degraded=bool(degraded),
        model=model,
    )


def outcome_from_row(row: Sequence[Any]) -> Outcome:
    """The outcome a row (in :data:`OUTCOME_COLUMNS` order) stores."""
    event_id, request_id, unit, name, value, time, item = row
    return Outcome(
        event_id=event_id,
        request_id=request_id,
        unit=unit,
        name=name,
        value=value,
        time=time,
        item=item,
    )


@dataclass(frozen=True)
class Dialect:
    """How a SQL sink spells what the read queries need.

    Attributes:
        mark: the parameter placeholder (``?`` or ``%s``).
        json_field: the SQL of one field of ``extra`` as text, ``{}`` marking the key; ``None``
            to select ``extra`` whole instead of the dimensions, for the source to open it up in
            DuckDB (faster than SQLite's JSON functions, and the same text as Parquet's).
        json_cast: appended to JSON columns in a SELECT (``::text`` where they are ``jsonb``).
        collate: appended to the id in ORDER BY, so ties in time sort the same everywhere.
    """

    mark: str
    json_field: str | None
    json_cast: str = ""
    collate: str = ""


def exposures_query(
    dialect: Dialect, experiment: str | None, since: float | None, until: float | None
) -> tuple[str, list[Any]]:
    """The SELECT of stored exposures, oldest first, and its parameters (see ``EventSink``)."""
    where, params = _filters(dialect, since, until, experiment, "experiment = {}")
    columns = ", ".join(
        f"{c}{dialect.json_cast}" if c in _JSON_EXPOSURE_COLUMNS else c for c in EXPOSURE_COLUMNS
    )
    order = f" ORDER BY time, request_id{dialect.collate}"
    return f"SELECT {columns} FROM exposures{where}{order}", params


def exposure_counts_query(
    dialect: Dialect, experiment: str, since: float | None, until: float | None
) -> tuple[str, list[Any]]:
    """The exposures and distinct units per arm of ``experiment`` (see
    ``EventSink.count_exposures``), one indexed range scan, and its parameters."""
    where, params = _filters(dialect, since, until, experiment, "experiment = {}")
    return (
        f"SELECT arm, count(*), count(DISTINCT unit) FROM exposures{where} GROUP BY arm",
        params,
    )


def outcomes_query(
    dialect: Dialect, experiment: str | None, since: float | None, until: float | None
) -> tuple[str, list[Any]]:
    """The SELECT of stored outcomes, oldest first, and its parameters (see ``EventSink``)."""
    condition = "unit IN (SELECT unit FROM exposures WHERE experiment = {})"
    where, params = _filters(dialect, since, until, experiment, condition)
    order = f" ORDER BY time, event_id{dialect.collate}"
    return f"SELECT {', '.join(OUTCOME_COLUMNS)} FROM outcomes{where}{order}", params


def analysis_queries(
    dialect: Dialect, query: EventQuery
) -> tuple[tuple[str, list[Any]], tuple[str, list[Any]]]:
    """The SELECTs (with parameters) of what an :class:`EventQuery` reads: the rows of
    ``log_exposures`` and of ``log_outcomes``, filtered in the database (see
    :mod:`sameday.events.source`)."""
    mark = dialect.mark
    slots = f"items{dialect.json_cast}, teams{dialect.json_cast}" if query.slots else "NULL, NULL"
    json_field = dialect.json_field
    if json_field is None:
        dims = ", extra" if query.dimensions else ""
    else:
        dims = "".join(", " + json_field.format(d) for d in query.dimensions)
    arm = "" if query.slots else " AND arm IS NOT NULL"
    exposures = (
        f"SELECT request_id, time, unit, arm, surface, {slots}, seed{dims} FROM exposures "
        f"WHERE experiment = {mark}{arm}"
    )
    names = ", ".join([mark] * len(query.events)) or "NULL"
    outcomes = (
        f"SELECT {', '.join(OUTCOME_FIELDS)} "
        f"FROM outcomes WHERE name IN ({names}) AND unit IN "
        f"(SELECT unit FROM exposures WHERE experiment = {mark})"
    )
    return (exposures, [query.experiment]), (outcomes, [*query.events, query.experiment])


def _filters(
    dialect: Dialect,
    since: float | None,
    until: float | None,
    experiment: str | None,
    condition: str,
) -> tuple[str, list[Any]]:
    """``" WHERE ..."`` for ``since <= time < until`` and, given an experiment, ``condition``
    (``{}`` marks its parameter), with the parameters; nothing when no filter is given."""
    where: list[str] = []
    params: list[Any] = []
    for test, value in (("time >= {}", since), ("time < {}", until), (condition, experiment)):
        if value is not None:
            where.append(test.format(dialect.mark))
            params.append(value)
    return (" WHERE " + " AND ".join(where) if where else ""), params
