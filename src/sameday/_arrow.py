"""numpy arrays to Arrow and back through their buffers, without pyarrow's pandas bridge.

pyarrow converts with pandas' help: ``pa.array(ndarray)``, ``Array.to_numpy()``, ``pa.scalar()``
and a compute call given a Python or numpy value all import pandas first when it is installed
(0.25 s of CPU on the benchmark machine, where a whole ``sameday publish`` of 200,000 rows now
takes about 1.3 s), though pandas is not a dependency of sameday. The arrays publishing moves
between the two libraries are fixed-width numbers (offsets, ranks, hashes, scores), so a view of
the value buffer does the same work, without a copy; ``tests/results/test_publish_imports.py``
checks that a publish loads no pandas.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


def to_numpy(values: Any) -> npt.NDArray[Any]:
    """A fixed-width Arrow array or chunked array as numpy, a view when it has one chunk.

    Missing values of a floating-point column read as NaN, as ``to_numpy`` gives them.

    Raises:
        ValueError: ``values`` is not fixed-width, or has missing integers (no NaN to stand in).
    """
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        if values.num_chunks == 1:
            return to_numpy(values.chunk(0))
        if values.num_chunks == 0:
            return np.empty(0, dtype=_dtype(values.type))
        return np.concatenate([to_numpy(chunk) for chunk in values.chunks])
    kind = values.type
    dtype = _dtype(kind)
    validity, data = values.buffers()
    start = values.offset
    out = np.frombuffer(data, dtype=dtype)[start : start + len(values)] if data else np.empty(0)
    if values.null_count:
        if not pa.types.is_floating(kind):
            raise ValueError(f"an Arrow {kind} array with missing values has no numpy view")
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        out = np.where(bits[start : start + len(values)].astype(bool), out, np.nan)
    return out


def _dtype(kind: Any) -> np.dtype[Any]:
    """The numpy type of a fixed-width Arrow number type (``to_pandas_dtype`` imports pandas)."""
    import pyarrow as pa

    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        raise ValueError(f"cannot view an Arrow {kind} array as numpy")
    letter = "f" if pa.types.is_floating(kind) else "i" if pa.types.is_signed_integer(kind) else "u"
    return np.dtype(f"<{letter}{kind.bit_width // 8}")


def from_numpy(values: npt.NDArray[Any]) -> Any:
    """A one-dimensional numeric or boolean numpy array as an Arrow array (no copy of numbers)."""
    import pyarrow as pa

    if values.dtype == np.bool_:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    values = np.ascontiguousarray(values)
    kind = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def scalar(value: str | bytes, kind: Any) -> Any:
    """``value`` as an Arrow scalar of the text or binary type ``kind``, for the literal
    arguments of compute functions (the separator of a join, say)."""
    import pyarrow as pa

    data = value.encode() if isinstance(value, str) else value
    wide = pa.types.is_large_string(kind) or pa.types.is_large_binary(kind)
    offsets = np.array([0, len(data)], dtype=np.int64 if wide else np.int32)
    array = pa.Array.from_buffers(kind, 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    return array[0]


def text_array(values: list[str]) -> Any:
    """``values`` as an Arrow ``string`` array (``pa.array`` of a list imports pandas too)."""
    import pyarrow as pa

    encoded = [value.encode() for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(value) for value in encoded], out=offsets[1:])
    data = pa.py_buffer(b"".join(encoded))
    return pa.Array.from_buffers(pa.string(), len(encoded), [None, pa.py_buffer(offsets), data])
