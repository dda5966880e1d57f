"""SQLite specifics: many reader processes, held read snapshots, the hot path's import budget."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sameday.store import Item
from sameday.store.codec import encode_list
from sameday.store.sqlite import SQLiteStore

READER = """
import sys
from sameday.store import open_store
with open_store(sys.argv[1]) as store:
    seen = set()
    for _ in range(300):
        lists = store.get_many("rs", ["k0", "k1"])
        assert len({items[0].item for items in lists.values()}) == 1
        seen.add(lists["k0"][0].item)
print(",".join(sorted(seen)))
"""


def test_reader_processes_see_whole_versions_during_swaps(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serving.db'}"
    with SQLiteStore.from_url(url) as store:
        for version in ("v1", "v2"):
            blob = encode_list([Item(version, 1.0)])
            store.load("rs", version, [[("k0", blob), ("k1", blob)]])
        store.set_live("rs", "v1")
        readers = [
            subprocess.Popen([sys.executable, "-c", READER, url], stdout=subprocess.PIPE, text=True)
            for _ in range(3)
        ]
        for i in range(200):
            store.set_live("rs", "v2" if i % 2 else "v1")
        outputs = [reader.communicate(timeout=60)[0] for reader in readers]
    assert all(reader.returncode == 0 for reader in readers)
    assert all(set(out.strip().split(",")) <= {"v1", "v2"} for out in outputs)


def test_store_imports_nothing_heavy() -> None:
    code = (
        "import sys, sameday.store, sameday.store.sqlite, sameday.store.redis\n"
        "heavy = [m for m in ('pandas', 'scipy', 'duckdb', 'pyarrow', 'numpy') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def publish(store: SQLiteStore, version: str) -> None:
    store.load("home", version, [[("u1", encode_list([Item(f"{version}-a", 1.0)]))]])
    store.set_live("home", version)


def first(store: SQLiteStore) -> str | None:
    found = store.get("home", "u1")
    return found[0].item if found else None


def test_a_held_snapshot_is_ended_by_every_other_read(tmp_path: Path) -> None:
    path = tmp_path / "serving.db"
    with SQLiteStore(path, snapshot_ttl=60.0) as server, SQLiteStore(path) as publisher:
        publish(publisher, "v1")
        assert first(server) == "v1-a"
        publish(publisher, "v2")
        publisher.drop("home", "v1")
        assert first(server) == "v1-a"  # the snapshot of the first lookup, still held
        assert server.live_version("home") == "v2"  # what the refresher does: a fresh read
        assert first(server) == "v2-a"
        found = server.get_many("home", ["u1", "nobody"])
        assert found == {"u1": [Item("v2-a", 1.0)], "nobody": []}


def test_a_server_may_write_while_it_holds_a_snapshot(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "serving.db", snapshot_ttl=60.0) as store:
        publish(store, "v1")
        assert first(store) == "v1-a"
        publish(store, "v2")
        store.drop("home", "v1")
        assert first(store) == "v2-a"
        assert store.versions("home") == ["v2"]


def test_an_expired_snapshot_is_renewed(tmp_path: Path) -> None:
    path = tmp_path / "serving.db"
    with SQLiteStore(path, snapshot_ttl=1e-9) as server, SQLiteStore(path) as publisher:
        publish(publisher, "v1")
        assert first(server) == "v1-a"
        publish(publisher, "v2")
        publisher.drop("home", "v1")
        assert first(server) == "v2-a"


def test_without_a_snapshot_every_lookup_reads_the_current_file(tmp_path: Path) -> None:
    path = tmp_path / "serving.db"
    with SQLiteStore(path) as server, SQLiteStore(path) as publisher:
        publish(publisher, "v1")
        assert first(server) == "v1-a"
        publish(publisher, "v2")
        assert first(server) == "v2-a"
