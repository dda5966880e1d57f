"""Storage URLs shown to people: how to print one without its password.

Every message, repr and log line that shows a URL goes through :func:`redact`; every error
message that may carry a driver's text (psycopg and redis-py can quote the whole DSN) goes through
:func:`scrub` before a person sees it. Which schemes each kind of storage accepts, and the backend
behind each, is :mod:`sameday.registry`'s business.
"""

from __future__ import annotations

import logging
import re
import traceback
from urllib.parse import urlsplit

HIDDEN = "***"
"""What a password is replaced with."""

_SECRET_PARAMS = frozenset({"password", "passwd", "pass", "secret", "token", "sslpassword"})
# scheme://user:password@  (the password may hold anything but the delimiters around it)
_USERINFO = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:'\"]*:)[^\s'\"]*@")
# libpq key=value DSNs and URL queries: password=...
_PARAM = re.compile(
    r"(?P<head>\b(?:" + "|".join(sorted(_SECRET_PARAMS)) + r")\s*=\s*)"
    r"(?P<value>'[^']*'|[^\s&'\"]+)",
    re.IGNORECASE,
)


def redact(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` parameter) as ``***``.

    Anything that does not parse as a URL is scrubbed as text instead, so a malformed URL is
    never the way a password gets out.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub(url)
    shown = url
    if parts.password is not None:
        user = parts.netloc.rpartition("@")[0].partition(":")[0]
        host = parts.netloc.rpartition("@")[2]
        shown = shown.replace(parts.netloc, f"{user}:{HIDDEN}@{host}", 1)
    base, question, query = shown.partition("?")
    return base + question + _PARAM.sub(lambda m: m.group("head") + HIDDEN, query)


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every credential in it replaced by ``***``: passwords inside URLs,
    ``password=`` parameters (libpq DSNs), and each of ``secrets`` wherever it appears."""
    text = _USERINFO.sub(lambda m: m.group("head") + HIDDEN + "@", text)
    text = _PARAM.sub(lambda m: m.group("head") + HIDDEN, text)
    for secret in secrets:
        if len(secret) >= 4:  # a one-letter "secret" would blank out ordinary words
            text = text.replace(secret, HIDDEN)
    return text


class ScrubFilter(logging.Filter):
    """A logging filter that scrubs credentials from a record's message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub("".join(traceback.format_exception(*record.exc_info))).rstrip()
        return True


SERVER_LOGGERS = ("uvicorn.error", "uvicorn.asgi", "sameday")
"""Loggers whose records may carry a driver's error text: uvicorn logs unexpected exceptions of
the app on ``uvicorn.error``, with their traceback."""


def scrub_logs(names: tuple[str, ...] = SERVER_LOGGERS) -> None:
    """Put a :class:`ScrubFilter` on each named logger (once), so a server's log shows no
    password even when an unexpected error quotes a DSN."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubFilter) for f in logger.filters):
            logger.addFilter(ScrubFilter())
