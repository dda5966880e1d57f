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
FLUSH_INTERVAL = 0.2
"""Seconds a server's info line may wait before it is written (warnings are written at once)."""
MAX_WAITING = 10_000
"""Most lines a server holds while its stderr is not writable; beyond, new ones are dropped."""

_seconds: tuple[int, str] = (-1, "")


def timestamp(created: float) -> str:
    """``created`` (seconds since the epoch) as ISO 8601 UTC with milliseconds: the seconds part
    is formatted once per second, since a busy server logs thousands of lines in each."""
    global _seconds
    whole = int(created)
    cached = _seconds
    if cached[0] != whole:
        cached = _seconds = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{cached[1]}.{int((created - whole) * 1000):03d}Z"


def fields_of(record: logging.LogRecord) -> Mapping[str, Any] | None:
    """The structured fields of ``record`` (``extra={"fields": {...}}``), if any."""
    fields = record.__dict__.get("fields")
    return fields if isinstance(fields, Mapping) else None


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time``, ``level``, ``logger``, ``message``, the record's fields,
    and ``traceback`` when it carries an exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = fields_of(record)
        if fields:
            entry.update(fields)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["traceback"] = record.exc_text
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """``TIME LEVEL LOGGER: message key=value ...``, then the traceback, if any.

    A value that is not a plain word is quoted as a JSON string, so a caller-chosen id holding a
    space, an ``=`` or a newline cannot forge a field or a line.
    """

    def format(self, record: logging.LogRecord) -> str:
        line = (
            f"{timestamp(record.created)} {record.levelname} {record.name}: {record.getMessage()}"
        )
        fields = fields_of(record)
        if fields:
            line += "".join(
                f" {key}={_word(value)}" for key, value in fields.items() if value is not None
            )
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        return line


def _word(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    text = value if isinstance(value, str) else str(value)
    if text and text.isprintable() and " " not in text and "=" not in text and '"' not in text:
        return text
    return orjson.dumps(text).decode()


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
    """

    def __init__(self, *, background: bool = False, stream: IO[str] | None = None) -> None:
        super().__init__()
        self._stream = stream
        self._waiting: list[str] = []
        self.dropped = 0
        """Lines dropped because too many were waiting (background only)."""
        self._wake = threading.Event()
        self._writing = threading.Lock()
        self._closed = False
        self._fd: int | None = None
        self._thread: threading.Thread | None = None
        if background:
            try:
                self._fd = (stream or sys.stderr).fileno()
            except (OSError, ValueError):  # no file behind it (a test's capture): write inline
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
        if len(self._waiting) >= MAX_WAITING:
            self.dropped += 1
            return
        self._waiting.append(line)  # under the handler's lock (``Handler.handle`` takes it)
        if record.levelno >= logging.WARNING:
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
        self.acquire()
        try:
            lines, self._waiting = self._waiting, []
            dropped, self.dropped = self.dropped, 0
        finally:
            self.release()
        if dropped:
            lines.append(self.format(_dropped_record(dropped)))
        if not lines or self._fd is None:
            return
        data = ("\n".join(lines) + "\n").encode("utf-8", "backslashreplace")
        try:
            while data:
                data = data[os.write(self._fd, data) :]
        except OSError:
            self.dropped += len(lines)  # stderr closed: nothing left to tell


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
