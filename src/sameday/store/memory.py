"""``MemoryStore``: a serving store in a dictionary, for tests and for trying things out.

It keeps the same blobs and follows the same rules as the real backends (immutable versions, an
atomic live pointer, no dropping the live version), so code tested against it behaves the same
on SQLite and Redis. Nothing survives the process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence

from sameday.errors import NotFound, VersionInUse
from sameday.store.base import Chunk, Item, Listed, ServingStore
from sameday.store.codec import decode_list


class MemoryStore(ServingStore):
    """A serving store held in process memory; see the module docstring."""

    def __init__(self) -> None:
        self._versions: dict[tuple[str, str], dict[str, bytes]] = {}
        self._live: dict[str, str] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> MemoryStore:
        """A new, empty store for ``memory://`` (the URL holds nothing else)."""
        return cls()

    def __repr__(self) -> str:
        return f"MemoryStore(result_sets={sorted(self._live)})"

    def load(self, result_set: str, version: str, chunks: Iterable[Chunk]) -> int:
        """Store the lists of a new version (see :meth:`ServingStore.load`)."""
        with self._lock:
            if (result_set, version) in self._versions:
                raise VersionInUse(f"{result_set} version {version} is already loaded")
            lists: dict[str, bytes] = {}
            self._versions[(result_set, version)] = lists
        for chunk in chunks:
            lists.update(chunk)
        return len(lists)

    def set_live(self, result_set: str, version: str) -> None:
        """Point readers at ``version`` (see :meth:`ServingStore.set_live`)."""
        with self._lock:
            if (result_set, version) not in self._versions:
                raise NotFound(f"{result_set} version {version} is not loaded in the store")
            self._live[result_set] = version

    def live_version(self, result_set: str) -> str | None:
        """The live version, or ``None``."""
        return self._live.get(result_set)

    def _live_lists(self, result_set: str) -> tuple[str, dict[str, bytes]]:
        with self._lock:
            version = self._live.get(result_set)
            if version is None:
                raise NotFound(f"result set {result_set!r} has no live snapshot")
            return version, self._versions[(result_set, version)]

    def read(self, result_set: str, key: str | int, limit: int | None = None) -> Listed:
        """The live list of ``key`` and its version (see :meth:`ServingStore.read`)."""
        version, lists = self._live_lists(result_set)
        blob = lists.get(str(key))
        return Listed(version, [] if blob is None else decode_list(blob, limit))

    def get_many(self, result_set: str, keys: Sequence[str | int]) -> dict[str, list[Item]]:
        """The live lists of ``keys`` (see :meth:`ServingStore.get_many`)."""
        _, lists = self._live_lists(result_set)
        found: dict[str, list[Item]] = {}
        for key in keys:
            blob = lists.get(str(key))
            found[str(key)] = [] if blob is None else decode_list(blob)
        return found

    def scan(self, result_set: str, version: str) -> Iterator[Chunk]:
        """Every ``(key, blob)`` of ``version``, in key order, in one chunk.

        Raises:
            NotFound: ``version`` is not loaded.
        """
        with self._lock:
            lists = self._versions.get((result_set, version))
            if lists is None:
                raise NotFound(f"{result_set} version {version} is not loaded in the store")
            pairs = sorted(lists.items())
        yield pairs

    def versions(self, result_set: str) -> list[str]:
        """Every version held for ``result_set``, sorted."""
        with self._lock:
            return sorted(v for rs, v in self._versions if rs == result_set)

    def drop(self, result_set: str, version: str) -> None:
        """Forget a version (see :meth:`ServingStore.drop`)."""
        with self._lock:
            if self._live.get(result_set) == version:
                raise VersionInUse(f"{result_set} version {version} is live; it cannot be dropped")
            self._versions.pop((result_set, version), None)
