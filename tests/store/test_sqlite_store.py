"""SQLite specifics: many reader processes, and the hot path's import budget."""

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
