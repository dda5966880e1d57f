"""The serving-store interface: ranked lists by key, loaded per version, one version live.

A backend holds, per result set, any number of *versions* (immutable snapshots of ``key →
ranked list``) and a pointer to the one that is *live*. Loading never touches the live version;
``set_live`` moves the pointer in one atomic step, so readers see either the old lists or the new
ones, never a mix. Which versions should exist (retention, rollback) is decided above the store,
by :mod:`sameday.results`, from the metadata database.

Lists travel as blobs in the format of :mod:`sameday.store.codec`, encoded once per key when a
snapshot is published, so a lookup is one primary-key read and one decode.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

from sameday._closing import Closing
from sameday.errors import NotFound, StoreUnavailable

Chunk = Sequence[tuple[str, bytes]]
"""Part of a load: ``(key, encoded list)`` pairs, keys ascending and unique across the load."""

Read = tuple[str, str, int | None]
"""One lookup of a batch (``ServingStore.get_reads``): ``(result_set, key, limit)``."""


class Item(NamedTuple):
    """One entry of a ranked list: the item id, its score and the optional payload columns."""

    item: str
    score: float
    payload: dict[str, Any] | None = None


class Listed(NamedTuple):
    """A live list and the version it was read from, taken in one read (``ServingStore.read``).

    Serving logs the version next to the items, so the two must never come from two reads: a
    publish or rollback between them would name one snapshot and serve another's list.
    """

    version: str
    items: list[Item]


Answer = Listed | NotFound | StoreUnavailable
"""What ``ServingStore.get_reads`` gives for one read: the list, or the error ``read`` raises."""


@runtime_checkable
class Scannable(Protocol):
    """A store that can hand over a whole version: ``SQLiteStore``, ``RedisStore`` and
    ``MemoryStore`` can; a server holds live versions in memory with it
    (``sameday.serve.held``). Not part of :class:`ServingStore`: a store that cannot scan is
    read per request."""

    def scan(self, result_set: str, version: str) -> Iterator[Chunk]:
        """Every ``(key, blob)`` of ``version``, in chunks (raises ``NotFound`` if it is not
        loaded, ``StoreUnavailable`` if the store cannot be read)."""
        ...  # pragma: no cover (a Protocol)


class ServingStore(Closing, ABC):
    """Where published lists live and are read from; see the module docstring for the model.

    Backends translate their driver's connection errors into ``StoreUnavailable``. Every method is
    safe to call from several threads; several processes may read one store at once.
    """

    @abstractmethod
    def load(self, result_set: str, version: str, chunks: Iterable[Chunk]) -> int:
        """Store the lists of a new, not yet live ``version``; return how many keys were stored.

        A load interrupted at any point (an exception, or the process killed) leaves the live
        version untouched; what it wrote is removed by ``drop`` (see :meth:`versions`).

        Raises:
            VersionInUse: ``version`` was loaded before; versions are immutable.
        """

    @abstractmethod
    def set_live(self, result_set: str, version: str) -> None:
        """Make a loaded ``version`` the one readers get, atomically.

        Raises:
            NotFound: ``version`` is not loaded.
        """

    @abstractmethod
    def live_version(self, result_set: str) -> str | None:
        """The live version of ``result_set``, or ``None`` if nothing was made live yet."""

    @abstractmethod
    def get_many(self, result_set: str, keys: Sequence[str | int]) -> dict[str, list[Item]]:
        """The live lists of ``keys``, all read from the same version; a missing key maps to ``[]``.

        Raises:
            NotFound: ``result_set`` has no live version.
        """

    @abstractmethod
    def versions(self, result_set: str) -> list[str]:
        """Every version present in the store, complete or not, sorted; the live one included."""

    @abstractmethod
    def drop(self, result_set: str, version: str) -> None:
        """Delete a version and reclaim its space; dropping a missing version does nothing.

        Raises:
            VersionInUse: ``version`` is live; make another version live first.
        """

    @abstractmethod
    def read(self, result_set: str, key: str | int, limit: int | None = None) -> Listed:
        """The live ranked list of ``key`` (its first ``limit`` items when given; ``[]`` when
        the key is not in the live version) and that version, both from one read.

        Raises:
            NotFound: ``result_set`` has no live version.
        """

    def get(self, result_set: str, key: str | int, limit: int | None = None) -> list[Item]:
        """The list :meth:`read` gives, without its version."""
        return self.read(result_set, key, limit).items

    def get_reads(self, reads: Sequence[Read]) -> list[Answer]:
        """Many lookups, across result sets, each answered as :meth:`read` would answer it: the
        list and its version, or the ``NotFound`` or ``StoreUnavailable`` that ``read`` would
        raise, so one failing read never fails the others. This default asks :meth:`read` for
        each; a networked store answers them all in one round trip."""
        answers: list[Answer] = []
        for result_set, key, limit in reads:
            try:
                answers.append(self.read(result_set, key, limit))
            except (NotFound, StoreUnavailable) as exc:
                answers.append(exc)
        return answers

    def close(self) -> None:
        """Release connections; the store cannot be used afterwards."""
