"""Publish 200,000 rows as a whole command, against a bare ``executemany`` as a whole process.

Run: ``.venv/bin/python benchmarks/publish_command_bench.py [--rounds 7] [--keys 10000]``.

``benchmarks/publish_bench.py`` times ``publish`` inside one warm process; this one times what a
person or a pipeline's last step waits for: from starting the process to its exit, imports
included, in alternating rounds (the order flips every round, so a busy spell on the shared
machine hits both):

* **sameday**: ``python -m sameday publish bench --project P``, a SQLite serving store, the
  rows from ``source.parquet`` (10,000 keys x 20 items, seeded, each key's rows in random
  order): read, check, rank, encode, load, profile and drift gates, record, swap. Every round
  publishes again into the same project, as a daily job does (one unrecorded publish first, so
  the drift gates have history to compare with and the files are in the page cache).
* **baseline**: ``python benchmarks/publish_command_bench.py --child baseline DIR``: a script
  that imports only ``sqlite3`` and ``pyarrow.parquet``, reads the same file, and inserts its
  200,000 ``(key, item, score)`` rows with one ``executemany`` into a fresh
  ``PRIMARY KEY (key, item) WITHOUT ROWID`` table with the store's pragmas (WAL, ``synchronous
  = NORMAL``), in one transaction: the issue's "bare executemany of the same rows", as a
  process.
* **lean**: the same script reading the file with ``pq.ParquetFile(path).read()`` instead of
  ``pq.read_table``, which imports pandas (about 0.45 s of the baseline's CPU): the leanest
  bare script, so that the ratio does not lean on the baseline's own import.

The ratios are baseline time / sameday time (1.0x: as fast as the bare script; the target is at
least 0.7x), against each bare script. Every round is printed with the load average, then the
median ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _servers import CHILD_ENV, loadavg

ITEMS, SEED = 20, 7


def write_source(path: Path, keys: int) -> None:
    """Seeded rows: 20 distinct items per key with random scores, keys grouped, rows shuffled
    within each key (publish has to rank them)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(SEED)
    users = np.repeat(np.arange(keys), ITEMS)
    offsets = rng.choice(1_000_000, size=ITEMS, replace=False)
    items = (np.repeat(rng.integers(0, 1_000_000, keys), ITEMS) + np.tile(offsets, keys)) % 10**6
    names = pa.array([f"u{k:06d}" for k in range(keys)])
    catalogue = pa.array([f"i{i:06d}" for i in range(1_000_000)])
    table = pa.table(
        {
            "user_id": names.take(pa.array(users)),
            "item_id": catalogue.take(pa.array(items)),
            "score": rng.random(keys * ITEMS),
        }
    )
    pq.write_table(table, path)


def make_project(root: Path, source: Path) -> None:
    (root / "results").mkdir(parents=True)
    (root / "sameday.yaml").write_text(
        "name: bench\nstorage:\n  serving: sqlite:///.sameday/serving.db\n"
    )
    (root / "results" / "bench.yaml").write_text(
        f"name: bench\nsource:\n  path: {source}\n"
        "columns: {key: user_id, item: item_id, score: score}\nmax_items: 50\n"
    )


def bare_executemany(folder: Path, *, lean: bool = False) -> None:
    """The baseline process's work (see the module docstring)."""
    import sqlite3

    import pyarrow.parquet as pq

    source = folder / "source.parquet"
    table = pq.ParquetFile(source).read() if lean else pq.read_table(source)
    rows = zip(
        table.column("user_id").to_pylist(),
        table.column("item_id").to_pylist(),
        table.column("score").to_pylist(),
        strict=True,
    )
    path = folder / ("lean.db" if lean else "baseline.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(
        "CREATE TABLE recs (key TEXT NOT NULL, item TEXT NOT NULL, score REAL NOT NULL, "
        "PRIMARY KEY (key, item)) WITHOUT ROWID"
    )
    db.execute("BEGIN IMMEDIATE")
    db.executemany("INSERT INTO recs VALUES (?, ?, ?)", rows)
    db.execute("COMMIT")
    db.close()


def command(contender: str, folder: Path) -> list[str]:
    if contender in ("baseline", "lean"):
        return [sys.executable, __file__, "--child", contender, str(folder)]
    return [sys.executable, "-m", "sameday", "publish", "bench", "--project", str(folder / "p")]


def measure(contender: str, folder: Path) -> tuple[float, float]:
    """Wall seconds from starting the process to its exit, and its CPU seconds (all threads)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        command(contender, folder),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=CHILD_ENV,
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    errors = child.stderr.read().decode() if child.stderr else ""
    if status != 0:
        raise SystemExit(f"{contender} failed with status {status}: {errors}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        bare_executemany(Path(args.child[1]), lean=args.child[0] == "lean")
        return
    folder = Path(tempfile.mkdtemp(prefix="sameday-publish-command-"))
    ratios: dict[str, list[float]] = {"baseline": [], "lean": []}
    try:
        write_source(folder / "source.parquet", args.keys)
        make_project(folder / "p", folder / "source.parquet")
        measure("sameday", folder)  # unrecorded: history for the drift gates, page cache, .pyc
        measure("baseline", folder)
        measure("lean", folder)
        print(f"{args.keys * ITEMS:,} rows ({args.keys:,} keys x {ITEMS} items), SQLite")
        print(
            "| round | load | sameday s | baseline s | ratio | lean s | ratio "
            "| sameday CPU s | baseline CPU s | lean CPU s |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for number in range(1, args.rounds + 1):
            load = loadavg()
            order = ["sameday", "baseline", "lean"]
            if not number % 2:
                order.reverse()  # the order flips every round
            runs = {name: measure(name, folder) for name in order}
            ours, our_cpu = runs["sameday"]
            for name in ratios:
                ratios[name].append(runs[name][0] / ours)
            print(
                f"| {number} | {load} | {ours:.2f} | {runs['baseline'][0]:.2f} "
                f"| {ratios['baseline'][-1]:.2f}x | {runs['lean'][0]:.2f} "
                f"| {ratios['lean'][-1]:.2f}x | {our_cpu:.2f} | {runs['baseline'][1]:.2f} "
                f"| {runs['lean'][1]:.2f} |",
                flush=True,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for name, label in (("baseline", "a bare executemany"), ("lean", "the lean bare script")):
        met = sum(r >= 0.7 for r in ratios[name])
        print(
            f"median ratio {statistics.median(ratios[name]):.2f}x {label} as a process "
            f"({met} of {len(ratios[name])} rounds at least 0.7x)"
        )
    print(f"load now {loadavg()}")


if __name__ == "__main__":
    main()
