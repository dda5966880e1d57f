"""The list format round-trips and refuses what it cannot hold."""

from __future__ import annotations

import math
import struct

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sameday.errors import StoreUnavailable
from sameday.store import Item
from sameday.store.codec import HEADER, decode_list, encode_list

items = st.builds(
    Item,
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30),
    st.floats(allow_nan=False),
    st.none() | st.dictionaries(st.text(max_size=5), st.integers(-(2**53), 2**53), max_size=3),
)


def format_2(entries: list[Item]) -> bytes:
    """A blob as sameday wrote it before format 3 (no payload ends): what older snapshots hold."""
    ids = b"\x00".join(entry.item.encode() for entry in entries)
    has_payload = any(entry.payload is not None for entry in entries)
    blob = HEADER.pack(2, int(has_payload), len(entries), len(ids))
    blob += struct.pack(f"<{len(entries)}d", *(entry.score for entry in entries)) + ids
    if has_payload:
        blob += orjson.dumps([entry.payload or {} for entry in entries])
    return blob


@given(st.lists(items, max_size=40), st.none() | st.integers(0, 45))
def test_round_trip(entries: list[Item], limit: int | None) -> None:
    decoded = decode_list(encode_list(entries), limit)
    if any(e.payload is not None for e in entries):
        entries = [e._replace(payload=e.payload or {}) for e in entries]
    assert decoded == entries[:limit]
    assert decode_list(format_2(entries), limit) == decoded  # older snapshots still read


def test_non_finite_scores_survive() -> None:
    (decoded,) = decode_list(encode_list([Item("a", math.inf)]))
    assert decoded.score == math.inf


def test_limits_and_versions() -> None:
    with pytest.raises(ValueError, match="at most"):
        encode_list([Item("x" * 70_000, 1.0)])
    with pytest.raises(ValueError, match="NUL"):
        encode_list([Item("a\x00b", 1.0)])
    blob = bytearray(encode_list([Item("a", 1.0)]))
    blob[0] = 9
    unreadable = "format version 9, this sameday reads versions 2 and 3"
    with pytest.raises(StoreUnavailable, match=unreadable):
        decode_list(bytes(blob))
    assert HEADER.size == 8
