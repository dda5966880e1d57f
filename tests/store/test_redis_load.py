"""``RedisStore.load`` writes RESP packed in bulk: the same hash from a batch or from pairs."""

from __future__ import annotations

import pyarrow as pa
import pytest
import redis

from sameday.errors import StoreUnavailable
from sameday.store._resp import command, hset_commands
from sameday.store.batch import Batch
from sameday.store.redis import MARKER, RedisStore

PAIRS = [(f"ü{k}", bytes([k % 256]) * (k % 7) + b"\r\n") for k in range(2_500)]


def as_batch(pairs: list[tuple[str, bytes]]) -> Batch:
    keys, blobs = zip(*pairs, strict=True)
    return Batch(pa.array(keys), pa.array(blobs, pa.large_binary()))


def stored(redis_url: str, version: str) -> dict[bytes, bytes]:
    client = redis.Redis.from_url(redis_url)
    try:
        return dict(client.hgetall(f"sameday:{{rs}}:v:{version}"))
    finally:
        client.close()


def test_batches_and_pairs_store_the_same_hash(redis_url: str) -> None:
    with RedisStore(redis_url) as store:
        chunks = [PAIRS[:1_200], PAIRS[1_200:]]
        assert store.load("rs", "pairs", chunks) == len(PAIRS)
        assert store.load("rs", "batch", [as_batch(chunk) for chunk in chunks]) == len(PAIRS)
        assert store.load("rs", "empty", []) == 0
    expected = {key.encode(): blob for key, blob in PAIRS}
    assert stored(redis_url, "pairs") == {**expected, MARKER.encode(): b"pairs"}
    assert stored(redis_url, "batch") == {**expected, MARKER.encode(): b"batch"}
    assert stored(redis_url, "empty") == {MARKER.encode(): b"empty"}


def test_commands_split_at_the_field_limit() -> None:
    chunk = PAIRS[:5]
    commands = hset_commands(b"h", as_batch(chunk), 2)
    assert len(commands) == 6  # header and fields, for 2 + 2 + 1 pairs
    packed = b"".join(bytes(part) for part in commands)
    assert packed == b"".join(hset_commands(b"h", chunk, 2))
    assert packed.startswith(
        command(
            b"HSET", b"h", *(part for pair in chunk[:2] for part in (pair[0].encode(), pair[1]))
        )
    )


def test_an_error_reply_fails_the_load_and_leaves_the_store_usable(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.set("sameday:{rs}:v:taken", "not a hash")
    client.close()
    with RedisStore(redis_url) as store:
        with pytest.raises(StoreUnavailable, match="WRONGTYPE"):
            store.load("rs", "taken", [PAIRS[:10], PAIRS[10:20]])
        assert store.load("rs", "next", [as_batch(PAIRS[:10])]) == 10
        assert store.versions("rs") == ["next", "taken"]
