"""What the local runner tells its observer while a run goes on.

The runner never prints: it hands these events, one at a time, to an ``Observer`` callable. The
CLI's live view (:mod:`sameday.pipeline.progress`) draws them; tests collect them in a list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

JOB_STATES = (
    "pending",
    "running",
    "retrying",
    "succeeded",
    "failed",
    "timed_out",
    "cancelled",
    "skipped",
)
"""Every state a job goes through in a run; the last five are final."""


@dataclass(frozen=True)
class RunStarted:
    """A run began: the jobs it will run, in start order, and those it skips as already done."""

    run_id: str
    pipeline: str
    jobs: tuple[str, ...]
    done: tuple[str, ...]
    log_dir: Path


@dataclass(frozen=True)
class JobChanged:
    """A job moved to ``state`` (one of :data:`JOB_STATES`); ``attempt`` 0: it never started."""

    job: str
    state: str
    attempt: int
    detail: str | None = None


@dataclass(frozen=True)
class JobOutput:
    """One line a job's attempt wrote to stdout or stderr (without its newline)."""

    job: str
    attempt: int
    line: str


@dataclass(frozen=True)
class RunFinished:
    """A run ended with ``status`` (succeeded, failed or cancelled)."""

    run_id: str
    status: str
    failed: tuple[str, ...]
    message: str


RunEvent = RunStarted | JobChanged | JobOutput | RunFinished
Observer = Callable[[RunEvent], None]
"""Receives run events; called from several threads, but never twice at once."""
