"""The TypeScript client (``clients/typescript``): its types are generated from the current
OpenAPI document, and its tests (``node --test``) pass against a real ``sameday serve``.

Needs Node 20+ and npm: skipped with the reason when they are missing, failed when
``SAMEDAY_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from tests.conftest import ROOT, unavailable
from tests.http_client.conftest import Served

CLIENT = ROOT / "clients" / "typescript"


def run(command: list[str], *, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    result = subprocess.run(
        command, cwd=CLIENT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_types_ts_is_generated_from_the_current_openapi_document() -> None:
    script = CLIENT / "scripts" / "generate_types.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def node_tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable("node and npm are needed for the TypeScript client's tests (Node 20+)")
    assert node is not None and npm is not None
    major = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
    if int(major.lstrip("v").split(".")[0]) < 20:
        unavailable(f"the TypeScript client needs Node 20+ (fetch, node --test), found {major}")
    return node, npm


def test_the_typescript_client_against_a_real_server(served: Served) -> None:
    node, npm = node_tools()
    if not (CLIENT / "node_modules" / ".bin" / "tsc").exists():
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=CLIENT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            unavailable(f"npm ci failed (is the npm registry reachable?): {result.stderr[-500:]}")
    run([node, str(CLIENT / "node_modules" / "typescript" / "bin" / "tsc"), "-p", "."])
    tag = f"ts-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "SAMEDAY_URL": served.url,
        "SAMEDAY_KEY": served.key,
        "SAMEDAY_EVENT_TAG": tag,
    }
    out = run([node, "--test", "--test-reporter=spec", "dist/test/"], env=env, timeout=60)
    counts = dict(re.findall(r"^ℹ (tests|pass|fail) (\d+)$", out, re.MULTILINE))
    assert int(counts["tests"]) >= 12 and counts["pass"] == counts["tests"], out
    stored = sorted(e for e in served.stored_event_ids() if e.startswith(tag))
    assert stored == [f"{tag}-0", f"{tag}-1"]


def test_the_package_has_no_runtime_dependency() -> None:
    import json

    package = json.loads((CLIENT / "package.json").read_text())
    assert "dependencies" not in package
    assert set(package["devDependencies"]) == {"typescript", "@types/node"}
    assert Path(CLIENT / "package-lock.json").exists()
