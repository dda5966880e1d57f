"""Real ``sameday serve`` processes for the tests: started on ports of the test range, waited
for through ``/readyz``, stopped with SIGTERM (a drain) and checked to have exited cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from tests.conftest import free_ports

SERVE = (sys.executable, "-m", "sameday", "serve")
"""The command line of a server, in a fresh interpreter."""


@dataclass
class Server:
    """One ``sameday serve`` process (a supervisor, with ``--workers``) and its address."""

    process: subprocess.Popen[bytes]
    base: str
    log: Path
    stopped: bool = field(default=False)

    def children(self) -> list[int]:
        """The process ids of its workers (Linux: read from ``/proc``)."""
        pid = self.process.pid
        try:
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except FileNotFoundError:
            return []
        return [int(child) for child in text.split()]

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, then the exit status once it has drained (killed if it does not)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"the server did not drain in {timeout}s:\n{self.output()[-4000:]}")
        self.stopped = True
        return code

    def output(self) -> str:
        """What it logged so far (its stderr)."""
        return self.log.read_text(errors="replace")


def start(project_dir: Path, *args: str, timeout: float = 60) -> Server:
    """``sameday serve --project project_dir *args`` on a free port of the test range, once
    ``/readyz`` answers 200 (the first worker is ready, with ``--workers``).

    The environment keeps no ``SAMEDAY_*`` variable, so the project's ``sameday.yaml`` alone
    says where the storage is.
    """
    (server,) = start_all(project_dir, args, timeout=timeout)
    return server


def start_all(project_dir: Path, *args: tuple[str, ...], timeout: float = 60) -> list[Server]:
    """One server per entry of ``args`` (its options), as :func:`start` starts one, all
    starting at once (a server takes seconds to start on a busy machine)."""
    servers = [
        _launch(project_dir, port, options)
        for port, options in zip(free_ports(len(args)), args, strict=True)
    ]
    deadline = time.monotonic() + timeout
    try:
        for server in servers:
            _wait_ready(server, deadline)
    except BaseException:
        for server in servers:
            if server.process.poll() is None:
                server.process.kill()
                server.process.wait()
        raise
    return servers


def _launch(project_dir: Path, port: int, args: tuple[str, ...]) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMEDAY_")}
    log = project_dir.parent / f"serve-{port}.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*SERVE, "--project", str(project_dir), "--port", str(port), *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    return Server(process, f"http://127.0.0.1:{port}", log)


def _wait_ready(server: Server, deadline: float) -> None:
    while True:
        try:
            if httpx.get(f"{server.base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if server.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the server did not start:\n{server.output()[-4000:]}")
        time.sleep(0.1)


def use_storage(project_dir: Path, **urls: str) -> None:
    """Point ``storage.<kind>`` of the project at ``urls[kind]`` and poll every 0.2 s."""
    settings = project_dir / "sameday.yaml"
    text = settings.read_text()
    for kind, url in urls.items():
        default = f"sqlite:///.sameday/{kind}.db"
        written = f"${{SAMEDAY_{kind.upper()}_URL:-{default}}}"
        assert written in text, written
        text = text.replace(written, url)
    text = text.replace("  port: 8000", "  port: 8000\n  refresh_interval: 0.2")
    settings.write_text(text)
