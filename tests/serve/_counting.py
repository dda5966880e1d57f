"""A serving store that counts its list reads: what the held-snapshot and cache tests assert on."""

from __future__ import annotations

from pathlib import Path

from sameday.store.base import Listed
from sameday.store.sqlite import SQLiteStore


class CountingStore(SQLiteStore):
    """A SQLite store that counts list reads per result set."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.reads: dict[str, int] = {}

    def read(self, result_set: str, key: str | int, limit: int | None = None) -> Listed:
        self.reads[result_set] = self.reads.get(result_set, 0) + 1
        return super().read(result_set, key, limit)
