"""Turn normalised rows into the stored blobs of :mod:`sameday.store.codec`, in bulk.

The rows arrive sorted by key and rank, so every key's items, scores and payloads are contiguous
runs in the Arrow column buffers. A key's blob is therefore a header, a slice of the score
buffer, its item ids joined by NUL, and its payloads, and Arrow can make every blob of a snapshot
at once: each part becomes a binary array whose offsets are the key boundaries (no copy), the
ids are joined per key by one ``binary_join`` kernel, and one ``binary_join_element_wise`` kernel
concatenates the parts, outside the GIL. No per-row or per-key Python work, no float formatting.

The content hash is taken over the same buffers (and the keys), so it changes exactly when what
readers would get changes, whatever file format the rows came from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

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
        self._starts = starts
        self._key_names = table.column("key").take(starts[:-1]).combine_chunks()
        self._key_offsets, self._key_data = string_buffers(self._key_names)
        self._item_offsets, self._items = string_buffers(table.column("item"))
        self._lengths = np.diff(self._item_offsets).astype("<u2")
        score = table.column("score").combine_chunks().to_numpy(zero_copy_only=False)
        self._scores = np.ascontiguousarray(score, dtype="<f8")
        self._flags = FLAG_PAYLOAD if rows.payload else 0
        self._payload_offsets = np.zeros(1, dtype=np.int64)
        self._payload: Any = pa.py_buffer(b"")
        header = np.empty(self.keys, dtype=_HEADER)
        header["version"] = FORMAT_VERSION
        header["flags"] = self._flags
        counts = np.diff(starts)
        header["count"] = counts
        # each key's id bytes plus one separator between two ids
        header["size"] = np.diff(self._item_offsets[starts]) + np.maximum(counts - 1, 0)
        items = pa.LargeListArray.from_arrays(
            pa.array(starts, pa.int64()), table.column("item").combine_chunks()
        )
        parts = [
            _runs(pa.py_buffer(header), np.arange(self.keys + 1, dtype=np.int64) * header.itemsize),
            _runs(pa.py_buffer(self._scores), starts * 8),
            pc.binary_join(items, SEPARATOR).cast(pa.large_binary()),
        ]
        if rows.payload:

            def bracket(text: bytes) -> Any:
                return pa.scalar(text, pa.large_binary())

            # one JSON object per row, each followed by a comma; a key's run minus its last
            # comma, in brackets, is its JSON array
            fields = ", ".join(f"{quote(p)} := {quote(p)}" for p in rows.payload)
            con.register("rows", table)
            json = con.sql(f"SELECT to_json(struct_pack({fields})) || ',' FROM rows")
            self._payload_offsets, self._payload = string_buffers(json.to_arrow_table().column(0))
            objects = _runs(self._payload, self._payload_offsets[starts])
            parts += [bracket(b"["), pc.binary_slice(objects, 0, -1), bracket(b"]")]
        # the last argument is the separator
        self._blobs = pc.binary_join_element_wise(*parts, pa.scalar(b"", pa.large_binary()))

    def content_hash(self) -> str:
        """``sha256:<hex>`` of the keys and their encoded lists (hashlib releases the GIL)."""
        digest = hashlib.sha256(b"sameday-lists:%d:%d\n" % (FORMAT_VERSION, self._flags))
        digest.update(self._starts.astype("<i8").tobytes())
        digest.update((self._key_offsets - self._key_offsets[0]).astype("<i8").tobytes())
        digest.update(_span(self._key_data, self._key_offsets))
        digest.update(self._lengths.tobytes())
        digest.update(self._scores.tobytes())
        digest.update(_span(self._items, self._item_offsets))
        digest.update(_span(self._payload, self._payload_offsets))
        return "sha256:" + digest.hexdigest()

    def chunks(self, size: int = CHUNK_KEYS) -> Iterator[Batch]:
        """``(key, blob)`` pairs in key order, ``size`` keys at a time, as Arrow-backed batches."""
        for low in range(0, self.keys, size):
            yield Batch(self._key_names.slice(low, size), self._blobs.slice(low, size))
