"""sameday's HTTP API for product code: :class:`HttpClient` (blocking) and
:class:`AsyncHttpClient` (asyncio, trio), on ``httpx``.

Not to be confused with :class:`sameday.Client`, which runs the serving engine in process: this
one talks to a ``sameday serve`` over the network, with timeouts, a total deadline, retries with
backoff and jitter, and a fallback list of your own when sameday cannot answer. It imports
nothing of the server (see ``docs/serving.md``, "Clients").
"""

from __future__ import annotations

from sameday.http_client._async import AsyncHttpClient
from sameday.http_client._errors import RequestRejected, SamedayUnavailable
from sameday.http_client._models import Event, Fallback, Health, Item, Recommendation
from sameday.http_client._settings import Retry, Timeouts
from sameday.http_client._sync import HttpClient

__all__ = [
    "AsyncHttpClient",
    "Event",
    "Fallback",
    "Health",
    "HttpClient",
    "Item",
    "Recommendation",
    "RequestRejected",
    "Retry",
    "SamedayUnavailable",
    "Timeouts",
]
