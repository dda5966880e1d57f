"""One contract, three backends: every event sink passes the same tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from sameday.errors import ConfigError, EventRejected
from sameday.events import EventSink, Exposure, MemorySink, SQLiteSink, open_sink
from sameday.events.postgres import PostgresSink
from tests.events.factories import T0, exposure, outcome


def test_written_records_read_back_equal_in_time_order(sink: EventSink) -> None:
    exposures = [exposure(i) for i in (4, 0, 3, 1, 2)]
    outcomes = [outcome(i) for i in (2, 0, 1)]
    assert sink.write_exposures(exposures) == 5
    assert sink.write_outcomes(outcomes) == 3
    assert list(sink.read_exposures()) == sorted(exposures, key=lambda e: e.time)
    assert list(sink.read_outcomes()) == sorted(outcomes, key=lambda o: o.time)


def test_optional_fields_and_exact_floats_survive(sink: EventSink) -> None:
    bare = Exposure(request_id="r", time=1_712_345_678.123456789, unit="u", surface="s", items=())
    interleaved = exposure(
        1, design="interleave", teams=("a", None, "b"), scores=None, extra={"coins": [0, 1]}
    )
    sink.write_exposures([bare, interleaved])
    assert list(sink.read_exposures()) == [interleaved, bare]
    (stored,) = sink.read_exposures(since=T0 + 1e6)
    assert stored.time == bare.time and stored.degraded is False and stored.teams is None


def test_the_model_that_scored_a_list_survives(sink: EventSink) -> None:
    scored = exposure(1, model="ranker/3")
    fallen_back = exposure(2, extra={"model_fallback": "timeout"})
    python = exposure(3, model="python:recs.rank:score", extra={})
    sink.write_exposures([scored, fallen_back, python])
    assert list(sink.read_exposures()) == [scored, fallen_back, python]
    assert [e.model for e in sink.read_exposures()] == ["ranker/3", None, "python:recs.rank:score"]


def test_repeated_ids_are_skipped(sink: EventSink) -> None:
    assert sink.write_exposures([exposure(0), exposure(1)]) == 2
    assert sink.write_exposures([exposure(1), exposure(2), exposure(2, unit="other")]) == 1
    assert sink.write_outcomes([outcome(0), outcome(0, value=9.0)]) == 1
    assert sink.write_outcomes([outcome(0)]) == 0
    assert [e.request_id for e in sink.read_exposures()] == ["req-00000", "req-00001", "req-00002"]
    assert [o.value for o in sink.read_outcomes()] == [1.0]
    assert next(iter(sink.read_exposures(since=T0 + 2))).unit == "u2"


def test_filters_by_experiment_and_time(sink: EventSink) -> None:
    sink.write_exposures([exposure(i) for i in range(10)])
    sink.write_outcomes([outcome(i, unit=f"u{i}") for i in range(10)])
    in_a = list(sink.read_exposures(experiment="exp-a"))
    assert [e.request_id for e in in_a] == [f"req-{i:05d}" for i in (0, 2, 4, 6, 8)]
    window = list(sink.read_exposures(since=T0 + 3, until=T0 + 6))
    assert [e.time - T0 for e in window] == [3.0, 4.0, 5.0]
    assert list(sink.read_exposures(experiment="nope")) == []
    # units exposed to exp-a: u0, u2, u4, u6, u1 (8 % 7), so their outcomes, in time order
    units = [o.unit for o in sink.read_outcomes(experiment="exp-a")]
    assert units == ["u0", "u1", "u2", "u4", "u6"]
    assert [o.unit for o in sink.read_outcomes(experiment="exp-a", until=T0 + 2)] == ["u0", "u1"]
    assert [o.unit for o in sink.read_outcomes(since=T0 + 8)] == ["u8", "u9"]


def test_reading_a_part_then_stopping_releases_the_connection(sink: EventSink) -> None:
    sink.write_exposures([exposure(i) for i in range(2500)])
    reader = sink.read_exposures()
    assert next(reader).request_id == "req-00000"
    reader.close()  # type: ignore[attr-defined]  # every backend's is a generator
    assert sum(1 for _ in sink.read_exposures(experiment="exp-b")) == 1250


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_refused_record_commits_nothing_of_its_batch(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'e.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    with open_sink(url) as sql_sink:
        with pytest.raises(EventRejected, match="refused"):
            sql_sink.write_outcomes([outcome(0), outcome(1, unit=None)])
        with pytest.raises(EventRejected, match="surrogate"):  # not UTF-8: no log takes it
            sql_sink.write_outcomes([outcome(0), outcome(1, name="click \ud800")])
        with pytest.raises(EventRejected, match="JSON"):
            sql_sink.write_exposures([exposure(0), exposure(1, extra={"x": object()})])
        assert list(sql_sink.read_outcomes()) == []
        assert list(sql_sink.read_exposures()) == []
        assert sql_sink.write_outcomes([outcome(0)]) == 1  # still usable


def test_open_sink_by_scheme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_sink("sqlite:///logs/events.db") as relative:
        assert isinstance(relative, SQLiteSink)
        assert relative.path == Path("logs/events.db")
    assert (tmp_path / "logs" / "events.db").is_file()
    with open_sink(f"sqlite:///{tmp_path / 'abs.db'}") as absolute:
        assert isinstance(absolute, SQLiteSink) and absolute.path.is_absolute()
    assert isinstance(open_sink("memory://"), MemorySink)
    for url in ("postgresql://u:secret@db:5433/ev", "postgresql+psycopg://u:secret@db:5433/ev"):
        pg = open_sink(url)  # connects lazily: nothing happens yet
        assert isinstance(pg, PostgresSink)
        assert repr(pg) == "PostgresSink('db:5433/ev')"
    for bad in ("mysql://x/y", "sqlite://", "events.db"):
        with pytest.raises(ConfigError, match="unsupported event log URL"):
            open_sink(bad)
