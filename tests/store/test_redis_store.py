"""RedisStore's trusted live pointer: cheap lookups that never read a version that is gone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from sameday.errors import NotFound, StoreUnavailable
from sameday.store import Item
from sameday.store.base import Listed
from sameday.store.codec import encode_list
from sameday.store.redis import MARKER, RedisStore


@pytest.fixture
def pair(redis_url: str) -> Iterator[tuple[RedisStore, RedisStore]]:
    """A server's store (pointer trusted for a minute) and a publisher's store, one database."""
    with RedisStore(redis_url, pointer_ttl=60.0) as server, RedisStore(redis_url) as publisher:
        yield server, publisher


def publish(store: RedisStore, version: str) -> None:
    store.load("home", version, [[("u1", encode_list([Item(f"{version}-a", 1.0)]))]])
    store.set_live("home", version)


def first(store: RedisStore, key: str = "u1") -> str | None:
    found = store.get("home", key)
    return found[0].item if found else None


def test_the_trusted_pointer_moves_when_the_live_version_is_read_again(
    pair: tuple[RedisStore, RedisStore],
) -> None:
    server, publisher = pair
    publish(publisher, "v1")
    assert first(server) == "v1-a" and first(server, "nobody") is None
    publish(publisher, "v2")
    assert first(server) == "v1-a"  # v1 still exists: served until the pointer is re-read
    assert server.live_version("home") == "v2"  # what the refresher does every interval
    assert first(server) == "v2-a"


def test_a_dropped_version_is_never_served(pair: tuple[RedisStore, RedisStore]) -> None:
    server, publisher = pair
    publish(publisher, "v1")
    assert first(server) == "v1-a"
    publish(publisher, "v2")
    publisher.drop("home", "v1")
    assert first(server) == "v2-a"
    assert first(server, "nobody") is None


def test_a_version_without_the_marker_is_read_exactly(
    pair: tuple[RedisStore, RedisStore],
) -> None:
    server, publisher = pair
    publish(publisher, "v1")
    publisher._client.hdel("sameday:{home}:v:v1", MARKER)  # as loaded by an older sameday
    assert first(server) == "v1-a" and first(server, "nobody") is None


def test_an_expired_pointer_is_read_again(redis_url: str) -> None:
    with RedisStore(redis_url, pointer_ttl=1e-9) as server, RedisStore(redis_url) as publisher:
        publish(publisher, "v1")
        assert first(server) == "v1-a"
        publish(publisher, "v2")
        assert first(server) == "v2-a"


def test_no_live_version_is_not_found(pair: tuple[RedisStore, RedisStore]) -> None:
    server, _ = pair
    with pytest.raises(NotFound):
        server.get("home", "u1")


def test_key_count_leaves_the_marker_out(pair: tuple[RedisStore, RedisStore]) -> None:
    server, publisher = pair
    publish(publisher, "v1")
    assert server.key_count("home", "v1") == 1
    publisher._client.hdel("sameday:{home}:v:v1", MARKER)
    assert server.key_count("home", "v1") is None


def test_get_reads_never_serves_a_dropped_version(pair: tuple[RedisStore, RedisStore]) -> None:
    server, publisher = pair
    publish(publisher, "v1")
    assert server.get_reads([("home", "u1", None)]) == [Listed("v1", [Item("v1-a", 1.0)])]
    publish(publisher, "v2")
    publisher.drop("home", "v1")  # the server still trusts v1: the marker tells it is gone
    assert server.get_reads([("home", "u1", None), ("home", "nobody", None)]) == [
        Listed("v2", [Item("v2-a", 1.0)]),
        Listed("v2", []),
    ]


def test_get_reads_is_one_round_trip(
    pair: tuple[RedisStore, RedisStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted on the client: the server's own counters include every other user of the server."""
    server, publisher = pair
    publish(publisher, "v1")
    server.live_version("home")  # the pointer is trusted from now on
    sends: list[int] = []
    send_packed = redis.connection.Connection.send_packed_command

    def counting(
        self: redis.connection.Connection, command: object, check_health: bool = True
    ) -> None:
        sends.append(len(command) if isinstance(command, list) else 1)
        send_packed(self, command, check_health)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counting)
    answers = server.get_reads([("home", f"u{k}", None) for k in range(50)])
    assert answers[1] == Listed("v1", [Item("v1-a", 1.0)]) and answers[0] == Listed("v1", [])
    assert len(sends) == 1  # one write to the socket: the 50 HMGETs are pipelined


def test_get_reads_on_a_server_that_is_gone_answers_store_unavailable(redis_url: str) -> None:
    with RedisStore(redis_url, pointer_ttl=60.0) as server:
        publish(server, "v1")
        live = server._client
        server._client = redis.Redis.from_url("redis://127.0.0.1:1/0")  # the server goes away
        try:
            answers = server.get_reads([("home", "u1", None), ("home", "u2", None)])
        finally:
            server._client.close()
            server._client = live
    assert all(isinstance(answer, StoreUnavailable) for answer in answers)


def test_a_trusted_read_names_the_version_it_read_in_one_command(
    pair: tuple[RedisStore, RedisStore],
) -> None:
    server, publisher = pair
    publish(publisher, "v1")
    server.live_version("home")  # trusted: v1
    publish(publisher, "v2")  # the server still reads v1, and must say so
    before = server._client.info("stats")["total_commands_processed"]
    assert server.read("home", "u1") == Listed("v1", [Item("v1-a", 1.0)])
    assert server.get_reads([("home", "u1", None)]) == [Listed("v1", [Item("v1-a", 1.0)])]
    after = server._client.info("stats")["total_commands_processed"]
    assert after - before == 2 + 1  # one HMGET each (the marker holds the version), plus INFO
    exact = RedisStore(server._url)  # no trusted pointer: one Lua call reads pointer and list
    with exact:
        assert exact.read("home", "u1") == Listed("v2", [Item("v2-a", 1.0)])
