"""What :class:`~sameday.http_client.HttpClient` and :class:`~sameday.http_client.AsyncHttpClient`
share, as httpx's ``BaseClient``: building each call, reading answers, deciding whether and when
to retry, and falling back. The two subclasses add only the sending and the sleeping.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from sameday._version import __version__
from sameday.http_client._errors import RequestRejected, SamedayUnavailable
from sameday.http_client._models import (
    Event,
    Fallback,
    Health,
    Recommendation,
    fallback_recommendation,
    recommendation,
)
from sameday.http_client._settings import RETRY_STATUSES, Retry, Timeouts, retry_after

logger = logging.getLogger("sameday.http_client")

EVENTS_TIMEOUTS = Timeouts(connect=1.0, read=10.0, deadline=15.0)
"""Events wait for a commit on the server (up to 5 s): they get longer defaults than lists."""

GET_EXCLUDE_MAX = 100
"""Longer ``exclude`` lists go in a POST body, so the URL stays short."""

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors raised before the request left: resending cannot duplicate anything."""


@dataclass(frozen=True, slots=True)
class Call:
    """One API call, before any attempt.

    ``resendable``: sending it again after it may have arrived logs nothing twice (a
    recommendation with its ``request_id``, idempotent events), so a lost answer is retried too.
    """

    method: str
    path: str
    timeouts: Timeouts
    resendable: bool
    params: tuple[tuple[str, str], ...] = ()
    json: Any = None
    attempts: int | None = None
    """Overrides ``Retry.attempts`` (health checks try once)."""


def _describe(exc: httpx.TransportError, timeouts: Timeouts) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection within {timeouts.connect:g} s"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({exc})"
    if isinstance(exc, httpx.ReadTimeout):
        return f"no answer within {timeouts.read:g} s"
    if isinstance(exc, httpx.PoolTimeout):
        return f"no free connection within {timeouts.connect:g} s"
    return f"the connection failed ({type(exc).__name__}: {exc})"


def _error_text(response: httpx.Response, content: bytes) -> tuple[str, str | None]:
    """The message and field of an error answer: the API's ``{"error": {...}}``, or the start
    of whatever a proxy in between sent."""
    try:
        error = json.loads(content)["error"]
        return str(error["message"]), error.get("field")
    except (ValueError, KeyError, TypeError):
        text = content.decode("utf-8", "replace").strip()[:200]
        return text or response.reason_phrase, None


class Attempts:
    """The attempts of one call: the count, the deadline, and the wait before the next one."""

    def __init__(self, client: BaseHttpClient, call: Call) -> None:
        self._client = client
        self._call = call
        self._limit = call.attempts or client.retry.attempts
        self._ends = time.monotonic() + call.timeouts.deadline
        self._left = call.timeouts.deadline
        self.count = 0

    def remaining(self) -> float:
        """Seconds left before the deadline."""
        return self._ends - time.monotonic()

    def start(self) -> httpx.Timeout:
        """Count an attempt; its httpx timeouts, each cut to what is left of the deadline.

        Raises:
            SamedayUnavailable: the deadline has passed.
        """
        left = self.remaining()
        if left <= 0:
            raise self.expired()
        self.count += 1
        timeouts = self._call.timeouts
        self._left = left
        return httpx.Timeout(
            connect=min(timeouts.connect, left),
            read=min(timeouts.read, left),
            write=min(timeouts.read, left),
            pool=min(timeouts.connect, left),
        )

    def failed(self, exc: httpx.TransportError) -> float:
        """Seconds to wait after a transport error.

        Raises:
            SamedayUnavailable: no retry: the answer was lost and resending could log twice,
                no attempt or time is left.
        """
        if isinstance(exc, httpx.TimeoutException):
            connecting = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            timeouts = self._call.timeouts
            if self._left < (timeouts.connect if connecting else timeouts.read):
                raise self.expired()  # the wait was cut to what was left of the deadline
        reason = _describe(exc, self._call.timeouts)
        if not isinstance(exc, _NOT_SENT) and not self._call.resendable:
            raise self.give_up(reason + "; not resent, as that could log its exposures twice")
        return self._wait(reason, None, None)

    def answered(self, response: httpx.Response, content: bytes) -> float | None:
        """``None`` for a 2xx answer; else seconds to wait before retrying.

        Raises:
            RequestRejected: a 4xx.
            SamedayUnavailable: a 5xx not worth retrying, or no attempt or time left.
        """
        status = response.status_code
        if status < 400:
            return None
        message, field = _error_text(response, content)
        if status < 500:
            raise RequestRejected(status, message, field)
        reason = f"answered {status}: {message}"
        if status not in RETRY_STATUSES:
            raise self.give_up(reason, status)
        return self._wait(reason, status, retry_after(response.headers.get("retry-after")))

    def _wait(self, reason: str, status: int | None, asked: float | None) -> float:
        if self.count >= self._limit:
            raise self.give_up(reason, status)
        retry = self._client.retry
        delay = asked if asked is not None else retry.delay(self.count, self._client._rng)
        left = self.remaining()
        if delay >= left:
            wait = f"the server asked to wait {asked:g} s" if asked is not None else "a retry"
            raise self.give_up(f"{reason}; {wait} would pass the deadline", status)
        logger.debug(
            "%s %s: %s; retrying in %.3f s", self._call.method, self._call.path, reason, delay
        )
        return delay

    def expired(self) -> SamedayUnavailable:
        """The error for a call whose deadline passed."""
        deadline = self._call.timeouts.deadline
        return self.give_up(f"no answer within the {deadline:g} s deadline")

    def give_up(self, reason: str, status: int | None = None) -> SamedayUnavailable:
        """The error that ends the call."""
        hint = (
            "the server's log has the details"
            if status is not None
            else f"is 'sameday serve' running at {self._client.base_url} and reachable?"
        )
        attempts = f"{self.count} attempt{'s' if self.count != 1 else ''}"
        return SamedayUnavailable(
            f"sameday gave no usable answer to {self._call.method} {self._call.path} "
            f"after {attempts}: {reason}; {hint}",
            reason=reason,
            attempts=self.count,
            status=status,
        )

    def decode(self, content: bytes) -> Any:
        """The JSON of a 2xx answer.

        Raises:
            SamedayUnavailable: it is not JSON (a proxy's page, a truncated body).
        """
        try:
            return json.loads(content)
        except ValueError:
            start = content[:80].decode("utf-8", "replace")
            raise self.give_up(f"the answer is not JSON: {start!r}") from None


class BaseHttpClient:
    """Settings and the logic of every call; see :class:`~sameday.http_client.HttpClient`."""

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
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"base_url must start with http:// or https://, got {base_url!r} "
                "(e.g. 'http://127.0.0.1:8000')"
            )
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout or Timeouts()
        self.events_timeout = events_timeout or EVENTS_TIMEOUTS
        self.retry = retry or Retry()
        self.fallback = fallback
        self._rng = random.Random(self.retry.seed)
        self._headers = {
            "accept": "application/json",
            "user-agent": f"sameday-http-client/{__version__}",
            **(headers or {}),
        }
        self._has_key = bool(api_key)
        if api_key:
            self._headers["authorization"] = f"Bearer {api_key}"

    def __repr__(self) -> str:
        key = ", api_key='***'" if self._has_key else ""
        return f"{type(self).__name__}({self.base_url!r}{key})"

    def _request(
        self, http: httpx.Client | httpx.AsyncClient, call: Call, timeout: httpx.Timeout
    ) -> httpx.Request:
        return http.build_request(
            call.method,
            self.base_url + call.path,
            params=call.params or None,
            json=call.json,
            headers=self._headers,
            timeout=timeout,
        )

    def _recommend_call(
        self,
        surface: str,
        unit: str,
        *,
        n: int | None,
        attributes: Mapping[str, Any] | None,
        exclude: Sequence[str],
        request_id: str,
        timeout: Timeouts | None,
    ) -> Call:
        """GET (the server's fastest path) when the input fits a query string: attributes all
        strings, a short ``exclude`` without commas; else POST with a JSON body."""
        path = f"/v1/recommend/{quote(surface, safe='')}"
        attrs = dict(attributes or {})
        timeouts = timeout or self.timeout
        as_query = (
            all(isinstance(value, str) for value in attrs.values())
            and len(exclude) <= GET_EXCLUDE_MAX
            and not any("," in item for item in exclude)
        )
        if as_query:
            params = [("unit", unit), ("request_id", request_id)]
            if n is not None:
                params.append(("n", str(n)))
            if exclude:
                params.append(("exclude", ",".join(exclude)))
            params.extend((f"attr.{name}", value) for name, value in attrs.items())
            return Call("GET", path, timeouts, resendable=True, params=tuple(params))
        body: dict[str, Any] = {"unit": unit, "request_id": request_id}
        if n is not None:
            body["n"] = n
        if exclude:
            body["exclude"] = list(exclude)
        if attrs:
            body["attributes"] = attrs
        return Call("POST", path, timeouts, resendable=True, json=body)

    def _batch_call(
        self,
        surface: str,
        units: Sequence[str],
        *,
        n: int | None,
        attributes: Mapping[str, Mapping[str, Any]] | None,
        exclude: Sequence[str],
        timeout: Timeouts | None,
    ) -> Call:
        """A batch names no request ids (the server makes them), so a lost answer is not
        resent: that could log its exposures twice."""
        attrs = attributes or {}
        requests = [
            {"unit": unit, "attributes": dict(attrs[unit])} if unit in attrs else {"unit": unit}
            for unit in units
        ]
        body: dict[str, Any] = {"requests": requests}
        if n is not None:
            body["n"] = n
        if exclude:
            body["exclude"] = list(exclude)
        path = f"/v1/recommend/{quote(surface, safe='')}/batch"
        return Call("POST", path, timeout or self.timeout, resendable=False, json=body)

    def _events_call(self, events: Sequence[Event], timeout: Timeouts | None) -> Call:
        body = {"events": [event.to_json() for event in events]}
        return Call(
            "POST", "/v1/events", timeout or self.events_timeout, resendable=True, json=body
        )

    def _health_call(self, timeout: Timeouts | None) -> Call:
        return Call("GET", "/readyz", timeout or self.timeout, resendable=True, attempts=1)

    def _fallback_for(self, fallback: Fallback | None) -> Fallback | None:
        return fallback if fallback is not None else self.fallback

    def _one(self, body: Any, attempts: Attempts) -> Recommendation:
        try:
            return recommendation(body)
        except ValueError as exc:
            raise attempts.give_up(f"the answer is not a recommendation ({exc})") from None

    def _many(self, body: Any, attempts: Attempts, count: int) -> list[Recommendation]:
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) != count:
            raise attempts.give_up(f"the answer does not hold {count} results")
        return [self._one(result, attempts) for result in results]

    def _accepted(self, body: Any, attempts: Attempts) -> int:
        accepted = body.get("accepted") if isinstance(body, dict) else None
        if not isinstance(accepted, int):
            raise attempts.give_up("the answer does not say how many events were accepted")
        return accepted

    def _fall_back(
        self,
        error: SamedayUnavailable,
        fallback: Fallback | None,
        *,
        surface: str,
        units: Sequence[str],
        request_ids: Sequence[str],
        n: int | None,
        exclude: Sequence[str],
    ) -> list[Recommendation]:
        """The caller's fallback for each unit, or ``error`` raised when there is none."""
        if fallback is None:
            raise error
        logger.warning("sameday: serving the caller's fallback list for %r: %s", surface, error)
        return [
            fallback_recommendation(
                fallback,
                surface=surface,
                unit=unit,
                request_id=request_id,
                n=n,
                exclude=exclude,
                error=error,
            )
            for unit, request_id in zip(units, request_ids, strict=True)
        ]

    @staticmethod
    def _health(body: Any) -> Health:
        surfaces = body.get("surfaces", []) if isinstance(body, dict) else []
        return Health(live=True, ready=True, surfaces=tuple(str(s) for s in surfaces))

    @staticmethod
    def _unhealthy(error: SamedayUnavailable) -> Health:
        return Health(live=error.status is not None, ready=False, message=error.reason)

    @staticmethod
    def _new_request_id() -> str:
        return uuid.uuid4().hex
