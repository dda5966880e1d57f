"""Memory of a long-running server: RSS over a million in-process requests, SQLite event log.

Each ``Client.recommend`` call assigns a unit to a two-arm A/B experiment, reads its list from the
embedded SQLite serving store and hands the exposure to the event writer, whose thread commits to
a SQLite event log, exactly as ``sameday serve`` does minus HTTP. The resident set size is read
from ``/proc/self/status`` every ``--every`` requests; a server whose memory stays flat shows the
same figure, give or take a few MB, from the first sample on. The first 100,000 requests warm up
(caches, the writer's batches), so the growth reported is from that sample to the last.

Run: ``.venv/bin/python benchmarks/memory_soak.py [--requests 1000000] [--every 100000]``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from sameday.events.sqlite import SQLiteSink
from sameday.events.writer import EventWriter
from sameday.serve.client import Client
from sameday.serve.state import build_state
from sameday.store.sqlite import SNAPSHOT_TTL, SQLiteStore
from sameday.testing import experiment_spec, load_lists, surface_spec

USERS = 20_000
SPECS = {
    ("surface", "home"): surface_spec("home", "personal", fallbacks=["popular"], n=10),
    ("experiment", "exp"): experiment_spec("exp", "home", {"control": "personal", "b": "als"}),
}


def rss_mb() -> float:
    """This process's resident set size, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "serving.db")
        load_lists(store, "popular", "q1", {"*": [f"pop-{j}" for j in range(50)]})
        for name in ("personal", "als"):
            lists = {
                f"user-{u}": [f"{name}-{(u * 7 + r) % 9000}" for r in range(20)]
                for u in range(USERS)
            }
            load_lists(store, name, f"{name}-1", lists)
        store.snapshot_ttl = SNAPSHOT_TTL
        sink = SQLiteSink(Path(folder) / "events.db")
        rng = random.Random(7)
        units = [f"user-{rng.randrange(USERS)}" for _ in range(args.every)]
        samples: list[tuple[int, float, float]] = []
        started = time.perf_counter()
        with Client(
            store, writer=EventWriter(sink), state=build_state(SPECS), refresh_interval=0
        ) as client:
            recommend = client.recommend
            for done in range(args.every, args.requests + 1, args.every):
                for unit in units:
                    recommend("home", unit)
                samples.append((done, rss_mb(), time.perf_counter() - started))
                print(
                    f"{done:>9,} requests  RSS {samples[-1][1]:7.1f} MB  {samples[-1][2]:6.1f} s",
                    flush=True,
                )
            assert client.writer is not None
            client.writer.flush(30)
            stats = client.writer.stats()
        sink.close()
    first, last = samples[0], samples[-1]
    per_100k = (last[1] - first[1]) / max(1, (last[0] - first[0])) * 100_000
    print(
        f"growth after warm-up: {last[1] - first[1]:+.1f} MB over {last[0] - first[0]:,} requests "
        f"({per_100k:+.2f} MB per 100,000); written {stats.written:,}, dropped {stats.dropped:,}"
    )


if __name__ == "__main__":
    main()
