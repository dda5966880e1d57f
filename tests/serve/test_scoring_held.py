"""A scored list served from a held snapshot answers exactly what the same list read from the
store answers: the held path takes its candidates from the blob (``HeldItems.candidates``) and
parses only the payloads it serves, which must not change a byte of the answer or the exposure.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from sameday.events.records import Exposure
from sameday.serve.client import Client
from sameday.serve.held import HeldItems, encode_items, load_snapshot
from sameday.serve.state import build_state
from sameday.store.base import Item
from sameday.store.codec import HEADER, ListView, encode_list
from sameday.store.memory import MemoryStore
from sameday.testing import surface_spec


class Log:
    def __init__(self) -> None:
        self.exposures: list[Exposure] = []

    def log_exposure(self, exposure: Exposure) -> None:
        self.exposures.append(exposure)


def format_2(entries: list[Item]) -> bytes:
    """A blob as sameday wrote it before format 3: what snapshots published before hold."""
    import struct

    ids = b"\x00".join(entry.item.encode() for entry in entries)
    blob = HEADER.pack(2, 1, len(entries), len(ids))
    blob += struct.pack(f"<{len(entries)}d", *(entry.score for entry in entries)) + ids
    return blob + orjson.dumps([entry.payload for entry in entries])


def candidates(user: int) -> list[Item]:
    return [
        Item(f"i{k}", float(40 - k), {"x": (k * 7 + user) % 11, "y": k % 3 / 4, "tag": f"t{k}"})
        for k in range(40)
    ]


def store_of(encode: Any) -> MemoryStore:
    store = MemoryStore()
    lists = {f"u{user}": candidates(user) for user in range(3)}
    lists["*"] = candidates(9)[:5]
    store.load("cands", "v1", [[(key, encode(items)) for key, items in sorted(lists.items())]])
    store.set_live("cands", "v1")
    store.load("popular", "p1", [[("*", encode_list([Item("p1", 1.0), Item("p2", 0.5)]))]])
    store.set_live("popular", "p1")
    return store


def served(
    store: MemoryStore, scorer: str, held: bool, fallback: str | None = None
) -> tuple[list[bytes], list[Any]]:
    spec = surface_spec(
        "home", "cands", fallbacks=["popular"], n=4, python=scorer, timeout_ms=5000, candidates=30
    )
    log = Log()
    client = Client(
        store,
        state=build_state({("surface", "home"): spec}),
        refresh_interval=0,
        memory_limit=64 * 2**20 if held else 0,
    )
    client.engine.log = log  # type: ignore[assignment]
    try:
        assert ("cands" in client.engine.cache.held) is held
        bodies = []
        for user in ("u0", "u1", "u2", "nobody"):
            for n, exclude in ((4, ()), (6, ("i3", "i10")), (2, ("i0",))):
                result = client.recommend(
                    "home", user, n=n, exclude=exclude, request_id=f"{user}-{n}"
                )
                assert result.scored is not None and result.scored.fallback == fallback
                bodies.append(result.to_json())
                assert bodies[-1] == orjson.dumps(result.to_dict())
        exposures = [(e.items, e.scores, e.model, e.snapshot_versions) for e in log.exposures]
        return bodies, exposures
    finally:
        client.close()


@pytest.mark.parametrize("scorer", ["by_x", "by_matrix"])
@pytest.mark.parametrize("encode", [encode_list, format_2], ids=["format 3", "format 2"])
def test_a_held_scored_list_answers_byte_for_byte_what_a_store_read_does(
    scorer: str, encode: Any
) -> None:
    store = store_of(encode)
    name = f"tests.serve._scorers:{scorer}"
    assert served(store, name, held=True) == served(store, name, held=False)


def test_a_held_list_served_in_the_batch_order_when_its_scorer_fails() -> None:
    store = store_of(encode_list)
    name = "tests.serve._scorers:broken"
    assert served(store, name, True, "error") == served(store, name, False, "error")


def test_a_held_list_hands_its_scorer_a_view_of_the_whole_list() -> None:
    snapshot = load_snapshot(store_of(encode_list), "cands", "v1", 2**20)
    assert snapshot is not None
    read = snapshot.read("u1", 4).items
    assert type(read) is HeldItems and len(read) == 4
    view = read.candidates(30)
    assert isinstance(view, ListView) and len(view) == 30
    expected = [
        Item("i7", 2.5, candidates(1)[7].payload),
        Item("i0", 0.1, candidates(1)[0].payload),
    ]
    ranked = view.ranked([7, 0], [2.5, 0.1])
    assert type(ranked) is HeldItems and ranked == expected
    assert ranked.json(2) == encode_items(expected, "cands")[0]  # the held JSON, cut anew
    assert ranked.json(1) == encode_items(expected[:1], "cands")[0]
    assert list(view) == candidates(1)[:30]  # read as a sequence: decoded whole
