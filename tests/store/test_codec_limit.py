"""Decoding only a prefix of a list gives exactly the first items, payloads included."""

from __future__ import annotations

from sameday.store.base import Item
from sameday.store.codec import decode_list, encode_list


def test_prefix_matches_the_full_decode() -> None:
    items = [Item(f"item-{i}", float(10 - i), {"rank": i} if i % 2 else {}) for i in range(10)]
    blob = encode_list(items)
    full = decode_list(blob)
    for limit in (0, 1, 3, 10, 50):
        assert decode_list(blob, limit) == full[:limit]
    plain = encode_list([Item("a", 2.0), Item("b", 1.0)])
    assert decode_list(plain, 1) == [Item("a", 2.0)]
