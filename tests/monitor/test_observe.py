"""Observing datasets for real: files read by DuckDB, NPZ headers, DuckDB and PostgreSQL tables."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from sameday.config.datasets import Dataset
from sameday.monitor.observe import observe

TS = [datetime(2026, 12, 1, 8), datetime(2026, 12, 2, 9, 30), None, datetime(2026, 11, 30)]


def write_parquet(path: Path, users: list[str | None], times: list[datetime | None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "user": pa.array(users, pa.string()),
            "clicks": pa.array(range(len(users)), pa.int64()),
            "ts": pa.array(times, pa.timestamp("us")),
        }
    )
    pq.write_table(table, path)


def test_a_parquet_glob_gives_schema_rows_nulls_and_freshness(tmp_path: Path) -> None:
    write_parquet(tmp_path / "data" / "a.parquet", ["u1", None, "u3", "u4"], TS)
    write_parquet(tmp_path / "data" / "b.parquet", [None, None], [None, None])
    seen = observe(Dataset(path="data/*.parquet", time_column="ts"), tmp_path)
    assert seen.error is None
    assert seen.columns == (("user", "VARCHAR"), ("clicks", "BIGINT"), ("ts", "TIMESTAMP"))
    assert seen.row_count == 6
    assert seen.null_shares == {"user": 3 / 6, "clicks": 0.0, "ts": 3 / 6}
    assert seen.freshness == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    assert seen.files == 2
    expected = sum(p.stat().st_size for p in (tmp_path / "data").iterdir())
    assert seen.bytes == expected


def test_csv_and_jsonl_are_read_by_their_extension(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("user,day\nu1,2026-12-01\n,2026-12-03\nu3,\n")
    csv = observe(Dataset(path="a.csv", time_column="day"), tmp_path)
    assert csv.columns == (("user", "VARCHAR"), ("day", "DATE"))
    assert (csv.row_count, csv.null_shares) == (3, {"user": 1 / 3, "day": 1 / 3})
    assert csv.freshness == datetime(2026, 12, 3, tzinfo=UTC)
    (tmp_path / "a.jsonl").write_text('{"user": "u1", "n": 1}\n{"user": null, "n": 2}\n')
    jsonl = observe(Dataset(path="a.jsonl"), tmp_path)
    assert jsonl.columns == (("user", "VARCHAR"), ("n", "BIGINT"))
    assert (jsonl.row_count, jsonl.null_shares["user"], jsonl.freshness) == (2, 0.5, None)


def test_npz_is_read_by_its_headers_and_other_files_by_size(tmp_path: Path) -> None:
    np.savez_compressed(
        tmp_path / "m.npz",
        factors=np.zeros((50, 8), dtype=np.float32),
        ids=np.arange(50, dtype=np.int64),
        shape=np.asarray([50, 8]),
    )
    seen = observe(Dataset(path="m.npz"), tmp_path)
    assert seen.columns == (("factors", "float32[8]"), ("ids", "int64"), ("shape", "int64"))
    assert (seen.row_count, seen.files, seen.null_shares) == (50, 1, {})
    (tmp_path / "model.bin").write_bytes(b"\0" * 300)
    raw = observe(Dataset(path="model.bin"), tmp_path)
    assert (raw.columns, raw.row_count, raw.files, raw.bytes) == (None, None, 1, 300)


def test_what_cannot_be_read_is_an_error_not_an_exception(tmp_path: Path) -> None:
    missing = observe(Dataset(path="data/*.parquet"), tmp_path)
    assert missing.error == "no file matches data/*.parquet"
    assert (missing.files, missing.bytes) == (0, 0)
    (tmp_path / "a.csv").write_text("user,day\nu1,2026-12-01\n")
    wrong = observe(Dataset(path="a.csv", time_column="ts"), tmp_path)
    assert wrong.error is not None
    assert "time_column 'ts' is not a column (columns: user, day)" in wrong.error
    (tmp_path / "broken.parquet").write_text("not parquet")
    broken = observe(Dataset(path="broken.parquet"), tmp_path)
    assert broken.error is not None and broken.error.startswith("InvalidInputException")


def test_a_duckdb_table(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("CREATE SCHEMA mart")
        con.execute("CREATE TABLE mart.orders (id INTEGER, amount DOUBLE, placed TIMESTAMPTZ)")
        con.execute(
            "INSERT INTO mart.orders VALUES (1, 2.5, '2026-12-01 10:00+00'), "
            "(2, NULL, '2026-12-02 11:00+00')"
        )
    seen = observe(
        Dataset(table="mart.orders", url="duckdb:///w.duckdb", time_column="placed"), tmp_path
    )
    assert seen.error is None
    assert seen.columns == (
        ("id", "INTEGER"),
        ("amount", "DOUBLE"),
        ("placed", "TIMESTAMP WITH TIME ZONE"),
    )
    assert (seen.row_count, seen.null_shares) == (2, {"id": 0.0, "amount": 0.5, "placed": 0.0})
    assert seen.freshness == datetime(2026, 12, 2, 11, tzinfo=UTC)
    gone = observe(Dataset(table="t", url="duckdb:///nowhere.duckdb"), tmp_path)
    assert gone.error is not None and "no DuckDB database at" in gone.error


def test_a_postgresql_table(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql('CREATE TABLE "Events" (id int, kind text, at date)')
        connection.exec_driver_sql(
            """INSERT INTO "Events" VALUES (1, 'click', '2026-12-01'), (2, NULL, '2026-12-03'),
            (3, NULL, NULL), (4, 'view', '2026-11-02')"""
        )
    engine.dispose()
    url = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    seen = observe(Dataset(table="Events", url=url, time_column="at"), Path("."))
    assert seen.error is None
    assert seen.columns == (("id", "integer"), ("kind", "text"), ("at", "date"))
    assert seen.row_count == 4
    assert seen.null_shares == {"id": 0.0, "kind": 0.5, "at": 0.25}
    assert seen.freshness == datetime(2026, 12, 3, tzinfo=UTC)
    missing = observe(Dataset(table="public.nothing", url=url), Path("."))
    assert missing.error is not None and "no table public.nothing" in missing.error


@pytest.mark.parametrize("password", ["hunter2"])
def test_an_unreachable_postgresql_never_shows_its_password(password: str) -> None:
    url = f"postgresql://etl:{password}@127.0.0.1:1/warehouse"
    seen = observe(Dataset(table="events", url=url), Path("."))
    assert seen.error is not None
    assert "reading events at postgresql://etl:***@127.0.0.1:1/warehouse failed" in seen.error
    assert password not in seen.error
