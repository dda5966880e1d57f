"""``RedisClusterStore``: the Redis serving store on a Redis Cluster (``redis+cluster://``).

The layout, commands and guarantees are :mod:`sameday.store.redis`'s, unchanged: every key of a
result set carries the result set in braces (``sameday:{rs}:live``, ``sameday:{rs}:v:<version>``),
a *hash tag*, so the cluster keeps them all on one slot. That is what the single-round-trip reads
need: each Lua script (the pointer and the list read together, ``set_live``, ``drop``) touches
the keys of one result set only, so it runs on the one node that owns them, and the version hash
it names from the pointer inside the script lands on the same slot. Result sets spread over the
nodes; a batch of reads across result sets (``get_reads``) is one pipeline that redis-py splits
per node and sends to all of them at once.

URLs: ``redis+cluster://[:password@]host:port[/0]`` (``rediss+cluster://`` with TLS), naming any
one node; the client discovers the others. A cluster has database 0 only.

What is different from one server:

- **Loads write to the node owning the result set's slot.** The packed ``HSET`` stream of a load
  goes to that node's connection pool directly. If the slot moves during a load (resharding), the
  node answers ``MOVED``: the load fails (``StoreUnavailable``), nothing was made live, and the
  next publish drops the partial version, as after any interrupted load.
- **The client is made on first use.** redis-py asks a node for the slot map when its cluster
  client is built; a server that starts while the cluster is down (``check=False``) would not
  start at all. The client is built on the first command instead, and again on the next one if
  that failed, so such a server serves fallbacks and picks the lists up once the cluster answers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis as redis_py
from redis.cluster import RedisCluster
from redis.commands.core import Script
from redis.exceptions import RedisClusterException

from sameday.errors import StoreUnavailable
from sameday.store.redis import RedisStore

SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
"""A cluster URL's scheme, and the redis-py scheme of the same URL."""


def driver_url(url: str) -> str:
    """``url`` as redis-py spells it: ``redis+cluster://h:7000/0`` → ``redis://h:7000/0``.

    Raises:
        ValueError: ``url`` is not a ``redis+cluster://`` or ``rediss+cluster://`` URL.
    """
    scheme, sep, rest = url.partition("://")
    driver = SCHEMES.get(scheme.lower())
    if driver is None or not sep:
        raise ValueError(f"not a Redis Cluster URL: use {' or '.join(f'{s}://' for s in SCHEMES)}")
    return f"{driver}://{rest}"


class _LazyCluster:
    """A ``RedisCluster`` built on first use (see the module docstring); attribute access is
    passed on to it. A failed build raises redis-py's ``ConnectionError``, which the store turns
    into ``StoreUnavailable`` like any other, and is tried again on the next use."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._cluster: RedisCluster | None = None
        self._lock = threading.Lock()

    def cluster(self) -> RedisCluster:
        """The cluster client, built now if it was not yet."""
        if self._cluster is None:
            with self._lock:
                if self._cluster is None:
                    try:
                        self._cluster = RedisCluster.from_url(self._url)
                    except RedisClusterException as exc:
                        raise redis_py.ConnectionError(str(exc)) from exc
        return self._cluster

    def register_script(self, script: str) -> Script:
        """A Lua script run through this client, built when the script first runs (given as
        bytes, ``Script`` needs no client to encode it now)."""
        return Script(self, script.encode())  # type: ignore[arg-type]  # quacks as RedisCluster

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cluster(), name)

    def close(self) -> None:
        """Close the client's connections, if it was ever built."""
        if self._cluster is not None:
            self._cluster.close()


class RedisClusterStore(RedisStore):
    """The Redis serving store on a Redis Cluster; see the module docstring.

    Args:
        url: ``redis+cluster://host:port`` (or ``rediss+cluster://``), any node of the cluster.
        prefix: first part of every key.
        pointer_ttl: seconds a live pointer read by this store is trusted (as for
            :class:`~sameday.store.redis.RedisStore`).
        check: reach the cluster now and raise ``StoreUnavailable`` if it does not answer.

    Raises:
        ConfigError: through the registry, when ``url`` names a database other than 0.
    """

    def _open(self, url: str) -> Any:
        return _LazyCluster(driver_url(url))

    def _pool(self, name: bytes) -> Any:
        cluster: Any = self._client  # a _LazyCluster, typed Redis by the base class
        return cluster.get_node_from_key(name).redis_connection.connection_pool

    def __repr__(self) -> str:
        from urllib.parse import urlsplit

        where = urlsplit(self._url)
        return f"RedisClusterStore({where.hostname}:{where.port}, prefix={self.prefix!r})"

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            with super()._errors():
                yield
        except RedisClusterException as exc:  # not a RedisError: the cluster's own failures
            raise StoreUnavailable(f"Redis Cluster serving store {self!r}: {exc}") from exc
