"""``Batch``: Arrow-backed chunks that every store can read as ``(key, blob)`` pairs."""

from __future__ import annotations

import pyarrow as pa
import pytest

from sameday.store import open_store
from sameday.store.batch import Batch


def make_batch() -> Batch:
    return Batch(pa.array(["u1", "ü2", "u3"]), pa.array([b"a", b"", b"c\x00"], pa.large_binary()))


def test_a_batch_is_a_sequence_of_pairs() -> None:
    batch = make_batch()
    pairs = [("u1", b"a"), ("ü2", b""), ("u3", b"c\x00")]
    assert len(batch) == 3 and list(batch) == pairs
    assert batch[1] == pairs[1] and list(batch[1:]) == pairs[1:]
    assert repr(batch) == "Batch(3 lists)"


def test_a_batch_needs_one_blob_per_key() -> None:
    with pytest.raises(ValueError, match="one blob per key"):
        Batch(pa.array(["u1"]), pa.array([b"a", b"b"]))


@pytest.mark.parametrize("url", ["memory://", "sqlite:///{tmp}/serving.db"])
def test_stores_load_a_batch_like_pairs(url: str, tmp_path: object) -> None:
    with open_store(url.format(tmp=tmp_path)) as store:
        assert store.load("rs", "v1", [make_batch()]) == 3
        store.set_live("rs", "v1")
        assert store.versions("rs") == ["v1"]
