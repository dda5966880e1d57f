"""What is particular to the SQLite sink: WAL mode, durability setting, and file errors."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from sameday.errors import EventRejected, StoreUnavailable
from sameday.events import SQLiteSink
from sameday.events._columns import (
    EXPOSURE_COLUMNS,
    OUTCOME_COLUMNS,
    exposure_rows,
    outcome_rows,
)
from tests.events.factories import exposure, outcome


def test_the_file_is_in_wal_mode_with_the_indexes_analysis_needs(tmp_path: Path) -> None:
    with SQLiteSink(tmp_path / "deep" / "er" / "events.db", synchronous="FULL") as sink:
        sink.write_exposures([exposure(0)])
        assert repr(sink).startswith("SQLiteSink(") and "events.db" in repr(sink)
    with closing(sqlite3.connect(tmp_path / "deep" / "er" / "events.db")) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        items = conn.execute("SELECT json_extract(items, '$[0]') FROM exposures").fetchone()
    assert {"exposures_experiment_time", "outcomes_unit_time"} <= indexes
    assert items == ("item-0",)


def test_two_sinks_on_one_file_share_it(tmp_path: Path) -> None:
    with SQLiteSink(tmp_path / "e.db") as one, SQLiteSink(tmp_path / "e.db") as two:
        one.write_exposures([exposure(0)])
        two.write_exposures([exposure(0), exposure(1)])
        assert len(list(one.read_exposures())) == 2


def test_a_file_that_cannot_be_a_database_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreUnavailable, match=r"cannot open the event log .*dir\.db"):
        SQLiteSink(tmp_path / "dir.db")
    (tmp_path / "text.db").write_text("not a database, just words " * 100)
    with pytest.raises(StoreUnavailable, match=r"text\.db"):
        SQLiteSink(tmp_path / "text.db")
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteSink(tmp_path / "x.db", synchronous="OFF")  # type: ignore[arg-type]


def test_a_vanished_file_is_unavailable_to_readers(tmp_path: Path) -> None:
    with SQLiteSink(tmp_path / "e.db") as sink:
        (tmp_path / "e.db").unlink()
        (tmp_path / "e.db").mkdir()
        with pytest.raises(StoreUnavailable, match="cannot read the event log"):
            list(sink.read_exposures())


class OldSQLite(SQLiteSink):
    """A sink whose library allows 999 parameters per statement, as SQLite before 3.32 did."""

    def _connect(self) -> sqlite3.Connection:
        conn = super()._connect()
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        return conn


def test_statements_fit_the_librarys_parameter_limit(tmp_path: Path) -> None:
    with OldSQLite(tmp_path / "e.db") as sink:
        assert sink.write_exposures([exposure(i) for i in range(1_500)]) == 1_500
        assert len(list(sink.read_exposures())) == 1_500


class TracedSink(SQLiteSink):
    """A sink that records the INSERT statements its write connection prepares, by shape."""

    def __init__(self, path: Path) -> None:
        self.shapes: set[tuple[str, int]] = set()
        super().__init__(path)

    def _connect(self) -> sqlite3.Connection:
        conn = super()._connect()

        def trace(sql: str) -> None:
            if sql.startswith("INSERT INTO"):
                table, rows = sql.split()[2], sql.count("(") - 1  # one group a row, plus columns
                self.shapes.add((table, rows))

        conn.set_trace_callback(trace)
        return conn


@pytest.mark.parametrize("sink_class", [TracedSink, type("OldTraced", (TracedSink, OldSQLite), {})])
def test_inserts_of_every_batch_size_share_a_few_statement_shapes(
    tmp_path: Path, sink_class: type[TracedSink]
) -> None:
    # sqlite3 keeps up to 128 prepared statements per connection; a multi-row INSERT of every
    # batch size the writer happens to take (1 to 10,000 rows) would fill that cache with big
    # statements and hold megabytes. A few fixed sizes keep it small and flat.
    with sink_class(tmp_path / "e.db") as sink:
        start = 0
        for size in [*range(1, 130), 999, 1000, 1001, 2500]:
            batch = [exposure(start + i) for i in range(size)]
            outcomes = [outcome(start + i) for i in range(size)]
            assert sink.write_exposures(batch) == size
            assert sink.write_outcomes(outcomes) == size
            start += size
        assert len(list(sink.read_exposures())) == start
        for table in ("exposures", "outcomes"):
            sizes = sorted(rows for name, rows in sink.shapes if name == table)
            assert len(sizes) <= 11, sizes


def test_degraded_is_stored_as_the_integers_a_bool_was_bound_as(tmp_path: Path) -> None:
    # The sink binds `degraded` as 1 or 0 (an int binds in a tenth of a bool's time); what the
    # file holds must be what binding the bool stored: INTEGER 1 and 0, read back as bools.
    batch = [exposure(0, degraded=True), exposure(1), exposure(2, degraded=True)]
    with SQLiteSink(tmp_path / "e.db") as sink:
        sink.write_exposures(batch)
        assert [e.degraded for e in sink.read_exposures()] == [True, False, True]
    with closing(sqlite3.connect(tmp_path / "e.db")) as conn:
        stored = conn.execute(
            "SELECT degraded, typeof(degraded) FROM exposures ORDER BY request_id"
        ).fetchall()
        conn.execute("CREATE TABLE bound AS SELECT * FROM exposures WHERE 0")
        marks = ", ".join("?" * len(EXPOSURE_COLUMNS))
        conn.executemany(f"INSERT INTO bound VALUES ({marks})", exposure_rows(batch))
        same = conn.execute(
            "SELECT count(*) FROM (SELECT * FROM exposures EXCEPT SELECT * FROM bound)"
        ).fetchone()
    assert stored == [(1, "integer"), (0, "integer"), (1, "integer")]
    assert same == (0,)  # every column as the shared rows (bools bound as bools) store it
    assert exposure_rows(batch)[0][-1] is True  # PostgreSQL's boolean column still gets a bool
    assert exposure_rows(batch, integer_flags=True)[0][-1] == 1


def _stored_as_bound(path: Path, table: str, rows: list[tuple[object, ...]]) -> tuple[int, int]:
    """Rows of ``table`` that differ from ``rows`` bound whole (every ``None`` as a NULL), and
    how many rows the table holds."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"CREATE TABLE bound AS SELECT * FROM {table} WHERE 0")
        marks = ", ".join("?" * len(rows[0]))
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        conn.executemany(f"INSERT INTO bound ({', '.join(columns)}) VALUES ({marks})", rows)
        differ = conn.execute(
            f"SELECT count(*) FROM (SELECT * FROM {table} EXCEPT SELECT * FROM bound)"
        ).fetchone()[0]
        return differ, conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.mark.parametrize(
    "kinds",
    [("plain",), ("ab",), ("interleave",), ("plain", "ab", "interleave"), ("ab", "plain")],
)
def test_columns_null_in_a_whole_batch_are_stored_as_binding_none_stores_them(
    tmp_path: Path, kinds: tuple[str, ...]
) -> None:
    # The sink leaves out of its INSERT the columns that are None in every row of a batch
    # (binding None is slow); the file must hold exactly what binding every None held.
    experiment_fields = "experiment arm hash_attribute hash_value hash_version seed bucket"
    plain = dict.fromkeys([*experiment_fields.split(), "propensity", "design", "scores"])
    shapes = {
        "plain": plain,
        "ab": {},
        "interleave": {"design": "interleave", "arm": None, "teams": ("a", None, "b")},
    }
    batch = [exposure(i, **shapes[kinds[i % len(kinds)]]) for i in range(40)]
    outcomes = [
        outcome(i, item=None, request_id=None if i % 2 else f"req-{i:05d}") for i in range(9)
    ]
    with SQLiteSink(tmp_path / "e.db") as sink:
        assert sink.write_exposures(batch) == len(batch)
        assert sink.write_outcomes(outcomes) == len(outcomes)
        assert list(sink.read_exposures()) == batch
    rows = exposure_rows(batch, integer_flags=True)
    assert _stored_as_bound(tmp_path / "e.db", "exposures", rows) == (0, len(batch))
    assert len(rows[0]) == len(EXPOSURE_COLUMNS)
    with SQLiteSink(tmp_path / "o.db") as sink:
        sink.write_outcomes(outcomes)
    stored = _stored_as_bound(tmp_path / "o.db", "outcomes", outcome_rows(outcomes))
    assert stored == (0, len(outcomes)) and len(OUTCOME_COLUMNS) == 7


def test_a_record_missing_a_required_field_is_still_refused_alone(tmp_path: Path) -> None:
    # A NOT NULL column left out (None in the whole batch) fails as binding None failed.
    with SQLiteSink(tmp_path / "e.db") as sink, pytest.raises(EventRejected, match="NOT NULL"):
        sink.write_exposures([exposure(0, unit=None)])
