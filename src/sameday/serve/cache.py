"""Per-result-set lists held in process: the default list and the last-known-good fallback.

A result set may publish one list under the key ``*``: the list for any key that has none (a
popularity list, say). The refresher reads these once per live version, so a missing key costs no
second store read, and keeps serving them when the store goes down: that is the last-known-good
list a degraded answer is built from.

A result set whose live version holds *only* the ``*`` list (a popularity list) answers every key
with it; when the store can count a version's keys (``key_count``: the SQLite and Redis stores),
the refresher notes such result sets in ``only_default`` and serving reads no store for them.

Each ``*`` list is kept with the version it was read from (one ``store.read``), so a list served
from the cache names its own snapshot even when the live version moved on meanwhile.

Within ``memory_limit`` bytes, the refresher also reads each new live version whole into memory
(``held``: :mod:`sameday.serve.held`), and requests are answered from it without a store read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sameday.errors import NotFound, StoreUnavailable
from sameday.serve.held import HeldSnapshot, held_items, load_snapshot
from sameday.store.base import Item, Scannable, ServingStore

DEFAULT_KEY = "*"


@dataclass(frozen=True)
class ListCache:
    """Live versions seen at the last refresh and each result set's ``*`` list."""

    versions: Mapping[str, str]
    defaults: Mapping[str, list[Item]]
    only_default: frozenset[str] = field(default=frozenset())
    """Result sets whose live version holds nothing but the ``*`` list."""
    held: Mapping[str, HeldSnapshot] = field(default_factory=dict)
    """Result sets whose live version is held in memory (within the memory limit)."""
    too_large: frozenset[tuple[str, str]] = field(default=frozenset())
    """``(result set, version)`` pairs that did not fit under the memory limit."""
    store_error: str | None = None
    """Why the refresh that built this cache could not read the store (``None``: it could);
    the lists are then the last known good ones, and ``/readyz`` says so."""

    @classmethod
    def empty(cls) -> ListCache:
        """A cache with nothing in it."""
        return cls(versions={}, defaults={})

    def default_list(self, result_set: str) -> list[Item]:
        """The ``*`` list of ``result_set`` (empty when it has none)."""
        return self.defaults.get(result_set, [])


def refresh_cache(
    store: ServingStore,
    result_sets: Iterable[str],
    previous: ListCache,
    memory_limit: int = 0,
    scored: frozenset[str] = frozenset(),
) -> ListCache:
    """A cache for the store's current live versions, re-reading only result sets that changed.

    A result set whose pointer or ``*`` list cannot be read keeps its previous entry (last known
    good). When the store cannot be reached at all, the remaining result sets are not tried
    (each try could wait the store's whole timeout) and the cache notes why (``store_error``).
    With ``memory_limit`` bytes (and a store that can scan a version), live versions are held
    in memory too (:func:`hold`), those of the ``scored`` result sets with their payload
    matrices.
    """
    versions: dict[str, str] = {}
    defaults: dict[str, list[Item]] = {}
    only: set[str] = set()
    error: StoreUnavailable | None = None
    count: Callable[[str, str], int | None] | None = getattr(store, "key_count", None)
    for result_set in sorted(result_sets):
        version = previous.versions.get(result_set)
        if error is None:
            try:
                live = store.live_version(result_set)
            except StoreUnavailable as exc:
                error = exc
            else:
                if live is None:
                    continue
                if live != version:
                    try:
                        default = store.read(result_set, DEFAULT_KEY)
                        if (
                            default.items
                            and count is not None
                            and count(result_set, default.version) == 1
                        ):
                            only.add(result_set)
                    except (NotFound, StoreUnavailable):
                        pass  # this list cannot be read now: keep the one read before
                    else:
                        versions[result_set] = default.version
                        defaults[result_set] = held_items(default.items, result_set)
                        continue
        if version is None:
            continue
        versions[result_set] = version
        defaults[result_set] = previous.default_list(result_set)
        if result_set in previous.only_default:
            only.add(result_set)
    if error is None:
        held, too_large = hold(store, versions, only, previous, memory_limit, scored)
    else:  # what is held stays: the store cannot tell what is live now
        held = {rs: s for rs, s in previous.held.items() if versions.get(rs) == s.version}
        too_large = previous.too_large
    return ListCache(
        versions=versions,
        defaults=defaults,
        only_default=frozenset(only),
        held=held,
        too_large=too_large,
        store_error=None if error is None else str(error),
    )


def hold(
    store: ServingStore,
    versions: Mapping[str, str],
    only_default: set[str],
    previous: ListCache,
    memory_limit: int,
    scored: frozenset[str] = frozenset(),
) -> tuple[dict[str, HeldSnapshot], frozenset[tuple[str, str]]]:
    """The held snapshots for the live ``versions`` and the versions that did not fit.

    Those held already stay; each other version is read whole while the ones before it leave
    room under ``memory_limit`` (result sets in name order). A version that does not fit is
    noted and not tried again; one that cannot be read now is tried at the next refresh.
    Either way its result set is read from the store per request meanwhile. Result sets
    served from their ``*`` list alone need no snapshot. A result set that became scored
    (or stopped being) is read again, with (without) its payload matrices.
    """
    if memory_limit <= 0 or not isinstance(store, Scannable):
        return {}, frozenset()
    held = {
        rs: snapshot
        for rs, snapshot in previous.held.items()
        if versions.get(rs) == snapshot.version
        and rs not in only_default
        and (snapshot.matrices is not None) == (rs in scored)
    }
    live = set(versions.items())
    too_large = {pair for pair in previous.too_large if pair in live}
    used = sum(snapshot.size for snapshot in held.values())
    for result_set, version in sorted(live):
        if result_set in held or result_set in only_default or (result_set, version) in too_large:
            continue
        try:
            snapshot = load_snapshot(
                store, result_set, version, memory_limit - used, matrices=result_set in scored
            )
        except (NotFound, StoreUnavailable):
            continue
        if snapshot is None:
            too_large.add((result_set, version))
        else:
            held[result_set] = snapshot
            used += snapshot.size
    return held, frozenset(too_large)
