"""What the HTTP client raises: sameday could not answer, or it refused the request.

::

    SamedayError
     ├── SamedayUnavailable (ConnectionError)  no usable answer after the retries: unreachable,
     │                                          no answer before the deadline, or a 5xx
     └── RequestRejected (ValueError)           a 4xx: the request is wrong, resending it won't help

Recommendations turn ``SamedayUnavailable`` into the caller's fallback list when one is given;
events never do: an undelivered event is always raised, so the caller can keep and resend it.
"""

from __future__ import annotations

from sameday.errors import SamedayError

__all__ = ["RequestRejected", "SamedayUnavailable"]


class SamedayUnavailable(SamedayError, ConnectionError):
    """No usable answer from sameday after every allowed attempt.

    Attributes:
        reason: the last failure in a few words (``"cannot connect: ..."``, ``"answered 503:
            ..."``), for logs and health checks.
        attempts: how many requests were sent (or tried to be).
        status: the last HTTP status received (a 5xx), or ``None`` when none came.
    """

    def __init__(
        self, message: str, *, reason: str, attempts: int, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.attempts = attempts
        self.status = status


class RequestRejected(SamedayError, ValueError):
    """sameday answered 4xx: the request is wrong (or the API key), so it was not retried.

    Attributes:
        status: the HTTP status (400, 401, 404, 408, 413).
        message: the server's explanation.
        field: the input field at fault (``"n"``, ``"events[3].unit"``), when the server names one.
    """

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        where = f" (field {field!r})" if field else ""
        super().__init__(f"sameday refused the request with {status}{where}: {message}")
        self.status = status
        self.message = message
        self.field = field
