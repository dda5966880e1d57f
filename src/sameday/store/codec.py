"""The byte format of one ranked list, shared by every backend.

A list is encoded once, when its snapshot is published, and decoded on every lookup, so the format
is chosen for both ends: scores are raw little-endian doubles and item ids raw UTF-8, which lets
:mod:`sameday.results` build every blob of a snapshot from Arrow buffers by slicing and joining,
without formatting two million floats as text (what made a JSON encoding cost more than the
database insert itself). The ids are joined by a NUL byte, so decoding a prefix of ``k`` items is
one ``decode`` and one ``split`` in C, whatever ``k`` is: format 1 stored a length per id instead,
and cutting the ids out one slice at a time took half of a lookup's decoding time.

Layout (``n`` items)::

    header    8 bytes   format version (3), flags, n (uint16), byte length of the ids (uint32)
    scores    8n bytes  float64 scores, in rank order
    items               the item ids' UTF-8 bytes, each but the last followed by NUL (0x00)
    ends      4n bytes  only with FLAG_PAYLOAD: where each payload object ends in the array
                        below (uint32, the offset of the comma or bracket after it)
    payload             only with FLAG_PAYLOAD: a JSON array of n objects (payload columns)

Item ids therefore may not contain NUL; publishing refuses such a source.

Why the ends (format 3): a lookup serves a prefix, and parsing every payload of a 100-item list
(a hundred dicts and their values built) was most of a lookup's cost when ten were served. With
the ends, a prefix's payloads are one ``orjson.loads`` of the array cut after its ``k``-th
object.
Format 2 (no ends) is still read: snapshots published before stay servable.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from functools import lru_cache, partial
from itertools import accumulate, repeat
from typing import Any, overload

import orjson

from sameday.errors import StoreUnavailable
from sameday.store.base import Item

new_item = partial(tuple.__new__, Item)
"""``Item`` built at C speed (a NamedTuple's own constructor is a Python function)."""
FORMAT_VERSION = 3
"""Bumped whenever the layout changes; decoders refuse blobs of a version they do not read."""
READABLE_VERSIONS = (2, FORMAT_VERSION)
"""Versions :func:`decode_list` reads: format 2 lacks the payload ends (read by parsing the whole
payload array)."""
FLAG_PAYLOAD = 1
"""Flag bit: a JSON array of payload objects follows the item ids."""
HEADER = struct.Struct("<BBHI")
"""Format version, flags, number of items, byte length of the joined item ids."""
SEPARATOR = "\x00"
"""Between two item ids (it cannot occur in one)."""
MAX_ITEMS = 0xFFFF
"""Most items one list can hold (the count is a uint16)."""
MAX_ITEM_BYTES = 0xFFFF
"""Longest item id in UTF-8 bytes: a sanity bound (ids are keys, not documents)."""
_END = struct.Struct("<I")


@lru_cache(maxsize=1024)
def _scores(count: int) -> struct.Struct:
    """The compiled struct of ``count`` little-endian doubles (lists share a few lengths)."""
    return struct.Struct(f"<{count}d")


def encode_list(items: Sequence[Item]) -> bytes:
    """The blob of one ranked list, items in rank order: the reference encoder.

    :mod:`sameday.results` produces the same bytes in bulk from Arrow columns; tests hold the two
    to each other.

    Raises:
        ValueError: more than ``MAX_ITEMS`` items, an item id longer than ``MAX_ITEM_BYTES``, or
            one containing NUL.
    """
    if len(items) > MAX_ITEMS:
        raise ValueError(f"a list holds at most {MAX_ITEMS} items, got {len(items)}")
    ids = [entry.item.encode() for entry in items]
    if any(len(raw) > MAX_ITEM_BYTES for raw in ids):
        raise ValueError(f"item ids must be at most {MAX_ITEM_BYTES} bytes of UTF-8")
    if any(b"\x00" in raw for raw in ids):
        raise ValueError("item ids may not contain the NUL character")
    joined = SEPARATOR.encode().join(ids)
    count = len(items)
    has_payload = any(entry.payload is not None for entry in items)
    parts = [
        HEADER.pack(FORMAT_VERSION, FLAG_PAYLOAD if has_payload else 0, count, len(joined)),
        _scores(count).pack(*(entry.score for entry in items)),
        joined,
    ]
    if has_payload:
        objects = [orjson.dumps(entry.payload or {}) for entry in items]
        ends = [1 + end + index for index, end in enumerate(accumulate(map(len, objects)))]
        parts += [struct.pack(f"<{count}I", *ends), b"[", b",".join(objects), b"]"]
    return b"".join(parts)


def decode_list(blob: bytes, limit: int | None = None) -> list[Item]:
    """The items of one blob, in rank order; only the first ``limit`` when given.

    Serving asks for a prefix (the top ``n`` plus room for exclusions): only that many scores
    are unpacked, ids split off (the rest of the ids stays one string, then is dropped) and
    payloads parsed (format 3; format 2 parses them all).

    Raises:
        StoreUnavailable: the blob is of a format version this sameday does not read
            (published by another sameday): the store cannot be read by this one, so serving
            falls back as when it is down.
    """
    version, flags, count, size = HEADER.unpack_from(blob)
    if version not in READABLE_VERSIONS:
        raise StoreUnavailable(
            f"list encoded with format version {version}, this sameday reads versions "
            f"{' and '.join(map(str, READABLE_VERSIONS))}: "
            "run the same sameday version on the publishing and the serving side, and "
            "republish the snapshot"
        )
    wanted = count if limit is None or limit > count else limit
    start = HEADER.size + 8 * count
    scores = _scores(wanted).unpack_from(blob, HEADER.size)
    # zip stops at the scores: a prefix split leaves the rest of the ids as one extra piece.
    ids = blob[start : start + size].decode().split(SEPARATOR, wanted)
    if flags & FLAG_PAYLOAD:
        payloads = _payloads(blob, version, count, start + size, wanted)
        return list(map(new_item, zip(ids, scores, payloads)))  # noqa: B905 (a prefix)
    return list(map(new_item, zip(ids, scores, repeat(None))))


def _payloads(blob: bytes, version: int, count: int, at: int, wanted: int) -> list[Any]:
    """The first ``wanted`` payloads of a blob whose payload part starts at byte ``at``."""
    if version == 2:
        return orjson.loads(blob[at:])  # type: ignore[no-any-return]
    array = at + 4 * count
    if wanted == count:
        return orjson.loads(memoryview(blob)[array:])  # type: ignore[no-any-return]
    if wanted == 0:
        return []
    (end,) = _END.unpack_from(blob, at + 4 * (wanted - 1))
    return orjson.loads(blob[array : array + end] + b"]")  # type: ignore[no-any-return]


class ListView(Sequence[Item]):
    """The first ``limit`` items of one blob, decoded only when read: what a scorer's candidates
    are when their list is held in memory (``sameday.serve.held.HeldView``).

    A scorer that computes on a held payload matrix never reads the candidates' payloads, and a
    re-ranked answer serves a few of them: parsing all of them per request (a hundred dicts) was
    most of a scored request's cost. Reading the view as a sequence (a scorer's rows, a feature
    table's item ids) decodes it whole, once (:func:`decode_list`).
    """

    __slots__ = ("_blob", "_items", "_length")

    def __init__(self, blob: bytes, limit: int | None = None) -> None:
        version, _, count, _ = HEADER.unpack_from(blob)
        if version not in READABLE_VERSIONS:
            decode_list(blob, 0)  # raises the error that says why
        self._blob = blob
        self._length = count if limit is None or limit > count else limit
        self._items: list[Item] | None = None

    def __repr__(self) -> str:
        return f"ListView({self._length} items)"

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> Item: ...

    @overload
    def __getitem__(self, index: slice) -> list[Item]: ...

    def __getitem__(self, index: int | slice) -> Item | list[Item]:
        return self.items()[index]

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items())

    def items(self) -> list[Item]:
        """The items, decoded once."""
        items = self._items
        if items is None:
            items = self._items = decode_list(self._blob, self._length)
        return items
