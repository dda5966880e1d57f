"""Dimensions read back as the same text from every event source, whatever their JSON type.

A request attribute may be a string, a boolean or a number; the exposure's ``extra`` keeps its
JSON type, and analysis reads each dimension as text. Every backend must give the same text for
the same value (``true``, ``3.5``), or one segment would have two names and a targeting rule
proposed from one log would not match the requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from sameday.events import MemorySink
from sameday.events.memory import MemorySource
from sameday.events.sink import EventSink, open_sink
from sameday.events.source import EventQuery, EventSource, open_source

from .factories import exposure

VALUES = [
    {"platform": "ios", "is_new": True, "activity": 3.5, "visits": 3},
    {"platform": "web", "is_new": False, "activity": 0, "visits": None},
    {"platform": "é ünïcode"},
]
DIMENSIONS = ("platform", "is_new", "activity", "visits")
EXPECTED = [
    ("ios", "true", "3.5", "3"),
    ("web", "false", "0", None),
    ("é ünïcode", None, None, None),
]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventSource]:
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
        sink.write_exposures([exposure(2 * i, extra=extra) for i, extra in enumerate(VALUES)])
        opened = MemorySource(sink) if isinstance(sink, MemorySink) else open_source(url)
        with opened:
            yield opened


def test_dimensions_are_the_same_text_in_every_source(source: EventSource) -> None:
    con = duckdb.connect()
    try:
        source.load(con, EventQuery("exp-a", ("click",), dimensions=DIMENSIONS))
        rows = con.execute(
            f"SELECT {', '.join(DIMENSIONS)} FROM log_exposures ORDER BY request_id"
        ).fetchall()
    finally:
        con.close()
    assert rows == EXPECTED
