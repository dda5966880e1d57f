"""The supervisor of ``--workers``, in process: restarts with back-off, boot failures, signals."""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Iterator

import pytest
from tests.conftest import free_ports

from sameday.errors import MetadataError, WorkerFailed
from sameday.serve.workers import BOOT_FAILED, Supervisor, backoff, listen


@pytest.fixture
def sock() -> Iterator[socket.socket]:
    (port,) = free_ports(1)
    with listen("127.0.0.1", port) as bound:
        yield bound


def signal_later(seconds: float, sig: int = signal.SIGTERM) -> threading.Timer:
    """Send this process ``sig`` in ``seconds`` (the supervisor runs on the main thread)."""
    timer = threading.Timer(seconds, os.kill, (os.getpid(), sig))
    timer.start()
    return timer


def test_backoff_doubles_while_workers_die_young_and_resets_after_one_lived() -> None:
    waits = [0.0]
    for _ in range(8):
        waits.append(backoff(waits[-1], lived=0.1, young=5, most=30))
    assert waits[1:] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff(16.0, lived=60, young=5, most=30) == 0.0


def test_a_crashing_worker_is_restarted_until_the_supervisor_is_told_to_stop(
    sock: socket.socket,
) -> None:
    def crash(_: socket.socket) -> None:
        raise SystemExit(1)

    supervisor = Supervisor(sock, 1, crash, young=60, backoff_max=0.2)
    timer = signal_later(1.5)
    try:
        supervisor.run()
    finally:
        timer.cancel()
    assert 2 <= supervisor.restarts <= 1.5 / 0.2 + 1  # backed off, never spinning
    assert not supervisor._workers
    assert signal.getsignal(signal.SIGTERM) is not supervisor._on_signal  # handlers restored


def test_a_worker_that_cannot_start_stops_the_others(
    sock: socket.socket, tmp_path: os.PathLike[str]
) -> None:
    first = os.path.join(tmp_path, "first")

    def serve(_: socket.socket) -> None:
        try:  # the first worker serves (until SIGTERM, the default handler, ends it)
            os.close(os.open(first, os.O_CREAT | os.O_EXCL))
        except FileExistsError:  # the second cannot start
            raise MetadataError("the metadata database is unreachable") from None
        signal.pause()

    supervisor = Supervisor(sock, 2, serve)
    with pytest.raises(WorkerFailed, match=r"worker \d \(pid \d+\) could not start") as failed:
        supervisor.run()
    assert failed.value.status == BOOT_FAILED
    assert supervisor.restarts == 0 and not supervisor._workers


def test_a_replacement_that_cannot_start_is_retried_not_fatal(
    sock: socket.socket, tmp_path: os.PathLike[str]
) -> None:
    crashed = os.path.join(tmp_path, "crashed")

    def serve(_: socket.socket) -> None:
        try:  # the first start serves, then crashes; its replacements find the database down
            os.close(os.open(crashed, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            raise MetadataError("the metadata database is unreachable") from None
        raise SystemExit(1)

    supervisor = Supervisor(sock, 1, serve, young=60, backoff_max=0.2)
    timer = signal_later(1.5)
    try:
        supervisor.run()  # no WorkerFailed: retried until told to stop
    finally:
        timer.cancel()
    assert supervisor.restarts >= 2


def test_sigterm_reaches_every_worker_once_and_the_supervisor_returns(
    sock: socket.socket, tmp_path: os.PathLike[str]
) -> None:
    def serve(_: socket.socket) -> None:
        got: list[int] = []
        signal.signal(signal.SIGTERM, lambda sig, frame: got.append(sig))
        while not got:
            signal.pause()
        with open(os.path.join(tmp_path, str(os.getpid())), "w") as out:
            out.write(str(got))

    supervisor = Supervisor(sock, 3, serve)
    timer = signal_later(1.0)
    try:
        supervisor.run()
    finally:
        timer.cancel()
    drained = sorted(os.listdir(tmp_path))
    assert len(drained) == 3 and supervisor.restarts == 0
    for name in drained:
        with open(os.path.join(tmp_path, name)) as written:
            assert written.read() == f"[{int(signal.SIGTERM)}]"
