"""The byte format of one ranked list, shared by every backend.

A list is encoded once, when its snapshot is published, and decoded on every lookup, so the format
is chosen for both ends: scores are raw little-endian doubles and item ids raw UTF-8, which lets
:mod:`sameday.results` build every blob of a snapshot from Arrow buffers by slicing, without
formatting two million floats as text (what made a JSON encoding cost more than the database
insert itself). Decoding is a few ``struct`` calls and one slice per item.

Layout (``n`` items)::

    header    4 bytes   format version (1), flags, n (uint16)
    lengths   2n bytes  byte length of each item id (uint16)
    scores    8n bytes  float64 scores, in rank order
    items               the item ids' UTF-8 bytes, concatenated
    payload             only with FLAG_PAYLOAD: a JSON array of n objects (payload columns)
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from functools import lru_cache, partial
from itertools import accumulate, repeat
from typing import Any

import orjson

from sameday.store.base import Item

_new_item = partial(tuple.__new__, Item)
"""``Item`` built at C speed (a NamedTuple's own constructor is a Python function)."""
FORMAT_VERSION = 1
"""Bumped whenever the layout changes; decoders refuse blobs of another version."""
FLAG_PAYLOAD = 1
"""Flag bit: a JSON array of payload objects follows the item ids."""
HEADER = struct.Struct("<BBH")
"""Format version, flags, number of items."""
MAX_ITEMS = 0xFFFF
"""Most items one list can hold (the count is a uint16)."""
MAX_ITEM_BYTES = 0xFFFF
"""Longest item id in UTF-8 bytes (lengths are uint16)."""


@lru_cache(maxsize=1024)
def _struct(code: str, count: int) -> struct.Struct:
    """The compiled little-endian struct of ``count`` values (lists share a few lengths)."""
    return struct.Struct(f"<{count}{code}")


def encode_list(items: Sequence[Item]) -> bytes:
    """The blob of one ranked list, items in rank order: the reference encoder.

    :mod:`sameday.results` produces the same bytes in bulk from Arrow columns; tests hold the two
    to each other.

    Raises:
        ValueError: more than ``MAX_ITEMS`` items, or an item id longer than ``MAX_ITEM_BYTES``.
    """
    if len(items) > MAX_ITEMS:
        raise ValueError(f"a list holds at most {MAX_ITEMS} items, got {len(items)}")
    ids = [entry.item.encode() for entry in items]
    if any(len(raw) > MAX_ITEM_BYTES for raw in ids):
        raise ValueError(f"item ids must be at most {MAX_ITEM_BYTES} bytes of UTF-8")
    count = len(items)
    has_payload = any(entry.payload is not None for entry in items)
    parts = [
        HEADER.pack(FORMAT_VERSION, FLAG_PAYLOAD if has_payload else 0, count),
        struct.pack(f"<{count}H", *(len(raw) for raw in ids)),
        struct.pack(f"<{count}d", *(entry.score for entry in items)),
        *ids,
    ]
    if has_payload:
        parts.append(orjson.dumps([entry.payload or {} for entry in items]))
    return b"".join(parts)


def decode_list(blob: bytes, limit: int | None = None) -> list[Item]:
    """The items of one blob, in rank order; only the first ``limit`` when given.

    Serving asks for a prefix (the top ``n`` plus room for exclusions), so the ids past it are
    never sliced out nor decoded.

    Raises:
        ValueError: the blob is of another format version (published by a newer sameday).
    """
    version, flags, count = HEADER.unpack_from(blob)
    if version != FORMAT_VERSION:
        raise ValueError(
            f"list encoded with format version {version}, this sameday reads {FORMAT_VERSION}: "
            "upgrade sameday on the serving side, or republish the snapshot"
        )
    offset = HEADER.size
    lengths = _struct("H", count).unpack_from(blob, offset)
    offset += 2 * count
    wanted = count if limit is None else min(limit, count)
    scores = _struct("d", wanted).unpack_from(blob, offset)
    position = offset + 8 * count
    head = lengths[:wanted]
    ends = list(accumulate(head))
    starts = [0, *ends[:-1]]
    region = blob[position : position + (ends[-1] if ends else 0)]
    if region.isascii():
        # Byte offsets are character offsets: one decode, then slices made in C.
        text = region.decode("ascii")
        ids: list[str] = list(map(text.__getitem__, map(slice, starts, ends)))
    else:
        ids = [region[start:end].decode() for start, end in zip(starts, ends, strict=True)]
    position += len(region)
    if flags & FLAG_PAYLOAD:
        position += sum(lengths[wanted:])
        payloads: list[Any] = orjson.loads(blob[position:])[:wanted]
        return list(map(_new_item, zip(ids, scores, payloads, strict=True)))
    return list(map(_new_item, zip(ids, scores, repeat(None))))
