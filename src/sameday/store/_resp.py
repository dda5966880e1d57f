"""The RESP bytes of the ``HSET`` commands that load a version into Redis, built in bulk.

redis-py's pipeline packs every argument of every command in Python (encode, ``len``, ``str``,
joins): for a 100,000-list snapshot that is most of a load's time, and it holds the GIL the
checks running meanwhile need. A :class:`~sameday.store.batch.Batch` is framed instead by one
Arrow kernel (``$<len>\\r\\n<key>\\r\\n$<len>\\r\\n<blob>\\r\\n`` for every pair at once, outside
the GIL), and each command is a small header plus a slice of that buffer, sent without a copy.
Plain chunks of pairs are framed in Python, one format string per pair, which is still several
times cheaper than the pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate

from sameday.store.base import Chunk
from sameday.store.batch import Batch

Buffer = bytes | memoryview
"""Part of the packed commands, handed to ``socket.sendall`` as is."""


def command(*args: bytes) -> bytes:
    """One command packed as RESP (a few short arguments)."""
    parts = [b"*%d\r\n" % len(args)]
    parts += [b"$%d\r\n%s\r\n" % (len(arg), arg) for arg in args]
    return b"".join(parts)


def _framed_batch(batch: Batch) -> tuple[memoryview, Sequence[int]]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    keys = batch.key_array.cast(pa.large_binary())
    blobs = batch.blob_array.cast(pa.large_binary())

    def length(values: pa.Array) -> pa.Array:
        return pc.cast(pc.binary_length(values), pa.string()).cast(pa.large_binary())

    def text(value: bytes) -> pa.Scalar:
        return pa.scalar(value, pa.large_binary())

    framed = pc.binary_join_element_wise(
        *(text(b"$"), length(keys), text(b"\r\n"), keys, text(b"\r\n$"), length(blobs)),
        *(text(b"\r\n"), blobs, text(b"\r\n")),
        text(b""),  # the separator
    )
    _, offsets, data = framed.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64)[framed.offset : framed.offset + len(framed) + 1]
    return memoryview(data), ends.tolist()


def _framed_pairs(chunk: Chunk) -> tuple[memoryview, Sequence[int]]:
    frames = []
    for key, blob in chunk:
        raw = key.encode()
        frames.append(b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(raw), raw, len(blob), blob))
    return memoryview(b"".join(frames)), [0, *accumulate(map(len, frames))]


def hset_commands(name: bytes, chunk: Chunk, fields_per_command: int) -> list[Buffer]:
    """The packed ``HSET name key blob ...`` commands writing ``chunk``, ``fields_per_command``
    pairs each, as buffers to send one after the other (one reply per command)."""
    data, ends = _framed_batch(chunk) if isinstance(chunk, Batch) else _framed_pairs(chunk)
    commands: list[Buffer] = []
    for low in range(0, len(chunk), fields_per_command):
        high = min(low + fields_per_command, len(chunk))
        commands.append(
            b"*%d\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n" % (2 + 2 * (high - low), len(name), name)
        )
        commands.append(data[ends[low] : ends[high]])
    return commands
