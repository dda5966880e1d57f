"""The dashboard in a real browser: ``sameday ui`` on a seeded project, driven by
``playwright-core`` (npm) through Debian's ``chromium``, checked by ``axe-core``.

The Node script (``dashboard.mjs``) signs in with the admin key, loads every page (no console
error, no request leaving the server, no serious or critical accessibility violation, no
horizontal scroll at 390 pixels), tabs through the pages that have actions (the keyboard must
reach each), then rolls a result set back, mutes a monitor and makes a model's challenger the
champion through their confirmations. It takes a screenshot of every page:
``SAMEDAY_UPDATE_SCREENSHOTS=1`` writes them into docs/img/ (the pictures of docs/dashboard.md),
otherwise into the test's temporary folder.

Needs ``node`` (20+), ``npm`` and ``/usr/bin/chromium`` (``apt-get install chromium``): skipped
with the reason when one is missing, failed when ``SAMEDAY_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, unavailable
from tests.ui.seed import EXPERIMENT, MODEL, Seeded, seed

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("SAMEDAY_CHROMIUM", "/usr/bin/chromium")
DOCS_IMAGES = ROOT / "docs" / "img"
KEY = "browser-admin-key-42"


def tools() -> str:
    """``node``, with ``npm ci`` run once; skips (or fails) when something is missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable("node and npm are needed for the browser tests (Node 20+)")
    assert node is not None and npm is not None
    if not Path(CHROMIUM).exists():
        unavailable(f"no chromium at {CHROMIUM}: apt-get install chromium")
    if not (HERE / "node_modules" / "playwright-core").exists():
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        if result.returncode != 0:
            unavailable(f"npm ci failed (is the npm registry reachable?): {result.stderr[-500:]}")
    return node


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Seeded]]:
    """``sameday ui`` on a freshly seeded project, behind an admin key; its URL."""
    project = seed(tmp_path / "shop")
    port = free_port()
    env = {**os.environ, "SAMEDAY_ADMIN_KEY": KEY, "PYTHONPATH": str(ROOT / "src")}
    log = tmp_path / "ui.log"
    output = log.open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "sameday", "ui", "--project", str(project.root),
         "--port", str(port)],
        env=env, stdout=output, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a loaded machine takes its time to import and migrate
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/login", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"sameday ui did not start:\n{log.read_text()}")
        yield url, project
    finally:
        server.terminate()
        server.wait(timeout=20)
        output.close()


def test_the_dashboard_in_a_real_browser(served: tuple[str, Seeded], tmp_path: Path) -> None:
    node = tools()
    url, project = served
    old, new = project.personal
    pages = {
        "morning": "/",
        "runs": "/runs",
        "run": f"/runs/{project.failed_run}",
        "results": "/results",
        "result-set": "/results/personal",
        "diff": f"/results/personal/diff?a={old}&b={new}",
        "experiments": "/experiments",
        "experiment": f"/experiments/{EXPERIMENT}",
        "wall": "/wall",
        "alerts": "/alerts",
        "incident": "/alerts/1",
        "models": "/models",
        "model": f"/models/{MODEL}",
        "lineage": "/lineage?node=result_set:personal",
    }
    actions = {name: pages[name] for name in ("run", "result-set", "experiment", "alerts", "model")}
    update = os.environ.get("SAMEDAY_UPDATE_SCREENSHOTS") == "1"
    screenshots = DOCS_IMAGES if update else tmp_path / "img"
    screenshots.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SAMEDAY_UI_URL": url,
        "SAMEDAY_KEY": KEY,
        "SAMEDAY_PAGES": json.dumps(pages),
        "SAMEDAY_ACTION_PAGES": json.dumps(actions),
        "SAMEDAY_RESULT_SET_PAGE": "/results/personal",
        "SAMEDAY_MODEL_PAGE": f"/models/{MODEL}",
        "SAMEDAY_SCREENSHOTS": str(screenshots),
        "CHROMIUM": CHROMIUM,
    }
    result = subprocess.run(
        [node, str(HERE / "dashboard.mjs")], cwd=HERE, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["errors"] == [], report["errors"]
    assert report["offsite"] == []  # nothing fetched from anywhere but the dashboard
    problems = []
    for name, seen in report["pages"].items():
        if seen["status"] != 200 or seen["console"] or seen["violations"]:
            problems.append((name, seen["status"], seen["console"], seen["violations"]))
        if seen["narrow"]["scroll"] > seen["narrow"]["width"]:
            problems.append((name, "scrolls sideways at 390 px", seen["narrow"]))
    for name, keys in report["keyboard"].items():
        if not keys["wanted"] or sorted(keys["reached"]) != sorted(set(keys["wanted"])):
            problems.append((name, "keyboard", keys))
    assert problems == [], json.dumps(problems, indent=1)
    rollback = report["actions"]["rollback"]
    assert rollback["target"] == old and rollback["live"] == [old], rollback
    assert rollback["reasonRecorded"] and rollback["console"] == []
    mute = report["actions"]["mute"]
    assert mute["muted"] == 1 and mute["unmute"] == 1 and mute["console"] == [], mute
    promote = report["actions"]["promote"]
    assert promote["version"] == "3" and promote["champion"] == ["3"], promote
    assert promote["console"] == []
