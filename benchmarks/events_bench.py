"""Event logging: the serving thread's cost per exposure, and sustained write throughput.

Measured in one run, each against a baseline:

- ``log_exposure`` ns/call on the calling thread, while the flusher commits in the background,
  against a bare ``deque.append`` (the floor of any in-memory hand-over);
- records/s through ``EventWriter`` to SQLite, against a bare ``sqlite3`` ``executemany`` of the
  same rows (pre-built tuples, same table, same pragmas, 1,000 rows a transaction);
- records/s through ``EventWriter`` to PostgreSQL, against a bare psycopg ``executemany`` of the
  same rows (``INSERT … ON CONFLICT DO NOTHING``, 1,000 rows a transaction);
- the latency of an acknowledged outcome (``log_outcomes([one]).wait()``) on SQLite, which is
  what ``POST /v1/events`` adds to a request;
- records/s through ``EventWriter`` to the Parquet sink (a local folder: its spool fsyncs every
  commit, and full segments ship to Parquet on its own thread meanwhile), its acknowledgement
  latency, the rate of shipping what is left at close, and bytes per exposure on disk in SQLite
  and in Parquet.

Run: ``.venv/bin/python benchmarks/events_bench.py [--records 200000]``. PostgreSQL is read from
``SAMEDAY_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``); a scratch
database is created and dropped; the PostgreSQL rows are skipped if the server is unreachable.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from sameday.events import EventSink, EventWriter, Exposure, MemorySink, Outcome, SQLiteSink
from sameday.events._columns import EXPOSURE_COLUMNS, exposure_rows

T0 = 1_700_000_000.0


def exposures(n: int, tag: str = "") -> list[Exposure]:
    """``n`` realistic exposures: a 10-item list from an A/B experiment."""
    return [
        Exposure(
            request_id=f"{tag}req-{i}",
            time=T0 + i * 1e-3,
            unit=f"user-{i % 5000}",
            surface="home",
            items=tuple(f"item-{(i + k) % 997}" for k in range(10)),
            experiment="new-ranker",
            arm="treatment" if i % 2 else "control",
            hash_attribute="id",
            hash_value=f"user-{i % 5000}",
            hash_version=2,
            seed="new-ranker",
            bucket=(i % 1000) / 1000,
            scores=tuple(1.0 - k / 10 for k in range(10)),
            snapshot_versions={"personal": "20240501T0300", "popular": "20240501T0100"},
            propensity=0.5,
            design="ab",
        )
        for i in range(n)
    ]


def random_exposures(n: int, seed: int = 5) -> list[Exposure]:
    """``n`` exposures with random ids, units of a million, items of 100,000 and scores."""
    rng = random.Random(seed)
    return [
        Exposure(
            request_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            time=T0 + i * 1e-3,
            unit=f"user-{rng.randrange(1_000_000)}",
            surface="home",
            items=tuple(f"item-{rng.randrange(100_000)}" for _ in range(10)),
            experiment="new-ranker",
            arm=rng.choice(("control", "treatment")),
            hash_attribute="id",
            hash_value=f"user-{i}",
            hash_version=2,
            seed="new-ranker",
            bucket=rng.random(),
            scores=tuple(sorted((round(rng.random(), 4) for _ in range(10)), reverse=True)),
            snapshot_versions={"personal": "20240501T0300", "popular": "20240501T0100"},
            propensity=0.5,
            design="ab",
        )
        for i in range(n)
    ]


def best_of(repeats: int, run: Callable[[], float]) -> float:
    return min(run() for _ in range(repeats))


def handover_ns(records: list[Exposure], sink: EventSink | None) -> float:
    """ns per call of ``log_exposure`` (or of a bare ``deque.append`` when ``sink`` is None)."""
    if sink is None:
        queue: deque[Exposure] = deque()
        start = time.perf_counter_ns()
        for record in records:
            queue.append(record)
        return (time.perf_counter_ns() - start) / len(records)
    with EventWriter(sink, max_queued=len(records) + 1) as writer:
        start = time.perf_counter_ns()
        for record in records:
            writer.log_exposure(record)
        elapsed = time.perf_counter_ns() - start
        writer.flush(600)
    return elapsed / len(records)


def writer_rate(records: list[Exposure], sink: EventSink) -> float:
    """Records/s from the first ``log_exposure`` until the last is committed."""
    with EventWriter(sink, max_queued=len(records) + 1) as writer:
        start = time.perf_counter()
        for record in records:
            writer.log_exposure(record)
        writer.flush(600)
        return len(records) / (time.perf_counter() - start)


def bare_sqlite_rate(rows: list[tuple[Any, ...]], path: Path) -> float:
    SQLiteSink(path).close()  # the same table and indexes
    marks = ", ".join("?" * len(EXPOSURE_COLUMNS))
    sql = (
        f"INSERT INTO exposures ({', '.join(EXPOSURE_COLUMNS)}) VALUES ({marks}) "
        "ON CONFLICT (request_id) DO NOTHING"
    )
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        start = time.perf_counter()
        for i in range(0, len(rows), 1000):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, rows[i : i + 1000])
            conn.execute("COMMIT")
        return len(rows) / (time.perf_counter() - start)


def ack_latency_ms(sink: EventSink, n: int = 500) -> tuple[float, float]:
    """p50 and p99 milliseconds of acknowledging one outcome."""
    samples = []
    with EventWriter(sink) as writer:
        for i in range(n):
            event = Outcome(event_id=f"ack-{i}", unit="u", name="click", time=T0 + i)
            start = time.perf_counter()
            writer.log_outcomes([event]).wait(10)
            samples.append((time.perf_counter() - start) * 1e3)
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[98]


def parquet_rows(records: list[Exposure], tmp: Path, bare: float) -> list[tuple[str, str, str]]:
    """The Parquet sink's rows: write rate, acknowledgement, shipping, bytes per exposure."""
    from sameday.events._lake import LocalLake
    from sameday.events.parquet import ParquetSink

    lake = tmp / "lake"
    with ParquetSink(LocalLake(lake), spool=tmp / "spool") as sink:
        rate = writer_rate(records, sink)
        sizes = sum(path.stat().st_size for path in (tmp / "spool").glob("*.db*"))
        start = time.perf_counter()
        sink.ship()
        ship = time.perf_counter() - start
    with ParquetSink(LocalLake(tmp / "ack-lake"), spool=tmp / "ack-spool") as sink:
        p50, p99 = ack_latency_ms(sink)
    # bytes on disk, of lists that compress as real ones do (random ids, items and scores)
    n = 50_000
    varied = random_exposures(n)
    with SQLiteSink(tmp / "bytes.db") as sqlite_sink:
        sqlite_sink.write_exposures(varied)
    sqlite = (tmp / "bytes.db").stat().st_size
    with ParquetSink(LocalLake(tmp / "bytes-lake"), spool=tmp / "bytes-spool") as sink:
        sink.write_exposures(varied)
    shipped = sum(path.stat().st_size for path in (tmp / "bytes-lake").rglob("*.parquet"))
    return [
        ("EventWriter → ParquetSink (local)", f"{rate:,.0f} rec/s", f"{rate / bare:.2f}x"),
        ("outcome ack, Parquet p50 / p99", f"{p50:.2f} / {p99:.2f} ms", ""),
        ("shipping the last segment", f"{sizes / ship / 1e6:,.0f} MB/s of spool", ""),
        ("bytes/exposure, SQLite / Parquet", f"{sqlite / n:,.0f} / {shipped / n:,.0f}", ""),
    ]


@contextmanager
def scratch_postgres() -> Iterator[str | None]:
    """A fresh database on the PostgreSQL server, dropped afterwards; None if unreachable."""
    import psycopg

    base = os.environ.get(
        "SAMEDAY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    ).replace("+psycopg", "")
    name = f"sameday_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(base, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        yield None
        return
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield base.rsplit("/", 1)[0] + "/" + name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bare_postgres_rate(rows: list[tuple[Any, ...]], url: str) -> float:
    import psycopg

    from sameday.events.postgres import PostgresSink

    with PostgresSink(url) as sink:  # the same table and indexes
        list(sink.read_exposures(experiment="none"))
    marks = ", ".join("%s" for _ in EXPOSURE_COLUMNS)
    sql = (
        f"INSERT INTO exposures ({', '.join(EXPOSURE_COLUMNS)}) VALUES ({marks}) "
        "ON CONFLICT (request_id) DO NOTHING"
    )
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        start = time.perf_counter()
        for i in range(0, len(rows), 1000):
            cur.executemany(sql, rows[i : i + 1000])
            conn.commit()
        return len(rows) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    args = parser.parse_args()
    n = args.records
    records = exposures(n)
    results: list[tuple[str, str, str]] = []

    floor = best_of(5, lambda: handover_ns(records, None))
    memory = best_of(3, lambda: handover_ns(records, MemorySink()))
    with tempfile.TemporaryDirectory() as tmp:
        paths = iter(Path(tmp) / f"h{i}.db" for i in range(100))

        def on_sqlite() -> float:
            with SQLiteSink(next(paths)) as sink:
                return handover_ns(records, sink)

        busy = best_of(3, on_sqlite)
        results += [
            ("deque.append (floor)", f"{floor:.0f} ns/call", "1.00x"),
            ("log_exposure, MemorySink", f"{memory:.0f} ns/call", f"{memory / floor:.2f}x"),
            ("log_exposure, SQLite flushing", f"{busy:.0f} ns/call", f"{busy / floor:.2f}x"),
        ]

        bare = bare_sqlite_rate(exposure_rows(records), Path(tmp) / "bare.db")
        with SQLiteSink(Path(tmp) / "writer.db") as sink:
            ours = writer_rate(records, sink)
        with SQLiteSink(Path(tmp) / "ack.db") as sink:
            p50, p99 = ack_latency_ms(sink)
        results += [
            ("sqlite3 executemany (baseline)", f"{bare:,.0f} rec/s", "1.00x"),
            ("EventWriter → SQLiteSink", f"{ours:,.0f} rec/s", f"{ours / bare:.2f}x"),
            ("outcome ack, SQLite p50 / p99", f"{p50:.2f} / {p99:.2f} ms", ""),
        ]
        results += parquet_rows(records, Path(tmp), bare)

    from sameday.events.postgres import PostgresSink

    pg_records = exposures(min(n, 100_000), tag="pg-")
    with scratch_postgres() as url:
        if url is None:
            results.append(("PostgreSQL", "unreachable: skipped", ""))
        else:
            pg_bare = bare_postgres_rate(exposure_rows(pg_records), url)
            with PostgresSink(url) as pg:
                list(pg.read_exposures(experiment="none"))  # connect, create tables: untimed
                pg_ours = writer_rate(exposures(len(pg_records), tag="w-"), pg)
            results += [
                ("psycopg executemany (PG baseline)", f"{pg_bare:,.0f} rec/s", "1.00x"),
                (
                    "EventWriter → PostgresSink",
                    f"{pg_ours:,.0f} rec/s",
                    f"{pg_ours / pg_bare:.2f}x",
                ),
                ("vs sqlite3 executemany", "", f"{pg_ours / bare:.2f}x"),
            ]

    print(f"events_bench: {n:,} exposures (10 items each), best of 3-5 where repeated\n")
    print(f"| {'measure':<36} | {'figure':>22} | {'ratio':>7} |")
    print(f"|{'-' * 38}|{'-' * 24}|{'-' * 9}|")
    for name, figure, ratio in results:
        print(f"| {name:<36} | {figure:>22} | {ratio:>7} |")


if __name__ == "__main__":
    main()
