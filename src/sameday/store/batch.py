"""``Batch``: a chunk of a load held as two Arrow arrays instead of two Python objects per list.

Publishing encodes every list of a snapshot in a few Arrow kernels (see
:mod:`sameday.results.encode`); turning the 100,000 blobs of a large snapshot into Python
objects only to have a store pack them back into bytes would cost more than the encoding. A store
that can write straight from the buffers (Redis frames its commands from them, see
:mod:`sameday.store._resp`) reads :attr:`Batch.key_array` and :attr:`Batch.blob_array`; to every
other store a batch is an ordinary :data:`~sameday.store.base.Chunk` of ``(key, blob)`` pairs.

This module never imports pyarrow: only code that already holds Arrow arrays builds a batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload


class Batch(Sequence[tuple[str, bytes]]):
    """``(key, blob)`` pairs backed by an Arrow string array of keys and a binary array of blobs.

    The arrays are not called ``keys``: ``dict.update`` would take the batch for a mapping.
    """

    __slots__ = ("_pairs", "blob_array", "key_array")

    def __init__(self, keys: Any, blobs: Any) -> None:
        if len(keys) != len(blobs):
            raise ValueError(f"a batch needs one blob per key, got {len(keys)} and {len(blobs)}")
        self.key_array = keys
        """The keys, an Arrow ``string`` or ``large_string`` array."""
        self.blob_array = blobs
        """The encoded lists, an Arrow ``binary`` or ``large_binary`` array."""
        self._pairs: list[tuple[str, bytes]] | None = None

    def __repr__(self) -> str:
        return f"Batch({len(self)} lists)"

    def _list(self) -> list[tuple[str, bytes]]:
        if self._pairs is None:
            keys, blobs = self.key_array.to_pylist(), self.blob_array.to_pylist()
            self._pairs = list(zip(keys, blobs, strict=True))
        return self._pairs

    def __len__(self) -> int:
        return len(self.blob_array)

    @overload
    def __getitem__(self, index: int) -> tuple[str, bytes]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[str, bytes]]: ...

    def __getitem__(self, index: int | slice) -> tuple[str, bytes] | Sequence[tuple[str, bytes]]:
        return self._list()[index]

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        return iter(self._list())
