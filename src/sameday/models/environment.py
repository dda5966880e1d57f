"""What a model was built from: the code version, the interpreter, the installed packages.

Recorded in every bundle so that a version can be rebuilt (or its difference from another
explained): the git commit of the project and whether the work tree had uncommitted changes,
the Python version, and a lock of every installed distribution with its version (what
``pip freeze`` prints, read from ``importlib.metadata`` without a subprocess).
"""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path
from typing import Any


def code_version(root: Path) -> dict[str, Any]:
    """``{"commit", "dirty"}`` of the git work tree holding ``root``; both ``None`` outside
    git (or without git installed)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit.strip(), "dirty": None if status is None else bool(status.strip())}


def package_lock() -> dict[str, str]:
    """Every installed distribution and its version, by lower-cased name."""
    lock: dict[str, str] = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if name:
            lock[name.lower()] = dist.version
    return dict(sorted(lock.items()))


def environment() -> dict[str, Any]:
    """The interpreter and the package lock."""
    return {
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform.platform(terse=True),
        "packages": package_lock(),
    }
