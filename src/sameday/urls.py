"""Storage URLs: which ones sameday understands, and how to print one without its password.

Every message, repr and log line that shows a URL goes through :func:`redact`; every error
message that may carry a driver's text (psycopg and redis-py can quote the whole DSN) goes through
:func:`scrub` before a person sees it. :func:`check` is the one place that knows the schemes each
storage kind accepts, so ``sameday validate`` and the backend factories refuse the same URLs with
the same words.
"""

from __future__ import annotations

import difflib
import logging
import re
import traceback
from urllib.parse import parse_qsl, urlsplit

HIDDEN = "***"
"""What a password is replaced with."""

DEFERRED = "\x00"
"""Stands for a URL known only where the program runs (a Kubernetes Secret read by the pod):
:func:`check` accepts it, so compiling for a cluster needs none of the cluster's secrets."""

SCHEMES: dict[str, tuple[str, ...]] = {
    "metadata": ("sqlite", "postgresql", "postgresql+psycopg"),
    "serving": ("sqlite", "redis", "rediss", "unix", "memory"),
    "events": ("sqlite", "postgresql", "postgresql+psycopg", "postgres", "memory"),
}
"""The URL schemes each ``storage`` setting accepts."""

EXAMPLES: dict[str, str] = {
    "metadata": "sqlite:///path/to/file.db or postgresql+psycopg://user:${PGPASSWORD}@host/db",
    "serving": "sqlite:///.sameday/serving.db or redis://:${REDIS_PASSWORD}@host:6379/0",
    "events": "sqlite:///.sameday/events.db or postgresql+psycopg://user:${PGPASSWORD}@host/db",
}

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


def check(kind: str, url: str) -> str | None:
    """Why ``url`` cannot be the ``storage.<kind>`` URL, or ``None`` when it can.

    Checks the scheme against :data:`SCHEMES` (suggesting the closest one for a typo) and that the
    URL parses: a numeric port, a numeric Redis database, a SQLite path. The message shows the URL
    redacted. Reachability is not checked here: that needs the server, and validate runs in CI.
    """
    if url == DEFERRED:
        return None
    allowed = SCHEMES[kind]
    shown = redact(url)
    expected = f"expected {EXAMPLES[kind]}"
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        return f"{shown!r} is not a URL: {expected}"
    if scheme not in allowed:
        close = difflib.get_close_matches(scheme, allowed, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}://?)" if close else ""
        known = ", ".join(f"{s}://" for s in allowed)
        return f"unsupported scheme {scheme}:// in {shown!r}{hint}: use {known}; {expected}"
    if scheme == "sqlite":
        if not rest.startswith("/") or len(rest) < 2:
            return f"{shown!r} names no file: write sqlite:///relative/path.db or sqlite:////abs.db"
        return None
    if scheme == "memory":
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError as exc:
        return f"cannot parse {shown!r}: {scrub(str(exc), _password(url))}; {expected}"
    if scheme in {"redis", "rediss"}:
        database = parts.path.strip("/") or dict(parse_qsl(parts.query)).get("db", "0")
        if not database.isdigit():
            return f"the Redis database in {shown!r} must be a number (redis://host:6379/0)"
    if scheme == "unix" and not parts.path:
        return f"{shown!r} names no socket: write unix:///path/to/redis.sock"
    return None


def _password(url: str) -> tuple[str, ...]:
    userinfo = url.partition("://")[2].split("/", 1)[0].rpartition("@")[0]
    password = userinfo.partition(":")[2]
    return (password,) if password else ()
