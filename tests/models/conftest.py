"""Fixtures of the model tests: a project on each metadata backend, and its registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from sameday.config import load_project
from sameday.config.loader import Project
from sameday.models import Registry, open_registry


def configure(project_dir: Path, **storage: str) -> Project:
    """Rewrite ``storage`` settings of the scaffolded project and load it."""
    path = project_dir / "sameday.yaml"
    settings = yaml.safe_load(path.read_text())
    settings["storage"].update(storage)
    path.write_text(yaml.safe_dump(settings))
    return load_project(project_dir)


@pytest.fixture(params=["sqlite", "postgres"])
def project(request: pytest.FixtureRequest, project_dir: Path) -> Project:
    """The starter project with its metadata on SQLite, then on a fresh PostgreSQL database."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return configure(project_dir, metadata=url)


@pytest.fixture
def registry(project: Project) -> Iterator[Registry]:
    with open_registry(project) as opened:
        yield opened
