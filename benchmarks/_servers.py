"""What the HTTP benchmarks share about the processes they run: a ``redis-server`` of their own,
a free port, stopping a server, reading a process's CPU time, the environment of timed child
processes and the load average printed beside each round.

Why a Redis of its own: a benchmark that loads and flushes a database of the machine's shared
server would wipe another user's data (``serve_bench.py`` used to ``FLUSHDB`` database 14);
one started here, on a port of the benchmark's range and without persistence, is empty when it
starts and gone when it stops.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis

CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""The children may write bytecode (the first, unrecorded run does), as an installed package
has it: with ``PYTHONDONTWRITEBYTECODE`` set and a source checkout, every run would compile
sameday's modules again (0.3-0.4 s of CPU) and the baseline's libraries would not."""


def loadavg() -> str:
    """The 1-minute load average, as printed beside each round."""
    return Path("/proc/loadavg").read_text().split()[0]


def start_redis(port: int, folder: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """A ``redis-server`` on ``127.0.0.1:port``, without persistence (no RDB, no AOF; ``folder``
    is its working directory when given), and the URL of its database 0, once it answers.

    Raises:
        SystemExit: it did not answer within 10 s (the port taken, or no ``redis-server``).
    """
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    args += ["--save", "", "--appendonly", "no"]
    if folder is not None:
        args += ["--dir", str(folder)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                raise SystemExit(f"redis-server did not start on port {port}") from None
            time.sleep(0.1)
    client.close()
    return process, url


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds; returns once the process is gone."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system, every thread) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
