"""Publish a 2,000,000-row snapshot (100,000 keys x 20 items) into each serving store.

Run: ``.venv/bin/python benchmarks/publish_bench.py`` (about a minute; needs Redis at
``SAMEDAY_BENCH_REDIS_URL``, default ``redis://127.0.0.1:6379/14``, whose ``sameday:*`` keys
for the benchmark's result set are removed afterwards).

For each backend it times the full ``sameday.results.publish`` (read Parquet, rank, check,
encode, load, record, swap), in rows per second of the 2,000,000 source rows, against a raw
baseline measured in the same run. The baselines are what issue 4 names, taken literally:

* **SQLite: "a bare executemany of the same rows".** The same rows are the 2,000,000
  ``(key, item, score)`` rows of the snapshot, as a hand-written serving table would hold them:
  ``recs (key, item, score, PRIMARY KEY (key, item)) WITHOUT ROWID`` (the smallest table that can
  serve a key's list without a full scan), with the store's pragmas (WAL, ``synchronous =
  NORMAL``), one transaction, tuples built before the clock starts. Why this reading and not
  "the 100,000 stored ``(key, blob)`` rows": the issue says *rows* for SQLite and *bytes* for
  Redis in the same sentence, and its unit is the 2,000,000-row snapshot; the question it asks
  is whether ``sameday publish`` is as fast as writing those rows into SQLite by hand. That
  baseline is easy to beat, because storing one blob per key (the store's design) writes 20x
  fewer rows, so the benchmark also reports a second, stricter ratio against the *store floor*:
  a bare ``executemany`` of the exact ``(key, blob)`` rows publish stores, into an equivalent
  table with the same pragmas. The floor is the insert alone, so no publish can reach 1.0x of it;
  it shows what reading, ranking, checking and encoding cost on top of the write.
* **Redis: "a bare redis-py pipeline of the same bytes".** One non-transactional pipeline of
  ``HSET`` commands carrying exactly the ``(key, blob)`` pairs publish writes, 1,000 fields per
  command, executed once, on one connection. A Redis *floor* is reported too: the same commands
  packed by redis-py before the clock starts, so only the writing and the server's work are
  timed. Publish packs its commands in bulk and can beat the baseline's load, but not the
  floor: the server's time to take the bytes is part of every publish.

The source's rows are grouped by key, each key's rows in random order, so publish has to rank
them. Pipelines usually write top-N lists already ranked; a second Redis publish reads the same
rows written that way (``ranked.parquet``), against the same baseline, to show what skipping the
sort is worth.

Baseline and publish runs alternate, ``REPEATS`` times, and the best of each is kept. It also
reports single-key lookup latency (p50, p99) through ``ServingStore.get``, in process, the
publish phases (``check`` runs in a thread during ``load``, so the phases overlap), and the load
average before and after the run (the machine is often shared: compare ratios, which are
measured in the same run, not seconds).
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import redis
import yaml

from sameday.config import load_project
from sameday.results import publish
from sameday.results.encode import EncodedLists
from sameday.results.read import connect, read_rows
from sameday.store import open_store
from sameday.store.redis import FIELDS_PER_COMMAND

KEYS, ITEMS, SEED, REPEATS, LOOKUPS = 100_000, 20, 7, 3, 20_000
REDIS_URL = os.environ.get("SAMEDAY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def write_source(path: Path) -> None:
    """Seeded rows: 20 distinct items per user with random scores."""
    rng = np.random.default_rng(SEED)
    users = np.repeat(np.arange(KEYS), ITEMS)
    offsets = rng.choice(1_000_000, size=ITEMS, replace=False)
    items = (np.repeat(rng.integers(0, 1_000_000, KEYS), ITEMS) + np.tile(offsets, KEYS)) % 10**6
    names = pa.array([f"u{k:06d}" for k in range(KEYS)])
    catalogue = pa.array([f"i{i:06d}" for i in range(1_000_000)])
    table = pa.table(
        {
            "user_id": names.take(pa.array(users)),
            "item_id": catalogue.take(pa.array(items)),
            "score": rng.random(KEYS * ITEMS),
        }
    )
    pq.write_table(table, path)


def write_ranked(source: Path, target: Path) -> None:
    """The same rows, written as pipelines usually write top-N lists: by key, then rank."""
    table = pq.read_table(source)
    order = [("user_id", "ascending"), ("score", "descending"), ("item_id", "ascending")]
    pq.write_table(table.take(pc.sort_indices(table, sort_keys=order)), target)


def make_project(
    root: Path, serving: str, source: str = "source.parquet", name: str = "bench"
) -> Path:
    (root / "results").mkdir(parents=True)
    (root / "sameday.yaml").write_text(
        yaml.safe_dump({"name": "bench", "storage": {"serving": serving}})
    )
    spec = {
        "name": name,
        "source": {"path": str(root.parent / source)},
        "columns": {"key": "user_id", "item": "item_id", "score": "score"},
        "max_items": 50,
    }
    (root / "results" / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    return root


def encoded_pairs(project_root: Path) -> list[tuple[str, bytes]]:
    project = load_project(project_root)
    con = connect(project)
    rows = read_rows(project, project.result_sets["bench"], con=con)
    pairs = [pair for chunk in EncodedLists(rows, con).chunks() for pair in chunk]
    con.close()
    return pairs


def source_rows(path: Path) -> list[tuple[Any, ...]]:
    """The source's 2,000,000 ``(key, item, score)`` rows as Python tuples, in file order."""
    table = pq.read_table(path)
    return list(
        zip(
            table.column("user_id").to_pylist(),
            table.column("item_id").to_pylist(),
            table.column("score").to_pylist(),
            strict=True,
        )
    )


def sqlite_baseline(folder: Path, ddl: str, insert: str, rows: list[tuple[Any, ...]]) -> float:
    """Seconds for one bare ``executemany`` of ``rows`` into a fresh table made by ``ddl``."""
    path = folder / f"baseline-{time.monotonic_ns()}.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(ddl)
    started = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.executemany(insert, rows)
    db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def redis_baseline(pairs: list[tuple[str, bytes]]) -> float:
    client = redis.Redis.from_url(REDIS_URL)
    started = time.perf_counter()
    pipe = client.pipeline(transaction=False)
    for start in range(0, len(pairs), FIELDS_PER_COMMAND):
        pipe.hset("bench:baseline", mapping=dict(pairs[start : start + FIELDS_PER_COMMAND]))
    pipe.execute()
    elapsed = time.perf_counter() - started
    client.unlink("bench:baseline")
    client.close()
    return elapsed


def redis_floor(pairs: list[tuple[str, bytes]]) -> float:
    """Seconds for the server to take the same ``HSET`` commands, packed by redis-py before the
    clock starts and written on one connection: what the server alone needs."""
    client = redis.Redis.from_url(REDIS_URL)
    connection = client.connection_pool.get_connection()
    commands = [
        (
            "HSET",
            "bench:floor",
            *(part for pair in pairs[start : start + FIELDS_PER_COMMAND] for part in pair),
        )
        for start in range(0, len(pairs), FIELDS_PER_COMMAND)
    ]
    packed = connection.pack_commands(commands)
    started = time.perf_counter()
    connection.send_packed_command(packed)
    for _ in commands:
        connection.read_response()
    elapsed = time.perf_counter() - started
    client.connection_pool.release(connection)
    client.unlink("bench:floor")
    client.close()
    return elapsed


def publish_once(root: Path) -> tuple[float, dict[str, float]]:
    project = load_project(root)
    started = time.perf_counter()
    result = publish(project, next(iter(project.result_sets)))
    return time.perf_counter() - started, result.seconds


def lookups(root: Path) -> tuple[float, float]:
    project = load_project(root)
    name = next(iter(project.result_sets))
    rng = random.Random(SEED)
    keys = [f"u{rng.randrange(KEYS):06d}" for _ in range(LOOKUPS)]
    samples = []
    with open_store(project.url(project.settings.storage.serving)) as store:
        for key in keys:
            started = time.perf_counter_ns()
            store.get(name, key)
            samples.append(time.perf_counter_ns() - started)
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49] / 1000, cuts[98] / 1000


ROWS_DDL = (
    "CREATE TABLE recs (key TEXT NOT NULL, item TEXT NOT NULL, score REAL NOT NULL, "
    "PRIMARY KEY (key, item)) WITHOUT ROWID"
)
BLOBS_DDL = (
    "CREATE TABLE lists (slot INTEGER NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, "
    "PRIMARY KEY (slot, key)) WITHOUT ROWID"
)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    rows = KEYS * ITEMS
    before = loadavg()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_source(folder / "source.parquet")
        write_ranked(folder / "source.parquet", folder / "ranked.parquet")
        sqlite_root = make_project(folder / "sqlite", "sqlite:///.sameday/serving.db")
        redis_root = make_project(folder / "redis", REDIS_URL)
        ranked_root = make_project(folder / "ranked", REDIS_URL, "ranked.parquet", "ranked")
        pairs = encoded_pairs(sqlite_root)
        tuples = source_rows(folder / "source.parquet")
        insert_rows = "INSERT INTO recs VALUES (?, ?, ?)"
        insert_blobs = "INSERT INTO lists VALUES (1, ?, ?)"
        baseline_runs: dict[str, Callable[[], float]] = {
            "SQLite": lambda: sqlite_baseline(folder, ROWS_DDL, insert_rows, tuples),
            "SQLite floor": lambda: sqlite_baseline(folder, BLOBS_DDL, insert_blobs, pairs),
            "Redis": lambda: redis_baseline(pairs),
            "Redis floor": lambda: redis_floor(pairs),
            "Redis ranked": lambda: redis_baseline(pairs),
        }
        roots = {"SQLite": sqlite_root, "Redis": redis_root, "Redis ranked": ranked_root}
        baselines: dict[str, float] = {}
        runs: dict[str, list[tuple[float, dict[str, float]]]] = {name: [] for name in roots}
        for _ in range(REPEATS):  # interleaved, so a busy spell on a shared machine hits both
            for name, baseline in baseline_runs.items():
                baselines[name] = min(baselines.get(name, float("inf")), baseline())
                if name in roots:
                    runs[name].append(publish_once(roots[name]))
        measured = {}
        for name, root in roots.items():
            elapsed, seconds = min(runs[name], key=lambda run: run[0])
            measured[name] = (elapsed, seconds, *lookups(root))
        client = redis.Redis.from_url(REDIS_URL)
        for pattern in ("sameday:{bench}:*", "sameday:{ranked}:*"):
            for key in client.scan_iter(pattern):
                client.unlink(key)
        client.close()
    lines = [
        f"{rows:,} rows ({KEYS:,} keys x {ITEMS} items), best of {REPEATS}; "
        f"load average {before} before, {loadavg()} after",
        "",
        "| backend | baseline | publish s | publish rows/s | baseline s | baseline rows/s "
        "| ratio | get p50 µs | get p99 µs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    labels = {
        "SQLite": "bare executemany of the 2,000,000 rows (issue)",
        "SQLite floor": "bare executemany of the 100,000 stored blobs (floor)",
        "Redis": "bare pipeline of the same bytes (issue)",
        "Redis floor": "the same HSETs packed before the clock starts (floor)",
        "Redis ranked": "bare pipeline of the same bytes; source written ranked",
    }
    for name, base in baselines.items():
        backend = name if name in measured else name.split()[0]
        elapsed, _, p50, p99 = measured[backend]
        lines.append(
            f"| {name.split()[0]} | {labels[name]} | {elapsed:.2f} | {rows / elapsed:,.0f} "
            f"| {base:.2f} | {rows / base:,.0f} | {base / elapsed:.2f}x | {p50:.1f} | {p99:.1f} |"
        )
    lines += ["", "Publish phases (s; check runs in a thread from the end of read): "]
    lines[-1] += "; ".join(f"{name}: {measured[name][1]}" for name in measured)
    sys.stdout.write("\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
