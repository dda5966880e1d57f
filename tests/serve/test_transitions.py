"""A server says each change of its state once: a configuration or snapshot picked up, the
serving store or the applied configuration lost and back (real Redis and PostgreSQL behind TCP
proxies a test switches off and on)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from tests.events.pgproxy import SwitchableProxy

from sameday.metadata import MetadataStore
from sameday.serve.client import AppliedSource, Client
from sameday.store.redis import RedisStore
from sameday.testing import experiment_spec, load_lists, surface_spec

HOME = surface_spec("home", "personal", fallbacks=["popular"], n=2)
EXPERIMENT = experiment_spec("exp", "home", {"control": "personal", "b": "popular"})


@pytest.fixture
def proxies() -> Iterator[tuple[SwitchableProxy, SwitchableProxy]]:
    redis_proxy = SwitchableProxy(("127.0.0.1", 6379))
    postgres_proxy = SwitchableProxy(("127.0.0.1", 5432))
    try:
        yield redis_proxy, postgres_proxy
    finally:
        redis_proxy.close()
        postgres_proxy.close()


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    found = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "sameday.serve"]
    caplog.clear()
    return found


def test_each_change_a_refresh_brings_is_logged_once(
    redis_url: str,
    postgres_url: str,
    proxies: tuple[SwitchableProxy, SwitchableProxy],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="sameday")
    redis_proxy, postgres_proxy = proxies
    metadata = MetadataStore.open(
        postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{postgres_proxy.port}")
    )
    metadata.replace_applied([("surface", "home", HOME)])
    store = RedisStore(redis_url.replace("6379", str(redis_proxy.port)), check=False)
    load_lists(store, "personal", "p1", {"u1": ["a", "b"]})
    load_lists(store, "popular", "q1", {"*": ["b", "c"]})
    with Client(store, specs=AppliedSource(metadata), refresh_interval=0) as client:
        started = lines(caplog)
        assert started[0][0] == "INFO" and started[0][1].startswith("configuration picked up")
        assert "surfaces home; experiments none" in started[0][1]
        assert started[1:] == [
            ("INFO", "result set personal: serving snapshot p1"),
            ("INFO", "result set popular: serving snapshot q1"),
            # popular holds only its * list: nothing more to hold
            ("INFO", "result set personal: snapshot p1 held in memory (1 lists, 0.0 MB)"),
        ]
        assert client.refresh() is False and lines(caplog) == []  # nothing changed: silent

        load_lists(store, "personal", "p2", {"u1": ["c", "d"]})
        metadata.replace_applied([("surface", "home", HOME), ("experiment", "exp", EXPERIMENT)])
        client.refresh()
        changed = lines(caplog)
        assert "surfaces home; experiments exp" in changed[0][1]
        assert changed[1:] == [
            ("INFO", "result set personal: serving snapshot p2 (was p1)"),
            ("INFO", "result set personal: snapshot p2 held in memory (1 lists, 0.0 MB)"),
        ]

        redis_proxy.down()
        client.refresh()
        client.refresh()
        (down,) = lines(caplog)
        assert down[0] == "WARNING" and down[1].startswith("serving store unreachable (")
        redis_proxy.up = True
        client.refresh()
        assert lines(caplog) == [("INFO", "serving store reachable again: serving its lists")]

        postgres_proxy.down()
        client.refresh()
        client.refresh()
        (unreadable,) = lines(caplog)
        assert unreadable[0] == "WARNING"
        assert unreadable[1].startswith("cannot read the applied configuration (")
        assert unreadable[1].endswith("serving the one loaded last until it can")
        postgres_proxy.up = True
        client.refresh()
        assert lines(caplog) == [("INFO", "the applied configuration can be read again")]
