"""The serving store: ranked lists by key, one live version per result set.

Import backends from their modules (``sameday.store.sqlite``, ``sameday.store.redis``) or open one
by URL with :func:`open_store`. Nothing here imports pyarrow, duckdb or redis-py.
"""

from sameday.errors import VersionInUse
from sameday.store.base import Chunk, Item, Listed, ServingStore
from sameday.store.factory import open_store
from sameday.store.memory import MemoryStore

__all__ = [
    "Chunk",
    "Item",
    "Listed",
    "MemoryStore",
    "ServingStore",
    "VersionInUse",
    "open_store",
]
