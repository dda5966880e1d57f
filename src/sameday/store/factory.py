"""``open_store``: the serving store a URL names, so callers never pick a backend class."""

from __future__ import annotations

from sameday.store.base import ServingStore

SCHEMES = ("sqlite:///", "redis://", "rediss://", "unix://", "memory://")
"""URL prefixes ``open_store`` understands."""


def open_store(url: str) -> ServingStore:
    """The serving store at ``url``: ``sqlite:///path.db``, ``redis://host:6379/0`` or ``memory://``.

    Relative SQLite paths are taken from the current folder; resolve them against the project
    first with ``Project.url``. Backends are imported here, so importing :mod:`sameday.store`
    never loads redis-py.

    Raises:
        ValueError: the URL has none of the supported schemes.
        StoreUnavailable: the store cannot be opened or reached.
    """
    if url.startswith("sqlite:///"):
        from sameday.store.sqlite import SQLiteStore

        return SQLiteStore.from_url(url)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from sameday.store.redis import RedisStore

        return RedisStore(url)
    if url.startswith("memory://"):
        from sameday.store.memory import MemoryStore

        return MemoryStore()
    raise ValueError(
        f"unsupported serving store URL {url!r}: use sqlite:///path/to/serving.db or "
        "redis://host:6379/0 (storage.serving in sameday.yaml)"
    )
