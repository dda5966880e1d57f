"""Structured logging for the server and the command line: text or JSON lines on stderr.

``sameday --log-format json|text --log-level LEVEL COMMAND`` (or the variables
``SAMEDAY_LOG_FORMAT`` and ``SAMEDAY_LOG_LEVEL``) chooses both for every command; commands log at
``warning`` unless told otherwise, ``sameday serve`` at ``info``, so a server writes its access
log and its state changes by default. The loggers sameday writes to:

- ``sameday.access``: one line per HTTP request (``sameday.serve.access``);
- ``sameday.serve``: the server's state changes (serving store down and back, a configuration
  or snapshot picked up, a configuration that cannot be read) and unexpected errors;
- ``sameday.events``: the event log's (sink down and back, buffer full and room again);
- ``uvicorn.error``: uvicorn's own (start, stop, malformed requests).

A record's structured fields (``extra={"fields": {...}}``) become keys of the JSON object, or
``key=value`` pairs after the message in text. Every record passes
:class:`~sameday.urls.ScrubFilter` on its way out, so no password of a storage URL reaches the log
whichever logger it came from.

Why the server writes from a thread (``background=True``): a process whose stderr is a pipe
nobody reads fast enough (a stalled log shipper, a test that never reads it) would block in
``write``; on the serving thread that stops every request. Records are formatted where they are
logged and handed over; a thread writes what is waiting every :data:`FLUSH_INTERVAL` seconds (at
once for warnings), one ``write`` for many lines, straight to the file descriptor. Past
:data:`MAX_WAITING` lines waiting, new lines are dropped and counted, and a warning says how many
once the log is writable again: a request never waits for its log line.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping
from typing import IO, Any

import orjson

from sameday.urls import ScrubFilter

FORMATS = ("text", "json")
"""Values of ``--log-format`` / ``SAMEDAY_LOG_FORMAT``."""
LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
"""Values of ``--log-level`` / ``SAMEDAY_LOG_LEVEL``."""
ACCESS_LOGGER = "sameday.access"
INFO = logging.INFO
FLUSH_INTERVAL = 0.2
"""Seconds a server's info line may wait before it is written (warnings are written at once)."""
MAX_WAITING = 10_000
"""Most lines a server holds while its stderr is not writable; beyond, new ones are dropped."""

_seconds: tuple[int, str] = (-1, "")
_MILLIS = [f".{ms:03d}Z" for ms in range(1000)]


def timestamp(created: float) -> str:
    """``created`` (seconds since the epoch) as ISO 8601 UTC with milliseconds: the seconds part
    is formatted once per second, since a busy server logs thousands of lines in each."""
    global _seconds
    whole = int(created)
    cached = _seconds
    if cached[0] != whole:
        cached = _seconds = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return cached[1] + _MILLIS[int((created - whole) * 1000)]


def fields_of(record: logging.LogRecord) -> Mapping[str, Any] | None:
    """The structured fields of ``record`` (``extra={"fields": {...}}``), if any."""
    fields = record.__dict__.get("fields")
    return fields if isinstance(fields, Mapping) else None


class LineFormatter(logging.Formatter, ABC):
    """A formatter that can also format a line from its parts, with no ``LogRecord`` (see
    :meth:`LineHandler.put`)."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        return self.line(
            record.created,
            record.levelname,
            record.name,
            record.getMessage(),
            fields_of(record),
            record.exc_text,
        )

    @abstractmethod
    def line(
        self,
        created: float,
        level: str,
        name: str,
        message: str,
        fields: Mapping[str, Any] | None,
        traceback: str | None = None,
    ) -> str:
        """One record's line (``level`` as ``INFO``, ``fields`` its structured fields)."""


class JsonFormatter(LineFormatter):
    """One JSON object a line: ``time``, ``level``, ``logger``, ``message``, the record's fields,
    and ``traceback`` when it carries an exception."""

    def line(
        self,
        created: float,
        level: str,
        name: str,
        message: str,
        fields: Mapping[str, Any] | None,
        traceback: str | None = None,
    ) -> str:
        entry: dict[str, Any] = {
            "time": timestamp(created),
            "level": level.lower(),
            "logger": name,
            "message": message,
            **(fields or {}),
        }
        if traceback:
            entry["traceback"] = traceback
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(LineFormatter):
    """``TIME LEVEL LOGGER: message key=value ...``, then the traceback, if any.

    A value that is not a plain word is quoted as a JSON string, so a caller-chosen id holding a
    space, an ``=`` or a newline cannot forge a field or a line.
    """

    def line(
        self,
        created: float,
        level: str,
        name: str,
        message: str,
        fields: Mapping[str, Any] | None,
        traceback: str | None = None,
    ) -> str:
        text = f"{timestamp(created)} {level} {name}: {message}"
        if fields:
            text += "".join(
                f" {key}={_word(value)}" for key, value in fields.items() if value is not None
            )
        if traceback:
            text += "\n" + traceback
        return text


def _word(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    text = value if isinstance(value, str) else str(value)
    if text and text.isprintable() and " " not in text and "=" not in text and '"' not in text:
        return text
    return orjson.dumps(text).decode()


_OURS = (JsonFormatter, TextFormatter)


class _Scrub(ScrubFilter):
    """Scrubs credentials from every record but the access log's: its fields are names the
    server validated and ids of the caller's, its message a method and path — no URL of ours,
    and a regular expression per request would cost more than the rest of the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name == ACCESS_LOGGER or super().filter(record)


class LineHandler(logging.Handler):
    """Writes each record as one line (a text record with a traceback: several) to stderr.

    Args:
        background: hand lines to a writer thread instead of writing them on the caller's
            thread (the server: see the module docstring).
        stream: where to write; default ``sys.stderr`` as it is at each write (so a test that
            swaps it, such as click's ``CliRunner``, sees the lines). In the background, lines go
            to the stream's file descriptor (a stream without one is written inline).
        output: in the background, what the writer thread hands each batch's bytes to instead
            of the stream's file descriptor: it must take them all or raise ``OSError`` (lines
            it could not take count as dropped). A test's output can stall on purpose, as a log
            collector that stopped reading does.

    Raises:
        ValueError: ``output`` without ``background`` (only the writer thread uses it).
    """

    def __init__(
        self,
        *,
        background: bool = False,
        stream: IO[str] | None = None,
        output: Callable[[bytes], object] | None = None,
    ) -> None:
        if output is not None and not background:
            raise ValueError("output is where the writer thread writes: give background=True")
        super().__init__()
        self._stream = stream
        self._waiting: deque[str] = deque()  # appends and pops are atomic: no lock to take
        self.dropped = 0
        """Lines dropped because too many were waiting (background only). Counted without a
        lock, so a count may be lost to a race with the writer: it is a hint, not an audit."""
        self._wake = threading.Event()
        self._writing = threading.Lock()
        self._closed = False
        self._output = output
        self._thread: threading.Thread | None = None
        if background:
            if output is None:
                try:
                    self._output = _to_descriptor((stream or sys.stderr).fileno())
                except (OSError, ValueError):  # no file behind it (a test's capture): inline
                    return
            self._thread = threading.Thread(target=self._run, name="sameday-log", daemon=True)
            self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            if self._thread is None:
                stream = self._stream or sys.stderr
                stream.write(line + "\n")
                stream.flush()
                return
        except Exception:
            self.handleError(record)
            return
        self._hand_over(line, record.levelno)

    def put(self, name: str, message: str, fields: Mapping[str, Any], created: float) -> bool:
        """Log an info line of logger ``name`` with no ``LogRecord``, when nothing else would see
        the record (see :func:`sole_handler`); ``False`` if this handler cannot (a formatter or
        filter of someone else's, or no writer thread): log a record then.

        Why: building and routing a ``LogRecord`` costs a few microseconds, more than the rest of
        an access line; a server writing one per request at thousands of requests a second
        would pay several percent of its throughput for it.
        """
        formatter, filters = self.formatter, self.filters
        if (
            self._thread is None
            or type(formatter) not in _OURS
            or len(filters) != 1
            or type(filters[0]) is not _Scrub
        ):
            return False
        assert isinstance(formatter, LineFormatter)
        self._hand_over(formatter.line(created, "INFO", name, message, fields), INFO)
        return True

    def _hand_over(self, line: str, levelno: int) -> None:
        """Queue a line for the writer thread."""
        if len(self._waiting) >= MAX_WAITING:
            self.dropped += 1
            return
        self._waiting.append(line)
        if levelno >= logging.WARNING:
            self._wake.set()

    def flush(self) -> None:
        """Write what is waiting; in the background, give up after a second if the writer
        thread is stuck on a full pipe (at exit, a full pipe must not hold the process)."""
        if self._thread is not None and self._writing.acquire(timeout=1.0):
            try:
                self._write()
            finally:
                self._writing.release()

    def close(self) -> None:
        """Write what is waiting (see :meth:`flush`) and stop the writer thread."""
        self._closed = True
        self._wake.set()
        self.flush()
        super().close()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(FLUSH_INTERVAL)
            self._wake.clear()
            with self._writing:
                self._write()

    def _write(self) -> None:
        """Write every waiting line in one call (the caller holds ``_writing``)."""
        waiting = self._waiting
        lines = [waiting.popleft() for _ in range(len(waiting))]
        dropped, self.dropped = self.dropped, 0
        if dropped:
            lines.append(self.format(_dropped_record(dropped)))
        if not lines or self._output is None:
            return
        try:
            self._output(("\n".join(lines) + "\n").encode("utf-8", "backslashreplace"))
        except OSError:
            self.dropped += len(lines)  # stderr closed: told if it is ever writable again


def _to_descriptor(fd: int) -> Callable[[bytes], None]:
    """Write all of a batch to ``fd`` itself: no buffer of Python's between (a full pipe
    blocks the writer thread in ``os.write``, and only it)."""

    def write(data: bytes) -> None:
        while data:
            data = data[os.write(fd, data) :]

    return write


def sole_handler(logger: logging.Logger) -> LineHandler | None:
    """The :class:`LineHandler` that each info record of ``logger`` reaches, when it is the only
    handler on the way and ``logger`` has no filter (as in ``Logger.handle``, the filters of its
    parents do not apply to its records): then :meth:`LineHandler.put` writes exactly what
    logging the record would. A test's capture handler on the root makes this ``None``."""
    if logger.filters or logger.disabled:
        return None
    found: LineHandler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if found is not None or type(handler) is not LineHandler or handler.level > INFO:
                return None
            found = handler
        if not current.propagate:
            break
        current = current.parent
    return found


def _dropped_record(count: int) -> logging.LogRecord:
    return logging.makeLogRecord(
        {
            "name": "sameday.logs",
            "levelno": logging.WARNING,
            "levelname": "WARNING",
            "msg": f"{count} log line(s) dropped: stderr was not read fast enough (is the log "
            "collector keeping up?)",
            "fields": {"dropped": count},
        }
    )


def configure(
    format: str = "text", level: str = "warning", *, background: bool = False
) -> Callable[[], None]:
    """Send every logger's records to stderr as ``format`` lines, from ``level`` up.

    Replaces the handler an earlier call installed (not anyone else's) and sets the root
    logger's level. Returns a function that undoes this call (the CLI runs it when a command
    ends, so a program that calls ``sameday.cli.main`` keeps its own logging afterwards).

    Raises:
        ValueError: ``format`` or ``level`` is not one of :data:`FORMATS` / :data:`LEVELS`.
    """
    if format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {format!r}")
    if level not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, got {level!r}")
    root = logging.getLogger()
    previous_level = root.level
    previous = [h for h in root.handlers if isinstance(h, LineHandler)]
    for old in previous:
        root.removeHandler(old)
        old.close()
    handler = LineHandler(background=background)
    handler.setFormatter(JsonFormatter() if format == "json" else TextFormatter())
    handler.addFilter(_Scrub())
    root.addHandler(handler)
    root.setLevel(LEVELS[level])

    def restore() -> None:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(previous_level)

    return restore
