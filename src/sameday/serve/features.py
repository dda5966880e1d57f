"""The features a scorer sees, from the request, the candidate and the feature tables: a
:class:`~sameday.models.candidates.Candidates`, rows and columns.

A candidate's row holds, in this order (a later source wins a name they share): the request's
attributes (``unit`` included, and whatever the caller sent), the candidate's ``item``, batch
``score`` and ``rank`` (from 1), its payload columns, then the columns of each feature table's
row for it; its columns hold the same values, and a held list's numeric payload columns come
prepared (``serve.held``).

A feature table is a result set published like any other, read as one row per key: its first
item's payload is the key's features. A table keyed by ``item`` is looked up for every
candidate, one keyed by a request attribute (``unit``) once per request. Rows are read from the
serving store when first needed (one ``get_many`` for the keys missing) and kept in memory for
the table's live snapshot: the refresher follows the table's live version like any result
set's, and a new version starts an empty cache. Reads happen on the scoring worker, inside the
scorer's budget, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sameday.serve.cache import ListCache
from sameday.store.base import Item, ServingStore

if TYPE_CHECKING:
    from sameday.models.candidates import Candidates, PayloadMatrix

MAX_FEATURE_ROWS = 1_000_000
"""Rows kept in memory per table; past it the table's rows are read again as needed."""

Row = dict[str, Any]


class FeatureTables:
    """Feature-table rows by key, per live version, read from ``store`` when first needed."""

    def __init__(self, store: ServingStore) -> None:
        self.store = store
        self._tables: dict[str, tuple[str | None, dict[str, Row | None]]] = {}

    def __repr__(self) -> str:
        return f"FeatureTables({sorted(self._tables)!r})"

    def lookup(self, table: str, version: str | None, keys: Sequence[str]) -> dict[str, Row | None]:
        """Each key's features (``None`` when the table has no row for it), from memory, the
        missing ones read in one ``get_many``.

        Raises:
            NotFound, StoreUnavailable: the table cannot be read (the scoring falls back,
                reason ``error``).
        """
        held = self._tables.get(table)
        if held is None or held[0] != version or len(held[1]) > MAX_FEATURE_ROWS:
            held = (version, {})
            self._tables[table] = held  # one assignment: a concurrent reader keeps the old
        found = held[1]
        missing = [key for key in keys if key not in found]
        if missing:
            read = self.store.get_many(table, missing)
            for key in missing:
                items = read.get(key) or []
                found[key] = dict(items[0].payload or {}) if items else None
        return found

    def candidates(
        self,
        features: Sequence[tuple[str, str]],
        attrs: Mapping[str, Any],
        candidates: Sequence[Item],
        cache: ListCache,
        matrix: PayloadMatrix | None = None,
    ) -> Candidates:
        """What the scorer gets for ``candidates`` (see the module docstring): ``features``
        holds the ``(table, key)`` pairs named, ``cache`` the tables' live versions, ``matrix``
        the list's prepared payload columns if its snapshot is held with them."""
        # imported here: numpy is loaded only by a server that scores
        from sameday.models.candidates import Candidates

        base = dict(attrs)
        by_item: list[dict[str, Row | None]] = []
        for table, key in features:
            version = cache.versions.get(table)
            if key == "item":
                by_item.append(self.lookup(table, version, [c.item for c in candidates]))
            elif (value := attrs.get(key)) is not None:
                found = self.lookup(table, version, [str(value)]).get(str(value))
                if found:
                    base.update(found)
        return Candidates.of(candidates, base, by_item, matrix)
