"""One job attempt as an operating-system process: its own process group, a timeout, a log file.

Each command runs as ``sh -c COMMAND`` in a new session, so the job and everything it starts share
one process group that nothing else is in. Stopping a job therefore means signalling that group:
``SIGTERM``, a short grace period, then ``SIGKILL`` — grandchildren included, which a plain
``Popen.kill()`` would leave running. The terminal's Ctrl-C does not reach the group either (it is
not in the foreground group), so the runner alone decides when jobs stop.

When a command exits, whatever it left running in its group is stopped the same way, as a
container's end would stop it on Argo: a job never leaks background processes past its attempt.

Output (stdout and stderr, interleaved as written) goes to the attempt's log file. When a line
callback is given, a reader thread tees each line to it as well; without one the child writes
straight to the file and no thread is needed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

GRACE = 2.0
"""Seconds between ``SIGTERM`` and ``SIGKILL`` when a job is stopped."""


@dataclass(frozen=True)
class ProcessResult:
    """How an attempt's process ended.

    ``exit_code`` is the shell's exit status, or minus the signal number when a signal ended it.
    """

    exit_code: int
    timed_out: bool
    cancelled: bool
    duration: float


class JobProcess:
    """A shell command run in its own process group, its output teed to a log file.

    Create it, call :meth:`run` from the thread that waits for it; another thread may call
    :meth:`terminate` and then :meth:`kill` to cancel it (``run`` then reports ``cancelled``).
    """

    def __init__(
        self,
        command: str,
        *,
        cwd: Path,
        env: Mapping[str, str],
        log_path: Path,
        on_line: Callable[[str], None] | None = None,
        grace: float = GRACE,
    ) -> None:
        self.command = command
        self.cwd = cwd
        self.env = dict(env)
        self.log_path = log_path
        self.on_line = on_line
        self.grace = grace
        self._lock = threading.Lock()
        self._popen: subprocess.Popen[bytes] | None = None
        self._cancelled = False

    def __repr__(self) -> str:
        pid = self._popen.pid if self._popen else None
        return f"JobProcess({self.command!r}, pid={pid}, log={str(self.log_path)!r})"

    def run(self, timeout: float | None = None) -> ProcessResult:
        """Start the command and wait for it, stopping its group after ``timeout`` seconds.

        Raises:
            OSError: the log file cannot be written or ``sh`` cannot be started.
        """
        started = time.monotonic()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            with self._lock:
                if self._cancelled:
                    return ProcessResult(-signal.SIGTERM, False, True, 0.0)
                popen = subprocess.Popen(
                    ["sh", "-c", self.command],
                    cwd=self.cwd,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE if self.on_line else log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                self._popen = popen
            reader = None
            if popen.stdout is not None and self.on_line is not None:
                reader = threading.Thread(
                    target=_tee, args=(popen.stdout, log, self.on_line), daemon=True
                )
                reader.start()
            timed_out = False
            try:
                code = popen.wait(timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                _signal_group(popen.pid, signal.SIGTERM)
                try:
                    code = popen.wait(self.grace)
                except subprocess.TimeoutExpired:
                    _signal_group(popen.pid, signal.SIGKILL)
                    code = popen.wait()
            self._stop_leftovers(popen.pid, reader)
            if popen.stdout is not None:
                popen.stdout.close()
        with self._lock:
            cancelled = self._cancelled
        return ProcessResult(
            code, timed_out and not cancelled, cancelled, time.monotonic() - started
        )

    def terminate(self) -> None:
        """Cancel the attempt: ask its whole group to stop (``SIGTERM``).

        Safe to call from any thread, before, during or after :meth:`run`; a call before the
        process starts keeps it from starting.
        """
        with self._lock:
            self._cancelled = True
            pid = self._live_pid()
        if pid is not None:
            _signal_group(pid, signal.SIGTERM)

    def kill(self) -> None:
        """Stop the whole group now (``SIGKILL``)."""
        with self._lock:
            pid = self._live_pid()
        if pid is not None:
            _signal_group(pid, signal.SIGKILL)

    def _live_pid(self) -> int | None:
        # A reaped leader's pid may be reused by an unrelated process: never signal it then.
        popen = self._popen
        return popen.pid if popen is not None and popen.returncode is None else None

    def _stop_leftovers(self, pgid: int, reader: threading.Thread | None) -> None:
        if _signal_group(pgid, signal.SIGTERM):
            if reader is not None:
                reader.join(self.grace)
            else:
                deadline = time.monotonic() + self.grace
                while time.monotonic() < deadline and _signal_group(pgid, 0):
                    time.sleep(0.01)
            _signal_group(pgid, signal.SIGKILL)
        if reader is not None:
            reader.join()


def _signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to a process group; ``False`` when the group no longer exists."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        # A member changed its credentials (setuid); it is not ours to stop.
        return False
    return True


def _tee(source: IO[bytes], log: IO[bytes], on_line: Callable[[str], None]) -> None:
    for raw in iter(source.readline, b""):
        log.write(raw)
        log.flush()
        on_line(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
