"""``open_store``: the serving store a URL names, so callers never pick a backend class."""

from __future__ import annotations

from sameday import urls
from sameday._extras import extra
from sameday.errors import ConfigError, Problem
from sameday.store.base import ServingStore


def open_store(url: str) -> ServingStore:
    """The serving store at ``url``: ``sqlite:///path.db``, ``redis://host:6379/0`` or ``memory://``.

    Relative SQLite paths are taken from the current folder; resolve them against the project
    first with ``Project.url``. Backends are imported here, so importing :mod:`sameday.store`
    never loads redis-py.

    Raises:
        ConfigError: the URL has none of the supported schemes, or does not parse (the message
            shows it without its password).
        MissingDependency: a Redis URL, and redis-py is not installed.
        StoreUnavailable: the store cannot be opened or reached.
    """
    problem = urls.check("serving", url)
    if problem is not None:
        raise ConfigError(
            [
                Problem(
                    None,
                    None,
                    None,
                    f"unsupported serving store URL: {problem}",
                    field="storage.serving",
                )
            ]
        )
    scheme = url.partition("://")[0].lower()
    if scheme == "sqlite":
        from sameday.store.sqlite import SQLiteStore

        return SQLiteStore.from_url(url)
    if scheme == "memory":
        from sameday.store.memory import MemoryStore

        return MemoryStore()
    with extra("redis", f"the serving store {urls.redact(url)}"):
        from sameday.store.redis import RedisStore
    try:
        return RedisStore(url)
    except ValueError as exc:  # redis-py refuses an option of the URL (?socket_timeout=soon)
        message = f"unsupported serving store URL {urls.redact(url)!r}: {urls.scrub(str(exc))}"
        raise ConfigError([Problem(None, None, None, message, field="storage.serving")]) from exc
