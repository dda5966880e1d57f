"""Options and output helpers shared by the CLI's command modules."""

from __future__ import annotations

import gc
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from sameday import logs
from sameday.urls import scrub

F = TypeVar("F", bound=Callable[..., Any])


def project_option(func: F) -> F:
    """``--project DIR``: the project folder (default: the current one, or a parent of it)."""
    return click.option(
        "--project",
        "project_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Project folder (default: the current folder or the nearest parent with a "
        "sameday.yaml).",
    )(func)


def json_option(func: F) -> F:
    """``--json``: machine-readable output for scripts and CI."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(func)


def log_options(func: F) -> F:
    """``--log-format text|json`` and ``--log-level LEVEL`` (or ``SAMEDAY_LOG_FORMAT`` and
    ``SAMEDAY_LOG_LEVEL``): how and from which level every command logs, on stderr."""
    func = click.option(
        "--log-level",
        type=click.Choice(list(logs.LEVELS), case_sensitive=False),
        envvar="SAMEDAY_LOG_LEVEL",
        default=None,
        help="Log from this level up [default: warning; info for 'serve'; env: SAMEDAY_LOG_LEVEL].",
    )(func)
    return click.option(
        "--log-format",
        type=click.Choice(logs.FORMATS),
        envvar="SAMEDAY_LOG_FORMAT",
        default="text",
        help="Log lines as text or one JSON object each [default: text; env: SAMEDAY_LOG_FORMAT].",
    )(func)


@dataclass(frozen=True)
class LogOptions:
    """What ``--log-format`` and ``--log-level`` said (``level`` ``None``: not given)."""

    format: str
    level: str | None


def setup_logging(ctx: click.Context, log_format: str, log_level: str | None) -> None:
    """Log as the options say for the command about to run (level ``warning`` unless given);
    the options are kept on ``ctx.obj`` for a command with another default (``serve``)."""
    level = log_level.lower() if log_level else None
    ctx.obj = LogOptions(log_format, level)
    ctx.call_on_close(logs.configure(log_format, level or "warning"))


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block: for a command that runs once and exits.

    A report imports its libraries, builds its models and reads its summaries in about a
    second: some 160 collections ran meanwhile (0.05-0.07 s of CPU) and found almost nothing to
    free, since what is built lives until the end. Collection resumes when the block ends, so a
    command invoked from a long-lived process (a test, a notebook) leaves it as it was.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def time_options(since: str | None, until: str | None) -> tuple[float | None, float | None]:
    """``--since`` and ``--until`` as POSIX times (``None`` when not given); a value that is no
    time is a usage error naming its option."""
    from sameday.analysis.phases import parse_time

    times: dict[str, float | None] = {}
    for option, value in (("since", since), ("until", until)):
        try:
            times[option] = None if value is None else parse_time(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=f"--{option}") from None
    return times["since"], times["until"]


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON (datetimes, dataclasses and paths handled)."""
    sys.stdout.write(
        orjson.dumps(
            value, default=str, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
        ).decode()
        + "\n"
    )


def render_error(exc: BaseException) -> str:
    """The one line a user sees for a sameday error, credentials scrubbed.

    Driver messages wrapped into sameday errors (psycopg, redis-py) can quote a whole DSN, so the
    text passes through :func:`sameday.urls.scrub` however it was built.
    """
    return f"error: {scrub(str(exc))}"


def render_crash(exc: BaseException) -> str:
    """The traceback of an error sameday did not expect, credentials scrubbed, and what to do."""
    text = "".join(traceback.format_exception(exc))
    return (
        scrub(text)
        + f"error: unexpected {type(exc).__name__}; this is a bug in sameday: please report it "
        "with the traceback above"
    )
