"""Several server processes on one port: the supervisor behind ``sameday serve --workers N``.

How, and why this way (the way gunicorn's arbiter and uvicorn's ``--workers`` do it):

- **One socket, bound once.** The supervisor binds and listens before it forks; every worker
  inherits the listening socket and accepts from it, and the kernel hands each connection to one
  of them. A worker that dies leaves no connection behind in a queue of its own (as a
  ``SO_REUSEPORT`` socket per worker would), and a restarted one joins the same queue.
- **Fork, then build.** The supervisor holds no threads and no connections: it forks, and each
  worker opens its own serving store, event log and metadata connections and starts its own
  refresher. Nothing is shared but the socket, so no connection is ever used by two processes,
  and each worker's engine draws its own random request-id prefix: two workers never name two
  exposures alike (a shared prefix would make the event log drop one of them as a repeat).
- **Supervised.** A worker that exits while the server is running is restarted, after a
  back-off that grows while workers die young (a crash loop does not spin the CPU). A worker of
  the first start that fails *before it serves* (it exits with :data:`BOOT_FAILED`: the
  project's storage cannot be opened, say) stops the server instead, as it would stop ``sameday
  serve`` with one process: restarting cannot fix a configuration. A *replacement* that cannot
  start is retried with the back-off instead: the configuration worked, so a database that is
  down for a moment must not take a running server down with it.
- **Drained on request.** SIGTERM or SIGINT to the supervisor is forwarded as SIGTERM to every
  worker, which stops accepting, finishes the requests in flight (up to
  ``serve.shutdown_timeout``) and flushes its event buffer; the supervisor exits once all have.
  A second signal is forwarded as SIGINT, which makes uvicorn cancel what is still running.
  Workers live in a process group of their own, so a Ctrl-C in a terminal reaches the supervisor
  only, and each worker is signalled once, in order. A worker whose supervisor is gone (killed
  with SIGKILL) drains and exits by itself (:func:`watch_parent`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from sameday.errors import SamedayError, UnsharedStorage, WorkerFailed

log = logging.getLogger("sameday.serve")

BOOT_FAILED = 3
"""Exit status of a worker that could not start serving (gunicorn uses the same number)."""
YOUNG = 5.0
"""A worker that dies within this many seconds of its start counts towards a crash loop."""
BACKOFF_MAX = 30.0
"""Most seconds the supervisor waits before restarting a worker that keeps dying young."""
PARENT_CHECK = 1.0
"""Seconds between a worker's checks that its supervisor is still alive."""

Target = Callable[[socket.socket], None]
"""What a worker runs: serve on the listening socket until told to stop (SIGTERM)."""


def check_shareable(serving: str, events: str) -> None:
    """Refuse storage that worker processes cannot share.

    A ``memory://`` serving store or event log lives inside one process: each worker would hold
    an empty copy (nothing published reaches it) or keep its exposures to itself. SQLite files
    are shared safely: the serving store, the metadata database and the event log are all in
    WAL mode, where readers never block and writers queue on a busy timeout.

    Raises:
        UnsharedStorage: naming the setting and what to use instead.
    """
    for setting, url, instead in (
        ("storage.serving", serving, "sqlite:///.sameday/serving.db or redis://host:6379/0"),
        ("storage.events", events, "sqlite:///.sameday/events.db or postgresql://host/db"),
    ):
        if url.partition("://")[0].lower() == "memory":
            raise UnsharedStorage(
                f"--workers needs storage every worker process shares, and {setting} is "
                f"memory://, which each process would hold a copy of its own: set {setting} to "
                f"{instead} in sameday.yaml, or serve with one worker",
                setting=setting,
            )


def listen(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """The listening socket the workers share, bound as uvicorn binds (``SO_REUSEADDR``).

    Raises:
        OSError: the address cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


def watch_parent(parent: int, every: float = PARENT_CHECK) -> threading.Thread:
    """Start a daemon thread that sends this process SIGTERM once ``parent`` is no longer its
    parent (the supervisor died without draining it): the worker then drains as if asked to."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=watch, name="sameday-parent-watch", daemon=True)
    thread.start()
    return thread


def backoff(
    previous: float, lived: float, *, young: float = YOUNG, most: float = BACKOFF_MAX
) -> float:
    """Seconds to wait before restarting a worker that died after ``lived`` seconds, the wait
    before the last restart being ``previous``: none for a worker that served a while (a crash
    now and then is replaced at once), else doubling from half a second up to ``most``."""
    if lived >= young:
        return 0.0
    return min(max(2 * previous, 0.5), most)


@dataclass
class _Worker:
    index: int
    started: float
    replacement: bool


class Supervisor:
    """Runs ``count`` workers on ``sock`` until SIGTERM or SIGINT; see the module docstring.

    Args:
        sock: the listening socket (:func:`listen`), shared by every worker.
        count: how many workers to keep running.
        target: what each worker runs, in the forked process; a :class:`SamedayError` it raises
            before serving is a boot failure (logged, exit :data:`BOOT_FAILED`).
        young: see :data:`YOUNG`.
        backoff_max: see :data:`BACKOFF_MAX`.
    """

    def __init__(
        self,
        sock: socket.socket,
        count: int,
        target: Target,
        *,
        young: float = YOUNG,
        backoff_max: float = BACKOFF_MAX,
    ) -> None:
        if count < 1:
            raise ValueError(f"a supervisor needs at least one worker, got {count}")
        self.sock = sock
        self.count = count
        self.target = target
        self.young = young
        self.backoff_max = backoff_max
        self.restarts = 0
        self._workers: dict[int, _Worker] = {}
        self._signals = 0
        self._failed: WorkerFailed | None = None
        self._backoff = 0.0

    def __repr__(self) -> str:
        return f"Supervisor(workers={self.count}, running={len(self._workers)})"

    @property
    def stopping(self) -> bool:
        """Whether the workers are being stopped (a signal came, or one failed to start)."""
        return self._signals > 0 or self._failed is not None

    def run(self) -> None:
        """Start the workers, restart those that die, return once all have stopped.

        Must be called from the main thread of a process that runs no other thread (it forks).

        Raises:
            WorkerFailed: a worker could not start; the others were stopped.
        """
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            for index in range(self.count):
                self._spawn(index, replacement=False)
            while self._workers:
                pid, status = os.wait()
                worker = self._workers.pop(pid, None)
                if worker is not None:
                    self._reap(pid, worker, os.waitstatus_to_exitcode(status))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if self._failed is not None:
            raise self._failed

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        forward = signal.SIGTERM if self._signals == 1 else signal.SIGINT
        if self._signals == 1:
            log.info(
                "%s: stopping %d worker(s) after their requests",
                signal.Signals(signum).name,
                len(self._workers),
            )
        self._signal_all(forward)

    def _signal_all(self, sig: int) -> None:
        for pid in list(self._workers):
            with contextlib.suppress(ProcessLookupError):  # exited: os.wait() reaps it
                os.kill(pid, sig)

    def _reap(self, pid: int, worker: _Worker, code: int) -> None:
        if self.stopping:
            return
        if code == BOOT_FAILED and not worker.replacement:
            self._failed = WorkerFailed(
                f"worker {worker.index} (pid {pid}) could not start serving (its error is "
                "logged above); stopping the other workers",
                status=code,
            )
            log.error("%s", self._failed)
            self._signal_all(signal.SIGTERM)
            return
        lived = time.monotonic() - worker.started
        if code < 0:
            how = f"was killed by {signal.Signals(-code).name}"
        else:
            how = "could not start" if code == BOOT_FAILED else f"exited with {code}"
        self._backoff = backoff(self._backoff, lived, young=self.young, most=self.backoff_max)
        log.warning(
            "worker %d (pid %d) %s after %.1fs: restarting it%s",
            worker.index,
            pid,
            how,
            lived,
            f" in {self._backoff:.1f}s" if self._backoff else "",
            extra={"fields": {"worker": worker.index, "pid": pid, "status": code}},
        )
        deadline = time.monotonic() + self._backoff
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.1, self._backoff))
        if not self.stopping:
            self.restarts += 1
            self._spawn(worker.index, replacement=True)

    def _spawn(self, index: int, *, replacement: bool) -> None:
        parent = os.getpid()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self._child(index, parent)
        self._workers[pid] = _Worker(index, time.monotonic(), replacement)
        log.info("worker %d started (pid %d)", index, pid, extra={"fields": {"pid": pid}})
        if self.stopping:  # a signal came while forking: the new worker missed it
            os.kill(pid, signal.SIGTERM)

    def _child(self, index: int, parent: int) -> None:
        """The worker process: never returns (``os._exit``), so it never runs the supervisor's
        code after the fork (its ``finally`` blocks, click's clean-up)."""
        code = 0
        try:
            os.setpgid(0, 0)
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, signal.SIG_DFL)
            watch_parent(parent)
            self.target(self.sock)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
        except SamedayError as exc:
            log.error("worker %d could not start: %s", index, exc)
            code = BOOT_FAILED
        except BaseException:
            log.exception("worker %d failed", index)
            code = 1
        finally:
            logging.shutdown()  # writes out the lines a background log writer still holds
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
