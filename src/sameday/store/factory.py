"""``open_store``: the serving store a URL names, so callers never pick a backend class."""

from __future__ import annotations

from sameday import registry
from sameday.store.base import ServingStore


def open_store(url: str, *, origin: registry.Origin | None = None) -> ServingStore:
    """The serving store at ``url``: ``sqlite:///path.db``, ``redis://host:6379/0``,
    ``redis+cluster://host:6379`` (a Redis Cluster) or ``memory://``.

    Relative SQLite paths are taken from the current folder; resolve them against the project
    first with ``Project.url`` (or use ``Project.open_serving_store``). Backends are looked up in
    :mod:`sameday.registry` and imported on use, so importing :mod:`sameday.store` never loads
    redis-py.

    Raises:
        ConfigError: the URL has none of the supported schemes, or does not parse (the message
            shows it without its password, located at ``origin`` when given).
        MissingDependency: a Redis URL, and redis-py is not installed.
        StoreUnavailable: the store cannot be opened or reached.
    """
    store: ServingStore = registry.open_url("serving", url, origin=origin)
    return store
