"""``sameday serve --workers N``: N processes on one port, supervised, drained on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import httpx
from click.testing import CliRunner
from tests.conftest import free_ports
from tests.serve.servers import SERVE, start, use_storage
from tests.serve.test_server_process import publish_and_apply

from sameday.cli import main
from sameday.errors import UnsharedStorage
from sameday.serve.workers import check_shareable


def prefixes(base: str, requests: int = 60) -> set[str]:
    """The request-id prefixes (one per worker process) of ``requests`` answers, each on a
    connection of its own so the kernel may hand it to any worker."""
    seen = set()
    for i in range(requests):
        response = httpx.get(f"{base}/v1/recommend/home", params={"unit": f"user-{i % 30}"})
        assert response.status_code == 200
        seen.add(response.json()["request_id"][:12])
    return seen


def test_memory_storage_is_refused_with_what_to_do(project_dir: Path, runner: CliRunner) -> None:
    check_shareable("redis://h:6379/0", "sqlite:///.sameday/events.db")  # shared: accepted
    use_storage(project_dir, serving="memory://")
    result = runner.invoke(
        main, ["serve", "--project", str(project_dir), "--workers", "2", "--port", "18199"]
    )
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "storage.serving is memory://" in result.output
    assert "serve with one worker" in result.output
    try:
        check_shareable("sqlite:///s.db", "MEMORY://")
    except UnsharedStorage as exc:
        assert exc.setting == "storage.events"
    else:
        raise AssertionError("a memory:// event log was accepted")


def test_a_taken_port_is_reported_before_any_worker_starts(
    project_dir: Path, runner: CliRunner
) -> None:
    (port,) = free_ports(1)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        args = ["serve", "--project", str(project_dir), "--port", str(port), "--workers", "2"]
        result = runner.invoke(main, args)
    assert result.exit_code == 1, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "worker" not in result.output  # refused before forking


def test_workers_share_the_port_a_dead_one_is_replaced_and_sigterm_drains_all(
    project_dir: Path,
) -> None:
    use_storage(project_dir)
    publish_and_apply(project_dir, "v1")
    server = start(project_dir, "--workers", "2")
    try:
        deadline = time.monotonic() + 30
        while len(server.children()) < 2 or len(prefixes(server.base, 20)) < 2:
            assert time.monotonic() < deadline, server.output()
        workers = server.children()
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:  # every request meanwhile is answered by the other worker
            replaced = [pid for pid in server.children() if pid not in workers]
            if replaced and len(prefixes(server.base, 20)) == 2:
                break
            assert time.monotonic() < deadline, server.output()
        assert set(server.children()) == {workers[1], *replaced}
        assert f"(pid {workers[0]}) was killed by SIGKILL" in server.output()
        assert server.stop() == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in (workers[1], *replaced))
    finally:
        if not server.stopped:
            server.stop()
    log = server.output()
    assert log.count("Finished server process") == 2, log  # each drained, none was killed
    assert "Traceback" not in log


def test_a_worker_that_cannot_start_stops_the_server(project_dir: Path) -> None:
    (port,) = free_ports(1)
    publish_and_apply(project_dir, "v1")
    use_storage(project_dir, metadata=f"postgresql+psycopg://nobody@127.0.0.1:{port}/none")
    server = _start_failing(project_dir)
    assert server[0] == 1, server[1]
    assert "could not start serving" in server[1]
    assert server[1].count("started (pid") == 2


def _start_failing(project_dir: Path) -> tuple[int, str]:
    import subprocess

    (port,) = free_ports(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMEDAY_")}
    done = subprocess.run(
        [*SERVE, "--project", str(project_dir), "--port", str(port), "--workers", "2"],
        env=env,
        capture_output=True,
        timeout=60,
    )
    return done.returncode, done.stderr.decode(errors="replace")


def test_workers_drain_by_themselves_when_the_supervisor_is_killed(project_dir: Path) -> None:
    use_storage(project_dir)
    publish_and_apply(project_dir, "v1")
    server = start(project_dir, "--workers", "2")
    deadline = time.monotonic() + 30
    while len(prefixes(server.base, 20)) < 2:  # both serve (one still starting just dies)
        assert time.monotonic() < deadline, server.output()
    workers = server.children()
    server.process.kill()
    server.process.wait()
    server.stopped = True
    deadline = time.monotonic() + 20
    while any(Path(f"/proc/{pid}").exists() for pid in workers):
        assert time.monotonic() < deadline, f"orphaned workers still run:\n{server.output()}"
        time.sleep(0.1)
    assert server.output().count("Finished server process") == 2  # drained, not killed
