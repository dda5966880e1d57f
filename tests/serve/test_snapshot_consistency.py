"""Every exposure names the snapshot its items came from, even while versions change under it.

Threads serve lists while another makes versions live in a random order (publishes and
rollbacks), on the real SQLite file and the real Redis server, set up as ``sameday serve`` sets
them up (a refresher polling often, SQLite holding a read snapshot, Redis trusting its pointers),
once reading every list from the store and once from the snapshots the refresher holds in memory.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sameday.events.records import Exposure
from sameday.serve.client import Client
from sameday.serve.held import MEMORY_LIMIT
from sameday.serve.state import build_state
from sameday.store.base import Item, ServingStore
from sameday.store.codec import encode_list
from sameday.store.redis import RedisStore
from sameday.store.sqlite import SNAPSHOT_TTL, SQLiteStore
from sameday.testing import experiment_spec, surface_spec

VERSIONS = [f"v{k}" for k in range(6)]
KEYS = [f"u{k}" for k in range(20)]
UNITS = [*KEYS, "nobody-1", "nobody-2"]  # no list of their own: the `*` list, then a fallback
REFRESH = 0.005
SPECS = {
    ("surface", "home"): surface_spec("home", "personal", fallbacks=["popular"], n=6),
    ("surface", "mixed"): surface_spec("mixed", "personal", fallbacks=["popular"], n=6),
    ("experiment", "duel"): experiment_spec(
        "duel",
        "mixed",
        {"control": "personal", "other": "side"},
        design="interleave",
        interleave={"method": "team_draft"},
    ),
}
RESULT_SETS = ("personal", "side", "popular")


class Log:
    def __init__(self) -> None:
        self.exposures: list[Exposure] = []

    def log_exposure(self, exposure: Exposure) -> None:
        self.exposures.append(exposure)


def lists(result_set: str, version: str, keys: list[str]) -> list[tuple[str, bytes]]:
    """Lists whose items name the result set and version they were published in."""
    return [
        (key, encode_list([Item(f"{result_set}@{version}#{key}#{r}", 1.0) for r in range(4)]))
        for key in sorted(keys)
    ]


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServingStore]:
    if request.param == "sqlite":
        backend: ServingStore = SQLiteStore(tmp_path / "serving.db", snapshot_ttl=SNAPSHOT_TTL)
    else:
        backend = RedisStore(request.getfixturevalue("redis_url"), pointer_ttl=REFRESH)
    for version in VERSIONS:
        backend.load("personal", version, [lists("personal", version, [*KEYS, "*"])])
        backend.load("side", version, [lists("side", version, [*KEYS[::2], "*"])])
        backend.load("popular", version, [lists("popular", version, ["*"])])
    for result_set in RESULT_SETS:
        backend.set_live(result_set, VERSIONS[0])
    with backend:
        yield backend


@pytest.mark.parametrize("memory_limit", [0, MEMORY_LIMIT], ids=["read", "held"])
def test_every_exposure_names_the_version_of_its_items(
    store: ServingStore, memory_limit: int
) -> None:
    log = Log()
    client = Client(
        store, state=build_state(SPECS), refresh_interval=REFRESH, memory_limit=memory_limit
    )
    client.engine.log = log
    stop = threading.Event()

    flips = [0]

    def publish_and_roll_back() -> None:
        rng = random.Random(11)
        while not stop.is_set():
            store.set_live(rng.choice(RESULT_SETS), rng.choice(VERSIONS))
            flips[0] += 1
            time.sleep(rng.uniform(0, 0.003))

    def serve(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            client.recommend(rng.choice(["home", "mixed"]), rng.choice(UNITS))

    threads = [threading.Thread(target=publish_and_roll_back)]
    threads += [threading.Thread(target=serve, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    # Enough requests while the versions flip under them, however busy the machine (a count,
    # not a duration: a loaded machine serves fewer requests a second, not different ones).
    deadline = time.monotonic() + 60
    while (len(log.exposures) < 1000 or flips[0] < 100) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join()
    client.close()

    assert len(log.exposures) >= 1000 and flips[0] >= 100, (len(log.exposures), flips[0])
    assert {exposure.surface for exposure in log.exposures} == {"home", "mixed"}
    wrong = 0
    for exposure in log.exposures:
        assert exposure.items
        for item in exposure.items:
            result_set, version = item.split("#")[0].split("@")
            wrong += exposure.snapshot_versions.get(result_set) != version
    assert wrong == 0, f"{wrong} items of {len(log.exposures)} exposures name another version"
