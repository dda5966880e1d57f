"""Turn normalised rows into the stored blobs of :mod:`sameday.store.codec`, in bulk.

The rows arrive sorted by key and rank, so every key's items, scores and payloads are contiguous
runs in the Arrow column buffers. A key's blob is therefore a header, a slice of the score
buffer, its item ids joined by NUL, its payloads' end offsets and its payloads, and Arrow can
make every blob of a snapshot at once: each part becomes a binary array whose offsets are the
key boundaries (no copy), the ids are joined per key by one ``binary_join`` kernel, and one
``binary_join_element_wise`` kernel concatenates the parts, outside the GIL. No per-row or
per-key Python work, no float formatting.

The content hash is taken over the keys and the blobs, so it changes exactly when what readers
would get changes, whatever file format the rows came from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from sameday._arrow import from_numpy, scalar, to_numpy
from sameday.results.read import Rows, quote, string_buffers
from sameday.store.batch import Batch
from sameday.store.codec import FLAG_PAYLOAD, FORMAT_VERSION, SEPARATOR

CHUNK_KEYS = 5_000
"""Keys handed to the store per chunk: big enough to amortise, small enough to show progress."""
_HEADER = np.dtype([("version", "u1"), ("flags", "u1"), ("count", "<u2"), ("size", "<u4")])
""":data:`sameday.store.codec.HEADER` as a numpy record, to build every header at once."""


def _runs(data: Any, bounds: npt.NDArray[np.int64]) -> Any:
    """The byte runs ``data[bounds[k]:bounds[k + 1]]`` as one binary array, without a copy."""
    import pyarrow as pa

    return pa.Array.from_buffers(
        pa.large_binary(), len(bounds) - 1, [None, pa.py_buffer(bounds), data]
    )


def _span(data: Any, offsets: npt.NDArray[np.int64]) -> memoryview:
    """The bytes of ``data`` that ``offsets`` cover."""
    return memoryview(data)[int(offsets[0]) : int(offsets[-1])]


class EncodedLists:
    """The blobs of every key of ``rows``, handed out in chunks, and their content hash.

    The reader has checked the limits of the format (item ids of at most ``MAX_ITEM_BYTES``).
    """

    def __init__(self, rows: Rows, con: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        table, starts = rows.table, rows.starts
        self.keys = rows.keys
        self._key_names = table.column("key").take(from_numpy(starts[:-1])).combine_chunks()
        item_offsets, _ = string_buffers(table.column("item"))
        score = to_numpy(table.column("score"))
        self._flags = FLAG_PAYLOAD if rows.payload else 0
        header = np.empty(self.keys, dtype=_HEADER)
        header["version"] = FORMAT_VERSION
        header["flags"] = self._flags
        counts = np.diff(starts)
        header["count"] = counts
        # each key's id bytes plus one separator between two ids
        header["size"] = np.diff(item_offsets[starts]) + np.maximum(counts - 1, 0)
        items = pa.LargeListArray.from_arrays(
            from_numpy(starts.astype(np.int64)), table.column("item").combine_chunks()
        )
        parts = [
            _runs(pa.py_buffer(header), np.arange(self.keys + 1, dtype=np.int64) * header.itemsize),
            _runs(pa.py_buffer(np.ascontiguousarray(score, dtype="<f8")), starts * 8),
            pc.binary_join(items, scalar(SEPARATOR, items.type.value_type)).cast(pa.large_binary()),
        ]
        if rows.payload:
            # one JSON object per row, each followed by a comma; a key's run minus its last
            # comma, in brackets, is its JSON array
            fields = ", ".join(f"{quote(p)} := {quote(p)}" for p in rows.payload)
            con.register("rows", table)
            json = con.sql(f"SELECT to_json(struct_pack({fields})) || ',' FROM rows")
            payload_offsets, payload = string_buffers(json.to_arrow_table().column(0))
            objects = _runs(payload, payload_offsets[starts])
            # each object's end in its key's array: the bracket, then the objects before it
            # and it, each with its comma (the last one's comma is the closing bracket)
            key_start = np.repeat(payload_offsets[starts[:-1]], counts)
            ends = (payload_offsets[1:] - key_start).astype("<u4")
            parts += [
                _runs(pa.py_buffer(ends), starts * 4),
                scalar(b"[", pa.large_binary()),
                pc.binary_slice(objects, 0, -1),
                scalar(b"]", pa.large_binary()),
            ]
        # the last argument is the separator
        self._blobs = pc.binary_join_element_wise(*parts, scalar(b"", pa.large_binary()))

    def content_hash(self) -> str:
        """``sha256:<hex>`` of the keys and their encoded lists (see :class:`ContentHash`)."""
        digest = ContentHash(self._flags)
        for chunk in self.chunks():
            digest.update(chunk)
        return digest.hexdigest()

    def chunks(self, size: int = CHUNK_KEYS) -> Iterator[Batch]:
        """``(key, blob)`` pairs in key order, ``size`` keys at a time, as Arrow-backed batches."""
        for low in range(0, self.keys, size):
            yield Batch(self._key_names.slice(low, size), self._blobs.slice(low, size))


class ContentHash:
    """``sha256:<hex>`` of a snapshot's keys and blobs, fed one chunk at a time in key order.

    The digest covers each chunk's key and blob lengths and bytes, so chunks of ``CHUNK_KEYS``
    keys counted from the first key give the same digest whether the lists were encoded in one
    go or a range of keys at a time. hashlib releases the GIL on buffers this size.
    """

    def __init__(self, flags: int) -> None:
        self._digest = hashlib.sha256(b"sameday-lists:%d:%d\n" % (FORMAT_VERSION, flags))

    def update(self, batch: Batch) -> None:
        """Add the next chunk."""
        for array in (batch.key_array, batch.blob_array):
            offsets, data = string_buffers(array)
            self._digest.update((offsets - offsets[0]).astype("<i8").tobytes())
            self._digest.update(_span(data, offsets))

    def hexdigest(self) -> str:
        """The digest of everything added, as ``sha256:<hex>``."""
        return "sha256:" + self._digest.hexdigest()
