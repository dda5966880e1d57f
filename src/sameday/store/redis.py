"""``RedisStore``: the serving store that stateless API replicas share.

Keys, per result set ``rs`` (the braces make every key of a result set share one cluster slot)::

    sameday:{rs}:live          string  the live version
    sameday:{rs}:versions      set     every version written, complete or not
    sameday:{rs}:v:<version>   hash    key → encoded list

A load first records the version in the ``versions`` set, then writes the hash with pipelined
``HSET`` commands of ``FIELDS_PER_COMMAND`` fields each, packed in bulk (``store/_resp.py``).
``set_live`` replaces the pointer in one command; a lookup is one Lua call that reads the pointer
and the list together, so it can never pair the pointer of one version with the lists of another,
and answers the version with the list (serving logs it).

Dropping a version is one ``UNLINK``: Redis frees the hash in a background thread, so reclaiming a
large version never stalls readers. A load killed halfway leaves its version in the set and a
partial hash, never the pointer; the next publish drops such versions.

A server may trust a pointer it read for ``pointer_ttl`` seconds (``Client.from_project`` sets it
to ``serve.refresh_interval``, the pick-up delay the server promises anyway, and its refresher
re-reads every pointer that often). A lookup is then a plain ``HMGET`` of the key and a marker
field every version's hash holds: about 35 µs instead of 125 µs for the Lua call with redis-py.
The marker holds the version, so the lookup names the version its list came from in the same
read; it also tells "this key has no list" from "this version was dropped meanwhile"; without it
(the version is gone, or was loaded by a sameday from before the marker) the lookup falls back to
the Lua call, so a lookup never answers from a version that no longer exists.

``get_reads`` answers many such lookups, across result sets, with one pipelined round trip: a
server coalesces the reads of concurrent requests into it (``sameday.serve.batching``), so a busy
server pays one round trip per batch instead of one per request.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import redis as redis_py
from redis.commands.core import Script

from sameday.errors import NotFound, StoreUnavailable, VersionInUse
from sameday.store._resp import command, hset_commands
from sameday.store.base import Answer, Chunk, Item, Listed, Read, ServingStore
from sameday.store.codec import decode_list

PREFIX = "sameday"
"""First part of every key sameday writes."""
FIELDS_PER_COMMAND = 1000
"""Fields per ``HSET`` in a load; larger commands amortise round trips, smaller bound memory."""
MARKER = "\x00sameday:version"
"""Field every version's hash holds (written first by ``load``); keys never start with NUL."""
SCAN_COUNT = 1000
"""Fields per ``HSCAN`` call of ``scan``."""
KEYS_PER_CALL = 1000
"""Keys per Lua call in ``get_many`` (Lua's stack bounds the arguments of one call)."""

_GET_MANY = """
local version = redis.call('GET', KEYS[1])
if not version then return false end
return redis.call('HMGET', KEYS[2] .. version, unpack(ARGV))
"""
_READ = """
local version = redis.call('GET', KEYS[1])
if not version then return false end
return {version, redis.call('HGET', KEYS[2] .. version, ARGV[1])}
"""
_SET_LIVE = """
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""
_DROP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
redis.call('UNLINK', KEYS[3] .. ARGV[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
"""


def _read_replies(connection: Any, count: int) -> None:
    """Read ``count`` replies; an error reply raises (``ResponseError``)."""
    for _ in range(count):
        connection.read_response()


class RedisStore(ServingStore):
    """The Redis serving store; see the module docstring for the layout and guarantees.

    Args:
        url: ``redis://host:6379/0`` (or ``rediss://``, ``unix://``).
        prefix: first part of every key.
        pointer_ttl: seconds a live pointer read by this store is trusted.
        check: ping the server now and raise ``StoreUnavailable`` if it does not answer; a
            server starting while Redis is down passes ``False`` and serves fallbacks meanwhile.
    """

    def __init__(
        self, url: str, *, prefix: str = PREFIX, pointer_ttl: float = 0.0, check: bool = True
    ) -> None:
        self._url = url
        self.prefix = prefix
        self.pointer_ttl = pointer_ttl
        """Seconds a live pointer read by this store is trusted (``0``: read it every lookup)."""
        self._pointers: dict[str, tuple[str, float]] = {}
        self._client: redis_py.Redis = self._open(url)
        self._get_many: Script = self._client.register_script(_GET_MANY)
        self._read: Script = self._client.register_script(_READ)
        self._set_live: Script = self._client.register_script(_SET_LIVE)
        self._drop: Script = self._client.register_script(_DROP)
        if check:
            with self._errors():
                self._client.ping()

    def _open(self, url: str) -> Any:
        """The redis-py client of ``url`` (a subclass opens a cluster client instead)."""
        return redis_py.Redis.from_url(url)

    def _pool(self, name: bytes) -> Any:
        """The connection pool of the server that holds key ``name`` (``load`` writes to it)."""
        return self._client.connection_pool

    def __repr__(self) -> str:
        kwargs = self._client.connection_pool.connection_kwargs
        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        return f"RedisStore({where}, db={kwargs.get('db', 0)}, prefix={self.prefix!r})"

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (redis_py.ConnectionError, redis_py.TimeoutError) as exc:
            raise StoreUnavailable(
                f"Redis serving store {self!r} is not reachable: {exc}; check that the server "
                "runs and storage.serving in sameday.yaml points at it"
            ) from exc
        except redis_py.RedisError as exc:
            raise StoreUnavailable(f"Redis serving store {self!r} refused: {exc}") from exc

    def _keys(self, result_set: str) -> list[str]:
        base = f"{self.prefix}:{{{result_set}}}"
        return [f"{base}:live", f"{base}:versions", f"{base}:v:"]

    def load(self, result_set: str, version: str, chunks: Iterable[Chunk]) -> int:
        """Write a new version with pipelined ``HSET`` (see :meth:`ServingStore.load`).

        The commands are packed by :mod:`sameday.store._resp` and written straight to one
        connection; each chunk's replies are read after the next chunk is sent, so the server
        parses one chunk while this process frames the next.
        """
        _, versions, lists = self._keys(result_set)
        name = (lists + version).encode()
        count = 0
        with self._errors():
            if not self._client.sadd(versions, version):
                raise VersionInUse(f"{result_set} version {version} is already loaded")
            pool = self._pool(name)
            connection: Any = pool.get_connection()  # redis-py leaves it untyped
            try:
                connection.send_packed_command(
                    [command(b"HSET", name, MARKER.encode(), version.encode())]
                )
                unread = 1
                for chunk in chunks:
                    commands = hset_commands(name, chunk, FIELDS_PER_COMMAND)
                    connection.send_packed_command(commands, check_health=False)
                    _read_replies(connection, unread)
                    unread = len(commands) // 2
                    count += len(chunk)
                _read_replies(connection, unread)
            except BaseException:
                connection.disconnect()  # replies may be pending: never reuse the connection
                raise
            finally:
                pool.release(connection)
        return count

    def set_live(self, result_set: str, version: str) -> None:
        """Replace the pointer in one atomic script (see :meth:`ServingStore.set_live`)."""
        with self._errors():
            done = self._set_live(keys=self._keys(result_set)[:2], args=[version])
        if not done:
            raise NotFound(f"{result_set} version {version} is not loaded in {self!r}")
        self._pointers[result_set] = (version, time.monotonic())

    def live_version(self, result_set: str) -> str | None:
        """The live version, or ``None``."""
        with self._errors():
            value: Any = self._client.get(self._keys(result_set)[0])
        if value is None:
            self._pointers.pop(result_set, None)
            return None
        version = bytes(value).decode()
        self._pointers[result_set] = (version, time.monotonic())
        return version

    def key_count(self, result_set: str, version: str) -> int | None:
        """How many keys ``version`` holds (``None``: unknown, loaded before the marker); the
        refresher uses it to skip reads of result sets that hold only a ``*`` list."""
        name = self._keys(result_set)[2] + version
        with self._errors():
            pipe = self._client.pipeline(transaction=True)
            pipe.hexists(name, MARKER)
            pipe.hlen(name)
            marked, fields = pipe.execute()
        return int(fields) - 1 if marked else None

    def get_many(self, result_set: str, keys: Sequence[str | int]) -> dict[str, list[Item]]:
        """Read the pointer and the lists in one script call per ``KEYS_PER_CALL`` keys."""
        wanted = [str(key) for key in keys]
        live, _, lists = self._keys(result_set)
        found: dict[str, list[Item]] = {}
        for start in range(0, max(len(wanted), 1), KEYS_PER_CALL):
            part = wanted[start : start + KEYS_PER_CALL]
            if not part:
                break
            with self._errors():
                blobs = self._get_many(keys=[live, lists], args=part)
            if blobs is None:
                raise NotFound(f"result set {result_set!r} has no live snapshot in {self!r}")
            for key, blob in zip(part, blobs, strict=True):
                found[key] = [] if blob is None else decode_list(blob)
        return found

    def _trusted_version(self, result_set: str) -> str:
        """The live version, read again once the pointer read last is ``pointer_ttl`` old.

        Raises:
            NotFound: ``result_set`` has no live version.
        """
        pinned = self._pointers.get(result_set)
        if pinned is not None and time.monotonic() - pinned[1] < self.pointer_ttl:
            return pinned[0]
        version = self.live_version(result_set)
        if version is None:
            raise NotFound(f"result set {result_set!r} has no live snapshot in {self!r}")
        return version

    def _exact_read(self, result_set: str, key: str, limit: int | None) -> Listed:
        """The list of ``key`` and the pointer, read in one Lua call (never a dropped version)."""
        live, _, lists = self._keys(result_set)
        with self._errors():
            reply: Any = self._read(keys=[live, lists], args=[key])
        if reply is None:
            raise NotFound(f"result set {result_set!r} has no live snapshot in {self!r}")
        version, blob = reply
        return Listed(bytes(version).decode(), [] if blob is None else decode_list(blob, limit))

    def read(self, result_set: str, key: str | int, limit: int | None = None) -> Listed:
        """The live list of ``key`` and its version in one round trip (see
        :meth:`ServingStore.read`): by a trusted pointer, the version is the marker field read
        in the same ``HMGET`` as the list."""
        if self.pointer_ttl <= 0:
            return self._exact_read(result_set, str(key), limit)
        lists = self._keys(result_set)[2] + self._trusted_version(result_set)
        with self._errors():
            reply: Any = self._client.execute_command(  # type: ignore[no-untyped-call]
                "HMGET", lists, str(key), MARKER
            )
        blob, marker = reply
        return self._from_reply(result_set, str(key), limit, blob, marker)

    def _from_reply(
        self, result_set: str, key: str, limit: int | None, blob: bytes | None, marker: Any
    ) -> Listed:
        """The list an ``HMGET key MARKER`` by a trusted pointer answered, named by the marker
        (which holds the version); read exactly if the marker is gone (the version was dropped
        meanwhile)."""
        if marker is None:
            return self._exact_read(result_set, key, limit)
        return Listed(bytes(marker).decode(), [] if blob is None else decode_list(blob, limit))

    def get_reads(self, reads: Sequence[Read]) -> list[Answer]:
        """Every read's list in one pipelined round trip of ``HMGET``s by the trusted pointers
        (see :meth:`ServingStore.get_reads`); a read whose version was dropped meanwhile, or any
        read without ``pointer_ttl``, is answered exactly, as :meth:`read` answers it."""
        if self.pointer_ttl <= 0 or len(reads) == 1:  # one read: a pipeline costs more
            return super().get_reads(reads)
        answers: dict[int, Answer] = {}
        versions: dict[str, str | NotFound | StoreUnavailable] = {}
        pipe = self._client.pipeline(transaction=False)
        sent: list[int] = []
        for index, (result_set, key, _) in enumerate(reads):
            if result_set not in versions:
                try:
                    versions[result_set] = self._trusted_version(result_set)
                except (NotFound, StoreUnavailable) as exc:
                    versions[result_set] = exc
            version = versions[result_set]
            if isinstance(version, str):
                pipe.hmget(self._keys(result_set)[2] + version, [key, MARKER])
                sent.append(index)
            else:
                answers[index] = version
        try:
            with self._errors():
                replies: list[Any] = pipe.execute()
        except StoreUnavailable as exc:
            for index in sent:
                answers[index] = exc
            sent, replies = [], []
        for index, (blob, marker) in zip(sent, replies, strict=True):
            result_set, key, limit = reads[index]
            try:
                answers[index] = self._from_reply(result_set, key, limit, blob, marker)
            except (NotFound, StoreUnavailable) as exc:  # a list in another format, too
                answers[index] = exc
        return [answers[index] for index in range(len(reads))]

    def scan(self, result_set: str, version: str) -> Iterator[Chunk]:
        """Every ``(key, blob)`` of ``version``, by ``HSCAN`` (``SCAN_COUNT`` fields a call, in
        no particular order; a server holds a live version in memory with it:
        ``sameday.serve.held``).

        Raises:
            NotFound: ``version`` is not loaded, or was dropped before the scan ended (its
                marker is checked once more at the end, so a partial scan never passes for
                the whole version).
        """
        name = self._keys(result_set)[2] + version
        marker = MARKER.encode()
        cursor: Any = 0
        first = True
        while first or cursor:
            fields: dict[bytes, bytes]
            with self._errors():
                cursor, fields = self._client.hscan(name, cursor, count=SCAN_COUNT)  # type: ignore[assignment]
            if first and not fields and not cursor:
                break  # an empty hash: the version is not there (every version has its marker)
            first = False
            yield [(bytes(k).decode(), bytes(v)) for k, v in fields.items() if k != marker]
        with self._errors():
            present = self._client.hexists(name, MARKER)
        if not present:
            raise NotFound(f"{result_set} version {version} is not loaded in {self!r}")

    def versions(self, result_set: str) -> list[str]:
        """Every version recorded for ``result_set``, sorted."""
        with self._errors():
            members: Any = self._client.smembers(self._keys(result_set)[1])
        return sorted(bytes(m).decode() for m in members)

    def drop(self, result_set: str, version: str) -> None:
        """``UNLINK`` the version's hash (see :meth:`ServingStore.drop`)."""
        with self._errors():
            done = self._drop(keys=self._keys(result_set), args=[version])
        if not done:
            raise VersionInUse(f"{result_set} version {version} is live; it cannot be dropped")

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
