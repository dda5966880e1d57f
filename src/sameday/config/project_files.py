"""The project's files as its image holds them, and the path patterns jobs declare.

On Argo every job runs in a container of the project's image, so what a job can read without
declaring it is exactly what ``docker build`` copied into that image. This module computes that
set the same way, for ``sameday run --isolated`` and ``sameday validate``:

1. with a ``.dockerignore`` in the project folder: every file of the folder except what it
   excludes (what ``COPY . .`` copies);
2. otherwise, in a git repository: the tracked files and the untracked ones git does not ignore;
3. otherwise: every file except what the project's ``.gitignore`` excludes.

``.sameday/`` (local databases and run logs) and ``.git/`` never count. The ignore files are read
with the common subset of their syntax: ``#`` comments, ``!`` exceptions, ``*``, ``?``, ``**``, a
leading ``/`` anchoring a pattern, a trailing ``/`` for folders; in a ``.gitignore`` a pattern
without ``/`` matches at any depth, as git reads it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath

ALWAYS_EXCLUDED = (".sameday", ".git")
"""Folders that are never part of the project's image."""

GLOB_CHARS = frozenset("*?[")


def is_glob(path: str) -> bool:
    """Whether ``path`` holds a wildcard."""
    return any(char in path for char in GLOB_CHARS)


def normalise(path: str) -> str:
    """A project path as written in a pipeline, in one canonical form (``./out//a/`` → ``out/a``).

    Raises:
        ValueError: the path is absolute, empty, or leaves the project (``..``).
    """
    if path.startswith("/") or path.startswith("~"):
        raise ValueError(f"{path!r} is not inside the project: write it relative to the project")
    parts = [part for part in PurePosixPath(path).parts if part not in ("", ".")]
    if not parts:
        raise ValueError("an empty path: name a file or folder inside the project")
    if ".." in parts:
        raise ValueError(f"{path!r} leaves the project: write it relative to the project")
    return "/".join(parts)


def static_prefix(path: str) -> str:
    """The part of ``path`` before its first component with a wildcard (``out/*.csv`` → ``out``)."""
    parts: list[str] = []
    for part in path.split("/"):
        if is_glob(part):
            break
        parts.append(part)
    return "/".join(parts)


def inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (both normalised)."""
    return path == folder or path.startswith(folder + "/")


def matches(pattern: str, path: str) -> bool:
    """Whether ``path`` matches the glob ``pattern``; ``*`` stops at ``/``, ``**`` does not."""
    return _compiled(pattern).fullmatch(path) is not None


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    out = ""
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out += "(?:.*/)?"
            index += 3
            continue
        if pattern.startswith("**", index):
            out += ".*"
            index += 2
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end == -1:
                out += re.escape(char)
            else:
                body = pattern[index + 1 : end].replace("\\", "\\\\")
                out += f"[{'^' + body[1:] if body.startswith('!') else body}]"
                index = end
        else:
            out += re.escape(char)
        index += 1
    return re.compile(out)


@dataclass(frozen=True)
class _Rule:
    pattern: str
    negated: bool
    folder_only: bool
    anywhere: bool


class IgnoreRules:
    """The patterns of one ignore file, applied in order (a later ``!pattern`` re-includes)."""

    def __init__(self, lines: Iterable[str], *, gitignore: bool) -> None:
        self.rules: list[_Rule] = []
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            line = line.removeprefix("!").strip()
            folder_only = line.endswith("/")
            line = line.strip("/")
            if line.startswith("./"):
                line = line[2:]
            if not line:
                continue
            anchored = "/" in line or raw.strip().lstrip("!").startswith("/")
            self.rules.append(_Rule(line, negated, folder_only, gitignore and not anchored))

    def __repr__(self) -> str:
        return f"IgnoreRules({len(self.rules)} patterns)"

    def excluded(self, path: str, *, is_dir: bool = False) -> bool:
        """Whether the file (or folder) ``path`` is excluded, or lies in an excluded folder."""
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            prefix_is_dir = depth < len(parts) or is_dir
            if self._decide(prefix, prefix_is_dir):
                return True
        return False

    def _decide(self, path: str, is_dir: bool) -> bool:
        verdict = False
        name = path.rsplit("/", 1)[-1]
        for rule in self.rules:
            if rule.folder_only and not is_dir:
                continue
            if matches(rule.pattern, name if rule.anywhere else path):
                verdict = not rule.negated
        return verdict


def project_files(root: Path) -> frozenset[str]:
    """The project's files as its image holds them: paths relative to ``root``, with ``/``."""
    root = Path(root)
    dockerignore = root / ".dockerignore"
    if dockerignore.is_file():
        rules = IgnoreRules(dockerignore.read_text(encoding="utf-8").splitlines(), gitignore=False)
        return frozenset(_walk(root, rules))
    tracked = _git_files(root)
    if tracked is not None:
        return frozenset(
            path
            for path in tracked
            if path.split("/", 1)[0] not in ALWAYS_EXCLUDED and (root / path).is_file()
        )
    gitignore = root / ".gitignore"
    lines = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.is_file() else []
    return frozenset(_walk(root, IgnoreRules(lines, gitignore=True)))


def present(pattern: str, files: Iterable[str]) -> list[str]:
    """The files of ``files`` a declared path covers: the file, a folder's files, a glob's matches.

    A glob covers the files it matches and the files inside the folders it matches.
    """
    if is_glob(pattern):
        return sorted(f for f in files if _glob_covers(pattern, f))
    return sorted(f for f in files if inside(f, pattern))


def _glob_covers(pattern: str, path: str) -> bool:
    parts = path.split("/")
    return any(matches(pattern, "/".join(parts[:depth])) for depth in range(1, len(parts) + 1))


def _walk(root: Path, rules: IgnoreRules) -> list[str]:
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        relative = Path(folder).relative_to(root).as_posix()
        base = "" if relative == "." else relative + "/"
        dirs[:] = sorted(
            d
            for d in dirs
            if not (base == "" and d in ALWAYS_EXCLUDED)
            and not rules.excluded(base + d, is_dir=True)
        )
        found.extend(base + f for f in sorted(files) if not rules.excluded(base + f))
    return found


def _git_files(root: Path) -> list[str] | None:
    """Tracked and non-ignored untracked files under ``root``, or ``None`` outside git."""
    # Imported here: loading a project with pipelines imports this module, but the files are
    # listed only for a job input that no upstream job writes (~2 ms of every command otherwise).
    import subprocess

    try:
        result = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=root,
            capture_output=True,
            check=False,
        )
    except OSError:  # git is not installed
        return None
    if result.returncode != 0:
        return None
    return sorted({p for p in result.stdout.decode("utf-8", "replace").split("\0") if p})
