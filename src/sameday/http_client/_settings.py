"""Timeouts and the retry policy of the HTTP client: keyword-only, checked when built.

Why a total deadline on top of httpx's per-phase timeouts: a product page waits for one thing,
the whole call, retries included. ``read=2`` alone lets three attempts take six seconds.
"""

from __future__ import annotations

import math
import random
import time
from datetime import UTC
from email.utils import parsedate_to_datetime

__all__ = ["RETRY_STATUSES", "Retry", "Timeouts", "retry_after"]

RETRY_STATUSES = frozenset({502, 503, 504})
"""Answers that mean "not now" (a proxy with no healthy replica, the event log down): retried."""


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


class Timeouts:
    """How long a call may take.

    Args:
        connect: seconds to open a connection (each attempt).
        read: seconds to wait for each piece of the answer (each attempt).
        deadline: seconds for the whole call, every attempt and backoff included; when it
            passes, the call gives up (and a recommendation falls back).
    """

    __slots__ = ("connect", "deadline", "read")

    def __init__(self, *, connect: float = 0.5, read: float = 2.0, deadline: float = 3.0) -> None:
        self.connect = _positive("connect", connect)
        self.read = _positive("read", read)
        self.deadline = _positive("deadline", deadline)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Timeouts):
            return NotImplemented
        return (self.connect, self.read, self.deadline) == (
            other.connect,
            other.read,
            other.deadline,
        )

    def __hash__(self) -> int:
        return hash((self.connect, self.read, self.deadline))

    def __repr__(self) -> str:
        return f"Timeouts(connect={self.connect:g}, read={self.read:g}, deadline={self.deadline:g})"


class Retry:
    """When and how soon to try again.

    Retried: failures to connect, and the answers 502, 503 and 504; also a lost answer (a read
    timeout, a dropped connection) when resending cannot log anything twice. Never a 4xx.
    The n-th retry waits ``min(max_backoff, backoff * 2**(n-1))``, of which a ``jitter``
    fraction is random (so many clients do not retry in step), or what ``Retry-After`` says.

    Args:
        attempts: requests per call at most, the first included (1: no retry).
        backoff: seconds before the first retry.
        max_backoff: cap on the wait between two attempts.
        jitter: 0 to 1; the share of each wait drawn at random (0.5: between half and all).
        seed: seeds the jitter, for reproducible tests; ``None`` draws from the OS.
    """

    __slots__ = ("attempts", "backoff", "jitter", "max_backoff", "seed")

    def __init__(
        self,
        *,
        attempts: int = 3,
        backoff: float = 0.05,
        max_backoff: float = 1.0,
        jitter: float = 0.5,
        seed: int | None = None,
    ) -> None:
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ValueError(f"attempts must be an integer of at least 1, got {attempts!r}")
        if isinstance(jitter, bool) or not isinstance(jitter, int | float) or not 0 <= jitter <= 1:
            raise ValueError(f"jitter must be a fraction from 0 to 1, got {jitter!r}")
        self.attempts = attempts
        self.backoff = _positive("backoff", backoff)
        self.max_backoff = _positive("max_backoff", max_backoff)
        self.jitter = float(jitter)
        self.seed = seed

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first)."""
        base = min(self.max_backoff, self.backoff * 2.0 ** (retry - 1))
        return base * (1 - self.jitter * rng.random())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Retry):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[int, float, float, float, int | None]:
        return (self.attempts, self.backoff, self.max_backoff, self.jitter, self.seed)

    def __repr__(self) -> str:
        return (
            f"Retry(attempts={self.attempts}, backoff={self.backoff:g}, "
            f"max_backoff={self.max_backoff:g}, jitter={self.jitter:g}, seed={self.seed!r})"
        )


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delay-seconds or an HTTP date), or ``None``
    when there is none or it cannot be read (then the backoff applies)."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": RFC 9110 dates are GMT anyway
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
