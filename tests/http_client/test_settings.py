"""Timeouts, the retry policy and ``Retry-After``."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from sameday.http_client import Retry, Timeouts
from sameday.http_client._settings import retry_after


def test_timeouts_are_checked_compared_and_shown() -> None:
    assert Timeouts(connect=1, read=2, deadline=3) == Timeouts(connect=1.0, read=2.0, deadline=3.0)
    assert repr(Timeouts()) == "Timeouts(connect=0.5, read=2, deadline=3)"
    with pytest.raises(ValueError, match="deadline must be a positive number of seconds"):
        Timeouts(deadline=0)
    with pytest.raises(ValueError, match="read must be finite"):
        Timeouts(read=float("inf"))


def test_retry_is_checked() -> None:
    with pytest.raises(ValueError, match="attempts must be an integer of at least 1"):
        Retry(attempts=0)
    with pytest.raises(ValueError, match="jitter must be a fraction from 0 to 1"):
        Retry(jitter=1.5)
    assert Retry(seed=1) == Retry(seed=1) != Retry(seed=2)


def test_backoff_doubles_up_to_the_cap_with_jitter_below_it() -> None:
    retry = Retry(backoff=0.1, max_backoff=0.5, jitter=0.5)
    rng = random.Random(42)
    for n, base in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.5), (9, 0.5)]:
        delays = [retry.delay(n, rng) for _ in range(200)]
        assert base / 2 <= min(delays) < max(delays) <= base
        assert max(delays) - min(delays) > base / 3  # spread out, so clients do not retry in step
    exact = Retry(backoff=0.1, jitter=0)
    assert [exact.delay(n, rng) for n in (1, 2, 3)] == [0.1, 0.2, 0.4]


def test_retry_after_reads_seconds_and_dates() -> None:
    now = 1_700_000_000.0
    assert retry_after("3", now) == 3.0
    assert retry_after(formatdate(now + 7, usegmt=True), now) == 7.0
    assert retry_after(formatdate(now - 7, usegmt=True), now) == 0.0
    assert retry_after(None) is None
    assert retry_after("soon") is None
    assert retry_after("-1") is None
