"""RedisClusterStore on a real three-master cluster: one slot per result set, many nodes in all.

The behaviour every store shares runs in ``test_store_contract.py`` (the ``redis-cluster``
parameters); these tests check what only a cluster has: URLs, slots and nodes, a cluster that is
down, and a whole project published to and served from a cluster.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.cluster import RedisCluster
from tests.conftest import free_ports

from sameday.config import load_project
from sameday.errors import ConfigError, StoreUnavailable
from sameday.serve.client import Client
from sameday.store import Item, open_store
from sameday.store.base import Listed
from sameday.store.codec import encode_list
from sameday.store.redis_cluster import RedisClusterStore, driver_url

RESULT_SETS = [f"rs-{n}" for n in range(12)]


def publish(store: RedisClusterStore, result_set: str, version: str) -> None:
    pairs = [(f"u{k}", encode_list([Item(f"{result_set}-{version}-{k}", 1.0)])) for k in range(5)]
    store.load(result_set, version, [pairs])
    store.set_live(result_set, version)


def test_urls_name_the_cluster_and_database_0_only() -> None:
    assert driver_url("redis+cluster://:pw@h:7000") == "redis://:pw@h:7000"
    assert driver_url("rediss+cluster://h:7000/0") == "rediss://h:7000/0"
    with pytest.raises(ValueError, match="not a Redis Cluster URL"):
        driver_url("redis://h:7000")
    with pytest.raises(ConfigError, match="database 0 only"):
        open_store("redis+cluster://127.0.0.1:7000/2")


def test_a_result_set_lives_on_one_slot_and_result_sets_spread_over_the_nodes(
    redis_cluster_url: str,
) -> None:
    with open_store(redis_cluster_url) as store:
        assert isinstance(store, RedisClusterStore)
        for result_set in RESULT_SETS:
            publish(store, result_set, "v1")
        cluster = RedisCluster.from_url(driver_url(redis_cluster_url))
        try:
            holders: set[str] = set()
            for result_set in RESULT_SETS:
                keys = [*store._keys(result_set)[:2], store._keys(result_set)[2] + "v1"]
                assert len({cluster.keyslot(key) for key in keys}) == 1, keys
                holders.add(cluster.get_node_from_key(keys[0]).name)
                assert cluster.exists(*keys) == 3
        finally:
            cluster.close()
    assert len(holders) == 3  # twelve result sets: every master holds some


def test_one_batch_of_reads_spans_the_nodes(redis_cluster_url: str) -> None:
    with (
        RedisClusterStore(redis_cluster_url) as publisher,
        RedisClusterStore(redis_cluster_url, pointer_ttl=60.0) as server,
    ):
        for result_set in RESULT_SETS:
            publish(publisher, result_set, "v1")
        reads = [(rs, key, None) for rs in RESULT_SETS for key in ("u1", "nobody")]
        answers = server.get_reads(reads)
        for (result_set, key, _), answer in zip(reads, answers, strict=True):
            items = [Item(f"{result_set}-v1-1", 1.0)] if key == "u1" else []
            assert answer == Listed("v1", items)
        publish(publisher, "rs-0", "v2")
        publisher.drop("rs-0", "v1")  # the server's trusted pointer names a dropped version
        assert server.get_reads(reads[:2])[0] == Listed("v2", [Item("rs-0-v2-1", 1.0)])


def test_a_cluster_that_is_down_is_store_unavailable_and_a_server_can_start_meanwhile() -> None:
    (port,) = free_ports(1)
    url = f"redis+cluster://127.0.0.1:{port}"
    with pytest.raises(StoreUnavailable, match="Redis Cluster"):
        RedisClusterStore(url)
    with RedisClusterStore(url, check=False) as store:  # what a server starting does
        with pytest.raises(StoreUnavailable):
            store.live_version("home")
        assert isinstance(store.get_reads([("home", "u1", None)])[0], StoreUnavailable)
        assert repr(store) == f"RedisClusterStore(127.0.0.1:{port}, prefix='sameday')"


def test_a_project_publishes_to_and_serves_from_a_cluster(
    project_dir: Path, redis_cluster_url: str
) -> None:
    from tests.serve.test_server_process import publish_and_apply

    settings = project_dir / "sameday.yaml"
    settings.write_text(
        settings.read_text().replace(
            "${SAMEDAY_SERVING_URL:-sqlite:///.sameday/serving.db}", redis_cluster_url
        )
    )
    publish_and_apply(project_dir, "v1")
    project = load_project(project_dir, environ={})
    with project.open_serving_store() as store:
        assert isinstance(store, RedisClusterStore)
        assert store.live_version("personal") is not None
    with Client.from_project(project_dir, refresh_interval=0, update_bandits=False) as client:
        assert isinstance(client.store, RedisClusterStore) and client.store.pointer_ttl == 0
        served = client.recommend("home", "user-3")
        assert not served.degraded
        assert [item.item for item in served.items][:2] == ["v1-item-9", "v1-item-8"]
        assert [r.items[0].item for r in client.recommend_batch("home", [("user-4", None)])] == [
            "v1-item-9"
        ]
