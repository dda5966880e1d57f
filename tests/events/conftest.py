"""The ``sink`` fixture: one fresh sink of every backend, so one test covers them all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sameday.events import EventSink, MemorySink, open_sink


@pytest.fixture(params=["memory", "sqlite", "postgres", "parquet"])
def sink(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventSink]:
    """A fresh, empty sink; PostgreSQL uses a new database on the real server."""
    if request.param == "memory":
        backend: EventSink = MemorySink()
    elif request.param == "sqlite":
        backend = open_sink(f"sqlite:///{tmp_path / 'events.db'}")
    elif request.param == "parquet":
        backend = open_sink(f"parquet:///{tmp_path / 'events'}")
    else:
        backend = open_sink(request.getfixturevalue("postgres_url"))
    with backend:
        yield backend
