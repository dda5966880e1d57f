"""Turn normalised rows into the stored blobs of :mod:`sameday.store.codec`, in bulk.

The rows arrive sorted by key and rank, so every key's items, scores and payloads are contiguous
runs in the Arrow column buffers. A key's blob is therefore a header plus four slices of those
buffers: no per-row Python work and no float formatting, which is what lets a two-million-row
snapshot be encoded in a fraction of the time its database insert takes.

The content hash is taken over the same buffers (and the keys), so it changes exactly when what
readers would get changes, whatever file format the rows came from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from sameday.results.read import Rows, quote
from sameday.store.base import Chunk
from sameday.store.codec import FLAG_PAYLOAD, FORMAT_VERSION, HEADER

CHUNK_KEYS = 5_000
"""Keys handed to the store per chunk: big enough to amortise, small enough to show progress."""


def _strings(column: Any) -> tuple[npt.NDArray[np.int64], bytes]:
    """The offsets and the data buffer of a string column, as one contiguous array."""
    import pyarrow as pa

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.large_string())
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    buffers = array.buffers()
    offsets = np.frombuffer(buffers[1], dtype=width)[array.offset : array.offset + len(array) + 1]
    data = buffers[2].to_pybytes() if buffers[2] is not None else b""
    return offsets.astype(np.int64), data


class EncodedLists:
    """The blobs of every key of ``rows``, produced lazily in chunks, and their content hash.

    The reader has checked the limits of the format (item ids of at most ``MAX_ITEM_BYTES``).
    """

    def __init__(self, rows: Rows, con: Any) -> None:
        table = rows.table
        self.keys = rows.keys
        self._starts = rows.starts.tolist()
        keys = table.column("key").take(rows.starts[:-1])
        self._key_bytes = _strings(keys)
        self._key_names: list[str] = keys.to_pylist()
        item_offsets, self._items = _strings(table.column("item"))
        self._lengths = np.diff(item_offsets).astype("<u2").tobytes()
        score = table.column("score").combine_chunks().to_numpy(zero_copy_only=False)
        self._scores = np.asarray(score, dtype="<f8").tobytes()
        self._item_at = item_offsets[rows.starts].tolist()
        self._flags = 0
        self._payload = b""
        self._payload_at: list[int] = []
        if rows.payload:
            self._flags = FLAG_PAYLOAD
            fields = ", ".join(f"{quote(p)} := {quote(p)}" for p in rows.payload)
            con.register("rows", table)
            json = con.sql(f"SELECT to_json(struct_pack({fields})) || ',' FROM rows")
            payload_offsets, self._payload = _strings(json.to_arrow_table().column(0))
            self._payload_at = payload_offsets[rows.starts].tolist()

    def content_hash(self) -> str:
        """``sha256:<hex>`` of the keys and their encoded lists."""
        digest = hashlib.sha256(b"sameday-lists:%d:%d\n" % (FORMAT_VERSION, self._flags))
        digest.update(np.asarray(self._starts, dtype="<i8").tobytes())
        digest.update(self._key_bytes[0].astype("<i8").tobytes())
        for part in (self._key_bytes[1], self._lengths, self._scores, self._items, self._payload):
            digest.update(part)
        return "sha256:" + digest.hexdigest()

    def chunks(self, size: int = CHUNK_KEYS) -> Iterator[Chunk]:
        """``(key, blob)`` pairs in key order, ``size`` keys at a time."""
        pack, flags, starts, at = HEADER.pack, self._flags, self._starts, self._item_at
        lengths, scores, items, payload, payload_at = (
            self._lengths,
            self._scores,
            self._items,
            self._payload,
            self._payload_at,
        )
        for low in range(0, self.keys, size):
            chunk: list[tuple[str, bytes]] = []
            for k in range(low, min(low + size, self.keys)):
                a, b = starts[k], starts[k + 1]
                parts = [
                    pack(FORMAT_VERSION, flags, b - a),
                    lengths[2 * a : 2 * b],
                    scores[8 * a : 8 * b],
                    items[at[k] : at[k + 1]],
                ]
                if flags:
                    parts += [b"[", payload[payload_at[k] : payload_at[k + 1] - 1], b"]"]
                chunk.append((self._key_names[k], b"".join(parts)))
            yield chunk
