"""``sameday --log-format json serve``: a real server's stderr is JSON lines only — uvicorn's
own lines included, its access log replaced by sameday's — and a client that leaves mid-body
is one warning, never a traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
from tests.serve.test_server_process import free_port, publish_and_apply


def test_a_json_server_log_has_an_access_line_per_request_and_nothing_else(
    project_dir: Path,
) -> None:
    publish_and_apply(project_dir, "v1")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMEDAY_")}
    env["SAMEDAY_LOG_FORMAT"] = "json"
    command = [sys.executable, "-m", "sameday", "serve", "--project", str(project_dir)]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "no server"
            time.sleep(0.1)
        served = httpx.get(f"{base}/v1/recommend/home", params={"unit": "user-1"}).json()
        httpx.get(f"{base}/v1/recommend/nowhere", params={"unit": "user-1"})
        with socket.create_connection(("127.0.0.1", port)) as sock:  # leaves mid-body
            sock.sendall(
                b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 100\r\n\r\n{"events": ['
            )
            time.sleep(0.3)
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    text = err.decode()
    assert "Traceback" not in text
    entries = [orjson.loads(line) for line in text.splitlines()]  # every line is JSON
    loggers = {entry["logger"] for entry in entries}
    assert {"sameday.serve", "sameday.access", "uvicorn.error"} <= loggers
    assert "uvicorn.access" not in loggers
    access = [e for e in entries if e["logger"] == "sameday.access"]
    recommend = [e for e in access if e["path"].startswith("/v1/recommend/")]
    assert [(e["path"], e["status"]) for e in recommend] == [
        ("/v1/recommend/home", 200),
        ("/v1/recommend/nowhere", 404),
    ]
    assert recommend[0]["request_id"] == served["request_id"]
    assert (recommend[0]["experiment"], recommend[0]["arm"]) == (
        served["experiment"],
        served["arm"],
    )
    assert recommend[0]["degraded"] is False
    left = [e for e in entries if "disconnected before sending the whole body" in e["message"]]
    assert len(left) == 1 and left[0]["level"] == "warning" and "traceback" not in left[0]
    messages = [e["message"] for e in entries if e["logger"] == "sameday.serve"]
    assert any(m.startswith("sameday serving 1 surface(s) on http://") for m in messages)
    assert any(m.startswith("configuration picked up") for m in messages)
