"""``sameday init``: a small, commented project that validates and runs as it is."""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from sameday._version import __version__
from sameday.config.loader import PROJECT_FILE
from sameday.config.schema import write_schemas
from sameday.errors import ProjectExists

# Files are stored without a leading dot so packaging tools keep them.
_RENAMES = {"gitignore": ".gitignore", "dockerignore": ".dockerignore"}


def init_project(target: Path, *, name: str | None = None) -> list[Path]:
    """Write the starter project into ``target`` (created if needed) and return the files written.

    Args:
        target: the project folder; it may exist but must not hold a ``sameday.yaml``.
        name: the project's name; defaults to the folder name, made valid.

    Raises:
        ProjectExists: if ``target`` already holds a project.
    """
    target = Path(target)
    if (target / PROJECT_FILE).exists():
        raise ProjectExists(
            f"{target / PROJECT_FILE} already exists: choose an empty folder, or edit that project"
        )
    project_name = name or _valid_name(target.resolve().name)
    written: list[Path] = []
    template = resources.files("sameday.scaffold") / "template"
    for source, relative in _walk(template, Path()):
        destination = target / relative.parent / _RENAMES.get(relative.name, relative.name)
        destination.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text(encoding="utf-8").replace("{{name}}", project_name)
        text = text.replace("{{version}}", __version__)
        destination.write_text(text, encoding="utf-8")
        written.append(destination)
    written.extend(write_schemas(target / "schemas"))
    return written


def _walk(folder: Traversable, relative: Path) -> list[tuple[Traversable, Path]]:
    found: list[tuple[Traversable, Path]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            found.extend(_walk(entry, relative / entry.name))
        else:
            found.append((entry, relative / entry.name))
    return found


def _valid_name(folder: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", folder.lower()).strip("-")[:52].strip("-")
    return name or "my-project"
