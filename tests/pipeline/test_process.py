"""One attempt as a process group: log tee, leftovers, cancellation before start."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sameday.pipeline.process import JobProcess


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_output_is_teed_to_the_log_and_the_callback(tmp_path: Path) -> None:
    lines: list[str] = []
    process = JobProcess(
        "printf 'a\\nb'; echo c >&2; exit 3",
        cwd=tmp_path,
        env=dict(os.environ),
        log_path=tmp_path / "logs" / "j.1.log",
        on_line=lines.append,
    )
    result = process.run()
    assert (result.exit_code, result.timed_out, result.cancelled) == (3, False, False)
    assert (tmp_path / "logs" / "j.1.log").read_bytes() in (b"a\nbc\n", b"c\na\nb")
    assert sorted(lines) in (["a", "bc"], ["a", "b", "c"])


def test_background_leftovers_are_stopped_when_the_command_exits(tmp_path: Path) -> None:
    process = JobProcess(
        "sleep 30 & echo $! > pid",
        cwd=tmp_path,
        env=dict(os.environ),
        log_path=tmp_path / "j.log",
        on_line=lambda line: None,
        grace=0.5,
    )
    started = time.monotonic()
    assert process.run().exit_code == 0
    assert time.monotonic() - started < 2.0
    pid = int((tmp_path / "pid").read_text())
    deadline = time.monotonic() + 2
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(pid)


def test_terminate_before_start_keeps_the_command_from_running(tmp_path: Path) -> None:
    process = JobProcess(
        "touch ran", cwd=tmp_path, env=dict(os.environ), log_path=tmp_path / "j.log"
    )
    process.terminate()
    result = process.run()
    assert result.cancelled
    assert not (tmp_path / "ran").exists()
    assert "touch ran" in repr(process)
