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

from sameday.errors import RequestRejected, SamedayUnavailable

__all__ = ["RequestRejected", "SamedayUnavailable"]
