"""The console view of a local run: a live table of job states, with job output streamed above it.

This is presentation: the CLI creates a :class:`ProgressView` and passes it to the runner as its
observer. On a terminal the table redraws in place (rich ``Live``) while output lines scroll
above it, each prefixed ``[job]``; elsewhere (CI logs, pipes) every state change is printed as one
line instead, so logs stay readable without cursor tricks.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from sameday.pipeline.run_events import (
    JOB_STATES,
    JobChanged,
    JobOutput,
    RunEvent,
    RunFinished,
    RunStarted,
)

_STYLE = {
    "pending": "dim",
    "running": "bold cyan",
    "retrying": "yellow",
    "succeeded": "green",
    "failed": "bold red",
    "timed_out": "bold red",
    "cancelled": "magenta",
    "skipped": "dim",
}
_ICON = {
    "pending": "·",
    "running": "▶",
    "retrying": "↻",
    "succeeded": "✓",
    "failed": "✗",
    "timed_out": "⏱",
    "cancelled": "■",
    "skipped": "-",
}
_PREFIX_COLOURS = ("cyan", "magenta", "blue", "yellow", "green", "bright_cyan", "bright_magenta")


class ProgressView:
    """Draws run events on ``console``; use as a context manager around the run.

    Args:
        console: where to draw (default: standard output).
        live: redraw a table in place; ``None`` means "when the console is a terminal".
        show_output: print job output lines (``[job] line``).
    """

    def __init__(
        self, console: Console | None = None, *, live: bool | None = None, show_output: bool = True
    ) -> None:
        self.console = console or Console(highlight=False)
        self.show_output = show_output
        self._live_wanted = self.console.is_terminal if live is None else live
        self._live: Live | None = None
        self._order: list[str] = []
        self._state: dict[str, str] = {}
        self._attempt: dict[str, int] = {}
        self._detail: dict[str, str] = {}
        self._started: dict[str, float] = {}
        self._elapsed: dict[str, float] = {}
        self._colour: dict[str, str] = {}
        self._title = ""
        self._lock = threading.Lock()  # the live view redraws from its own thread

    def __enter__(self) -> ProgressView:
        if self._live_wanted:
            self._live = Live(
                console=self.console,
                refresh_per_second=8,
                transient=False,
                get_renderable=self._render,
            )
            self._live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def __call__(self, event: RunEvent) -> None:
        """Take one run event (the runner's observer)."""
        if isinstance(event, JobOutput):
            if self.show_output:
                prefix = Text(f"[{event.job}] ", style=self._colour_of(event.job))
                self.console.print(prefix + Text(event.line), soft_wrap=True)
        elif isinstance(event, JobChanged):
            with self._lock:
                self._job_changed(event)
        elif isinstance(event, RunStarted):
            with self._lock:
                self._title = f"{event.pipeline} · run {event.run_id}"
                for table in (
                    self._order,
                    self._state,
                    self._attempt,
                    self._detail,
                    self._started,
                    self._elapsed,
                ):
                    table.clear()
                for job in (*event.done, *event.jobs):
                    self._order.append(job)
                    self._state[job] = "pending"
                    self._colour_of(job)
            if self._live is None:
                self.console.print(
                    Text(
                        f"run {event.run_id} of {event.pipeline}: "
                        f"{len(event.jobs)} jobs, logs in {event.log_dir}"
                    )
                )
        elif isinstance(event, RunFinished):
            if self._live is not None:
                self._live.refresh()
            if event.status == "succeeded":  # failures are reported by the caller's error
                self.console.print(Text(event.message, style="green"), soft_wrap=True)

    def _job_changed(self, event: JobChanged) -> None:
        job = event.job
        if job not in self._state:
            self._order.append(job)
        self._state[job] = event.state
        self._attempt[job] = event.attempt
        self._detail[job] = event.detail or ""
        now = time.monotonic()
        if event.state == "running":
            self._started[job] = now
        elif job in self._started:
            self._elapsed[job] = now - self._started.pop(job)
        if self._live is None:
            line = Text(f"{_ICON[event.state]} ", style=_STYLE[event.state])
            line += Text(job, style=self._colour_of(job))
            line += Text(f" {event.state}")
            if event.attempt > 1 or event.state == "retrying":
                line += Text(f" (attempt {event.attempt})")
            if event.detail:
                line += Text(f": {event.detail}", style="dim")
            self.console.print(line, soft_wrap=True)

    def _render(self) -> RenderableType:
        with self._lock:
            return self._table()

    def _table(self) -> RenderableType:
        rows = self._order
        if len(rows) > max(5, self.console.height - 4):
            # Too many to show: keep the ones a person is watching, the counts say the rest.
            rows = [
                job for job in rows if self._state[job] not in ("pending", "succeeded", "skipped")
            ]
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        for column in ("", "job", "state", "attempt", "time", ""):
            table.add_column(column)
        now = time.monotonic()
        for job in rows:
            state = self._state[job]
            elapsed = self._elapsed.get(job)
            if job in self._started:
                elapsed = now - self._started[job]
            table.add_row(
                Text(_ICON[state], style=_STYLE[state]),
                Text(job, style=self._colour_of(job)),
                Text(state, style=_STYLE[state]),
                str(self._attempt[job]) if self._attempt.get(job) else "",
                f"{elapsed:.1f}s" if elapsed is not None else "",
                Text(self._detail.get(job, ""), style="dim", overflow="ellipsis", no_wrap=True),
            )
        states = list(self._state.values())
        counts = "  ".join(f"{states.count(s)} {s}" for s in JOB_STATES if s in states)
        footer = Text(f"{self._title}  {counts}", style="dim")
        return Group(table, footer)

    def _colour_of(self, job: str) -> str:
        if job not in self._colour:
            self._colour[job] = _PREFIX_COLOURS[len(self._colour) % len(_PREFIX_COLOURS)]
        return self._colour[job]
