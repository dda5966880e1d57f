"""``HttpClient`` against a real ``sameday serve``, and against the ways a server fails."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from sameday.http_client import (
    Event,
    HttpClient,
    RequestRejected,
    Retry,
    SamedayUnavailable,
    Timeouts,
)
from tests.http_client.conftest import FakeProxy, Served, TcpProxy, make_project, serving

FAST = Retry(attempts=3, backoff=0.02, max_backoff=0.1, seed=7)


def counting() -> tuple[httpx.Client, list[httpx.Request]]:
    """An ``httpx.Client`` that records every request it sends."""
    sent: list[httpx.Request] = []
    return httpx.Client(event_hooks={"request": [sent.append]}), sent


def test_recommend_returns_the_servers_list(served: Served) -> None:
    with HttpClient(served.url, api_key=served.key) as client:
        rec = client.recommend("home", "user-3", n=4, request_id="r-sync-1")
    expected = httpx.get(
        f"{served.url}/v1/recommend/home",
        params={"unit": "user-3", "n": 4, "request_id": "r-sync-1"},
        headers={"authorization": f"Bearer {served.key}"},
    ).json()
    assert rec.request_id == "r-sync-1"
    assert (rec.surface, rec.unit, rec.experiment, rec.arm) == (
        "home",
        "user-3",
        "home-personal",
        expected["arm"],
    )
    assert rec.item_ids == [item["item"] for item in expected["items"]]
    assert [i.position for i in rec.items] == [1, 2, 3, 4]
    assert rec.snapshots == expected["snapshots"]
    assert not rec.fallback and not rec.degraded and rec.error is None


def test_each_list_gets_an_id_of_its_own_from_the_client(served: Served) -> None:
    http, sent = counting()
    with HttpClient(served.url, api_key=served.key, http=http) as client:
        first = client.recommend("home", "user-3")
        second = client.recommend("home", "user-3")
    http.close()
    assert first.request_id != second.request_id
    assert [r.url.params["request_id"] for r in sent] == [first.request_id, second.request_id]


def test_typed_attributes_and_excludes_are_posted(served: Served) -> None:
    http, sent = counting()
    with HttpClient(served.url, api_key=served.key, http=http) as client:
        plain = client.recommend("home", "user-5", n=3)
        rec = client.recommend(
            "home", "user-5", n=3, attributes={"is_new": False}, exclude=plain.item_ids[:2]
        )
    http.close()
    assert [r.method for r in sent] == ["GET", "POST"]
    assert rec.item_ids[0] == plain.item_ids[2]
    assert not set(plain.item_ids[:2]) & set(rec.item_ids)
    assert len(rec.items) == 3


def test_batch_answers_in_the_order_of_the_units(served: Served) -> None:
    units = ["user-9", "nobody", "user-1"]
    with HttpClient(served.url, api_key=served.key) as client:
        recs = client.recommend_batch("home", units, n=2, attributes={"user-1": {"x": 1}})
    assert [r.unit for r in recs] == units
    assert all(len(r.items) == 2 and not r.fallback for r in recs)
    assert len({r.request_id for r in recs}) == 3


def test_events_are_acknowledged_once_durable_and_stored_once(served: Served) -> None:
    tag = uuid.uuid4().hex[:8]
    events = [
        Event(event_id=f"{tag}-{i}", unit=f"user-{i}", name="click", time=1.7e9, item="pop-1")
        for i in range(3)
    ]
    with HttpClient(served.url, api_key=served.key) as client:
        assert client.send_events(events) == 3
        assert client.send_events(events) == 3  # a resend (after a lost answer) is harmless
        assert client.send_events([]) == 0
    stored = [e for e in served.stored_event_ids() if e.startswith(tag)]
    assert sorted(stored) == [e.event_id for e in events]


def test_a_4xx_is_raised_with_its_field_and_never_retried(served: Served) -> None:
    http, sent = counting()
    client = HttpClient(served.url, api_key=served.key, http=http, retry=FAST, fallback=["x"])
    with client:
        with pytest.raises(RequestRejected) as unknown:
            client.recommend("nowhere", "user-1")
        with pytest.raises(RequestRejected) as bad_event:
            client.send_events([Event(event_id="e", unit="", name="click")])
    http.close()
    assert (unknown.value.status, unknown.value.field) == (404, "surface")
    assert "home" in unknown.value.message  # the server names the known surfaces
    assert (bad_event.value.status, bad_event.value.field) == (400, "events[0].unit")
    assert len(sent) == 2


def test_health_says_ready_live_or_down(served: Served, closed_url: str) -> None:
    with HttpClient(served.url, api_key=served.key) as client:
        up = client.health()
    with HttpClient(closed_url) as client:
        down = client.health()
    assert (up.live, up.ready, up.surfaces) == (True, True, ("home",))
    assert (down.live, down.ready) == (False, False)
    assert "cannot connect" in down.message


def test_the_api_key_is_sent(served: Served) -> None:
    with HttpClient(served.url, api_key=served.key) as client:
        assert client.recommend("home", "user-1").items
        assert served.key not in repr(client)
    with HttpClient(served.url, api_key="wrong") as client, pytest.raises(RequestRejected) as exc:
        client.recommend("home", "user-1")
    assert exc.value.status == 401


def test_a_server_that_is_down_gives_the_fallback_after_the_retries(closed_url: str) -> None:
    fallback = ["a", "b", "c", "b", "d"]
    with HttpClient(closed_url, retry=FAST, fallback=fallback) as client:
        started = time.monotonic()
        rec = client.recommend("home", "user-1", n=2, exclude=["a"])
        took = time.monotonic() - started
        batch = client.recommend_batch("home", ["u1", "u2"], fallback=lambda s, u: [f"{s}-{u}"])
    assert rec.fallback and rec.item_ids == ["b", "c"]
    assert [(i.position, i.source, i.score) for i in rec.items] == [
        (1, "fallback", 0.0),
        (2, "fallback", 0.0),
    ]
    assert rec.error is not None and rec.error.attempts == 3 and rec.error.status is None
    assert "cannot connect" in rec.error.reason and closed_url in str(rec.error)
    assert took < 2.0
    assert [r.item_ids for r in batch] == [["home-u1"], ["home-u2"]]
    assert all(r.fallback for r in batch)


def test_without_a_fallback_unavailability_is_raised(closed_url: str) -> None:
    with HttpClient(closed_url, retry=FAST) as client, pytest.raises(SamedayUnavailable) as exc:
        client.recommend("home", "user-1")
    assert isinstance(exc.value, ConnectionError)
    assert "is 'sameday serve' running at" in str(exc.value)


def test_events_that_cannot_be_delivered_are_raised_never_dropped(closed_url: str) -> None:
    with HttpClient(closed_url, retry=FAST) as client, pytest.raises(SamedayUnavailable) as exc:
        client.send_events([Event(event_id="e-lost", unit="u", name="click")])
    assert exc.value.attempts == 3


def test_a_server_that_never_answers_falls_back_at_the_deadline(silent_url: str) -> None:
    timeouts = Timeouts(connect=0.5, read=5.0, deadline=0.6)
    with HttpClient(silent_url, timeout=timeouts, fallback=["pop"]) as client:
        started = time.monotonic()
        rec = client.recommend("home", "user-1")
        took = time.monotonic() - started
    assert rec.fallback and rec.item_ids == ["pop"]
    assert rec.error is not None and "0.6 s deadline" in rec.error.reason
    assert 0.5 < took < 2.0  # the read timeout (5 s) would be far longer


def test_a_connect_timeout_is_retried_while_the_deadline_allows(unaccepting_url: str) -> None:
    """Only a wait cut short by the deadline ends the call; a connect timeout is retried."""
    timeouts = Timeouts(connect=0.2, read=2.0, deadline=1.5)
    client = HttpClient(unaccepting_url, retry=FAST)
    with client, pytest.raises(SamedayUnavailable) as exc:
        client.send_events([Event(event_id="e", unit="u", name="click")], timeout=timeouts)
    assert exc.value.attempts == 3
    assert exc.value.reason == "no connection within 0.2 s"


def test_a_lost_answer_is_resent_only_when_it_cannot_log_twice(silent_url: str) -> None:
    timeouts = Timeouts(connect=0.5, read=0.2, deadline=5.0)
    with HttpClient(silent_url, timeout=timeouts, retry=FAST, fallback=["pop"]) as client:
        single = client.recommend("home", "user-1")
        batch = client.recommend_batch("home", ["user-1"])
    assert single.error is not None and single.error.attempts == 3
    assert batch[0].error is not None and batch[0].error.attempts == 1
    assert "not resent, as that could log its exposures twice" in batch[0].error.reason


@pytest.fixture
def events_partitioned(postgres_url: str, tmp_path: Path) -> Iterator[tuple[str, TcpProxy]]:
    """A server whose PostgreSQL event log sits behind a proxy that starts cut off."""
    from sqlalchemy.engine import make_url

    pg = make_url(postgres_url)
    proxy = TcpProxy((pg.host or "127.0.0.1", pg.port or 5432))
    events = pg.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    project = make_project(tmp_path / "pg", events=events)
    try:
        with serving(project) as url:
            yield url, proxy
    finally:
        proxy.close()


def test_events_are_retried_on_503_until_the_event_log_is_back(
    events_partitioned: tuple[str, TcpProxy], postgres_url: str
) -> None:
    url, proxy = events_partitioned
    statuses: list[int] = []
    http = httpx.Client(event_hooks={"response": [lambda r: statuses.append(r.status_code)]})
    back = threading.Timer(1.0, proxy.up)
    back.start()
    retry = Retry(attempts=40, backoff=0.05, max_backoff=0.25, seed=3)
    events = [Event(event_id=f"late-{i}", unit="user-1", name="click") for i in range(2)]
    try:
        with HttpClient(url, http=http, retry=retry) as client:
            accepted = client.send_events(events)
    finally:
        back.join()
        http.close()
    assert accepted == 2
    assert statuses[0] == 503 and statuses[-1] == 200 and set(statuses) == {503, 200}
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT event_id FROM outcomes ORDER BY event_id")).all()
    engine.dispose()
    assert [row[0] for row in stored] == ["late-0", "late-1"]


def test_retry_after_is_waited_for_and_a_500_is_not_retried(
    fake_proxy: Callable[..., FakeProxy],
) -> None:
    busy = fake_proxy(lambda: (503, {"retry-after": "1"}, b"<html>busy</html>"))
    broken = fake_proxy(lambda: (500, {}, b'{"error": {"status": 500, "message": "bug"}}'))
    patient = Timeouts(deadline=5.0)
    with HttpClient(busy.url, timeout=patient, retry=FAST, fallback=["pop"]) as client:
        rec = client.recommend("home", "user-1")
    with HttpClient(busy.url, retry=FAST, fallback=["pop"]) as client:
        hurried = client.recommend("home", "user-1", timeout=Timeouts(deadline=0.5))
    with HttpClient(broken.url, retry=FAST, fallback=["pop"]) as client:
        failed = client.recommend("home", "user-1")
    gaps = [b - a for a, b in zip(busy.times, busy.times[1:], strict=False)]
    assert rec.fallback and rec.error is not None and rec.error.attempts == 3
    assert rec.error.status == 503 and "busy" in rec.error.reason
    assert len(gaps) == 3 and gaps[0] >= 1.0 and gaps[1] >= 1.0  # the 4th: the hurried call
    assert hurried.error is not None and hurried.error.attempts == 1
    assert "asked to wait 1 s" in hurried.error.reason
    assert failed.error is not None and failed.error.attempts == 1 and failed.error.status == 500
    assert len(broken.times) == 1


def test_an_answer_that_is_not_sameday_s_falls_back(fake_proxy: Callable[..., FakeProxy]) -> None:
    portal = fake_proxy(lambda: (200, {"content-type": "text/html"}, b"<html>login</html>"))
    with HttpClient(portal.url, fallback=["pop"]) as client:
        rec = client.recommend("home", "user-1")
        with pytest.raises(SamedayUnavailable, match="not JSON"):
            client.send_events([Event(event_id="e", unit="u", name="click")])
    assert rec.fallback and rec.error is not None and "not JSON" in rec.error.reason
