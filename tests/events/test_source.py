"""The ``EventSource`` contract: the same exposures and outcomes in, the same DuckDB relations
out, from SQLite, PostgreSQL and memory; what a report reads is what the sink wrote."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sameday.errors import ConfigError, StoreUnavailable
from sameday.events import MemorySink
from sameday.events.memory import MemorySource
from sameday.events.records import Exposure
from sameday.events.sink import EventSink, open_sink
from sameday.events.source import EventQuery, EventSource, open_source

from .factories import exposure, outcome

EXPOSURES = [
    *[exposure(i) for i in range(40)],
    # interleaved lists carry teams and no arm: only a slot-level query reads them
    *[
        exposure(i, arm=None, design="interleave", teams=("a", "b", "a"), experiment="exp-a")
        for i in range(40, 46)
    ],
    exposure(46, unit="stranger", experiment="exp-c"),
]
OUTCOMES = [
    *[outcome(i) for i in range(0, 46, 3)],
    *[outcome(i, name="purchase", value=2.5, event_id=f"buy-{i}") for i in range(0, 46, 5)],
    outcome(90, unit="stranger", event_id="stranger-click"),
    outcome(91, name="scroll", event_id="scroll-1"),
]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventSource]:
    """A source over a log holding ``EXPOSURES`` and ``OUTCOMES``, written through the sink of
    the same backend."""
    if request.param == "memory":
        sink: EventSink = MemorySink()
        url = ""
    else:
        url = (
            f"sqlite:///{tmp_path / 'events.db'}"
            if request.param == "sqlite"
            else request.getfixturevalue("postgres_url")
        )
        sink = open_sink(url)
    with sink:
        sink.write_exposures(EXPOSURES)
        sink.write_outcomes(OUTCOMES)
        opened = MemorySource(sink) if isinstance(sink, MemorySink) else open_source(url)
        with opened:
            yield opened


def _relation(source: EventSource, query: EventQuery) -> dict[str, list[tuple[Any, ...]]]:
    con = duckdb.connect()
    try:
        source.load(con, query)
        out = {}
        for table in ("log_exposures", "log_outcomes"):
            cursor = con.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            rows = []
            for row in cursor.fetchall():
                fields = dict(zip(names, row, strict=True))
                for key in ("items", "teams"):  # JSON text: jsonb spaces it differently
                    if fields.get(key) is not None:
                        fields[key] = json.loads(fields[key])
                rows.append(tuple((k, _hashable(v)) for k, v in fields.items()))
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _expected_exposure(e: Exposure, query: EventQuery) -> tuple[tuple[str, Any], ...]:
    slots = query.slots
    fields: dict[str, Any] = {
        "request_id": e.request_id,
        "time": e.time,
        "unit": e.unit,
        "arm": e.arm,
        "surface": e.surface,
        "items": tuple(e.items) if slots else None,
        "teams": (None if e.teams is None else tuple(e.teams)) if slots else None,
        "seed": e.seed,
    }
    for key in query.dimensions:
        fields[key] = e.extra.get(key)
    return tuple(fields.items())


def _expected(query: EventQuery) -> dict[str, list[tuple[Any, ...]]]:
    exposed = [
        e
        for e in EXPOSURES
        if e.experiment == query.experiment and (query.slots or e.arm is not None)
    ]
    units = {e.unit for e in EXPOSURES if e.experiment == query.experiment}
    outcomes = [o for o in OUTCOMES if o.name in query.events and o.unit in units]
    return {
        "log_exposures": sorted((_expected_exposure(e, query) for e in exposed), key=repr),
        "log_outcomes": sorted(
            (
                tuple(
                    {
                        "request_id": o.request_id,
                        "unit": o.unit,
                        "name": o.name,
                        "value": o.value,
                        "time": o.time,
                        "item": o.item,
                    }.items()
                )
                for o in outcomes
            ),
            key=repr,
        ),
    }


@pytest.mark.parametrize(
    "query",
    [
        EventQuery("exp-a", ("click", "purchase")),
        EventQuery("exp-a", ("click",), dimensions=("note",), slots=True),
        EventQuery("exp-b", ()),
        EventQuery("nobody", ("click",)),
    ],
    ids=["ab", "slots-and-dimensions", "no-events", "unknown-experiment"],
)
def test_every_source_hands_duckdb_the_same_relations(
    source: EventSource, query: EventQuery
) -> None:
    assert _relation(source, query) == _expected(query)


def test_an_empty_log_gives_empty_typed_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    open_sink(url).close()
    con = duckdb.connect()
    with open_source(url) as source:
        source.load(con, EventQuery("exp", ("click",)))
    kinds = dict(con.execute("DESCRIBE log_outcomes").fetchall()[i][:2] for i in range(6))
    assert kinds["value"] == "DOUBLE" and kinds["name"] == "VARCHAR"
    assert con.execute("SELECT count(*) FROM log_exposures").fetchone() == (0,)


def test_open_source_names_the_missing_file_and_refuses_unknown_schemes(tmp_path: Path) -> None:
    source = open_source(f"sqlite:///{tmp_path / 'missing.db'}")
    with source, pytest.raises(StoreUnavailable, match="does not exist"):
        source.load(duckdb.connect(), EventQuery("exp", ()))
    with pytest.raises(ConfigError, match=r"storage\.events: unsupported event log URL"):
        open_source("redis://cache/0")
    assert repr(open_source("memory://")).startswith("MemorySource(")
