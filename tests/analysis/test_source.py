"""Opening the event log for a report (``sameday.analysis.source``)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from sameday.analysis import source
from sameday.analysis.source import connect_ahead, open_events
from sameday.events import Exposure, SQLiteSink
from sameday.events.source import EventQuery


@pytest.fixture
def log(tmp_path: Path) -> str:
    with SQLiteSink(tmp_path / "events.db") as sink:
        sink.write_exposures(
            [
                Exposure(
                    request_id="r1",
                    time=1.0,
                    unit="u1",
                    surface="home",
                    items=("a",),
                    experiment="exp",
                    arm="control",
                )
            ]
        )
    return f"sqlite:///{tmp_path / 'events.db'}"


def test_the_connection_made_ahead_is_the_one_the_log_opens_in(
    log: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``connect_ahead`` makes one connection on a thread, taken by the next ``open_events``
    (with the report's settings); the one after makes its own."""
    made: list[duckdb.DuckDBPyConnection] = []
    connect = duckdb.connect

    def counted() -> duckdb.DuckDBPyConnection:
        made.append(connect())
        return made[-1]

    monkeypatch.setattr(source.duckdb, "connect", counted)
    connect_ahead()
    connect_ahead()  # still pending: no second thread, no second connection
    first = open_events(log, EventQuery("exp", ()))
    try:
        assert made == [first]
        assert first.execute("SELECT count(*) FROM exposures").fetchone() == (1,)
        setting = "SELECT current_setting('preserve_insertion_order')"
        assert first.execute(setting).fetchone() == (False,)
    finally:
        first.close()
    second = open_events(log, EventQuery("exp", ()))
    second.close()
    assert len(made) == 2 and made[1] is second


def test_a_connection_that_failed_ahead_fails_the_open(
    log: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> duckdb.DuckDBPyConnection:
        raise duckdb.IOException("no room for the database")

    monkeypatch.setattr(source.duckdb, "connect", broken)
    connect_ahead()
    with pytest.raises(duckdb.IOException, match="no room"):
        open_events(log, EventQuery("exp", ()))
    monkeypatch.undo()
    open_events(log, EventQuery("exp", ())).close()  # nothing left pending
