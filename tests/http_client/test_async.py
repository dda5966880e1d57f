"""``AsyncHttpClient``: the same calls and failure handling as ``HttpClient``, awaited."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from sameday.http_client import (
    AsyncHttpClient,
    Event,
    RequestRejected,
    Retry,
    SamedayUnavailable,
    Timeouts,
)
from tests.http_client.conftest import FakeProxy, Served

FAST = Retry(attempts=3, backoff=0.02, max_backoff=0.1, seed=11)


def test_lists_batches_events_and_health_against_the_server(served: Served) -> None:
    tag = uuid.uuid4().hex[:8]

    async def scenario() -> None:
        async with AsyncHttpClient(served.url, api_key=served.key) as client:
            rec, batch, health = await asyncio.gather(
                client.recommend("home", "user-4", n=3, attributes={"is_new": True}),
                client.recommend_batch("home", ["user-4", "user-6"], n=3),
                client.health(),
            )
            accepted = await client.send_events(
                [Event(event_id=f"{tag}-a", unit="user-4", name="click", request_id=rec.request_id)]
            )
        expected = httpx.get(
            f"{served.url}/v1/recommend/home",
            params={"unit": "user-4", "n": 3, "request_id": uuid.uuid4().hex},
            headers={"x-api-key": served.key},
        ).json()
        assert rec.item_ids == [item["item"] for item in expected["items"]]
        assert (rec.experiment, rec.arm, rec.fallback) == ("home-personal", expected["arm"], False)
        assert [r.unit for r in batch] == ["user-4", "user-6"]
        assert batch[0].item_ids == rec.item_ids
        assert health.ready and health.surfaces == ("home",)
        assert accepted == 1

    asyncio.run(scenario())
    assert [e for e in served.stored_event_ids() if e.startswith(tag)] == [f"{tag}-a"]


def test_a_4xx_is_raised_and_not_retried(served: Served) -> None:
    sent: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request)

    async def scenario() -> RequestRejected:
        http = httpx.AsyncClient(event_hooks={"request": [record]})
        async with AsyncHttpClient(
            served.url, api_key=served.key, http=http, retry=FAST, fallback=["x"]
        ) as client:
            with pytest.raises(RequestRejected) as exc:
                await client.recommend("home", "user-1", n=0)
        await http.aclose()
        return exc.value

    error = asyncio.run(scenario())
    assert (error.status, error.field) == (400, "n")
    assert len(sent) == 1


def test_down_falls_back_and_events_raise(closed_url: str) -> None:
    async def scenario() -> None:
        async with AsyncHttpClient(closed_url, retry=FAST, fallback=["p1", "p2", "p3"]) as client:
            rec = await client.recommend("home", "user-1", n=2, exclude=["p1"])
            with pytest.raises(SamedayUnavailable) as exc:
                await client.send_events([Event(event_id="e-kept", unit="u", name="click")])
            health = await client.health()
        assert rec.fallback and rec.item_ids == ["p2", "p3"]
        assert rec.error is not None and rec.error.attempts == 3
        assert exc.value.attempts == 3
        assert not health.live

    asyncio.run(scenario())


def test_a_server_that_never_answers_falls_back_at_the_deadline(silent_url: str) -> None:
    async def scenario() -> tuple[float, object]:
        timeouts = Timeouts(connect=0.5, read=5.0, deadline=0.6)
        async with AsyncHttpClient(silent_url, timeout=timeouts, fallback=["pop"]) as client:
            started = time.monotonic()
            rec = await client.recommend("home", "user-1")
            return time.monotonic() - started, rec

    took, rec = asyncio.run(scenario())
    assert 0.5 < took < 2.0  # the read timeout (5 s) would be far longer
    assert getattr(rec, "fallback", False) and getattr(rec, "item_ids", None) == ["pop"]


def test_the_deadline_holds_against_a_server_that_trickles(trickling_url: str) -> None:
    """Each wait for data is short, so only the deadline (a cancel scope) ends the call."""

    async def scenario() -> float:
        timeouts = Timeouts(connect=0.5, read=1.0, deadline=0.6)
        async with AsyncHttpClient(trickling_url, timeout=timeouts) as client:
            started = time.monotonic()
            with pytest.raises(SamedayUnavailable, match=r"0\.6 s deadline"):
                await client.recommend("home", "user-1")
            return time.monotonic() - started

    assert 0.5 < asyncio.run(asyncio.wait_for(scenario(), 5)) < 2.0  # wait_for: fail, not hang


def test_a_lost_batch_answer_is_not_resent(silent_url: str) -> None:
    async def scenario() -> None:
        timeouts = Timeouts(connect=0.5, read=0.2, deadline=5.0)
        async with AsyncHttpClient(silent_url, timeout=timeouts, retry=FAST) as client:
            with pytest.raises(SamedayUnavailable) as single:
                await client.recommend("home", "user-1")
            with pytest.raises(SamedayUnavailable) as batch:
                await client.recommend_batch("home", ["user-1"])
        assert (single.value.attempts, batch.value.attempts) == (3, 1)

    asyncio.run(scenario())


def test_503_is_retried_with_retry_after(fake_proxy: Callable[..., FakeProxy]) -> None:
    answers = iter([(503, {"retry-after": "1"}, b""), (503, {}, b"")])
    body = b'{"accepted": 1}'
    proxy = fake_proxy(lambda: next(answers, (200, {"content-type": "application/json"}, body)))

    async def scenario() -> int:
        async with AsyncHttpClient(proxy.url, retry=FAST) as client:
            return await client.send_events([Event(event_id="e", unit="u", name="click")])

    assert asyncio.run(scenario()) == 1
    assert len(proxy.times) == 3
    assert proxy.times[1] - proxy.times[0] >= 1.0
    assert proxy.times[2] - proxy.times[1] < 0.9  # a backoff, not the 1 s asked before
