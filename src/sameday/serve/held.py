"""Snapshots held in process: a live version read whole into memory, served without a store read.

Why: on SQLite a lookup costs a statement, its decoding and a hop to the reader thread (the
issue's profile: about 20 µs a read with decoding); on Redis a round trip. A result set's live
version is immutable, so once the refresher has seen it, it can be read once, in full, and
every request served from a dictionary until the pointer moves. The store stays the source
of truth: the refresher still polls its live pointers every ``serve.refresh_interval``, and a
new version (a publish, a rollback) is read whole and swapped in with the rest of the
:class:`~sameday.serve.cache.ListCache`; a request answered from a held snapshot names that
snapshot's version, which is the version its items came from.

Each list is held as its store blob (decoded per request: the exposure logs items and scores)
and as the JSON of its items, encoded once when the snapshot is loaded, with the byte offset
where each item ends: a response serving the first ``n`` items of one list is then a slice of
that text, joined to the small head of the answer (see ``Recommendation.to_json``), instead of
an object per slot and an ``orjson.dumps`` of them per request.

A result set whose lists a scorer re-ranks (``ServingState.scored``) is held with one more
thing per list: its numeric payload columns as a ``float64`` matrix
(:class:`~sameday.models.candidates.PayloadMatrix`), built once here instead of per request, so
a scored request hands its scorer a slice of it (``HeldItems.matrix``). Such a request reads
only the items it serves, not its scorer's candidates: the scorer gets a view of the held blob
(:class:`HeldView`, from ``HeldItems.candidates``) that parses nothing unless a scorer reads its
rows, and the re-ranked items are served with their JSON cut from the held text (the new score
and position put in), their ids and payloads parsed back from those few objects.

A memory ceiling (``serve.memory_limit``, :data:`MEMORY_LIMIT` by default) bounds what one
server process holds, counted as :func:`held_size` estimates it: a version that would pass it
is not held and its result set is read from the store per request, as before. While a new
version is loaded the old one is still served, so a result set briefly takes twice its size.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, count
from typing import TYPE_CHECKING

import orjson

from sameday.store.base import Answer, Item, Listed, Read, Scannable
from sameday.store.codec import ListView, decode_list, new_item

if TYPE_CHECKING:
    from sameday.models.candidates import PayloadMatrix

MEMORY_LIMIT = 512 * 1024 * 1024
"""Default bytes of held snapshots per server process (``serve.memory_limit``): a snapshot of
100,000 keys with 20 items each takes about 200 MB."""
OVERHEAD = 320
"""Bytes a held list costs beyond its blob, JSON, offsets and key: the Python objects around
them (three ``bytes`` headers, a tuple, a dictionary slot, the key's ``str`` header). A little
above what ``tracemalloc`` measures on CPython 3.11: 40.9 MB for 20,000 lists of 20 items,
counted as 42.2 MB."""
MATRIX_OVERHEAD = 200
"""Bytes a held list's payload matrix costs beyond its values: the array and tuple objects."""
_ENDS = struct.Struct("<I")
_NEXT = b',{"item":'
"""Where an item of a list's JSON starts, but the first (payload-free lists)."""
_SCORE = b',"score":'
_SOURCE = b',"source":'
"""Where an item's score and its source start in its JSON (see ``HeldView.ranked``)."""


def item_body(entry: Item, position: int, source: str) -> dict[str, object]:
    """One served slot as the API's JSON shows it (``payload`` only when the item has one)."""
    if entry.payload is None:
        return {"item": entry.item, "score": entry.score, "position": position, "source": source}
    return {
        "item": entry.item,
        "score": entry.score,
        "position": position,
        "source": source,
        "payload": entry.payload,
    }


def encode_items(items: list[Item], source: str) -> tuple[bytes, bytes]:
    """The JSON of ``items`` as the API serves them from ``source`` (positions from 1), and the
    packed end offset of each; the bytes equal what ``orjson.dumps`` makes of
    ``Recommendation.to_dict()["items"]`` for the same slots, brackets left out."""
    if all(entry.payload is None for entry in items):
        # One dumps for the list, and each item's end found where the next one starts: the
        # text `,{"item":` cannot occur inside a value (a string's quotes are escaped).
        text = orjson.dumps(
            [
                {"item": entry.item, "score": entry.score, "position": position, "source": source}
                for position, entry in enumerate(items, 1)
            ]
        )[1:-1]
        ends = []
        at = text.find(_NEXT)
        while at >= 0:
            ends.append(at)
            at = text.find(_NEXT, at + 1)
        ends.append(len(text))
        return text, struct.pack(f"<{len(items)}I", *ends) if items else b""
    parts = [
        orjson.dumps(item_body(entry, position, source)) for position, entry in enumerate(items, 1)
    ]
    # each item's end: its length plus those before it and the comma after each of them
    ends = [end + index for index, end in enumerate(accumulate(map(len, parts)))]
    return b",".join(parts), struct.pack(f"<{len(ends)}I", *ends)


@lru_cache(maxsize=1024)
def _offsets(count: int) -> struct.Struct:
    """The compiled struct of ``count`` item end offsets (lists share a few lengths)."""
    return struct.Struct(f"<{count}I")


def held_size(key: str, blob: bytes, text: bytes, ends: bytes) -> int:
    """Bytes one held list is counted as against the memory ceiling."""
    return len(key) + len(blob) + len(text) + len(ends) + OVERHEAD


class HeldItems(list[Item]):
    """The items of a held list, with their JSON: ``json(n)`` is the text of the first ``n``
    and ``prefix(n)`` those items with it (``n`` at most the list's full length); ``matrix``
    holds the list's numeric payload columns when its result set is scored (else ``None``),
    and ``blob`` its whole stored blob when it is read from a held snapshot (``candidates``
    takes a scorer's candidates from it)."""

    __slots__ = ("_ends", "_text", "blob", "matrix")

    def __init__(
        self,
        items: Iterable[Item],
        text: bytes,
        ends: bytes,
        matrix: PayloadMatrix | None = None,
        blob: bytes | None = None,
    ) -> None:
        super().__init__(items)
        self._text = text
        self._ends = ends
        self.matrix = matrix
        self.blob = blob

    def candidates(self, count: int) -> Sequence[Item]:
        """The first ``count`` items of the whole list (not only those read), for a scorer: a
        :class:`~sameday.store.codec.ListView` of the blob, which parses what is read of it
        only, when the list is held whole; else those read."""
        if self.blob is None:
            return self[:count]
        return HeldView(self.blob, count, self._text, self._ends)

    def json(self, n: int) -> bytes:
        """The comma-joined JSON objects of the first ``n`` items, positions from 1."""
        return self._text[: _ENDS.unpack_from(self._ends, 4 * (n - 1))[0]]

    def prefix(self, n: int) -> EncodedEntries:
        """The first ``n`` items as served entries that carry their JSON."""
        entries = EncodedEntries(self[:n])
        entries.json = self.json(n)
        return entries


class HeldView(ListView):
    """A scorer's candidates from a held list (:meth:`HeldItems.candidates`): a
    :class:`~sameday.store.codec.ListView` whose re-ranked items carry their JSON, cut from the
    list's own (:meth:`ranked`)."""

    __slots__ = ("_ends", "_text")

    def __init__(self, blob: bytes, limit: int, text: bytes, ends: bytes) -> None:
        super().__init__(blob, limit)
        self._text = text
        self._ends = ends

    def ranked(self, positions: Sequence[int], scores: Sequence[float]) -> HeldItems:
        """The items at ``positions`` (from 0) in that order, with ``scores``, as a
        :class:`HeldItems` whose JSON is what ``encode_items`` makes of them: each item's JSON
        is its held one with the new score and position put in (``"item"`` and its id come
        before the score, ``"source"`` and the payload after the position, so both are sliced
        as they are; an id cannot hold ``,"score":`` or ``,"source":`` unescaped), and the
        items' ids and payloads are parsed back from that JSON, a few objects, not the blob's
        hundred payloads."""
        text, find = self._text, self._text.find
        ends = _offsets(len(self._ends) // 4).unpack(self._ends)
        numbers = orjson.dumps(scores)[1:-1].split(b",")  # a number holds no comma
        parts = []
        for place, position, number in zip(count(1), positions, numbers, strict=False):
            start = ends[position - 1] + 1 if position else 0
            end = ends[position]
            score = find(_SCORE, start, end) + 9  # len(_SCORE)
            source = find(_SOURCE, score, end)
            parts.append(
                b'%s%s,"position":%d%s' % (text[start:score], number, place, text[source:end])
            )
        joined = b",".join(parts)
        bodies = orjson.loads(b"[%s]" % joined)
        ids = [body["item"] for body in bodies]
        payloads = [body.get("payload") for body in bodies]
        items = list(map(new_item, zip(ids, scores, payloads, strict=True)))
        offsets = [end + index for index, end in enumerate(accumulate(map(len, parts)))]
        return HeldItems(items, joined, struct.pack(f"<{len(parts)}I", *offsets))


class EncodedEntries(tuple[Item, ...]):
    """Served entries (``Recommendation.entries``) that are a prefix of one held list, with
    that prefix's JSON (``json``): ``Recommendation.to_json`` joins it as it is. Any code that
    builds other entries (a re-ranking, a merge) makes a new tuple, which has none."""

    json: bytes


def held_items(items: list[Item], source: str) -> HeldItems:
    """``items`` with their JSON as served from ``source`` (the cache keeps each ``*`` list so)."""
    return HeldItems(items, *encode_items(items, source))


@dataclass(frozen=True, slots=True)
class HeldSnapshot:
    """One version of a result set, every list of it in memory; see the module docstring."""

    result_set: str
    version: str
    lists: Mapping[str, tuple[bytes, bytes, bytes]]
    """key → its blob, its items' JSON objects joined by commas, and the end offset of each
    item in that text (little-endian uint32s)."""
    size: int
    """Bytes counted against the memory ceiling (:func:`held_size`)."""
    matrices: Mapping[str, PayloadMatrix] | None = None
    """key → its list's numeric payload columns, for a scored result set (``None``: not
    prepared; a list without numeric payload columns has no entry)."""

    def __repr__(self) -> str:
        return (
            f"HeldSnapshot({self.result_set!r}, {self.version!r}, {len(self.lists)} lists, "
            f"{self.size / 1e6:.1f} MB)"
        )

    def read(self, key: str, limit: int | None) -> Listed:
        """What ``ServingStore.read`` answers for ``key``, from memory (never fails)."""
        entry = self.lists.get(key)
        if entry is None:
            return Listed(self.version, [])
        blob, text, ends = entry
        matrices = self.matrices
        matrix = None if matrices is None else matrices.get(key)
        items = decode_list(blob, limit)
        return Listed(self.version, HeldItems(items, text, ends, matrix, blob))


def load_snapshot(
    store: Scannable, result_set: str, version: str, budget: int, *, matrices: bool = False
) -> HeldSnapshot | None:
    """``version`` of ``result_set`` read whole and encoded, or ``None`` when it would take
    more than ``budget`` bytes (it is then read per request); with ``matrices``, each list's
    numeric payload columns are prepared too (a scored result set). Raises what the store's
    ``scan`` raises (``StoreUnavailable``, ``NotFound`` for a version dropped meanwhile)."""
    lists: dict[str, tuple[bytes, bytes, bytes]] = {}
    prepared: dict[str, PayloadMatrix] | None = None
    if matrices:
        # imported here: numpy is loaded only by a server that scores
        from sameday.models.candidates import payload_matrix

        prepared = {}
        names: dict[tuple[str, ...], tuple[str, ...]] = {}
    size = 0
    for chunk in store.scan(result_set, version):
        for key, blob in chunk:
            blob = bytes(blob)
            items = decode_list(blob)
            text, ends = encode_items(items, result_set)
            size += held_size(key, blob, text, ends)
            if prepared is not None:
                matrix = payload_matrix(items, names)
                if matrix is not None:
                    prepared[key] = matrix
                    size += matrix.values.nbytes + MATRIX_OVERHEAD
            if size > budget:
                return None
            lists[key] = (blob, text, ends)
    return HeldSnapshot(result_set, version, lists, size, prepared)


def from_memory(
    held: Mapping[str, HeldSnapshot], reads: list[Read], answers: dict[str, Answer]
) -> list[Read]:
    """Answer the ``reads`` of held result sets into ``answers`` (by result set, as a request's
    answers are kept) and return the reads still to make in the store."""
    if not held:
        return reads
    rest: list[Read] = []
    for read in reads:
        snapshot = held.get(read[0])
        if snapshot is None:
            rest.append(read)
        else:
            answers[read[0]] = snapshot.read(read[1], read[2])
    return rest
