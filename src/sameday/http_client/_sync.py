"""``HttpClient``: sameday's HTTP API for product code, blocking (on ``httpx.Client``)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import httpx

from sameday.http_client._base import Attempts, BaseHttpClient, Call
from sameday.http_client._errors import SamedayUnavailable
from sameday.http_client._models import Event, Fallback, Health, Recommendation
from sameday.http_client._settings import Retry, Timeouts

__all__ = ["HttpClient"]


class HttpClient(BaseHttpClient):
    """Lists and events over sameday's HTTP API, with timeouts, retries and a fallback.

    Args:
        base_url: where ``sameday serve`` listens, e.g. ``"http://sameday.internal:8000"``.
        api_key: the serving key (``serve.api_keys.serving``), sent as ``Authorization: Bearer``.
        timeout: connect, read and total deadline of list calls (default 0.5 / 2 / 3 s).
        events_timeout: the same for events, which wait for a commit (default 1 / 10 / 15 s).
        retry: attempts and backoff (default 3 attempts, 50 ms doubling, 50% jitter).
        fallback: item ids (or ``f(surface, unit)``) served, flagged ``fallback``, when sameday
            cannot answer; without one, :class:`SamedayUnavailable` is raised.
        headers: extra headers for every request.
        http: an ``httpx.Client`` of your own (proxies, TLS); you close it. Its timeouts are
            replaced by the ones above on every request.

    Use it as a context manager, or call :meth:`close`. One client is safe to share between
    threads and keeps connections open between calls.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: Timeouts | None = None,
        events_timeout: Timeouts | None = None,
        retry: Retry | None = None,
        fallback: Fallback | None = None,
        headers: Mapping[str, str] | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            base_url,
            api_key=api_key,
            timeout=timeout,
            events_timeout=events_timeout,
            retry=retry,
            fallback=fallback,
            headers=headers,
        )
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client()

    def recommend(
        self,
        surface: str,
        unit: str,
        *,
        n: int | None = None,
        attributes: Mapping[str, Any] | None = None,
        exclude: Sequence[str] = (),
        request_id: str | None = None,
        fallback: Fallback | None = None,
        timeout: Timeouts | None = None,
    ) -> Recommendation:
        """The list for ``unit`` on ``surface`` (``GET``/``POST /v1/recommend/{surface}``).

        Args:
            n: list length (default: the surface's).
            attributes: for targeting and surface rules.
            exclude: item ids not to serve (already seen).
            request_id: your impression id; by default the client makes one, so a retry after
                a lost answer is logged once.
            fallback: overrides the client's fallback for this call.
            timeout: overrides the client's timeouts for this call.

        Raises:
            RequestRejected: a 4xx (unknown surface, bad input, wrong key): fix the call.
            SamedayUnavailable: no answer after the retries, and no fallback.
        """
        rid = request_id or self._new_request_id()
        call = self._recommend_call(
            surface,
            unit,
            n=n,
            attributes=attributes,
            exclude=exclude,
            request_id=rid,
            timeout=timeout,
        )
        try:
            return self._one(*self._send(call))
        except SamedayUnavailable as exc:
            (result,) = self._fall_back(
                exc,
                self._fallback_for(fallback),
                surface=surface,
                units=[unit],
                request_ids=[rid],
                n=n,
                exclude=exclude,
            )
            return result

    def recommend_batch(
        self,
        surface: str,
        units: Sequence[str],
        *,
        n: int | None = None,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
        exclude: Sequence[str] = (),
        fallback: Fallback | None = None,
        timeout: Timeouts | None = None,
    ) -> list[Recommendation]:
        """Lists for many units in one call (``POST /v1/recommend/{surface}/batch``, at most
        1,000 units), in the order of ``units``; for e-mail and push jobs.

        Args:
            attributes: unit → its attributes, for the units that have some.

        A lost answer is not resent (the server names the lists, so a resend could log them
        twice); failures to connect and 502/503/504 are retried. With a fallback, every unit
        gets it when sameday cannot answer.

        Raises:
            RequestRejected: a 4xx: fix the call.
            SamedayUnavailable: no answer after the retries, and no fallback.
        """
        call = self._batch_call(
            surface, units, n=n, attributes=attributes, exclude=exclude, timeout=timeout
        )
        try:
            return self._many(*self._send(call), len(units))
        except SamedayUnavailable as exc:
            ids = [self._new_request_id() for _ in units]
            return self._fall_back(
                exc,
                self._fallback_for(fallback),
                surface=surface,
                units=units,
                request_ids=ids,
                n=n,
                exclude=exclude,
            )

    def send_events(self, events: Sequence[Event], *, timeout: Timeouts | None = None) -> int:
        """Send outcome events (``POST /v1/events``, at most 1,000); returns how many were
        accepted, once they are durable on the server. Retried on 503 and lost answers (events
        are idempotent by ``event_id``).

        Raises:
            RequestRejected: a 400 naming the event at fault (``events[3].unit``); none of the
                batch was stored: fix or drop that event and send again.
            SamedayUnavailable: not delivered: keep the events and send them again later.
        """
        if not events:
            return 0
        return self._accepted(*self._send(self._events_call(events, timeout)))

    def health(self, *, timeout: Timeouts | None = None) -> Health:
        """Whether the server is up and has a configuration (``GET /readyz``, one attempt).
        Never raises for an unreachable server: that is ``Health(live=False)``."""
        try:
            return self._health(self._send(self._health_call(timeout))[0])
        except SamedayUnavailable as exc:
            return self._unhealthy(exc)

    def close(self) -> None:
        """Close the connections (not those of an ``http`` client passed in)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _send(self, call: Call) -> tuple[Any, Attempts]:
        """The decoded JSON of a 2xx answer to ``call``, retried as the policy says."""
        attempts = Attempts(self, call)
        while True:
            request = self._request(self._http, call, attempts.start())
            try:
                response = self._http.send(request, stream=True)
                try:
                    content = self._read(response, attempts)
                finally:
                    response.close()
            except httpx.TransportError as exc:
                time.sleep(attempts.failed(exc))
                continue
            delay = attempts.answered(response, content)
            if delay is None:
                return attempts.decode(content), attempts
            time.sleep(delay)

    @staticmethod
    def _read(response: httpx.Response, attempts: Attempts) -> bytes:
        """The body, given up on between chunks once the deadline passes (httpx's timeouts
        bound each wait, not their sum)."""
        chunks = []
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            if attempts.remaining() <= 0:
                raise attempts.expired()
        return b"".join(chunks)
