"""In-process serving speed: ``Client.recommend`` calls per second on one thread.

Each call does the whole job: GrowthBook-compatible assignment to a two-arm A/B experiment, a
lookup in the embedded SQLite serving store (a prefix of the unit's 20-item list; the store is
opened as ``Client.from_project`` opens it for ``sameday serve``), fallback filling, and handing
the exposure to the event writer. Units are drawn uniformly from 100,000, so
almost every lookup reads a different row. Two event-log set-ups are measured in the same run:
the writer committing to the embedded SQLite log (its thread competes for the GIL, as it does in
production), and a memory sink (the serving path's own cost). Target (issue: serving): at least
50,000 calls/s. Two more rows (issue 20) send three request attributes with every call, once to an
experiment that records none of them and once to one that declares them as ``dimensions:`` (so
each exposure carries them in ``extra``): their ratio is what recording dimensions costs.

The issue calibrates its machine ("growthbook 4.0 takes about 8.5 µs a call here"), and machines
here differ by 3x or more from one day to the next. With growthbook-python installed (the
``bench`` extra), the benchmark also times ``GrowthBook.run`` for a two-arm experiment in the same
run and prints the target restated in that unit: 50,000 calls/s at 8.5 µs per ``GrowthBook.run``
means one call must take at most 20 / 8.5 = 2.35 ``GrowthBook.run`` times.

Run: ``.venv/bin/python benchmarks/client_bench.py``.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sameday.events.memory import MemorySink
from sameday.events.sink import EventSink
from sameday.events.sqlite import SQLiteSink
from sameday.events.writer import EventWriter
from sameday.serve.client import Client
from sameday.serve.state import build_state
from sameday.store.sqlite import SNAPSHOT_TTL, SQLiteStore
from sameday.testing import experiment_spec, load_lists, surface_spec

USERS = 100_000
CALLS = 100_000
TARGET_CALLS = 50_000
ISSUE_GROWTHBOOK_US = 8.5
"""The issue's figure for one ``GrowthBook.run`` on the machine its target was set on."""
SPECS = {
    ("surface", "home"): surface_spec("home", "personal", fallbacks=["popular"], n=10),
    ("experiment", "exp"): experiment_spec("exp", "home", {"control": "personal", "als": "als"}),
}
ATTRIBUTES = {"platform": "ios", "is_new": False, "activity": 3}
WITH_DIMENSIONS = {
    **SPECS,
    ("experiment", "exp"): experiment_spec(
        "exp", "home", {"control": "personal", "als": "als"}, dimensions=list(ATTRIBUTES)
    ),
}


def fill(store: SQLiteStore) -> None:
    load_lists(store, "popular", "q1", {"*": [f"pop-{j}" for j in range(50)]})
    for name in ("personal", "als"):
        lists = {
            f"user-{u}": [f"{name}-{(u * 7 + r) % 20000}" for r in range(20)] for u in range(USERS)
        }
        load_lists(store, name, f"{name}-1", lists)


def measure(
    store: SQLiteStore,
    sink: EventSink,
    specs: dict[tuple[str, str], dict[str, Any]] = SPECS,
    attributes: dict[str, Any] | None = None,
) -> float:
    rng = random.Random(7)
    units = [f"user-{rng.randrange(USERS)}" for _ in range(CALLS)]
    writer = EventWriter(sink)
    client = Client(store, writer=writer, state=build_state(specs), refresh_interval=0)
    recommend = client.recommend
    for unit in units[:5000]:
        recommend("home", unit, attributes=attributes)
    started = time.perf_counter()
    for unit in units:
        recommend("home", unit, attributes=attributes)
    elapsed = time.perf_counter() - started
    writer.flush(30)
    writer.close()
    sink.close()
    return CALLS / elapsed


def growthbook_us() -> float | None:
    """Best-of-5 µs of one ``GrowthBook.run`` (as ``assign_bench`` measures it), or None."""
    try:
        from assign_bench import growthbook_assigner, make_units, ns_per_call
    except ImportError:  # growthbook-python is the bench extra
        return None
    [(_, ns)] = ns_per_call([("growthbook", growthbook_assigner())], make_units(10_000), repeat=5)
    return ns / 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with SQLiteStore(Path(tmp) / "serving.db") as publisher:
            fill(publisher)
        # Opened as `sameday serve` and `Client.from_project` open it.
        store = SQLiteStore(Path(tmp) / "serving.db", snapshot_ttl=SNAPSHOT_TTL)
        set_ups: list[tuple[str, Callable[[int], EventSink]]] = [
            ("exposures to the SQLite event log", lambda i: SQLiteSink(Path(tmp) / f"e{i}.db")),
            ("exposures to a memory sink", lambda i: MemorySink()),
        ]
        rows = [(label, max(measure(store, make(i)) for i in range(3))) for label, make in set_ups]
        # Alternated, best of 5 each: on a shared machine the load drifts between runs, and
        # the two rows are compared with each other.
        pair = (
            ("memory sink, 3 attributes sent, none recorded", SPECS),
            ("memory sink, 3 attributes recorded as dimensions", WITH_DIMENSIONS),
        )
        best = [0.0, 0.0]
        for _ in range(5):
            for k, (_, specs) in enumerate(pair):
                best[k] = max(best[k], measure(store, MemorySink(), specs, ATTRIBUTES))
        rows += [(label, rate) for (label, _), rate in zip(pair, best, strict=True)]
        store.close()
    unit = growthbook_us()
    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"\nClient.recommend, {CALLS:,} calls over {USERS:,} units (best of 3; load {load})")
    print("| set-up | calls/s | µs/call | vs 50,000/s target |")
    print("|---|---|---|---|")
    for label, rate in rows:
        print(f"| {label} | {rate:,.0f} | {1e6 / rate:.1f} | {rate / TARGET_CALLS:.2f}x |")
    if unit is None:
        print('(install "sameday[bench]" to restate the target in GrowthBook.run times)')
        return
    allowed = 1e6 / TARGET_CALLS / ISSUE_GROWTHBOOK_US
    print(f"\nGrowthBook.run here: {unit:.1f} µs (the issue's machine: {ISSUE_GROWTHBOOK_US} µs)")
    print("| set-up | one call in GrowthBook.run times | target | met? |")
    print("|---|---|---|---|")
    for label, rate in rows:
        ratio = 1e6 / rate / unit
        verdict = "yes" if ratio <= allowed else "no"
        print(f"| {label} | {ratio:.2f} | ≤ {allowed:.2f} | {verdict} |")


if __name__ == "__main__":
    main()
