"""``AsyncHttpClient``: the same calls as ``HttpClient`` for asyncio (or trio) code, on
``httpx.AsyncClient``; the deadline is a cancel scope around each attempt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import anyio
import httpx

from sameday.http_client._base import Attempts, BaseHttpClient, Call
from sameday.http_client._errors import SamedayUnavailable
from sameday.http_client._models import Event, Fallback, Health, Recommendation
from sameday.http_client._settings import Retry, Timeouts

__all__ = ["AsyncHttpClient"]


class AsyncHttpClient(BaseHttpClient):
    """:class:`~sameday.http_client.HttpClient` for async code: the same arguments (``http`` is
    an ``httpx.AsyncClient``), the same methods as coroutines, the same retries and fallback.

    Use it as an async context manager, or await :meth:`aclose`.
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
        http: httpx.AsyncClient | None = None,
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
        self._http = http if http is not None else httpx.AsyncClient()

    async def recommend(
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
        """See :meth:`HttpClient.recommend <sameday.http_client.HttpClient.recommend>`."""
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
            return self._one(*await self._send(call))
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

    async def recommend_batch(
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
        """See :meth:`HttpClient.recommend_batch
        <sameday.http_client.HttpClient.recommend_batch>`."""
        call = self._batch_call(
            surface, units, n=n, attributes=attributes, exclude=exclude, timeout=timeout
        )
        try:
            return self._many(*await self._send(call), len(units))
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

    async def send_events(self, events: Sequence[Event], *, timeout: Timeouts | None = None) -> int:
        """See :meth:`HttpClient.send_events <sameday.http_client.HttpClient.send_events>`."""
        if not events:
            return 0
        return self._accepted(*await self._send(self._events_call(events, timeout)))

    async def health(self, *, timeout: Timeouts | None = None) -> Health:
        """See :meth:`HttpClient.health <sameday.http_client.HttpClient.health>`."""
        try:
            return self._health((await self._send(self._health_call(timeout)))[0])
        except SamedayUnavailable as exc:
            return self._unhealthy(exc)

    async def aclose(self) -> None:
        """Close the connections (not those of an ``http`` client passed in)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _send(self, call: Call) -> tuple[Any, Attempts]:
        """The decoded JSON of a 2xx answer to ``call``, retried as the policy says."""
        attempts = Attempts(self, call)
        while True:
            request = self._request(self._http, call, attempts.start())
            try:
                with anyio.fail_after(attempts.remaining()):
                    response = await self._http.send(request)
            except TimeoutError:
                raise attempts.expired() from None
            except httpx.TransportError as exc:
                await anyio.sleep(attempts.failed(exc))
                continue
            delay = attempts.answered(response, response.content)
            if delay is None:
                return attempts.decode(response.content), attempts
            await anyio.sleep(delay)
