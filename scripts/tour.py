"""A tour of every command, behind `make tour`, on the embedded defaults (no server).

Every step is a real `sameday` command run in a fresh temporary project; the script stops at the
first failure with that command's exit code. Pass a folder to keep the project:
`python scripts/tour.py /tmp/my-demo`.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAMEDAY = [sys.executable, "-m", "sameday"]


def step(title: str, *args: str, cwd: Path) -> None:
    print(f"\n\033[1m== {title}\033[0m\n$ sameday {' '.join(args)}", flush=True)
    result = subprocess.run([*SAMEDAY, *args], cwd=cwd)
    if result.returncode != 0:
        print(f"\ndemo failed at: {title} (exit {result.returncode})", file=sys.stderr)
        raise SystemExit(result.returncode)


def serve_some_users(project: Path) -> None:
    """Start `sameday serve`, ask for lists for a few users, send clicks, read the metrics."""
    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    print(f"\n\033[1m== Serve the home surface over HTTP\033[0m\n$ sameday serve --port {port}")
    server = subprocess.Popen([*SAMEDAY, "serve", "--port", str(port)], cwd=project)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        clicks = []
        for user in ("user-1", "user-2", "user-3", "user-4"):
            body = httpx.get(f"{base}/v1/recommend/home", params={"unit": user, "n": 3}).json()
            items = [slot["item"] for slot in body["items"]]
            print(f"GET /v1/recommend/home?unit={user}&n=3 -> arm {body['arm']}: {items}")
            clicks.append(
                {
                    "event_id": f"click-{user}",
                    "unit": user,
                    "name": "click",
                    "request_id": body["request_id"],
                    "item": items[0],
                }
            )
        answer = httpx.post(f"{base}/v1/events", json={"events": clicks}).json()
        print(f"POST /v1/events ({len(clicks)} clicks) -> {answer}")
        metrics = httpx.get(f"{base}/metrics").text.splitlines()
        for line in metrics:
            if line.startswith(("sameday_requests_total", "sameday_events_written_total")):
                print(f"GET /metrics: {line}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(15)


def main() -> None:
    keep = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    base = keep or Path(tempfile.mkdtemp(prefix="sameday-demo-"))
    project = base / "shop"
    if project.exists():
        shutil.rmtree(project)
    base.mkdir(parents=True, exist_ok=True)
    step("Scaffold a project", "init", str(project), cwd=base)
    step("Validate every file and reference", "validate", cwd=project)
    step("Create the metadata database (Alembic migrations)", "db", "upgrade", cwd=project)
    step(
        "Run the pipeline locally: extract, two recommenders, publish", "run", "daily", cwd=project
    )
    step("The runs so far", "runs", cwd=project)
    step("Published snapshots of the personal lists", "snapshots", "personal", cwd=project)
    step(
        "Run it again: a second snapshot goes live",
        "run",
        "daily",
        "-p",
        "ds=2026-11-02",
        cwd=project,
    )
    step("Roll back to the previous snapshot", "rollback", "personal", cwd=project)
    step("Snapshots after the rollback", "snapshots", "personal", cwd=project)
    step(
        "Compile the pipeline to Argo Workflows",
        "compile",
        "daily",
        "--target",
        "argo",
        "-o",
        "deploy",
        cwd=project,
    )
    experiment = project / "experiments" / "home-personal.yaml"
    experiment.write_text(experiment.read_text().replace("phase: draft", "phase: running"))
    print("\n(edited experiments/home-personal.yaml: phase: draft -> running)")
    step("What applying the files would change", "plan", cwd=project)
    step("Apply: register the surface and start the A/B test", "apply", cwd=project)
    step("Applied experiments", "experiments", cwd=project)
    serve_some_users(project)
    print(f"\nThe demo project is in {project}; manifests are in {project / 'deploy'}.")
    print(
        "For simulated users with a known truth, an A/B and an interleaving test, and their "
        "reports, run `make demo` (docs/quickstart.md)."
    )


if __name__ == "__main__":
    main()
